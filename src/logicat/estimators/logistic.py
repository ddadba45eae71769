"""``LogisticRegression``: the cat classifier with scikit-learn's estimator contract.

The network with no hidden layer: y_hat = sigma(x . w + b). With the defaults ``fit`` is
exactly the lesson's training run; every other option is off until asked for. The machinery is
``GradientDescentClassifier``'s (``logicat.estimators.base``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from logicat.estimators.base import GradientDescentClassifier
from logicat.training.loop import Callback


class LogisticRegression(GradientDescentClassifier):
    r"""Binary logistic regression trained by gradient descent.

    y_hat = sigma(x . w + b); J = mean loss over the m examples (+ an optional L2 term);
    w <- w - alpha dJ/dw, b <- b - alpha dJ/db for ``max_iter`` iterations. The defaults are the
    lesson's run: zero init, alpha = 0.005, 2000 full-batch iterations, cross-entropy, float64.

    Parameters
    ----------
    learning_rate : float > 0, default 0.005
        The step size alpha (the first one, when ``lr_schedule`` changes it).
    max_iter : int >= 1, default 2000
        Number of iterations. One iteration is one epoch: a pass over the training examples
        (one step in full-batch mode, one step per mini-batch with ``batch_size``).
    loss : {"cross_entropy", "squared_error"}, default "cross_entropy"
    dtype : {"float64", "float32"}, default "float64"
        Precision of the features, the parameters and the arithmetic.
    init : {"zeros", "random"}, default "zeros"
        Zero weights (the lesson), or N(0, 0.01^2) weights drawn with ``random_state``.
    random_state : int, numpy Generator or None, default None
        Seed for ``init="random"``, the mini-batch shuffling and the validation split.
    engine : {"numpy", "autograd", "torch"}, default "numpy"
        Who computes the cost and gradients (``logicat.training.objectives``): "numpy"
        (hand-derived, a fused numba kernel when available), "autograd" (logicat's own graph)
        or "torch" (PyTorch, stepping with ``torch.optim``; on a CUDA device, plain full-batch
        gradient descent of logistic regression with cost-only callbacks runs as one captured
        CUDA graph replayed every ``graph_steps`` iterations - the same steps, fewer kernel
        launches; ``logicat.training.torch_solver.TorchSolver``'s ``mode`` names the choice).
    solver : {"auto", "primal", "gram"}, default "auto"
        How the iterations are computed (``logicat.training.solvers``): "primal" steps on w;
        "gram" steps in the span of the examples, w = w0 + X^T a with K = X X^T formed once (m
        numbers per step instead of n; the same iterates to ~1e-15). "auto" takes "gram"
        exactly when the run is plain full-batch gradient descent at a fixed learning rate with
        the numpy engine - no L2, no weights, no early stopping, no resume, callbacks that
        only read the cost (``cost_only``) - and forming K pays for itself
        (``solvers.worth_it``: more than ~108 iterations on the cat data); "primal" otherwise.
        The lesson's run takes "gram"; ``solver_`` says which ran.
    device : {"auto", "cpu", "cuda"}, default "auto"
        Where engines that can use an accelerator run ("auto": CUDA if available); the NumPy
        engines always run on the CPU.
    callbacks : sequence of callables, optional
        Each is called with a ``TrainingState`` after every iteration; returning True stops.
        Callbacks with ``cost_only = True`` read only the iteration and the cost (the span
        solver passes ``params=None``). See ``logicat.training.callbacks``: ``PrintCost``,
        ``ProgressBar``, ``EarlyStopping``, ``Checkpoint``, ``TerminateOnNaN``,
        ``GracefulInterrupt``.
    verbose : 0, 1 or 2, default 0
        1: a progress bar (in a terminal or a Jupyter notebook) with the cost and the time left;
        2: also the cost every tenth of the run, as ``logicat train`` prints it.
    alpha : float >= 0, default 0.0
        L2 regularisation: the term alpha / (2m) ||w||^2 is added to J (m = number of training
        examples, or the sum of the sample weights; the bias is not penalised). This is
        scikit-learn's ``LogisticRegression(C=1/alpha)``: alpha = 1 / C.
    optimizer : {"gd", "momentum", "nesterov", "adam", "adamw"}, default "gd"
        The update rule (see ``logicat.training.optimizers``; the ConvNet takes the same):
        plain gradient descent, heavy-ball momentum, Nesterov momentum, Adam, or AdamW (Adam
        with decoupled weight decay).
    momentum : float in [0, 1), default 0.9
        mu of ``optimizer="momentum"`` and ``"nesterov"``.
    weight_decay : float >= 0, default 0.0
        Weight decay lambda on the weights (not the biases), as ``torch.optim`` applies it:
        the step's gradient is g + lambda theta for every rule but AdamW, which shrinks the
        weights by (1 - lr lambda) before its step instead. Unlike ``alpha`` it is not part
        of the cost J.
    beta_1, beta_2 : float in [0, 1), default 0.9 and 0.999
        Adam's decay rates of the running means of the gradient and its square.
    epsilon : float > 0, default 1e-8
        Adam's term added to the denominator.
    batch_size : int >= 1 or None, default None
        Examples per mini-batch; None (or >= m) is full-batch gradient descent, 1 is stochastic
        gradient descent.
    shuffle : bool, default True
        Shuffle the examples every epoch before cutting them into mini-batches (with
        ``random_state``). Unused in full-batch mode.
    lr_schedule : {"constant", "inverse", "exponential", "cosine"} or callable, default "constant"
        Learning rate of epoch t: alpha, alpha / (1 + d t), alpha exp(-d t), or
        alpha (1 + cos(pi t / max_iter)) / 2, with d = ``lr_decay``; a callable t -> alpha_t
        is used as given (see ``logicat.training.schedules``).
    lr_decay : float >= 0, default 0.0   d of the "inverse" and "exponential" schedules
    tol : float >= 0 or None, default None
        Stop when the cost has changed by less than ``tol`` (|J_t - J_{t-1}| < tol) in each of
        ``n_iter_no_change`` iterations in a row - or, with ``early_stopping``, when the
        validation cost has not improved on its best by ``tol`` for that many iterations; a
        ``ConvergenceWarning`` says so when ``max_iter`` comes first. None: always run
        ``max_iter`` iterations, without warning.
    n_iter_no_change : int >= 1, default 5   the patience of the ``tol`` rule
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the training set (stratified), watch its cost after
        every iteration, stop by the ``tol`` rule on it (``tol=None`` counts as 0), and keep
        the parameters with the lowest validation cost. Iterations without improvement count
        only once the training cost has gone below its first value, so the lesson's rising
        start (~33 iterations) is not taken for overfitting.
    validation_fraction : float in (0, 1), default 0.1
    class_weight : "balanced", dict {label: weight} or None, default None
        Weights multiplying the sample weights of each class; "balanced" is
        m / (2 * count of the class), as in scikit-learn.
    warm_start : bool, default False
        Start ``fit`` from the previous fit's ``coef_`` and ``intercept_`` (and its
        standardisation) instead of ``init``; the optimizer's state starts afresh.
    standardize : bool, default False
        Standardise each feature with the mean and standard deviation of the training set
        (fitted in ``fit``, stored in ``feature_mean_`` and ``feature_scale_``, applied in
        every prediction and saved in model files); False keeps the features as given (the
        lesson's pixel / 255).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)   the weights w (of the standardised features, if so)
    intercept_ : float                       the bias b
    classes_ : ndarray of shape (2,)         the two labels, sorted; ``classes_[1]`` is positive
    n_features_in_ : int
    feature_names_in_ : ndarray of str       when X has column names (a DataFrame)
    n_iter_ : int                            iterations run by the last ``fit``
    cost_history_ : ndarray of shape (n_iter_,)
        J in each iteration's forward pass, before its update (``cost_history_[0]`` is the cost
        at the initial parameters: log 2 = 0.693147... for zero init and cross-entropy); with
        mini-batches, the mean of the epoch's mini-batch costs.
    validation_cost_history_ : ndarray of shape (n_iter_,) or None
        With ``early_stopping``, the validation cost after each iteration; ``best_iteration_``
        is the iteration whose parameters were kept.
    stopped_ : {"max_iter", "converged", "callback"}
        Why the last ``fit`` ended ("converged": by ``tol`` or early stopping).
    solver_ : {"primal", "gram"}
        The solver the last ``fit`` ran (see ``solver``).
    feature_mean_, feature_scale_ : ndarray of shape (n_features,)
        With ``standardize=True``: x' = (x - feature_mean_) / feature_scale_.
    """

    def __init__(
        self,
        *,
        learning_rate: float = 0.005,
        max_iter: int = 2000,
        loss: str = "cross_entropy",
        dtype: str = "float64",
        init: str = "zeros",
        random_state: Any = None,
        engine: str = "numpy",
        solver: str = "auto",
        device: str = "auto",
        callbacks: Sequence[Callback] | None = None,
        verbose: int = 0,
        alpha: float = 0.0,
        optimizer: str = "gd",
        momentum: float = 0.9,
        weight_decay: float = 0.0,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        batch_size: int | None = None,
        shuffle: bool = True,
        lr_schedule: str | Callable[[int], float] = "constant",
        lr_decay: float = 0.0,
        tol: float | None = None,
        n_iter_no_change: int = 5,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        class_weight: str | dict | None = None,
        warm_start: bool = False,
        standardize: bool = False,
    ) -> None:
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.loss = loss
        self.dtype = dtype
        self.init = init
        self.random_state = random_state
        self.engine = engine
        self.solver = solver
        self.device = device
        self.callbacks = callbacks
        self.verbose = verbose
        self.alpha = alpha
        self.optimizer = optimizer
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.lr_schedule = lr_schedule
        self.lr_decay = lr_decay
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.standardize = standardize

    def _params(self) -> list[np.ndarray]:
        return [self.coef_, np.array([self.intercept_], dtype=self.coef_.dtype)]

    def _store_params(self, params: list[np.ndarray]) -> None:
        w, b = params
        self.coef_ = w
        self.intercept_ = float(b[0])
