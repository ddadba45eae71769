"""The autograd engine: each op computed by the engine and by torch.autograd, compared."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from logicat.engines.autograd import Tensor, gradcheck, no_grad
from logicat.engines.autograd.tensor import _unbroadcast, topological_order

torch = pytest.importorskip("torch")
F = torch.nn.functional

POS = "positive"  # inputs drawn from [0.5, 2] (log, fractional powers, denominators)


def _inputs(shapes, domain, rng):
    if domain == POS:
        return [rng.uniform(0.5, 2.0, size=s) for s in shapes]
    return [rng.normal(0.0, 2.0, size=s) for s in shapes]


def _compare_with_torch(ours, theirs, arrays, rng):
    """Run the expression in both engines, backpropagate the same random output gradient."""
    xs = [Tensor(a, requires_grad=True) for a in arrays]
    out = ours(*xs)
    upstream = rng.standard_normal(out.shape)
    out.backward(upstream)

    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    t_out = theirs(*ts)
    t_out.backward(torch.tensor(upstream))

    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert out.shape == tuple(t_out.shape)
    for x, t in zip(xs, ts, strict=True):
        assert x.grad.shape == x.shape
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-10, atol=1e-12)


def same(fn):
    return fn, fn


def torch_softplus(x):
    """log(1 + e^x) without torch's switch to x above 20 (whose gradient is exactly 1 there)."""
    return -F.logsigmoid(-x)


CASES = {
    # arithmetic, with broadcasting
    "add": (*same(lambda a, b: a + b), [(3, 4), (3, 4)], None),
    "add broadcast row": (*same(lambda a, b: a + b), [(3, 4), (4,)], None),
    "add broadcast both": (*same(lambda a, b: a + b), [(3, 1), (1, 4)], None),
    "add scalar tensor": (*same(lambda a, b: a + b), [(), (2, 3)], None),
    "sub broadcast": (*same(lambda a, b: a - b), [(2, 1, 3), (4, 1)], None),
    "mul broadcast": (*same(lambda a, b: a * b), [(3, 4), (3, 1)], None),
    "div broadcast": (*same(lambda a, b: a / b), [(3, 4), (4,)], POS),
    "neg": (*same(lambda a: -a), [(3, 4)], None),
    "pow 2": (*same(lambda a: a**2), [(3, 4)], None),
    "pow 3": (*same(lambda a: a**3), [(5,)], None),
    "pow 0.5": (*same(lambda a: a**0.5), [(5,)], POS),
    "pow -1": (*same(lambda a: a**-1), [(5,)], POS),
    "python numbers": (*same(lambda a: 2 * a - 1 + 3 / (a * a + 1) - a / 4 + (1 - a)), [(4,)],
                       None),
    "reused operand": (*same(lambda a: a * a + a), [(3,)], None),
    # matrix products: 1-d operands are rows on the left, columns on the right
    "matmul 2d @ 1d": (*same(lambda a, b: a @ b), [(3, 4), (4,)], None),
    "matmul 1d @ 2d": (*same(lambda a, b: a @ b), [(4,), (4, 5)], None),
    "matmul 1d @ 1d": (*same(lambda a, b: a @ b), [(4,), (4,)], None),
    "matmul 2d @ 2d": (*same(lambda a, b: a @ b), [(3, 4), (4, 5)], None),
    "matmul batched": (*same(lambda a, b: a @ b), [(2, 3, 4), (2, 4, 5)], None),
    "matmul broadcast batch": (*same(lambda a, b: a @ b), [(3, 4), (2, 4, 5)], None),
    "matmul batched @ 1d": (*same(lambda a, b: a @ b), [(2, 3, 4), (4,)], None),
    # reductions
    "sum all": (*same(lambda a: a.sum()), [(3, 4)], None),
    "sum axis 0": (*same(lambda a: a.sum(axis=0)), [(3, 4)], None),
    "sum axis -1": (*same(lambda a: a.sum(axis=-1)), [(2, 3, 4)], None),
    "sum axes (0, 2)": (*same(lambda a: a.sum(axis=(0, 2))), [(2, 3, 4)], None),
    "mean all": (*same(lambda a: a.mean()), [(3, 4)], None),
    "mean axis 1": (*same(lambda a: a.mean(axis=1)), [(3, 4)], None),
    "mean axes (0, -1)": (*same(lambda a: a.mean(axis=(0, -1))), [(2, 3, 4)], None),
    "sum keepdims": (lambda a: a.sum(axis=1, keepdims=True),
                     lambda a: a.sum(dim=1, keepdim=True), [(3, 4)], None),
    "mean keepdims": (lambda a: a.mean(axis=0, keepdims=True),
                      lambda a: a.mean(dim=0, keepdim=True), [(3, 4)], None),
    # elementwise functions
    "exp": (*same(lambda a: a.exp()), [(3, 4)], None),
    "log": (*same(lambda a: a.log()), [(3, 4)], POS),
    "sigmoid": (*same(lambda a: a.sigmoid()), [(3, 4)], None),
    "softplus": (lambda a: a.softplus(), torch_softplus, [(3, 4)], None),
    "log_sigmoid": (lambda a: a.log_sigmoid(), F.logsigmoid, [(3, 4)], None),
    # shapes and indexing
    "reshape": (*same(lambda a: a.reshape(2, 6) * 2), [(3, 4)], None),
    "reshape -1": (*same(lambda a: a.reshape(-1)), [(3, 4)], None),
    "transpose .T": (lambda a: a.T, lambda a: a.T, [(3, 4)], None),
    "transpose axes": (lambda a: a.transpose(1, 2, 0),
                       lambda a: a.permute(1, 2, 0), [(2, 3, 4)], None),
    "index row": (*same(lambda a: a[1]), [(3, 4)], None),
    "index slice": (*same(lambda a: a[:, 1:3]), [(3, 4)], None),
    "index repeated": (lambda a: a[[0, 0, 2]], lambda a: a[[0, 0, 2]], [(3, 4)], None),
    "index mask": (lambda a: a[np.array([True, False, True])],
                   lambda a: a[torch.tensor([True, False, True])], [(3, 4)], None),
    # a composite: the lesson's cross-entropy from the logit
    "logistic cost": (lambda X, w: ((X @ w).softplus() - 0.5 * (X @ w)).mean(),
                      lambda X, w: (torch_softplus(X @ w) - 0.5 * (X @ w)).mean(),
                      [(6, 4), (4,)], None),
}


