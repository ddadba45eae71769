"""Update rules: how a gradient becomes a step. Each keeps its own state, for checkpoints.

An optimizer updates the parameters in place from their gradients and a learning rate alpha:

gd          theta <- theta - alpha g
momentum    v <- mu v + g;                theta <- theta - alpha v           (heavy ball)
nesterov    v <- mu v + g;                theta <- theta - alpha (g + mu v)  (look-ahead)
adam        m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  t <- t + 1
            theta <- theta - alpha m_hat / (sqrt(v_hat) + eps),
            m_hat = m / (1 - b1^t),  v_hat = v / (1 - b2^t)
adamw       theta <- theta (1 - alpha lambda), then adam's step (decoupled weight decay)

With a weight decay lambda > 0, every rule but adamw steps on g + lambda theta instead of g;
only the weights decay, not the biases. The momentum and Nesterov forms are PyTorch's
``torch.optim.SGD`` (dampening 0), Adam is Kingma & Ba (2015) as in ``torch.optim.Adam``, AdamW
Loshchilov & Hutter (2019) as in ``torch.optim.AdamW``; the torch engine and the ConvNet use
those twins, under the same names (one registry, ``OPTIMIZERS``). Parameters are a list of
arrays, each layer's W and b ([w, b] for logistic regression: the weights are every other one,
from the first); state arrays have the same shapes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from logicat.core.validation import Options, check_param
from logicat.nn.optimizer_state import OPTIMIZERS


class Optimizer:
    """Base class: ``step(params, grads, lr)`` updates ``params`` in place."""

    name = "gd"
    #: lambda, the weight decay (see the module docstring)
    weight_decay = 0.0

    def step(self, params: list[np.ndarray], grads: list[np.ndarray], lr: float) -> None:
        raise NotImplementedError

    def decayed(self, params: list[np.ndarray], grads: list[np.ndarray]) -> list[np.ndarray]:
        """The gradients with lambda theta added to the weights' (the same list without decay)."""
        if not self.weight_decay:
            return grads
        return [g + self.weight_decay * p if i % 2 == 0 else g
                for i, (p, g) in enumerate(zip(params, grads, strict=True))]

    def state_dict(self, names: Sequence[str]) -> dict[str, np.ndarray]:
        """The optimizer's state as named arrays (empty before the first step), in the one
        layout of every solver's checkpoints, ``torch.optim``'s names by tensor: ``<name>.
        momentum_buffer``, ``<name>.exp_avg``, ``<name>.exp_avg_sq`` and ``step`` for the
        parameters ``names``."""
        return {}

    def load_state_dict(self, state: dict[str, np.ndarray], names: Sequence[str]) -> None:
        """Restore what ``state_dict`` returned (arrays are copied)."""


class GD(Optimizer):
    """Plain (stochastic) gradient descent: theta <- theta - alpha g. No state.

    ``maximize=True`` is gradient ascent, theta <- theta + alpha g (as ``torch.optim.SGD``'s
    ``maximize``): on F = -J it takes bit for bit the steps of descent on J.
    """

    name = "gd"

    def __init__(self, maximize: bool = False) -> None:
        self.maximize = maximize

    def step(self, params, grads, lr):
        for p, g in zip(params, self.decayed(params, grads), strict=True):
            if self.maximize:
                p += lr * g
            else:
                p -= lr * g


class Momentum(Optimizer):
    """Heavy-ball momentum, or Nesterov's look-ahead form with ``nesterov=True``.

    v <- mu v + g, then theta <- theta - alpha v (or alpha (g + mu v) for Nesterov); v starts at 0.
    """

    def __init__(self, momentum: float = 0.9, nesterov: bool = False) -> None:
        self.momentum = momentum
        self.nesterov = nesterov
        self.name = "nesterov" if nesterov else "momentum"
        self.velocity: list[np.ndarray] | None = None

    def step(self, params, grads, lr):
        if self.velocity is None:
            self.velocity = [np.zeros_like(p) for p in params]
        mu = self.momentum
        for p, g, v in zip(params, self.decayed(params, grads), self.velocity, strict=True):
            v *= mu
            v += g
            p -= lr * (g + mu * v) if self.nesterov else lr * v

    def state_dict(self, names):
        if self.velocity is None or not self.momentum:  # mu = 0: v is each step's g
            return {}
        return {f"{name}.momentum_buffer": v.copy()
                for name, v in zip(names, self.velocity, strict=True)}

    def load_state_dict(self, state, names):
        if state:
            self.velocity = [np.array(state[f"{name}.momentum_buffer"]) for name in names]


