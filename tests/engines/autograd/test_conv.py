"""The image ops of ``logicat.engines.autograd.conv`` against torch.autograd (float64, values to
1e-12, gradients to 1e-10, on random shapes, strides and paddings drawn by hypothesis) and against
central finite differences (``gradcheck``)."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from logicat.core.errors import ParameterError, ShapeError
from logicat.engines.autograd import Tensor, gradcheck
from logicat.engines.autograd.conv import (
    batch_norm,
    batch_norm_eval,
    col2im,
    conv2d,
    dropout,
    im2col,
    max_pool2d,
    updated_running_stats,
)

torch = pytest.importorskip("torch")
F = torch.nn.functional
pytestmark = pytest.mark.usefixtures("one_torch_thread")

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def _agree_with_torch(ours, theirs, arrays, seed: int):
    """Both engines on the same inputs, the same random output gradient backpropagated."""
    xs = [Tensor(a, requires_grad=True) for a in arrays]
    out = ours(*xs)
    upstream = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(upstream)
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    t_out = theirs(*ts)
    t_out.backward(torch.tensor(upstream))
    assert out.shape == tuple(t_out.shape)
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=1e-12, atol=1e-12)
    for x, t in zip(xs, ts, strict=True):
        expected = t.grad.numpy()
        scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
        np.testing.assert_allclose(x.grad, expected, rtol=1e-10, atol=1e-12 * scale)


@st.composite
def conv_cases(draw):
    m, C, out_c = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 4))
    H, W = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = draw(st.sampled_from([1, 2, 3, (1, 2), (3, 1)]))
    padding = draw(st.sampled_from([0, 1, 2, (0, 1), (2, 0)]))
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    assume(H + 2 * ph >= kernel[0] and W + 2 * pw >= kernel[1])
    bias = draw(st.booleans())
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    arrays = [rng.normal(size=(m, C, H, W)), rng.normal(size=(out_c, C, *kernel))]
    return arrays + ([rng.normal(size=out_c)] if bias else []), stride, padding


@SETTINGS
@given(conv_cases())
def test_conv2d_matches_torch(case):
    arrays, stride, padding = case
    _agree_with_torch(lambda *t: conv2d(*t, stride=stride, padding=padding),
                      lambda *t: F.conv2d(*t, stride=stride, padding=padding), arrays, 0)


@st.composite
def pool_cases(draw):
    m, C = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kernel = draw(st.sampled_from([1, 2, 3, (2, 3), (3, 1)]))
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    stride = draw(st.sampled_from([None, 1, 2, (1, 2)]))
    padding = draw(st.sampled_from([0, 1, (1, 0)]))
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    assume(2 * ph <= kh and 2 * pw <= kw)
    H, W = draw(st.integers(kh, 9)), draw(st.integers(kw, 9))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if draw(st.booleans()):  # few distinct values: many windows tie for their maximum
        x = rng.integers(0, 3, size=(m, C, H, W)).astype(np.float64)
    else:
        x = rng.normal(size=(m, C, H, W))
    return x, kernel, stride, padding


@SETTINGS
@given(pool_cases())
def test_max_pool2d_matches_torch_ties_included(case):
    x, kernel, stride, padding = case
    _agree_with_torch(lambda t: max_pool2d(t, kernel, stride, padding),
                      lambda t: F.max_pool2d(t, kernel, stride, padding), [x], 1)


def test_max_pool_ties_go_to_the_first_maximum():
    x = Tensor(np.array([[[[1.0, 1.0], [1.0, 1.0]]]]), requires_grad=True)
    max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad, [[[[1.0, 0.0], [0.0, 0.0]]]])


@st.composite
def norm_cases(draw):
    m, C = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    spatial = draw(st.sampled_from([(), (1, 1), (3, 2), (4, 5)]))
    assume(m * int(np.prod(spatial)) >= 2)  # a variance needs two values
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.normal(draw(st.floats(-3, 3)), draw(st.floats(0.1, 3)), size=(m, C, *spatial))
    affine = draw(st.booleans())
    eps = draw(st.sampled_from([1e-5, 1e-3, 0.1]))
    return [x, rng.normal(size=C), rng.normal(size=C)] if affine else [x], eps


@SETTINGS
@given(norm_cases())
def test_batch_norm_matches_torch_in_training_mode(case):
    arrays, eps = case

    def theirs(x, *affine):
        return F.batch_norm(x, None, None, *affine, training=True, eps=eps)

    _agree_with_torch(lambda *t: batch_norm(*t, eps=eps), theirs, arrays, 2)


@SETTINGS
@given(norm_cases())
def test_batch_norm_eval_matches_torch(case):
    arrays, eps = case
    C = arrays[0].shape[1]
    rng = np.random.default_rng(C)
    mean, var = rng.normal(size=C), rng.uniform(0.1, 2, size=C)

    def theirs(x, *affine):
        return F.batch_norm(x, torch.tensor(mean), torch.tensor(var), *affine, training=False,
                            eps=eps)

    _agree_with_torch(lambda x, *affine: batch_norm_eval(x, mean, var, *affine, eps=eps),
                      theirs, arrays, 3)


@SETTINGS
@given(norm_cases(), st.sampled_from([0.1, 0.5, 1.0]))
def test_running_statistics_follow_torch(case, momentum):
    (x, *_), eps = case
    C = x.shape[1]
    rng = np.random.default_rng(C)
    mean, var = rng.normal(size=C), rng.uniform(0.1, 2, size=C)
    t_mean, t_var = torch.tensor(mean), torch.tensor(var)
    F.batch_norm(torch.tensor(x), t_mean, t_var, training=True, momentum=momentum, eps=eps)
    new_mean, new_var = updated_running_stats(mean, var, x, momentum)
    np.testing.assert_allclose(new_mean, t_mean.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(new_var, t_var.numpy(), rtol=1e-12, atol=1e-12)


def test_dropout_with_a_given_mask_is_torchs():
    rng = np.random.default_rng(0)
    x, p = rng.normal(size=(5, 6)), 0.3
    torch.manual_seed(0)
    t_x = torch.tensor(x)
    t_out = F.dropout(t_x, p, training=True)
    torch.manual_seed(0)
    mask = torch.empty_like(t_x).bernoulli_(1 - p).numpy()  # the draw F.dropout made
    assert 0 < mask.sum() < mask.size
    np.testing.assert_array_equal(dropout(Tensor(x), mask, p).data, t_out.numpy())
    _agree_with_torch(lambda t: dropout(t, mask, p), lambda t: t * torch.tensor(mask / (1 - p)),
                      [x], 4)


# ---- finite differences

def _distinct(shape, rng):
    """Values at least 0.1 apart: no window's maximum is within a step of a tie."""
    return rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1 + rng.uniform(0, 0.01, shape)


