"""The processor logicat computes on: its name, the CPUs this process may use, and the SIMD level
NumPy, its BLAS and PyTorch dispatch to.

Which float32 numbers come out depends on these (docs/torch.md, "Exact, and at float's floor"):
NumPy's float64 of the lesson and the course is the same on every machine, while a float32
ConvNet trains to another model on another processor's kernels. ``describe()`` names the machine
in one line, for the test suite's header, the benchmarks and ``logicat info --verbose``.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask; all of them where there is none)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def cpu_model() -> str:
    """The processor's name, as /proc/cpuinfo gives it ("AMD EPYC 9R14", "Intel(R) Xeon(R) ...")."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:  # pragma: no cover - not Linux
        pass
    return platform.processor() or platform.machine()


def numpy_simd() -> str:
    """The highest SIMD level NumPy's own loops dispatch to on this processor ("AVX512_SPR")."""
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    except ImportError:  # pragma: no cover - NumPy 1.x
        from numpy.core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    found = [name for name in __cpu_dispatch__ if __cpu_features__.get(name)]
    return found[-1] if found else "baseline"


def blas() -> str:
    """NumPy's BLAS and the kernel it picked ("openblas 0.3.31 SkylakeX")."""
    import threadpoolctl

    for info in threadpoolctl.threadpool_info():
        if info["user_api"] == "blas":
            return f"{info['internal_api']} {info.get('version')} {info.get('architecture')}"
    return "no BLAS found"


def torch_simd() -> str | None:
    """The SIMD level PyTorch's CPU kernels dispatch to ("AVX512", "AVX2", "DEFAULT"; the
    variable ATEN_CPU_CAPABILITY lowers it), or None where torch has not been imported."""
    torch = sys.modules.get("torch")
    return None if torch is None else torch.backends.cpu.get_cpu_capability()


def describe() -> str:
    """One line: "Intel(R) Xeon(R) Processor, 2 usable CPUs; NumPy AVX512_SPR, BLAS openblas
    0.3.31 SkylakeX; torch AVX512" (torch only where it has been imported)."""
    line = (f"{cpu_model()}, {usable_cpus()} usable CPUs; NumPy {numpy_simd()}, "
            f"BLAS {blas()}")
    simd = torch_simd()
    return line if simd is None else f"{line}; torch {simd}"
