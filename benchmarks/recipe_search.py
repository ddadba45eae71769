"""How the ConvNet's default recipe was chosen: each candidate against it, by cross-validation
on the 209 training images only.

    python benchmarks/recipe_search.py [--folds 5] [--seeds 0 ...] [--configs NAME ...]

Every candidate is ``ConvNetClassifier(**changes)``, one change (or one group of changes) away
from the default recipe; each is scored by stratified k-fold CV on the training images
(``StratifiedKFold(k, shuffle=True, random_state=0)``, the same folds for all), mean ± std over
the folds, for each seed. The test file is never read: the default recipe is the candidate with
the best CV, and ``benchmarks/accuracy.py`` then evaluates it once on the test images.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

STRONG = {"crop": "resized", "rotation": 10.0, "brightness": 0.2, "contrast": 0.2,
          "saturation": 0.2}

CANDIDATES: dict[str, dict] = {
    "default recipe": {},
    "60 epochs": {"max_iter": 60},
    "no TTA": {"tta": False},
    "no augmentation": {"flip": False, "crop": "none"},
    "flips only": {"crop": "none"},
    "strong augmentation, 200 epochs": {**STRONG, "max_iter": 200},
    "mixup 0.4": {"mixup": 0.4},
    "weight decay 0.05": {"weight_decay": 0.05},
    "SGD (Nesterov), lr 0.05": {"optimizer": "sgd", "learning_rate": 0.05},
    "widths 32,64,128,256": {"widths": (32, 64, 128, 256)},
    "two convolutions per block": {"convs_per_block": 2},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--configs", nargs="*", default=None,
                        help="Substrings of the candidates' names to run (default: all).")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()

    import torch
    from threadpoolctl import threadpool_limits

    from logicat import ConvNetClassifier
    from logicat.data.catvnoncat import TRAIN_FILE, find_catvnoncat, load_h5_dataset
    from logicat.metrics import cross_validate_metrics

    torch.set_num_threads(args.threads)
    train_x, train_y, _ = load_h5_dataset(find_catvnoncat() / TRAIN_FILE)  # only this file
    names = [n for n in CANDIDATES if not args.configs or any(s in n for s in args.configs)]
    print(f"{len(train_y)} training images ({int(train_y.sum())} cats), {args.folds}-fold CV, "
          f"seeds {args.seeds}, {args.threads} thread(s); the test images are not read")
    print(f"{'candidate':<34} {'changes':<44} {'seed':>4} {'CV accuracy':>15}  "
          f"{'per fold':<30} {'s/fit':>6}")
    with threadpool_limits(args.threads):
        for name in names:
            changes = CANDIDATES[name]
            shown = ", ".join(f"{k}={v}" for k, v in changes.items()) or "-"
            means = []
            for seed in args.seeds:
                start = time.perf_counter()
                acc = 100 * cross_validate_metrics(
                    ConvNetClassifier(random_state=seed, **changes), train_x, train_y,
                    cv=args.folds, random_state=0)["accuracy"]
                seconds = (time.perf_counter() - start) / args.folds
                means.append(acc.mean())
                print(f"{name:<34} {shown[:44]:<44} {seed:>4} "
                      f"{acc.mean():>6.1f} ± {acc.std():>4.1f} %  "
                      f"{' '.join(f'{a:.1f}' for a in acc):<30} {seconds:>6.1f}", flush=True)
            if len(means) > 1:
                print(f"{name:<34} {'mean over the seeds':<44} {'':>4} "
                      f"{statistics.mean(means):>6.1f} ± {statistics.pstdev(means):>4.1f} %")

if __name__ == "__main__":
    main()