FINITE_DIFFERENCES = {
    "conv2d": (lambda x, w, b: conv2d(x, w, b, stride=(2, 1), padding=1),
               [(2, 2, 5, 4), (3, 2, 3, 2), (3,)]),
    "conv2d no bias": (lambda x, w: conv2d(x, w, stride=2), [(1, 3, 6, 6), (2, 3, 3, 3)]),
    "max_pool2d": (lambda x: max_pool2d(x, 3, stride=2, padding=1), [(2, 2, 5, 6)]),
    "batch_norm": (lambda x, g, b: batch_norm(x, g, b), [(3, 2, 2, 3), (2,), (2,)]),
    "batch_norm (m, C)": (lambda x: batch_norm(x, eps=1e-3), [(5, 3)]),
    "batch_norm_eval": (lambda x, g, b: batch_norm_eval(x, np.array([0.5, -1]),
                                                         np.array([2.0, 0.5]), g, b),
                        [(2, 2, 2, 2), (2,), (2,)]),
    "conv -> bn -> relu -> pool -> mean": (
        lambda x, w, g, b: max_pool2d(batch_norm(conv2d(x, w, padding=1), g, b).relu(), 2)
        .mean(axis=(2, 3)), [(2, 2, 4, 4), (3, 2, 3, 3), (3,), (3,)]),
}


