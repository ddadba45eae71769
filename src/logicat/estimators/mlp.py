"""``MLPClassifier``: networks with hidden layers, the course's next two lessons.

The network (``logicat.nn.network``) n -> hidden_layer_sizes... -> 1: ReLU, tanh or sigmoid hidden
layers and one sigmoid output unit, trained by the one training loop with every option
``LogisticRegression`` has. The defaults are the course's deep model, 12288 -> 20 -> 7 -> 5 -> 1
with weights randn / sqrt(n_in), learning rate 0.0075, 2500 iterations; with
``random_state=1`` it draws exactly the course's initial weights. ``hidden_layer_sizes=()`` is
logistic regression.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from logicat.estimators.base import GradientDescentClassifier
from logicat.training.loop import Callback


class MLPClassifier(GradientDescentClassifier):
    r"""A binary classifier with hidden layers, trained by gradient descent.

    Z_l = A_{l-1} W_l + b_l, A_l = g(Z_l) for each hidden layer; y_hat = sigma(A_{L-1} w + b);
    J = mean loss over the m examples (+ an optional L2 term on every weight matrix). Every
    parameter shared with ``LogisticRegression`` means the same there (see its docstring);
    where scikit-learn's ``MLPClassifier`` has one for the same thing, its name is used.

    Parameters
    ----------
    hidden_layer_sizes : tuple of ints >= 1, default (20, 7, 5)
        The units of each hidden layer; () is logistic regression.
    activation : {"relu", "tanh", "sigmoid"}, default "relu"
        g of the hidden layers (the output unit is always sigmoid, inside the loss).
    init : {"small_normal", "lecun_normal", "he_normal", "glorot_uniform", "zeros",
            "random"}, default "lecun_normal"
        The initial weights (biases start at zero). With an int ``random_state`` the numbers
        come from ``numpy.random.RandomState(random_state)``, W[1] first, then W[2], ..., each
        drawn in the course's shape (n_l, n_{l-1}) - exactly the course's ``np.random.seed``
        then ``initialize_parameters`` ("small_normal": randn * 0.01) or
        ``initialize_parameters_deep`` ("lecun_normal": randn / sqrt(n_{l-1})); "he_normal":
        randn * sqrt(2 / n_{l-1}); "glorot_uniform": uniform(-a, a), a = sqrt(6 / (n_{l-1} +
        n_l)).
    learning_rate : float > 0, default 0.0075
    max_iter : int >= 1, default 2500
    random_state : int, numpy Generator or None, default None
        The initial weights, the mini-batch shuffling and the validation split.
    solver : {"auto", "primal", "gram"}, default "auto"
        "gram" keeps the first layer's weights in the span of the examples, W_1 = W_1^0 + X^T C,
        so that Z_1 = Z_1^0 + K C (K = X X^T formed once): n_1 m^2 work per step for the first
        layer instead of 2 n_1 m n. "auto" takes it for plain full-batch gradient descent, as
        ``LogisticRegression`` does.
    learning_rate, max_iter, loss, dtype, engine, device, callbacks, alpha, optimizer, momentum,
    weight_decay, beta_1, beta_2, epsilon, batch_size, shuffle, lr_schedule, lr_decay, tol,
    n_iter_no_change, early_stopping, validation_fraction, class_weight, warm_start, standardize :
        As ``LogisticRegression``'s.

    Attributes
    ----------
    coefs_ : list of ndarrays, the weight matrix of each layer, shape (n_{l-1}, n_l) (the last
        one (n_{L-1}, 1)): the course's W[l] transposed, since examples are rows
    intercepts_ : list of ndarrays, the bias of each layer, shape (n_l,)
    n_layers_ : int, the layers counting the input and the output (len(hidden) + 2)
    classes_, n_features_in_, n_iter_, cost_history_, validation_cost_history_,
    best_iteration_, stopped_, solver_, feature_mean_, feature_scale_ :
        As ``LogisticRegression``'s.
    """

    def __init__(
        self,
        *,
        hidden_layer_sizes: Sequence[int] = (20, 7, 5),
        activation: str = "relu",
        learning_rate: float = 0.0075,
        max_iter: int = 2500,
        loss: str = "cross_entropy",
        dtype: str = "float64",
        init: str = "lecun_normal",
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
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
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
        pairs = [(W, b) for W, b in zip(self.coefs_, self.intercepts_, strict=True)]
        *hidden, (w, b) = pairs
        return [p for W, b_l in hidden for p in (W, b_l)] + [w[:, 0], b]

    def _store_params(self, params: list[np.ndarray]) -> None:
        self.coefs_ = [*params[:-2:2], params[-2][:, None]]
        self.intercepts_ = [*params[1:-2:2], params[-1]]
        self.n_layers_ = len(self.coefs_) + 1

    def _activation(self) -> str:
        return self.activation
