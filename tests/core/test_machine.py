"""The machine's description: what the suite's header and ``info --verbose`` say."""

from __future__ import annotations

import os
import subprocess
import sys

from logicat.core import machine


def test_usable_cpus_are_the_affinity_mask():
    assert machine.usable_cpus() == len(os.sched_getaffinity(0))


def test_the_description_names_the_processor_and_what_numpy_dispatches_to():
    from numpy._core._multiarray_umath import __cpu_dispatch__

    line = machine.describe()
    assert line.startswith(f"{machine.cpu_model()}, {machine.usable_cpus()} usable CPUs; ")
    assert machine.numpy_simd() in (*__cpu_dispatch__, "baseline")
    assert f"NumPy {machine.numpy_simd()}, BLAS " in line


def test_torch_is_described_only_once_imported_and_as_it_dispatches():
    code = ("import sys; from logicat.core import machine; print(machine.torch_simd()); "
            "import torch; print(machine.torch_simd(), torch.backends.cpu.get_cpu_capability()); "
            "print(machine.describe())")
    env = dict(os.environ, ATEN_CPU_CAPABILITY="default")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True).stdout.splitlines()
    assert out[0] == "None"
    assert out[1] == "DEFAULT DEFAULT"  # the variable lowers what torch dispatches to
    assert out[2].endswith("; torch DEFAULT")
