"""Training: one loop, the solvers it runs, and what it reports to.

- ``loop``: ``Trainer``, the one training loop (history, divergence, ``tol`` and early stopping,
  callbacks, snapshots), ``TrainingState``, ``FitResult`` (and ``Snapshot``, from
  ``logicat.io.files``)
- ``descent``: ``gradient_descent(objective, w, b)``, the lesson's loop, on the one loop
- ``solvers``: how iterations are computed - on the parameters ("primal") or in the span of the
  examples ("gram") - and the rule of ``solver="auto"``
- ``objectives``: who computes the cost and gradients (the numpy and autograd engines)
- ``batches``: where the examples come from (arrays in memory, an HDF5 file in chunks)
- ``optimizers``, ``schedules``: update rules and learning-rate schedules
- ``callbacks``: printing, progress bars, stopping rules, checkpoints - outside the math
- ``fit``: one fit from hyperparameters to a result, shared by the estimator and the CLI
"""

from logicat.core.lazy import lazy_exports

_WHERE = {
    "Trainer": "logicat.training.loop",
    "TrainingState": "logicat.training.loop",
    "FitResult": "logicat.training.loop",
    "Snapshot": "logicat.io.files",
    "gradient_descent": "logicat.training.descent",
}
__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
