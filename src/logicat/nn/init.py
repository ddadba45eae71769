"""The dense family's initial parameters [W_1, b_1, ..., w, b] (``logicat.nn.network``): the
lesson's zeros, and the course's random schemes drawn exactly as its notebooks draw them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def layer_shapes(n_features: int, hidden: Sequence[int] = ()) -> list[tuple[int, ...]]:
    """The weights' shapes: (n_in, n_out) per hidden layer, then (n_in,) for the output unit."""
    sizes = [int(n_features), *(int(h) for h in hidden)]
    return [*zip(sizes[:-1], sizes[1:], strict=True), (sizes[-1],)]


def zero_params(shapes: Sequence[tuple[int, ...]], dtype=np.float64) -> list[np.ndarray]:
    """[W_1, b_1, ..., w, b] all zero (the lesson's initialisation of logistic regression)."""
    return [a for shape in shapes
            for a in (np.zeros(shape, dtype), np.zeros(shape[-1] if len(shape) == 2 else 1, dtype))]


#: Initial weights (biases start at zero). "zeros" and "random" (N(0, 0.01^2) from a numpy
#: Generator) are logistic regression's; the others draw W[l] in the course's shape
#: (n_l, n_{l-1}), layer after layer, from ``numpy.random.RandomState(random_state)``:
#:   small_normal    randn * 0.01                    (the course's two-layer model)
#:   lecun_normal    randn / sqrt(n_{l-1})           (the course's deep model)
#:   he_normal       randn * sqrt(2 / n_{l-1})
#:   glorot_uniform  uniform(-a, a), a = sqrt(6 / (n_{l-1} + n_l))
INITS = ("zeros", "random", "small_normal", "lecun_normal", "he_normal", "glorot_uniform")


def initial_params(init: str, n_features: int, hidden: Sequence[int] = (), dtype=np.float64,
                   random_state=None, rng: np.random.Generator | None = None
                   ) -> list[np.ndarray]:
    """[W_1, b_1, ..., w, b] for the network n -> hidden... -> 1 by the scheme ``init``.

    With an int ``random_state`` the numbers are exactly those of the course's
    ``np.random.seed(random_state)`` and ``initialize_parameters(_deep)``: W[1] first, then
    W[2], ..., each drawn as (n_l, n_{l-1}) and stored transposed (examples are rows here).
    ``rng`` is the Generator of "random" (default: one seeded with ``random_state``).
    """
    shapes = layer_shapes(n_features, hidden)
    params = zero_params(shapes, dtype)
    if init == "zeros":
        return params
    if init == "random":
        rng = np.random.default_rng(random_state) if rng is None else rng
        for i, shape in enumerate(shapes):
            params[2 * i][...] = rng.normal(0.0, 0.01, size=shape)
        return params
    draw = (random_state if isinstance(random_state, np.random.Generator)
            else np.random.RandomState(random_state))
    normal = getattr(draw, "randn", None) or (lambda *size: draw.standard_normal(size))
    for i, shape in enumerate(shapes):
        n_in, n_out = shape[0], shape[1] if len(shape) == 2 else 1
        if init == "glorot_uniform":
            bound = np.sqrt(6.0 / (n_in + n_out))
            W = draw.uniform(-bound, bound, size=(n_out, n_in))
        elif init == "small_normal":
            W = normal(n_out, n_in) * 0.01
        elif init == "lecun_normal":
            W = normal(n_out, n_in) / np.sqrt(n_in)
        else:  # he_normal
            W = normal(n_out, n_in) * np.sqrt(2.0 / n_in)
        params[2 * i][...] = W.T if len(shape) == 2 else W[0]
    return params
