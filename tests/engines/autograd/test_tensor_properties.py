"""Property-based tests: random expression graphs, the engine against finite differences and
against torch.autograd on the same expressions.

An expression is a small tree over five inputs whose shapes broadcast together,
x0 (3, 4), x1 (4,), x2 (3, 1), x3 () and W (4, 4); ``evaluate`` runs the same tree with the
engine's Tensors or with torch tensors.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from logicat.engines.autograd import Tensor, gradcheck
from logicat.engines.autograd.tensor import topological_order

torch = pytest.importorskip("torch")

SHAPES = [(3, 4), (4,), (3, 1), (), (4, 4)]
UNARY = ["neg", "exp", "sigmoid", "softplus", "log_sigmoid", "square", "cube", "safe_log",
         "safe_sqrt", "scale", "add_const", "rsub_const"]
BINARY = ["add", "sub", "mul", "safe_div"]


@st.composite
def expressions(draw, depth: int = 3):
    """(tree, shape): a random expression over the inputs, and the shape of its value."""
    if depth == 0 or draw(st.integers(0, 4)) == 0:
        i = draw(st.integers(0, 3))  # W only enters through matmul
        return ("input", i), SHAPES[i]
    kind = draw(st.sampled_from(["unary", "binary", "binary", "reduce", "matmul", "shape"]))
    child, shape = draw(expressions(depth=depth - 1))
    if kind == "unary":
        return (draw(st.sampled_from(UNARY)), child), shape
    if kind == "binary":
        other, other_shape = draw(expressions(depth=depth - 1))
        out_shape = np.broadcast_shapes(shape, other_shape)
        return (draw(st.sampled_from(BINARY)), child, other), out_shape
    if kind == "reduce" and len(shape) > 0:
        op = draw(st.sampled_from(["sum", "mean"]))
        axis = draw(st.integers(-len(shape), len(shape) - 1))
        keepdims = draw(st.booleans())
        out_shape = np.empty(shape).sum(axis=axis, keepdims=keepdims).shape
        if len(out_shape) == 0 or out_shape == (3,) and not keepdims:
            return (op, child, None, False), ()  # (3,) would not broadcast with (4,): reduce all
        return (op, child, axis, keepdims), out_shape
    if kind == "matmul" and shape[-1:] == (4,):
        return ("matmul", child), shape  # child @ W
    if kind == "shape" and len(shape) == 2:
        op = draw(st.sampled_from(["transpose", "reshape", "index"]))
        return (op, child), shape
    return ("sigmoid", child), shape


def evaluate(tree, inputs, lib: str):
    """The value of ``tree`` with the engine ("ours") or with torch."""
    op, *args = tree
    if op == "input":
        return inputs[args[0]]
    x = evaluate(args[0], inputs, lib)
    if op in ("add", "sub", "mul", "safe_div"):
        y = evaluate(args[1], inputs, lib)
        return {"add": lambda: x + y, "sub": lambda: x - y, "mul": lambda: x * y,
                "safe_div": lambda: x / (y * y + 1.0)}[op]()
    if op in ("sum", "mean"):
        axis, keepdims = args[1], args[2]
        if lib == "ours":
            return getattr(x, op)(axis=axis, keepdims=keepdims)
        return getattr(x, op)() if axis is None else getattr(x, op)(dim=axis, keepdim=keepdims)
    if op == "softplus":
        return x.softplus() if lib == "ours" else -torch.nn.functional.logsigmoid(-x)
    if op == "log_sigmoid":
        return x.log_sigmoid() if lib == "ours" else torch.nn.functional.logsigmoid(x)
    if op == "transpose":
        return (x.T * 2.0).T
    if op == "reshape":
        return x.reshape(-1).reshape(3, 4) if x.shape == (3, 4) else x.reshape(*x.shape[::-1]).T
    if op == "index":
        rows = [0, 0, 2] if x.shape[0] == 3 else [0]  # a repeated row: gradients add up
        return x[rows]
    return {
        "neg": lambda: -x,
        "exp": lambda: x.exp(),
        "sigmoid": lambda: x.sigmoid(),
        "square": lambda: x**2,
        "cube": lambda: x**3,
        "safe_log": lambda: (x * x + 0.5).log(),
        "safe_sqrt": lambda: (x * x + 1.0) ** 0.5,
        "scale": lambda: x * 0.5,
        "add_const": lambda: x + 1.5,
        "rsub_const": lambda: 2.0 - x,
        "matmul": lambda: x @ inputs[4],
    }[op]()


@st.composite
def cases(draw):
    tree, _ = draw(expressions())
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(-1.0, 1.0, size=s) for s in SHAPES]
    return tree, arrays


def _max_abs_intermediate(tree, arrays) -> float:
    """The largest |value| anywhere in the graph (finite differences need moderate values)."""
    with np.errstate(all="ignore"):
        out = evaluate(tree, [Tensor(a, requires_grad=True) for a in arrays], "ours")
    values = [n.data for n in topological_order(out)]
    return max(float(np.max(np.abs(v), initial=0.0)) for v in values)  # NaN compares False


SETTINGS = settings(
    max_examples=40, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@SETTINGS
@given(cases())
def test_random_graphs_match_finite_differences(case):
    tree, arrays = case
    assume(_max_abs_intermediate(tree, arrays) < 1e3)
    result = gradcheck(lambda *ts: evaluate(tree, ts, "ours"), arrays)
    for a, n in zip(result.analytic, result.numeric, strict=True):
        np.testing.assert_allclose(a, n, rtol=1e-6, atol=1e-7)


@SETTINGS
@given(cases())
def test_random_graphs_match_torch_autograd(case):
    tree, arrays = case
    assume(_max_abs_intermediate(tree, arrays) < 1e3)
    ours = [Tensor(a, requires_grad=True) for a in arrays]
    out = evaluate(tree, ours, "ours")
    upstream = np.random.default_rng(1).standard_normal(out.shape)
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    t_out = evaluate(tree, theirs, "torch")
    assert out.shape == tuple(t_out.shape)
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=1e-12, atol=1e-12)
    out.backward(upstream)
    t_out.backward(torch.tensor(upstream))
    for x, t in zip(ours, theirs, strict=True):
        expected = np.zeros_like(x.data) if t.grad is None else t.grad.numpy()
        got = np.zeros_like(x.data) if x.grad is None else x.grad
        scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12 * scale)
