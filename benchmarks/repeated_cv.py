"""Candidates for the image classifier compared by a protocol that can see a difference:
repeated stratified cross-validation on the 209 training images only, paired by fold.

    LOGICAT_DATA=../shared/data/catvnoncat python benchmarks/repeated_cv.py \
        [--repeats 3] [--folds 5] [--candidates convnet resnet8 resnet10] [--epochs 120]

Every candidate trains on the same ``repeats x folds`` splits (``RepeatedStratifiedKFold``,
random_state 0) with the default recipe (``NETWORK_DEFAULTS``: 120 epochs, AdamW, cosine,
flips and padded crops, TTA); "convnet" is ``ConvNetClassifier()``, the others
``NetworkClassifier(layers=<preset>)`` (``logicat.nn.families.PRESETS``); a candidate may
change the recipe after a colon (``convnet:average=swa,average_start=0.5``). For each it prints the
mean accuracy over the folds, the log-loss and Brier score of all held-out predictions (each
image is held out once per repeat), the seconds per fit, and, against the first candidate, the
mean paired difference of the folds' accuracies with its 95 % t-interval.

With ``--views``, the candidates are ways of predicting with the first candidate's fits (one
fit per split, scored every way): test-time augmentation by the views of each image whose
logits are averaged - "none" (the image), "flip" (and its mirror: today's TTA), "shiftD" (the
image and its four diagonal shifts by D pixels, reflection-padded as the training crops are,
each with its mirror: 10 views) - compared with "flip" by the same paired rule.

The rule, fixed before any number: a candidate replaces the first (today's default) only if
that interval lies above 0 and one fit takes under 3 minutes on these 2 cores. The test
images are never read here.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np


def estimator(candidate: str, epochs: int):
    """``convnet`` or a preset's name, then ``:name=value,...`` changes of the recipe
    (``convnet:average=swa``)."""
    import json

    from logicat import ConvNetClassifier, NetworkClassifier

    name, _, changes = candidate.partition(":")
    params = {"max_iter": epochs, "device": "cpu"}
    for change in filter(None, changes.split(",")):
        key, _, text = change.partition("=")
        try:
            params[key] = json.loads(text)
        except ValueError:
            params[key] = text
    return (ConvNetClassifier(**params) if name == "convnet"
            else NetworkClassifier(layers=name, **params))


def views(images: np.ndarray, how: str) -> list[np.ndarray]:
    """The views of uint8 images (m, s, s, 3) whose logits TTA ``how`` averages."""
    if how == "none":
        return [images]
    if how == "flip":
        return [images, images[:, :, ::-1]]
    d = int(how.removeprefix("shift"))
    s = images.shape[1]
    padded = np.pad(images, ((0, 0), (d, d), (d, d), (0, 0)), mode="reflect")
    shifted = [images] + [padded[:, d + dy:d + dy + s, d + dx:d + dx + s]
                          for dy in (-d, d) for dx in (-d, d)]
    return shifted + [v[:, :, ::-1] for v in shifted]


def view_probabilities(clf, images: np.ndarray, ways: list[str]) -> dict[str, np.ndarray]:
    """p(cat) of each way of predicting: the fitted network's mean logit over the views."""
    from logicat.nn import forward
    from logicat.nn.loss import sigmoid

    model = clf.to_model()
    out = {}
    for how in ways:
        z = np.mean([forward.logit(model.layers, model.tensors, v) for v in views(images, how)],
                    axis=0)
        out[how] = sigmoid(model.output.logit(z[None]))
    return out


def t_975(df: int) -> float:
    """The 97.5 % quantile of Student's t with ``df`` degrees of freedom."""
    from scipy.stats import t

    return float(t.ppf(0.975, df))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--candidates", nargs="+", default=["convnet", "resnet8", "resnet10"])
    parser.add_argument("--epochs", type=int, default=120)
    parser.add_argument("--views", nargs="+", help="score ways of predicting with the first "
                        "candidate's fits: none, flip, shiftD")
    args = parser.parse_args()
    from sklearn.model_selection import RepeatedStratifiedKFold

    from logicat import load_catvnoncat

    data = load_catvnoncat()
    X, y = data.train_x, data.train_y
    splits = list(RepeatedStratifiedKFold(n_splits=args.folds, n_repeats=args.repeats,
                                          random_state=0).split(np.zeros(len(y)), y))
    ways = args.views or args.candidates
    accuracies = {way: [] for way in ways}
    p = {way: np.zeros((args.repeats, len(y))) for way in ways}
    times = {way: [] for way in ways}
    for name in ([args.candidates[0]] if args.views else args.candidates):
        for k, (train, test) in enumerate(splits):
            clf = estimator(name, args.epochs)
            start = time.perf_counter()
            clf.fit(X[train], y[train])
            seconds = time.perf_counter() - start
            probas = (view_probabilities(clf, X[test], args.views) if args.views
                      else {name: clf.predict_proba(X[test])[:, 1]})
            for way, proba in probas.items():
                p[way][k // args.folds, test] = proba
                accuracies[way].append(float(np.mean((proba > 0.5) == y[test])))
                times[way].append(seconds)
    results = {}
    for way in ways:
        clipped = np.clip(p[way], 1e-15, 1 - 1e-15)
        log_loss = float(-np.mean(y * np.log(clipped) + (1 - y) * np.log(1 - clipped)))
        brier = float(np.mean((p[way] - y) ** 2))
        results[way] = (np.array(accuracies[way]), log_loss, brier, statistics.median(times[way]))
    n = len(splits)
    if args.views:
        args.candidates = args.views
    print(f"{args.repeats} x {args.folds}-fold stratified CV on the {len(y)} training images "
          f"(the same {n} splits for every candidate), {args.epochs} epochs; accuracy: mean "
          f"over the folds; log-loss, Brier: all held-out predictions")
    print(f"{'candidate':24s} {'accuracy':>15s} {'log-loss':>9s} {'Brier':>7s} {'s/fit':>7s}"
          f"  paired difference vs {args.candidates[0]} (95 % t-interval)")
    first = results[args.candidates[0]][0]
    for name, (acc, log_loss, brier, seconds) in results.items():
        line = (f"{name:24s} {100 * acc.mean():6.1f} ± {100 * acc.std(ddof=1):4.1f} % "
                f"{log_loss:9.3f} {brier:7.3f} {seconds:7.1f}")
        if name != args.candidates[0]:
            d = acc - first
            half = t_975(n - 1) * d.std(ddof=1) / math.sqrt(n)
            verdict = ("replaces it" if d.mean() - half > 0 and seconds < 180
                       else "does not replace it")
            line += (f"  {100 * d.mean():+5.1f} [{100 * (d.mean() - half):+5.1f}, "
                     f"{100 * (d.mean() + half):+5.1f}] points: {verdict}")
        print(line)


if __name__ == "__main__":
    main()