@pytest.mark.parametrize("name", list(CASES))
def test_op_matches_torch(name):
    ours, theirs, shapes, domain = CASES[name]
    rng = np.random.default_rng(zlib.crc32(name.encode()))  # the same inputs in every run
    _compare_with_torch(ours, theirs, _inputs(shapes, domain, rng), rng)


def test_softplus_and_log_sigmoid_are_stable_far_out():
    z = Tensor(np.array([-800.0, -40.0, 0.0, 40.0, 800.0]), requires_grad=True)
    sp, ls = z.softplus(), z.log_sigmoid()
    (sp.sum() + ls.sum()).backward()
    np.testing.assert_allclose(sp.data, [0.0, 4.248354255291589e-18, np.log(2), 40.0, 800.0])
    np.testing.assert_allclose(ls.data, [-800.0, -40.0, -np.log(2), -4.248354255291589e-18, 0.0])
    # d softplus = sigma(z), d log sigma = sigma(-z): the two add up to exactly 1
    np.testing.assert_allclose(z.grad, np.ones(5))
    assert np.all(np.isfinite(z.grad))


def test_the_lessons_abc_graph():
    a = Tensor(5.0, requires_grad=True)
    b = Tensor(3.0, requires_grad=True)
    c = Tensor(2.0, requires_grad=True)
    u = b * c
    v = a + u
    J = 3 * v
    J.backward()
    assert (u.item(), v.item(), J.item()) == (6.0, 11.0, 33.0)
    assert (a.grad, b.grad, c.grad) == (3.0, 6.0, 9.0)
    assert (v.grad, u.grad) == (3.0, 3.0)


def test_define_by_run_records_parents_and_ops():
    x = Tensor(np.ones(3), requires_grad=True, name="x")
    y = (x * 2).sum()
    assert y._op == "sum" and y._prev[0]._op == "*"
    assert y._prev[0]._prev[0] is x
    order = topological_order(y)
    assert order[-1] is y
    for i, node in enumerate(order):  # every node after its parents
        assert all(order.index(p) < i for p in node._prev)


