"""How the ConvNet's default recipe was chosen: each candidate against it, by cross-validation
on the 209 training images only.

    python benchmarks/recipe_search.py [--folds 5] [--seeds 0 ...] [--configs NAME ...]
    python benchmarks/recipe_search.py --output [--members 5 3]

``--output`` searches the output step instead (issue 18): for each outer fold it trains the
default recipe once and as an ensemble of K members on K inner folds (``members="folds"``,
``calibration="temperature"``: T fitted on the members' out-of-fold logits, inside the outer
fold's training images), then scores, from the same fits, every way of deciding: one model or
the ensemble; mean logit or mean probability; T or not; at the training class mix or at equal
priors. The columns are accuracy, balanced accuracy, log-loss, log-loss with balanced weights,
Brier score and ECE (10 bins), over the 209 out-of-fold predictions pooled.

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
    parser.add_argument("--output", action="store_true",
                        help="Search the output step (ensembles, calibration, prior).")
    parser.add_argument("--members", type=int, nargs="+", default=[5, 3])
    args = parser.parse_args()
    if args.output:
        return output_search(args)

    import torch
    from threadpoolctl import threadpool_limits

    from logicat import ConvNetClassifier
    from logicat.data.catvnoncat import TRAIN_FILE, find_catvnoncat, load_h5_dataset
    from logicat.evaluate.metrics import cross_validate_metrics

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

def scores(y, z, weights_balanced):
    """accuracy, balanced accuracy, log-loss, balanced log-loss, Brier, ECE of logits z."""
    from sklearn import metrics

    from logicat.evaluate.metrics import expected_calibration_error
    from logicat.nn.loss import sigmoid

    p = sigmoid(z)
    decided = (p > 0.5).astype(int)
    return (100 * metrics.accuracy_score(y, decided),
            100 * metrics.balanced_accuracy_score(y, decided),
            metrics.log_loss(y, p, labels=[0, 1]),
            metrics.log_loss(y, p, labels=[0, 1], sample_weight=weights_balanced),
            metrics.brier_score_loss(y, p), expected_calibration_error(y, p))


def output_search(args) -> None:
    import numpy as np
    import torch
    from sklearn.model_selection import StratifiedKFold
    from threadpoolctl import threadpool_limits

    from logicat import ConvNetClassifier
    from logicat.data.catvnoncat import TRAIN_FILE, find_catvnoncat, load_h5_dataset
    from logicat.nn.output import Output

    torch.set_num_threads(args.threads)
    x, y, _ = load_h5_dataset(find_catvnoncat() / TRAIN_FILE)  # only this file
    m = len(y)
    balanced = np.where(y == 1, m / (2 * y.sum()), m / (2 * (m - y.sum())))
    seed = args.seeds[0]
    print(f"{m} training images ({int(y.sum())} cats), {args.folds}-fold CV (outer), seed "
          f"{seed}, {args.threads} thread(s); the test images are not read")
    folds = list(StratifiedKFold(args.folds, shuffle=True, random_state=0).split(x, y))
    rows: dict[str, np.ndarray] = {}
    seconds: dict[str, float] = {}

    def put(name, test, z):
        rows.setdefault(name, np.zeros(m))[test] = z

    with threadpool_limits(args.threads):
        for i, (train, test) in enumerate(folds):
            start = time.perf_counter()
            one = ConvNetClassifier(random_state=seed).fit(x[train], y[train])
            seconds["one model"] = seconds.get("one model", 0) + time.perf_counter() - start
            z = one.to_model().member_logits(x[test].reshape(len(test), -1) / 255.0)
            prior = one.training_prior_
            for at in ("train", "balanced"):
                put(f"one model, prior {at}", test,
                    Output(training_prior=prior, prior=at).logit(z))
            for k in args.members:
                start = time.perf_counter()
                ens = ConvNetClassifier(random_state=seed, n_members=k, members="folds",
                                        calibration="temperature").fit(x[train], y[train])
                seconds[f"K={k}"] = seconds.get(f"K={k}", 0) + time.perf_counter() - start
                zk = ens.to_model().member_logits(x[test].reshape(len(test), -1) / 255.0)
                T = ens.temperature_
                print(f"  fold {i}: K={k} T = {T:.3f}", flush=True)
                for combine in ("logit", "proba"):
                    for t in (1.0, T):
                        for at in ("train", "balanced"):
                            out = Output(members=k, combine=combine, temperature=t,
                                         training_prior=ens.training_prior_, prior=at)
                            name = (f"K={k} folds, mean {combine}, "
                                    f"{'T' if t != 1.0 else 'no T'}, prior {at}")
                            put(name, test, out.logit(zk))
            print(f"  fold {i} done", flush=True)
    print(f"{'candidate':<44} {'accuracy':>8} {'bal.acc':>8} {'logloss':>8} {'bal.LL':>8} "
          f"{'Brier':>7} {'ECE':>6}")
    for name, z in rows.items():
        a, b, ll, bll, brier, ece = scores(y, z, balanced)
        print(f"{name:<44} {a:>7.1f}% {b:>7.1f}% {ll:>8.3f} {bll:>8.3f} {brier:>7.3f} "
              f"{ece:>6.3f}")
    for name, total in seconds.items():
        print(f"s/fit of {name} on {len(folds[0][0])} images: {total / len(folds):.1f}")


if __name__ == "__main__":
    main()
