"""The speed suite: logicat vs the baselines L, P, S, G, measured side by side in one run.

    python benchmarks/suite.py [--iterations 2000] [--repeat 3]     (same as `logicat bench`)

See ``logicat.fast.suite`` for what each row measures.
"""

from __future__ import annotations

import argparse

from logicat.fast.suite import run_suite

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    run_suite(args.data_dir, iterations=args.iterations, repeat=args.repeat)
