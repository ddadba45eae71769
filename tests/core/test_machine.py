"""The machine's description: what the suite's header and ``info --verbose`` say."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

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


THREAD_VARIABLES = ("OMP_NUM_THREADS", "LOGICAT_THREADS", *machine.WAIT_VARIABLES)
SEEN = ("import os, logicat, torch; print(os.environ.get('OMP_WAIT_POLICY'), "
        "os.environ.get('GOMP_SPINCOUNT'), os.environ.get('OMP_NUM_THREADS'), "
        "torch.get_num_threads())")


def _python(code, cpus=None, **variables):
    """``code`` in a fresh interpreter whose environment has only ``variables`` of the thread
    settings (this process's were set by its own ``import logicat``), on ``cpus`` if given."""
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**env, **variables},
                          preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None
                          ).stdout.split()


def test_the_waits_follow_the_load_at_the_start_and_the_thread_count_does_not():
    n = str(machine.usable_cpus())
    assert machine.choose_threads({}, busy=0) == {"GOMP_SPINCOUNT": "30000", "OMP_NUM_THREADS": n}
    assert machine.choose_threads({}, busy=2) == {
        "OMP_WAIT_POLICY": "PASSIVE", "OPENBLAS_THREAD_TIMEOUT": "4", "OMP_NUM_THREADS": n}


def test_a_competitor_is_seen_and_this_process_own_threads_are_not():
    import numpy as np

    np.ones((512, 512)) @ np.ones((512, 512))  # NumPy's BLAS threads, spinning a while
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        deadline = time.monotonic() + 10
        while machine.others_running() < 1 and time.monotonic() < deadline:
            time.sleep(0.05)  # until the competitor runs
        assert machine.others_running() >= 1
    finally:
        busy.kill()
        busy.wait()


def test_importing_logicat_applies_its_choice_and_the_usable_cpus():
    wait, spin, threads, torch_threads = _python(SEEN)
    assert (wait, spin) in [("None", "30000"), ("PASSIVE", "None")]
    assert threads == torch_threads == str(machine.usable_cpus())
    first = sorted(os.sched_getaffinity(0))[:1]  # one CPU: one thread, not the machine's count
    assert _python(SEEN, cpus=first)[2:] == ["1", "1"]


def test_the_users_own_settings_are_left_alone():
    assert _python(SEEN, OMP_WAIT_POLICY="ACTIVE", OMP_NUM_THREADS="1") == [
        "ACTIVE", "None", "1", "1"]
    assert _python(SEEN, GOMP_SPINCOUNT="1000")[:2] == ["None", "1000"]  # a wait of the user's
    assert machine.choose_threads({"KMP_BLOCKTIME": "0", "OMP_NUM_THREADS": "3"}, busy=0) == {}


def test_a_torch_command_says_its_threads_and_why_and_records_them(tmp_path):
    command = ("import sys; from logicat.cli import main; sys.argv = ['logicat', 'train', "
               "'--model', 'convnet', '--param', 'widths=4', '-n', '1', '-v', '-o', "
               f"{str(tmp_path / 'm.safetensors')!r}] + sys.argv[1:]; main()")
    clean = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    ours = subprocess.run([sys.executable, "-c", command], capture_output=True, text=True,
                          env=clean)
    assert ours.returncode == 0, ours.stderr
    n = machine.usable_cpus()
    first = ours.stdout.splitlines()[0]
    assert first.startswith(f"Computing on {machine.cpu_model()}, {n} usable CPUs; NumPy ")
    threads = f"; {n} thread{'s' if n > 1 else ''} (the CPUs this process may use; " \
        "OMP_NUM_THREADS unset); idle threads "
    assert first.endswith(threads + "spin briefly (logicat's choice: the machine was quiet at "
                          "the start)") or re.search(re.escape(threads) + r"sleep at once \("
                          r"logicat's choice: \d+ other tasks? running at the start\)$", first)
    asked = subprocess.run([sys.executable, "-c", command, "--threads", "1"],
                           capture_output=True, text=True,
                           env=dict(clean, OMP_WAIT_POLICY="ACTIVE"))
    assert asked.returncode == 0, asked.stderr
    assert asked.stdout.splitlines()[0].endswith(
        "; 1 thread (--threads 1); idle threads wait as you set (OMP_WAIT_POLICY=ACTIVE)")
    from logicat.io.files import read_model

    recorded = read_model(tmp_path / "m.safetensors").metadata["machine"]
    assert recorded.startswith(machine.cpu_model()) and "(--threads 1)" in recorded
