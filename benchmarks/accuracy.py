"""How right is each model about cats? The honest comparison, in one command.

    python benchmarks/accuracy.py [--seeds 5] [--folds 5] [--splits 5] [--models NAME ...]

For each model (always "cat"; the lesson's logistic regression; the course's two-layer and deep
networks; the ConvNet without augmentation; the ConvNet's default recipe):

- CV: stratified k-fold cross-validation on the 209 training images only (the folds of
  ``StratifiedKFold(k, shuffle=True, random_state=0)``; seed 0), mean ± std over the folds -
  the number every choice of the recipe was made on (BENCHMARKS.md, "How the recipe was
  chosen");
- test: trained on the 209 training images with seeds 0..S-1, each evaluated once on the 50
  test images; mean ± std (and the range) over the seeds. The test images choose nothing;
- seconds: the mean time of one training.

Then the default recipe on other splits of the same 259 images: the training and test images
pooled and split again (stratified, 50 held out, seeds 1..N), trained with seed 0 on each - a
recipe tuned to the official 50 would not survive this.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np


def models(seed: int) -> dict:
    """name -> (an unfitted estimator, whether it takes images (else the lesson's features))."""
    from sklearn.dummy import DummyClassifier

    from logicat import ConvNetClassifier, LogisticRegression, MLPClassifier

    return {
        "always cat": (DummyClassifier(strategy="constant", constant=1), False),
        "logistic regression (the lesson)": (LogisticRegression(), False),
        "two-layer network 7 (the course)": (
            MLPClassifier(hidden_layer_sizes=(7,), init="small_normal", random_state=seed),
            False),
        "deep network 20,7,5 (the course)": (MLPClassifier(random_state=seed), False),
        "ConvNet, no augmentation, no TTA": (
            ConvNetClassifier(flip=False, crop="none", tta=False, random_state=seed), True),
        "ConvNet (default recipe)": (ConvNetClassifier(random_state=seed), True),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--models", nargs="*", default=None,
                        help="Substrings of the model names to run (default: all).")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()

    import torch
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedShuffleSplit
    from threadpoolctl import threadpool_limits

    from logicat import images_to_features, load_catvnoncat
    from logicat.metrics import accuracy_percent, cross_validate_metrics

    torch.set_num_threads(args.threads)
    data = load_catvnoncat()
    inputs = {False: (images_to_features(data.train_x), images_to_features(data.test_x)),
              True: (data.train_x, data.test_x)}
    names = [n for n in models(0) if not args.models or any(s in n for s in args.models)]
    print(f"cat / non-cat: {len(data.train_y)} training images ({int(data.train_y.sum())} cats), "
          f"{len(data.test_y)} test images ({int(data.test_y.sum())} cats); {args.threads} "
          f"thread(s)")
    print(f"{'model':<36} {'CV accuracy (train)':>20} {'test accuracy':>22} {'range':>13} "
          f"{'s/fit':>7}")
    with threadpool_limits(args.threads):
        for name in names:
            estimator, on_images = models(0)[name]
            X_train, X_test = inputs[on_images]
            cv = 100 * cross_validate_metrics(estimator, X_train, data.train_y, cv=args.folds,
                                              random_state=0)["accuracy"]
            tests, seconds = [], []
            for seed in range(args.seeds):
                estimator, _ = models(seed)[name]
                start = time.perf_counter()
                fitted = clone(estimator).fit(X_train, data.train_y)
                seconds.append(time.perf_counter() - start)
                tests.append(accuracy_percent(fitted.predict(X_test), data.test_y))
            print(f"{name:<36} {_pm(cv):>20} {_pm(tests):>22} "
                  f"{min(tests):>6.1f}-{max(tests):<5.1f} {statistics.mean(seconds):>7.1f}")

        if args.splits and any("default recipe" in n for n in names):
            estimator, _ = models(0)["ConvNet (default recipe)"]
            images = np.concatenate([data.train_x, data.test_x])
            labels = np.concatenate([data.train_y, data.test_y])
            accuracies = []
            for split in range(1, args.splits + 1):
                train, test = next(StratifiedShuffleSplit(1, test_size=len(data.test_y),
                                                          random_state=split).split(images,
                                                                                    labels))
                fitted = clone(estimator).fit(images[train], labels[train])
                accuracies.append(accuracy_percent(fitted.predict(images[test]), labels[test]))
            print(f"ConvNet (default recipe) on {args.splits} other stratified splits of the "
                  f"{len(labels)} images ({len(data.test_y)} held out each): "
                  + ", ".join(f"{a:.0f}" for a in accuracies)
                  + f" %; mean {statistics.mean(accuracies):.1f} %, min {min(accuracies):.0f} %")


def _pm(values) -> str:
    values = np.asarray(values, dtype=float)
    return f"{values.mean():.1f} ± {values.std():.1f} %"


if __name__ == "__main__":
    main()