def test_leaf_gradients_accumulate_until_zero_grad():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [4.0, 8.0])
    x.zero_grad()
    assert x.grad is None
    (3 * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_intermediate_gradients_are_those_of_the_last_backward():
    x = Tensor(2.0, requires_grad=True)
    h = x * x
    y = 3 * h
    y.backward()
    y.backward()
    assert h.grad == 3.0 and x.grad == 24.0  # leaf: 12 + 12


def test_deep_graph_has_no_recursion_limit():
    x = Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y + 1.0
    y.backward()
    assert x.grad == 1.0 and y.item() == 20_001.0


def test_no_grad_records_nothing():
    x = Tensor(np.ones(3), requires_grad=True)
    with no_grad():
        y = (x * 2).sum()
    assert y._prev == () and not y.requires_grad
    with pytest.raises(RuntimeError, match="requires_grad"):
        y.backward()
    assert ((x * 2).sum()).requires_grad  # recording resumes after the block


def test_detach_cuts_the_graph_and_shares_memory():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    d = (x * 2).detach()
    assert d._prev == () and not d.requires_grad
    y = (x * d).sum()
    y.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])  # d is a constant: d(x*d)/dx = d


def test_constants_get_no_gradient():
    X = Tensor(np.ones((4, 3)))
    w = Tensor(np.zeros(3), requires_grad=True)
    (X @ w).sum().backward()
    assert X.grad is None
    np.testing.assert_array_equal(w.grad, [4.0, 4.0, 4.0])


def test_float32_stays_float32():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    y = (2 * x + 1.5 - x / 3).sigmoid().softplus().mean()
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32


def test_integer_data_becomes_float64():
    assert Tensor([1, 2, 3]).dtype == np.float64


def test_ndarray_on_the_left_gives_a_tensor():
    x = Tensor(np.ones(3), requires_grad=True)
    y = np.arange(3.0) * x + np.ones(3)
    assert isinstance(y, Tensor)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 2.0])


def test_backward_of_a_non_scalar_needs_its_gradient():
    x = Tensor(np.ones(3), requires_grad=True)
    y = x * 2
    with pytest.raises(ValueError, match="non-scalar"):
        y.backward()
    y.backward(np.array([1.0, 0.0, -1.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 0.0, -2.0])


@pytest.mark.parametrize(
    ("grad_shape", "shape"),
    [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 4), (1, 4)), ((3, 4), (3, 1)), ((2, 3, 4), ()),
     ((2, 3, 4), (3, 1))],
)
def test_unbroadcast_sums_back_to_the_operand_shape(grad_shape, shape):
    grad = np.arange(np.prod(grad_shape), dtype=float).reshape(grad_shape)
    reduced = _unbroadcast(grad, shape)
    assert reduced.shape == shape
    assert reduced.sum() == grad.sum()


def test_gradcheck_agrees_with_finite_differences(rng):
    X, y = rng.normal(size=(8, 5)), (rng.random(8) > 0.5).astype(float)

    def cost(w, b):
        z = Tensor(X) @ w + b
        return (z.softplus() - Tensor(y) * z).mean()

    result = gradcheck(cost, [rng.normal(size=5), 0.3])
    assert result.max_rel_error < 1e-8
    assert len(result.rel_errors) == 2 and "worst relative error" in str(result)
    np.testing.assert_allclose(result.analytic[0], result.numeric[0], rtol=1e-6, atol=1e-9)


def test_gradcheck_checks_non_scalar_outputs(rng):
    inputs = [rng.normal(size=(3, 4)), rng.normal(size=4)]
    result = gradcheck(lambda a, b: (a @ b).sigmoid(), inputs)
    assert result.max_rel_error < 1e-8


def test_gradcheck_catches_a_wrong_gradient():
    def wrong_square(x):
        out = Tensor._node(lambda: x.data**2, (x,), "bad square")

        def _backward():  # should be 2 x
            x.grad += x.data * out.grad

        out._backward = _backward
        return out.sum()

    result = gradcheck(wrong_square, [np.array([1.0, -2.0, 3.0])])
    assert result.max_rel_error == pytest.approx(1 / 3)
