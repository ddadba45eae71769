"""Where the tests find the project, the shared data and the benchmark scripts."""

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
CAT_DATA = SHARED_DATA / "catvnoncat"


def benchmark(name: str):
    """The script ``benchmarks/<name>.py`` as a module (they are scripts, not a package), loaded
    once per process."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    return sys.modules[name]
