"""The package's shape, read from its source: layers import downward, modules stay small, and
the command line's hot paths import only what they use."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests import paths

PACKAGE = paths.ROOT / "src" / "logicat"
#: Packages a lower layer must never import (the shell around the core); ``python -m logicat``
#: is the command line itself.
SHELL = ("logicat.cli", "logicat.web", "logicat.viz", "logicat.estimators", "logicat.__main__")


def _module(path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """module -> the logicat modules it imports anywhere in its source (inside functions too)."""
    files = {_module(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in files}
    for module, path in files.items():
        package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([node.module] if node.module else []))
                targets = [base] + [f"{base}.{a.name}" for a in node.names]
            else:
                continue
            for target in targets:
                while target and target not in files:
                    target = target.rsplit(".", 1)[0] if "." in target else ""
                if target and target != module and not module.startswith(target + "."):
                    graph[module].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_cycles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_among_logicats_modules():
    """Counting the imports inside functions: a lazy import is still a dependency."""
    graph = import_graph()
    assert len(graph) > 50
    assert cycles(graph) == []


def test_the_core_never_imports_the_shell():
    graph = import_graph()
    for module, imported in graph.items():
        if module.startswith(SHELL):
            continue
        assert not [m for m in imported if m.startswith(SHELL)], module


def test_no_module_is_over_400_lines():
    sizes = {p.relative_to(PACKAGE): len(p.read_text().splitlines()) for p in PACKAGE.rglob("*.py")}
    assert {p: n for p, n in sizes.items() if n > 400} == {}


def _imported_by(code: str) -> set[str]:
    heavy = ["numpy", "sklearn", "scipy", "numba", "matplotlib", "torch", "pandas", "h5py", "PIL",
             "tqdm"]
    out = subprocess.run(
        [sys.executable, "-c", f"import sys\n{code}\nprint('imported:', *(m for m in {heavy!r} "
         "if m in sys.modules))"],
        capture_output=True, text=True, timeout=120, check=True,
    )
    return set(out.stdout.splitlines()[-1].split()[1:])


def test_import_logicat_and_the_cli_import_no_numpy():
    assert _imported_by("import logicat, logicat.cli") == set()
    assert _imported_by("import logicat.cli\ntry:\n    logicat.cli.main(['--help'])\n"
                        "except SystemExit:\n    pass") == set()


def test_predict_and_train_stay_clear_of_scikit_learn(tmp_path, photos_dir):
    model = tmp_path / "m.safetensors"
    run = ("from logicat.cli import main\ntry:\n    main({argv!r})\nexcept SystemExit as e:\n"
           "    assert not e.code, e.code\n")
    train = ["train", "-n", "150", "--print-every", "0", "-o", str(model)]
    heavy = {"sklearn", "scipy", "numba", "matplotlib"}
    assert heavy & _imported_by(run.format(argv=train)) == set()
    predict = ["predict", "-m", str(model), str(photos_dir / "tabby_cat.jpg")]
    assert {"sklearn", "scipy", "numba", "matplotlib", "h5py", "tqdm"} & _imported_by(
        run.format(argv=predict)) == set()


def test_every_public_name_resolves():
    import logicat
    import logicat.data
    import logicat.engines.autograd
    import logicat.engines.torch
    import logicat.layers
    import logicat.training

    for package in (logicat, logicat.engines.autograd, logicat.data, logicat.training,
                    logicat.layers):
        for name in package.__all__:
            assert getattr(package, name) is not None, (package.__name__, name)
    pytest.importorskip("torch")
    for name in logicat.engines.torch.__all__:
        assert getattr(logicat.engines.torch, name) is not None


def test_the_estimators_defaults_are_the_one_table():
    from logicat import LogisticRegression, MLPClassifier
    from logicat.training.hyperparameters import CONSTRAINTS, DEFAULTS, MLP_DEFAULTS

    assert LogisticRegression().get_params() == DEFAULTS
    assert MLPClassifier().get_params() == MLP_DEFAULTS
    assert set(CONSTRAINTS) == set(MLP_DEFAULTS) - {"device", "callbacks"}


#: Where a model's family may be asked for: the layer vocabulary, the presets and what reads a
#: list back as one (``nn/``), and the estimators (one class per preset). Everything else - the
#: Model, its files, the commands, the pages - reads the layers.
FAMILY_MAY_BE_ASKED = {"nn", "estimators"}
#: a model's family asked for (a dtype's .kind is another question)
_FAMILY_QUESTION = re.compile(r"model\.kind|(?<!dtype)\.kind\s*[!=]=|convnet is (not )?None"
                              r"|kind_of\(")


#: Who may read a list back as its preset (``nn.architectures``' ``dense``, ``convnet``,
#: ``image_spec``) outside nn/ and the estimators, and why: words about a list (``describe``,
#: ``summary``) are anyone's, and so is turning an old file's family settings into its list
#: (``legacy_architecture``: the reader of formats 1 to 5; ``checkpoint_architecture``: of
#: checkpoints of versions 2 and 3).
PRESET_READERS = {
    "cli/graph.py": "draws the lesson's own graphs of the presets it made (the logistic step "
                    "with w and b, the course's network), not the list's generic graph",
}


def test_nothing_outside_the_layers_and_engines_asks_which_family_a_model_is():
    asked = []
    for path in sorted(PACKAGE.rglob("*.py")):
        where = path.relative_to(PACKAGE).as_posix()
        if where in FAMILY_MAY_BE_ASKED or where.split("/")[0] in FAMILY_MAY_BE_ASKED:
            continue
        text = path.read_text()
        for number, line in enumerate(text.splitlines(), start=1):
            code = line.split("#")[0]
            if _FAMILY_QUESTION.search(code):
                asked.append(f"{where}:{number}: {line.strip()}")
        readers = re.findall(r"from logicat\.nn\.architectures import ([\w, ]+)", text)
        if {name.strip() for names in readers for name in names.split(",")} - {
                "describe", "summary", "legacy_architecture", "checkpoint_architecture"} and (
                where not in PRESET_READERS):
            asked.append(f"{where}: reads a list back as its preset")
    assert asked == [], "\n".join(asked)


def test_reading_a_model_and_predicting_import_no_training_code_and_no_torch(photos_dir,
                                                                            tmp_path):
    from logicat import LogisticRegression

    model = tmp_path / "m.safetensors"
    X = np.full((2, 12288), [[0.1], [0.9]])  # two 64x64 images' features
    LogisticRegression(max_iter=1).fit(X, [0, 1]).save(model)
    assert _heavy_imports("predict", "-m", model, photos_dir / "tabby_cat.jpg") == []


def _heavy_imports(*argv) -> list[str]:
    """The torch and training modules ``logicat ARGV...`` imports, run in its own process."""
    code = ("import sys\nfrom logicat.cli import main\ntry:\n    main(sys.argv[1:])\nexcept "
            "SystemExit as e:\n    assert not e.code, e.code\nprint('imported:', *sorted(m for m "
            "in sys.modules if m == 'torch' or m.startswith('logicat.training')))")
    out = subprocess.run([sys.executable, "-c", code, *map(str, argv)], capture_output=True,
                         text=True, timeout=120, check=True)
    return out.stdout.splitlines()[-1].split()[1:]


def test_the_installed_package_never_reaches_into_the_source_tree():
    """Harnesses live in benchmarks/ (run from a checkout); no module finds files by climbing
    above the package (``Path(__file__).parents[...]``)."""
    climbing = [f"{path.relative_to(PACKAGE)}:{number}"
                for path in sorted(PACKAGE.rglob("*.py"))
                for number, line in enumerate(path.read_text().splitlines(), start=1)
                if ".parents[" in line or "parent.parent" in line]
    assert climbing == []


#: Modules with logic whose tests are not yet at the mirrored path (tests/<dir>/test_<name>.py),
#: each with where it is tested today. A new module gets its test at the mirrored path; an entry
#: goes when its module gets one (the test below fails on a stale entry).
NOT_YET_MIRRORED = {
    "nn/torch_modules.py": "tests/nn/test_forward.py (LayerNet against NumPy and ONNX)",
    "__main__.py": "python -m logicat: tests/test_architecture.py, tests/cli/",
    "cli/bench.py": "tests/nn/test_loops.py (bench vectorize)",
    "cli/data_commands.py": "tests/data/test_download.py, test_pack.py",
    "cli/distributed.py": "tests/engines/torch/test_distributed.py",
    "cli/graph.py": "tests/engines/autograd/test_draw.py, tests/convnet/test_cli.py",
    "cli/saving.py": "every training command's tests: tests/cli/",
    "core/lazy.py": "every lazy export resolved: tests/test_architecture.py",
    "data/features.py": "tests/data/test_images.py, tests/networks/test_everywhere.py",
    "engines/autograd/gradient_check.py": "tests/engines/autograd/test_graphs.py, "
                                          "test_conv.py, test_tensor_properties.py",
    "engines/torch/model.py": "tests/nn/test_network.py, tests/training/test_torch_solver.py",
    "training/setup.py": "tests/training/test_fit.py, test_dense_fit.py (a record every "
                         "model's preparation fills and the one fit reads)",
    "training/objectives.py":
        "tests/engines/autograd/test_tensor.py, tests/engines/numba/test_fused.py",
    "viz/explanations.py": "tests/evaluate/test_explain.py, tests/web/test_app.py",
}


def test_tests_mirror_the_source_tree():
    """Every module with logic has its test at the mirrored path, or says where it is tested."""
    unmirrored = {
        path.relative_to(PACKAGE).as_posix() for path in PACKAGE.rglob("*.py")
        if path.name != "__init__.py" and not (
            paths.ROOT / "tests" / path.relative_to(PACKAGE).parent / f"test_{path.name}"
        ).exists()
    }
    assert sorted(unmirrored - set(NOT_YET_MIRRORED)) == [], "give these a mirrored test"
    assert sorted(set(NOT_YET_MIRRORED) - unmirrored) == [], "stale entries: remove them"
    named = {m.group(0).rstrip(",") for where in NOT_YET_MIRRORED.values()
             for m in re.finditer(r"tests/[\w/.]+", where)}
    missing = sorted(n for n in named if not (paths.ROOT / n).exists() and not (
        paths.ROOT / "tests" / Path(n).parent / Path(n).name).exists())
    assert missing == [], missing


#: Package cycles allowed: none (the torch solvers are training's, in training/).
KNOWN_PACKAGE_CYCLES: list[list[str]] = []
#: The packages in layers (docs/architecture.md): a package imports only from lower layers.
PACKAGE_LAYERS = [
    {"core"},
    {"nn", "data"},
    {"model"},
    {"engines", "io"},
    {"training", "evaluate"},
    {"estimators", "viz", "layers"},
    {"web"},
    {"cli"},
    {"__main__"},
]


def test_packages_import_from_lower_layers_only():
    layer = {f"logicat.{name}": i for i, names in enumerate(PACKAGE_LAYERS) for name in names}
    layer["logicat"] = len(PACKAGE_LAYERS)  # the package's __init__: lazy names from anywhere
    upward = []
    for module, targets in import_graph().items():
        mine = ".".join(module.split(".")[:2])
        for target in targets:
            theirs = ".".join(target.split(".")[:2])
            if theirs != mine and layer[theirs] >= layer[mine]:
                upward.append(f"{module} -> {target}")
    assert set(layer) >= {".".join(m.split(".")[:2]) for m in import_graph()}
    assert upward == []


def test_packages_import_one_way():
    """The module graph collapsed to packages (logicat.training.fit -> logicat.training; a
    top-level module is its own package) has no cycle."""
    packages: dict[str, set[str]] = {}
    for module, targets in import_graph().items():
        mine = ".".join(module.split(".")[:2])
        packages.setdefault(mine, set()).update(
            ".".join(t.split(".")[:2]) for t in targets if ".".join(t.split(".")[:2]) != mine)
    found = sorted(sorted(cycle) for cycle in cycles(packages))
    assert found == KNOWN_PACKAGE_CYCLES


def test_explaining_a_convnet_imports_no_torch(photos_dir, tmp_path):
    """Grad-CAM through the NumPy engine's backward pass of the layers: a ConvNet file is
    explained (and its pictures drawn) with NumPy alone."""
    pytest.importorskip("torch")
    from logicat import ConvNetClassifier
    from logicat.data.features import preprocessing_spec

    images = np.random.default_rng(0).integers(0, 256, (8, 16, 16, 3), dtype=np.uint8)
    model = ConvNetClassifier(widths=(4,), max_iter=1, device="cpu").fit(
        images, np.arange(8) % 2).save(tmp_path / "cnn.safetensors",
                                       preprocessing=preprocessing_spec(16))
    assert _heavy_imports("explain", "-m", model, photos_dir / "tabby_cat.jpg", "-o",
                          tmp_path / "maps") == []
    assert list((tmp_path / "maps").glob("*.png"))