class Adam(Optimizer):
    """Adam: per-parameter steps from bias-corrected running means of g and g^2."""

    name = "adam"

    def __init__(self, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-8) -> None:
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.t = 0
        self.m: list[np.ndarray] | None = None
        self.v: list[np.ndarray] | None = None

    def step(self, params, grads, lr):
        if self.m is None or self.v is None:
            self.m = [np.zeros_like(p) for p in params]
            self.v = [np.zeros_like(p) for p in params]
        grads = self.decayed(params, grads)
        self.t += 1
        b1, b2 = self.beta_1, self.beta_2
        correction_1 = 1.0 - b1**self.t
        correction_2 = 1.0 - b2**self.t
        for p, g, m, v in zip(params, grads, self.m, self.v, strict=True):
            m *= b1
            m += (1.0 - b1) * g
            v *= b2
            v += (1.0 - b2) * (g * g)
            m_hat = m / correction_1
            v_hat = v / correction_2
            p -= lr * m_hat / (np.sqrt(v_hat) + self.epsilon)

    def state_dict(self, names):
        if self.m is None or self.v is None:
            return {}
        state = {"step": np.array([self.t], dtype=np.int64)}
        for name, m, v in zip(names, self.m, self.v, strict=True):
            state[f"{name}.exp_avg"] = m.copy()
            state[f"{name}.exp_avg_sq"] = v.copy()
        return state

    def load_state_dict(self, state, names):
        if state:
            self.t = int(state["step"][0])
            self.m = [np.array(state[f"{name}.exp_avg"]) for name in names]
            self.v = [np.array(state[f"{name}.exp_avg_sq"]) for name in names]


class AdamW(Adam):
    """Adam with decoupled weight decay: the weights shrink by (1 - alpha lambda), then Adam's
    step on the gradient itself (``torch.optim.AdamW``)."""

    name = "adamw"

    def decayed(self, params, grads):
        return grads  # the decay is not in the gradient

    def step(self, params, grads, lr):
        if self.weight_decay:
            for p in params[0::2]:
                p *= 1.0 - lr * self.weight_decay
        super().step(params, grads, lr)


def make_optimizer(
    name: str,
    *,
    momentum: float = 0.9,
    beta_1: float = 0.9,
    beta_2: float = 0.999,
    epsilon: float = 1e-8,
    weight_decay: float = 0.0,
) -> Optimizer:
    """The optimizer called ``name`` (one of ``OPTIMIZERS``) with its hyperparameters."""
    check_param("optimizer", name, [Options(OPTIMIZERS)])
    if name == "gd":
        rule: Optimizer = GD()
    elif name in ("momentum", "nesterov"):
        rule = Momentum(momentum, nesterov=name == "nesterov")
    else:
        rule = (AdamW if name == "adamw" else Adam)(beta_1, beta_2, epsilon)
    rule.weight_decay = float(weight_decay)
    return rule


def torch_optimizer(name: str, groups: list[dict[str, Any]], lr: float = 0.0,
                    momentum: float = 0.9, betas: tuple[float, float] = (0.9, 0.999),
                    epsilon: float = 1e-8) -> Any:
    """The update rule ``name`` (one of ``OPTIMIZERS``) as its ``torch.optim`` twin, the one
    factory of both torch solvers: the same formulas as the classes above (SGD with dampening
    0, Nesterov's look-ahead where there is a momentum), over the parameter ``groups`` (each
    with its weight decay: decoupled for "adamw", added to the gradient otherwise)."""
    import torch

    if name in ("adam", "adamw"):
        rule = torch.optim.AdamW if name == "adamw" else torch.optim.Adam
        return rule(groups, lr=lr, betas=betas, eps=epsilon)
    mu = 0.0 if name == "gd" else momentum
    return torch.optim.SGD(groups, lr=lr, momentum=mu, nesterov=name == "nesterov" and mu > 0)
