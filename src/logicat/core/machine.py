"""The processor logicat computes on: its name, the CPUs this process may use, the SIMD level
NumPy, its BLAS and PyTorch dispatch to - and how many threads logicat computes with.

Which float32 numbers come out depends on these (docs/torch.md, "Exact, and at float's floor"):
NumPy's float64 of the lesson and the course is the same on every machine, while a float32
ConvNet trains to another model on another processor's kernels. ``describe()`` names the machine
in one line, for the test suite's header, the benchmarks and ``logicat info --verbose``.
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import MutableMapping
from pathlib import Path

#: the variables that say how idle threads wait (libgomp's, Intel OpenMP's, OpenBLAS's); one set
#: by the user means the user chose, and logicat sets none of them
WAIT_VARIABLES = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME", "OPENBLAS_THREAD_TIMEOUT")
#: logicat's waits: on a quiet machine a short spin (as fast as libgomp's default 300,000 spins
#: while the cores are free, 1.2-1.9x faster when work arrives beside it later: BENCHMARKS.md,
#: "Speed on a busy machine"); on a busy one, sleep
BRIEF_SPIN = {"GOMP_SPINCOUNT": "30000"}
SLEEP_AT_ONCE = {"OMP_WAIT_POLICY": "PASSIVE", "OPENBLAS_THREAD_TIMEOUT": "4"}
#: the variables logicat set itself in this process, and the value it set (``choose_threads``)
CHOSEN: dict[str, str] = {}
#: the thread count asked for by ``--threads`` or ``set_threads``
ASKED: dict[str, int] = {}
#: why the waits were chosen: how many other tasks were running when logicat was imported
BUSY: dict[str, int] = {}


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


def others_running(samples: int = 3) -> int:
    """How many other tasks (processes or threads) are running or ready to run right now: the
    running count of /proc/loadavg less this process's own running threads (NumPy's BLAS
    threads spin for a while after it loads), the least of a few readings so that a passing
    command is not taken for a competitor (0 where there is no /proc)."""
    try:
        counts = []
        for _ in range(samples):
            running = int(Path("/proc/loadavg").read_text().split()[3].split("/")[0])
            counts.append(running - _own_running_threads())
    except (OSError, IndexError, ValueError):  # pragma: no cover - not Linux
        return 0
    return max(0, min(counts))


def _own_running_threads() -> int:
    own = 0
    for task in Path("/proc/self/task").iterdir():
        try:  # "pid (name) S ...": the state follows the name's closing parenthesis
            own += task.joinpath("stat").read_text().rsplit(")", 1)[1].split()[0] == "R"
        except (OSError, IndexError):  # a thread that ended meanwhile
            pass
    return max(own, 1)  # this thread, reading


def choose_threads(environ: MutableMapping[str, str] = os.environ,
                   busy: int | None = None) -> dict[str, str]:
    """logicat's thread policy, applied where the user set nothing (``import logicat`` runs it,
    before torch or NumPy's BLAS start their threads, which read these variables once):

    - the thread count, ``OMP_NUM_THREADS``: the CPUs this process may use (its affinity mask,
      not the machine's count, which PyTorch would take). It does not depend on the load, so
      a run gives the same numbers whatever else the machine is doing;
    - how idle threads wait between two parallel regions. They spin by default, and when other
      processes share the cores the spinning steals the time the working threads need: the
      ConvNet ran up to 5.5x slower than need be (BENCHMARKS.md). With ``busy`` other tasks
      running at the start (``others_running()`` when None), idle threads sleep at once
      (``SLEEP_AT_ONCE``: OpenMP's passive policy, OpenBLAS's shortest spin); on a quiet
      machine they spin briefly (``BRIEF_SPIN``), which costs nothing while the cores are
      free. BENCHMARKS.md, "Speed on a busy machine", has the measurements
      (``benchmarks/contention.py``).

    A variable the user set is left as it is. Returns what was set (also kept in ``CHOSEN``)."""
    chosen = {}
    if not any(name in environ for name in WAIT_VARIABLES):
        busy = others_running() if busy is None else busy
        chosen.update(SLEEP_AT_ONCE if busy else BRIEF_SPIN)
        if environ is os.environ:
            BUSY["others"] = busy
    if "OMP_NUM_THREADS" not in environ:
        chosen["OMP_NUM_THREADS"] = str(usable_cpus())
    environ.update(chosen)
    if environ is os.environ:
        CHOSEN.update(chosen)
    return chosen


def set_threads(n: int) -> None:
    """Compute with ``n`` threads from now on (``--threads``, the estimators' ``n_jobs``): PyTorch's
    intra-op threads, NumPy's BLAS, logicat's numba kernel, and the processes started later
    (``--nproc``'s and the decoding workers' share come from it)."""
    os.environ["OMP_NUM_THREADS"] = os.environ["LOGICAT_THREADS"] = str(n)
    CHOSEN.pop("OMP_NUM_THREADS", None)  # the user's choice now
    ASKED["threads"] = n
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(n)
    if "numpy" in sys.modules:  # its BLAS read the variable when it loaded
        import threadpoolctl

        threadpoolctl.threadpool_limits(n, user_api="blas")


def threads_in_use() -> str:
    """How many threads compute, and why, in one line: "2 threads (the CPUs this process may
    use; OMP_NUM_THREADS unset); idle threads sleep at once (logicat's choice: 2 other tasks
    were running at the start)"."""
    torch = sys.modules.get("torch")
    n = torch.get_num_threads() if torch is not None else os.environ.get(
        "OMP_NUM_THREADS", usable_cpus())
    count = (f"--threads {ASKED['threads']}" if "threads" in ASKED else
             "the CPUs this process may use; OMP_NUM_THREADS unset"
             if "OMP_NUM_THREADS" in CHOSEN else
             f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}, yours"
             if "OMP_NUM_THREADS" in os.environ else "PyTorch's default")
    set_wait = [f"{name}={os.environ[name]}" for name in WAIT_VARIABLES if name in os.environ]
    if "others" in BUSY and BUSY["others"]:
        others = BUSY["others"]
        wait = (f"idle threads sleep at once (logicat's choice: {others} other "
                f"task{'s' if others > 1 else ''} running at the start)")
    elif "others" in BUSY:
        wait = "idle threads spin briefly (logicat's choice: the machine was quiet at the start)"
    elif set_wait:
        wait = f"idle threads wait as you set ({', '.join(set_wait)})"
    else:
        wait = "idle threads wait as the runtimes do by default"
    return f"{n} thread{'s' if str(n) != '1' else ''} ({count}); {wait}"
