"""Speed on a busy machine: each workload quiet and beside competitors, for each thread setting,
side by side in one run.

    LOGICAT_DATA=../shared/data/catvnoncat python benchmarks/contention.py \
        [--epochs 10] [--repeats 2] [--only convnet,logistic,predict] [--situations quiet,...]

Workloads, each a fresh ``logicat`` process timed end to end (start-up included, as a user
waits for it):

- convnet: ``logicat train --model convnet -n EPOCHS`` (the default ConvNet; torch);
- logistic: ``logicat train`` (the lesson's reference run, 2000 iterations; NumPy/OpenBLAS);
- predict: ``logicat predict`` of a folder of the 259 cat-data images (as PNG files) with a
  ConvNet trained for 2 epochs (the NumPy forward pass, TTA, decoding in worker processes).

Situations: quiet; beside 1 and 2 CPU-bound competitors (``while True: pass``, one core each);
beside another torch training (``logicat train --model convnet`` with today's settings).

Thread settings (environment of the timed process only):

- today: libgomp's default wait (spin about 300,000 times before sleeping), spelled out as
  ``GOMP_SPINCOUNT=300000`` so that logicat's own choice stays out of it;
- logicat: nothing set - what logicat chooses (``logicat.core.machine.choose_threads``: the
  usable CPUs; idle threads spin briefly when the machine is quiet at the start, sleep at once
  when it is busy);
- passive: ``OMP_WAIT_POLICY=PASSIVE`` (idle OpenMP threads sleep at once);
- brief spin: ``GOMP_SPINCOUNT=30000``, what logicat chooses on a quiet machine, set by hand so
  that it stays when the competitors are there: a run that started quiet and found work beside
  it later;
- 1 thread: ``OMP_NUM_THREADS=1`` (and ``OPENBLAS_NUM_THREADS=1``).

Each cell: the median of ``--repeats`` runs (settings round-robin, so a busy spell hits them
alike), its ratio to the best setting of that situation and to the same setting's quiet run;
the last column is the fair share: the quiet 1-thread time stretched by (competitors + 1) /
cores where the competitors and this run outnumber the cores (a torch training counts as one).
Targets (issue 30): beside 2 competitors, logicat's choice at <= 1.25x the best setting; quiet,
no slower than today (<= 1.05x).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = {
    "today": {"GOMP_SPINCOUNT": "300000"},
    "logicat": {},
    "passive": {"OMP_WAIT_POLICY": "PASSIVE"},
    "brief spin": {"GOMP_SPINCOUNT": "30000"},
    "1 thread": {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"},
}
THREAD_VARIABLES = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_NUM_THREADS",
                    "OPENBLAS_NUM_THREADS", "LOGICAT_THREADS")
SITUATIONS = ("quiet", "1 busy", "2 busy", "torch beside")


def logicat(*args: str) -> list[str]:
    return [sys.executable, "-m", "logicat", *args]


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    return {**env, "PYTHONPATH": str(ROOT / "src"), **extra}


def competitors(situation: str, work: Path) -> list[subprocess.Popen]:
    if situation == "quiet":
        return []
    if situation == "torch beside":
        return [subprocess.Popen(
            logicat("train", "--model", "convnet", "-n", "100000", "--print-every", "0",
                    "-o", str(work / "beside.safetensors")),
            env=clean_env(SETTINGS["today"]), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)]
    busy = int(situation.split()[0])
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(busy)]


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def prepare(work: Path) -> tuple[Path, Path]:
    """A folder of the 259 cat-data images as PNG files, and a 2-epoch ConvNet."""
    sys.path.insert(0, str(ROOT / "src"))
    from PIL import Image

    from logicat import load_catvnoncat

    data = load_catvnoncat()
    folder = work / "photos"
    folder.mkdir()
    for k, image in enumerate([*data.train_x, *data.test_x]):
        Image.fromarray(image).save(folder / f"{k:03d}.png")
    model = work / "convnet.safetensors"
    subprocess.run(logicat("train", "--model", "convnet", "-n", "2", "--print-every", "0",
                           "-o", str(model)), env=clean_env({}), check=True,
                   stdout=subprocess.DEVNULL)
    return folder, model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--only", default="convnet,logistic,predict")
    parser.add_argument("--situations", default=",".join(SITUATIONS))
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from logicat.core.machine import describe, usable_cpus

    cores = usable_cpus()
    print(f"CPU: {describe()}; load average {os.getloadavg()[0]:.2f} at the start")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        folder, model = prepare(work)
        out = str(work / "out.safetensors")
        workloads = {
            "convnet": logicat("train", "--model", "convnet", "-n", str(args.epochs),
                               "--print-every", "0", "-o", out),
            "logistic": logicat("train", "-n", "2000", "--learning-rate", "0.005",
                                "--print-every", "0", "-o", out),
            "predict": logicat("predict", "-m", str(model), str(folder)),
        }
        for name in args.only.split(","):
            times: dict[tuple[str, str], list[float]] = {}
            for situation in args.situations.split(","):
                others = competitors(situation, work)
                time.sleep(2.0 if others else 0.0)  # the competitors at full speed
                try:
                    for _ in range(args.repeats):
                        for setting, env in SETTINGS.items():
                            times.setdefault((situation, setting), []).append(
                                timed(workloads[name], clean_env(env)))
                finally:
                    for process in others:
                        process.kill()
                        process.wait()
            report(name, args, times, cores, args.situations.split(","))


def report(name: str, args: argparse.Namespace, times: dict, cores: int,
           situations: list[str]) -> None:
    median = {key: statistics.median(value) for key, value in times.items()}
    print(f"\n{name}: seconds, median of {args.repeats} (x the best setting of the situation; "
          f"x the same setting quiet)")
    print(f"  {'situation':13s}" + "".join(f"{s:>20s}" for s in SETTINGS) + f"{'fair share':>12s}")
    quiet_1 = median[("quiet", "1 thread")]
    for situation in situations:
        best = min(median[(situation, s)] for s in SETTINGS)
        n = 0 if situation == "quiet" else 2 if situation == "2 busy" else 1
        cells = []
        for setting in SETTINGS:
            t = median[(situation, setting)]
            cells.append(f"{t:7.2f} ({t / best:.2f}; {t / median[('quiet', setting)]:.2f})")
        fair = quiet_1 * max(1.0, (n + 1) / cores)
        print(f"  {situation:13s}" + "".join(f"{c:>20s}" for c in cells) + f"{fair:12.2f}")


if __name__ == "__main__":
    main()