@pytest.mark.parametrize("name", list(FINITE_DIFFERENCES))
def test_gradients_match_finite_differences(name):
    f, shapes = FINITE_DIFFERENCES[name]
    # not the seed of gradcheck's projection (0): the same numbers would make the projection
    # collinear with x, whose direction batch norm's gradient removes
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    inputs = [_distinct(s, rng) if name == "max_pool2d" else rng.normal(size=s) for s in shapes]
    result = gradcheck(f, inputs)
    assert result.max_rel_error < 1e-7, result
    for a, n in zip(result.analytic, result.numeric, strict=True):
        np.testing.assert_allclose(a, n, rtol=1e-5, atol=1e-7)


# ---- im2col, col2im and the errors

def test_col2im_is_the_adjoint_of_im2col(rng):
    """<im2col(x), c> = <x, col2im(c)> for every x, c: col2im is im2col's transpose, which is
    what the convolution's backward rule needs of it."""
    x = rng.normal(size=(2, 3, 7, 5))
    cols = im2col(x, (3, 2), (2, 1), (1, 1))
    assert cols.shape == (2 * 4 * 6, 3 * 3 * 2)
    c = rng.normal(size=cols.shape)
    back = col2im(c, x.shape, (3, 2), (2, 1), (1, 1))
    assert back.shape == x.shape
    assert np.sum(cols * c) == pytest.approx(np.sum(x * back), rel=1e-12)


def test_im2col_rows_are_the_windows():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    cols = im2col(x, (2, 2), (2, 2), (0, 0))
    np.testing.assert_array_equal(cols, [[0, 1, 4, 5], [2, 3, 6, 7], [8, 9, 12, 13],
                                         [10, 11, 14, 15]])


def test_float32_stays_float32():
    rng = np.random.default_rng(0)
    x = Tensor(rng.normal(size=(2, 3, 6, 6)).astype(np.float32), requires_grad=True)
    w = Tensor(rng.normal(size=(4, 3, 3, 3)).astype(np.float32), requires_grad=True)
    out = max_pool2d(batch_norm(conv2d(x, w, padding=1)), 2)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == w.grad.dtype == np.float32


def test_errors_say_what_was_expected():
    x = Tensor(np.zeros((1, 3, 4, 4)))
    with pytest.raises(ShapeError, match=r"images of shape \(m, C, H, W\)"):
        conv2d(Tensor(np.zeros((3, 4, 4))), Tensor(np.zeros((1, 3, 3, 3))))
    with pytest.raises(ShapeError, match=r"\(out_c, 3, kh, kw\)"):
        conv2d(x, Tensor(np.zeros((2, 1, 3, 3))))
    with pytest.raises(ShapeError, match="must fit in the padded input"):
        conv2d(x, Tensor(np.zeros((2, 3, 5, 5))))
    with pytest.raises(ParameterError, match="'stride' parameter must be an int >= 1"):
        conv2d(x, Tensor(np.zeros((2, 3, 3, 3))), stride=0)
    with pytest.raises(ParameterError, match="at most half the kernel"):
        max_pool2d(x, 2, padding=2)
    with pytest.raises(ShapeError, match=r"bias of shape \(3,\)"):
        batch_norm(x, Tensor(np.ones(3)), Tensor(np.ones(2)))
    with pytest.raises(ShapeError, match="mask must have the input's shape"):
        dropout(x, np.ones((1, 3)), 0.5)
    with pytest.raises(ParameterError, match=r"'p' parameter must be a float in \[0, 1\)"):
        dropout(x, np.ones(x.shape), 1.0)
