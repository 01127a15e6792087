"""Losses: the _core kernels and the nn loss modules against the reference and PyTorch.

The kernels run on this process's SIMD path (``_core.elementwise_arch()``);
test_vecmath.py reruns this file with FASTNN_ARCH forcing every other path."""

from __future__ import annotations

import math
import warnings
from contextlib import nullcontext

import numpy as np
import pytest

import fastnn as fn
import reference as ref
from conftest import ALL_THREADS
from fastnn import _core, nn
from fastnn.nn import functional as F

R = {"mean": _core.Reduction.mean, "sum": _core.Reduction.sum}
# vector width (8) +- 1, past one reduction chunk and several passes of them
SIZES = [1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 4095, 4097, 70001]  # 8 / 16 lanes +- 1


def _inputs(rng, name, n):
    if name == "bce":
        p = rng.uniform(0.0, 1.0, n).astype(np.float32)
    else:
        p = (3 * rng.standard_normal(n)).astype(np.float32)
    t = (rng.uniform(0.0, 1.0, n) if name != "mse" else rng.standard_normal(n)).astype(np.float32)
    return p, t


def _kernel(name, p, t, reduction):
    fwd, bwd = getattr(_core, f"{name}_forward"), getattr(_core, f"{name}_backward")
    g = np.full_like(p, np.nan)
    bwd(g, p, t, R[reduction])
    return fwd(p, t, R[reduction]), g


@pytest.mark.parametrize("name", ref.LOSSES)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("reduction", R)
def test_elementwise_kernel_matches_reference(num_threads, rng, name, n, reduction):
    p, t = _inputs(rng, name, n)
    value, grad = _kernel(name, p, t, reduction)
    rvalue, rgrad = ref.LOSSES[name](p, t, reduction)
    assert value == pytest.approx(rvalue, rel=1e-12)  # summed in double
    atol = 1e-6 / (n if reduction == "mean" else 1)
    np.testing.assert_allclose(grad, rgrad, rtol=1e-5, atol=atol)


CE_SHAPES = [(1, 1), (1, 7), (5, 3), (3, 8), (3, 9), (4, 15), (2, 16), (4, 17), (3, 31), (2, 33),
             (13, 10), (128, 10), (512, 10), (300, 37), (2, 5003)]


@pytest.mark.parametrize("n,c", CE_SHAPES)
@pytest.mark.parametrize("smoothing", [0.0, 0.1, 1.0])
@pytest.mark.parametrize("reduction", R)
def test_cross_entropy_kernel_matches_reference(num_threads, rng, n, c, smoothing, reduction):
    z = (3 * rng.standard_normal((n, c))).astype(np.float32)
    y = rng.integers(0, c, n)
    g = np.full_like(z, np.nan)
    _core.cross_entropy_backward(g, z, y, smoothing, R[reduction])
    value = _core.cross_entropy_forward(z, y, smoothing, R[reduction])
    rvalue, rgrad = ref.cross_entropy(z, y, smoothing, reduction)
    assert value == pytest.approx(rvalue, rel=1e-6)
    np.testing.assert_allclose(g, rgrad, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("n,c", CE_SHAPES)
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_fused_equals_separate(num_threads, rng, n, c, smoothing):
    """cross_entropy_forward_backward: the forward value and backward gradient, bit for bit."""
    z = (3 * rng.standard_normal((n, c))).astype(np.float32)
    y = rng.integers(0, c, n)
    for r in R.values():
        g, fused = np.full_like(z, np.nan), np.full_like(z, np.nan)
        _core.cross_entropy_backward(g, z, y, smoothing, r)
        value = _core.cross_entropy_forward_backward(fused, z, y, smoothing, r)
        assert value == _core.cross_entropy_forward(z, y, smoothing, r)
        assert np.array_equal(fused, g)


def test_cross_entropy_fused_bit_identical_across_threads(rng):
    z, y = rng.standard_normal((3000, 61)).astype(np.float32), rng.integers(0, 61, 3000)

    def run():
        g = np.empty_like(z)
        return _core.cross_entropy_forward_backward(g, z, y, 0.1, R["mean"]), g

    (v1, g1), (vn, gn) = ref.at_threads(1, run), ref.at_threads(ALL_THREADS, run)
    assert v1 == vn and np.array_equal(g1, gn)


def test_cross_entropy_nan_stays_in_its_row():
    z = np.float32([[0.0, 1.0, 2.0] * 3, [0.0, np.nan, 2.0] * 3])
    y = np.array([2, 0])
    g = np.empty_like(z)
    value = _core.cross_entropy_forward_backward(g, z, y, 0.0, R["sum"])
    assert np.isnan(value) and np.isnan(g[1]).all()
    _, rgrad = ref.cross_entropy(z[:1], y[:1], 0.0, "sum")
    np.testing.assert_allclose(g[0], rgrad[0], rtol=1e-5, atol=1e-7)


def test_bce_with_logits_nan_and_inf():
    z = np.float32([np.nan, np.inf, -np.inf, 1e30, -1e30, 0.0, 1.0, 2.0, 3.0])
    t = np.float32([1, 1, 0, 1, 0, 0.5, 1, 0, 1])
    value, grad = _kernel("bce_with_logits", z, t, "sum")
    assert np.isnan(value)
    assert np.isnan(grad[0]) and np.array_equal(grad[1:5], np.float32([0, 0, 0, 0]))
    _, rgrad = ref.bce_with_logits(z[5:], t[5:], "sum")
    np.testing.assert_allclose(grad[5:], rgrad, rtol=1e-6)


def test_finite_differences(rng):
    cases = {name: _inputs(rng, name, 6) for name in ref.LOSSES}
    cases["bce"] = (rng.uniform(0.2, 0.8, 6).astype(np.float32), cases["bce"][1])
    for name, (p, t) in cases.items():
        for reduction in R:
            fwd = getattr(_core, f"{name}_forward")
            _, grad = _kernel(name, p, t, reduction)

            def value(v, f=fwd, t=t, r=reduction):
                return f(v.astype(np.float32), t, R[r])

            np.testing.assert_allclose(grad, ref.numerical_grad(value, p, 1e-3), rtol=1e-2,
                                       atol=1e-4, err_msg=name)
            # the float64 reference gradient itself
            fd64 = ref.numerical_grad(lambda v, n=name, t=t, r=reduction: ref.LOSSES[n](v, t, r)[0],
                                      p.astype(np.float64), 1e-6)
            np.testing.assert_allclose(ref.LOSSES[name](p, t, reduction)[1], fd64, rtol=1e-6,
                                       atol=1e-8)
    z, y = rng.standard_normal((4, 5)), rng.integers(0, 5, 4)
    for e in (0.0, 0.3):
        g = np.empty((4, 5), np.float32)
        _core.cross_entropy_backward(g, z.astype(np.float32), y, e, R["mean"])
        fd = ref.numerical_grad(
            lambda v, e=e: _core.cross_entropy_forward(v.astype(np.float32), y, e, R["mean"]),
            z.astype(np.float32), 1e-3)
        np.testing.assert_allclose(g, fd, rtol=1e-2, atol=1e-4)
        fd64 = ref.numerical_grad(lambda v, e=e: ref.cross_entropy(v, y, e)[0], z, 1e-6)
        np.testing.assert_allclose(ref.cross_entropy(z, y, e)[1], fd64, rtol=1e-6, atol=1e-8)


def test_values_bit_identical_across_threads(rng):
    n = 300_001
    cases = {name: _inputs(rng, name, n) for name in ref.LOSSES}
    z, y = rng.standard_normal((5000, 61)).astype(np.float32), rng.integers(0, 61, 5000)

    def run():
        out = [_kernel(name, p, t, "mean") for name, (p, t) in cases.items()]
        g = np.empty_like(z)
        _core.cross_entropy_backward(g, z, y, 0.1, R["mean"])
        return out + [(_core.cross_entropy_forward(z, y, 0.1, R["mean"]), g)]

    for (v1, g1), (vn, gn) in zip(ref.at_threads(1, run), ref.at_threads(ALL_THREADS, run)):
        assert v1 == vn
        assert np.array_equal(g1, gn)


def test_extreme_inputs_are_finite():
    # BCE: p in {0, 1} clamps the log at -100 like PyTorch
    p, t = np.float32([0.0, 1.0, 0.0, 1.0]), np.float32([0.0, 1.0, 1.0, 0.0])
    value, grad = _kernel("bce", p, t, "sum")
    assert value == pytest.approx(200.0) and np.isfinite(grad).all()
    # BCE with logits and cross-entropy: huge logits never overflow
    z = np.float32([-1e4, -100.0, 100.0, 1e4])
    value, grad = _kernel("bce_with_logits", z, np.float32([0, 1, 0, 1]), "sum")
    assert value == pytest.approx(200.0) and np.isfinite(grad).all()
    logits = np.float32([[1e4, 0.0, -1e4]])
    assert _core.cross_entropy_forward(logits, [1], 0.0, R["sum"]) == pytest.approx(1e4)


@pytest.mark.parametrize("big", [1e8, 1e16, 1e20, 3e38])
def test_cross_entropy_of_huge_tied_logits_keeps_log_of_the_sum(big):
    # -log softmax = (max - z_y) + log sum exp(z - max): adding log 2 to 1e20 first and
    # subtracting 1e20 afterwards gave 0 (torch: log 2); on every path.
    z = np.float32([[big, big, 0.0]])
    assert fn.nn.CrossEntropyLoss()(z, np.array([1])) == pytest.approx(np.log(2), rel=1e-6)
    t = fn.nn.functional.cross_entropy(fn.tensor(z), fn.tensor([0]))
    assert t.item() == pytest.approx(np.log(2), rel=1e-6)
    smoothed = _core.cross_entropy_forward(z, [1], 0.3, R["sum"])
    assert smoothed == pytest.approx(0.7 * np.log(2) + 0.3 * ((big - 2 * big / 3) + np.log(2)),
                                     rel=1e-6)


def test_empty_inputs_reduce_like_torch():
    """Mean over nothing is 0/0 = NaN, as in PyTorch; the sum is 0. (The modules reject it.)"""
    empty = np.zeros(0, np.float32)
    for name in ref.LOSSES:
        assert np.isnan(getattr(_core, f"{name}_forward")(empty, empty, R["mean"]))
        assert getattr(_core, f"{name}_forward")(empty, empty, R["sum"]) == 0.0
    z, y = np.zeros((0, 3), np.float32), np.zeros(0, np.int64)
    assert np.isnan(_core.cross_entropy_forward(z, y, 0.1, R["mean"]))
    assert _core.cross_entropy_forward(z, y, 0.1, R["sum"]) == 0.0
    _core.cross_entropy_backward(np.empty_like(z), z, y, 0.1, R["mean"])


def test_kernel_bad_arguments():
    z = np.zeros((3, 4), np.float32)
    with pytest.raises(IndexError, match=r"Target 4 is out of bounds"):
        _core.cross_entropy_forward(z, [0, 4, 1], 0.0, R["mean"])
    with pytest.raises(IndexError, match=r"Target -1 is out of bounds"):
        _core.cross_entropy_backward(np.empty_like(z), z, [0, -1, 1], 0.0, R["mean"])
    with pytest.raises(ValueError, match=r"argument 'labels' must have shape \(3,\), got \(2,\)"):
        _core.cross_entropy_forward(z, [0, 1], 0.0, R["mean"])
    with pytest.raises(TypeError, match=r"argument 'labels' must have an integer dtype"):
        _core.cross_entropy_forward(z, np.zeros(3), 0.0, R["mean"])
    with pytest.raises(ValueError, match=r"label_smoothing' must be in \[0, 1\]"):
        _core.cross_entropy_forward(z, [0, 1, 2], 1.5, R["mean"])
    with pytest.raises(ValueError, match=r"should be between 0 and 1, got 1.5"):
        _core.bce_forward(np.float32([0.5, 1.5]), np.float32([0, 1]), R["mean"])
    with pytest.raises(ValueError, match=r"should be between 0 and 1, got nan"):
        _core.bce_backward(np.empty(1, np.float32), np.float32([np.nan]), np.float32([1]),
                           R["mean"])
    # targets too (torch: "all elements of target should be between 0 and 1"; a target of
    # 2 gave a negative loss), on both kernels and on every path above them
    with pytest.raises(ValueError, match=r"'target' .* of target should be between 0 and 1, "
                                         r"got 2.0+ at index 1"):
        _core.bce_forward(np.float32([0.5, 0.5]), np.float32([0, 2]), R["mean"])
    with pytest.raises(ValueError, match=r"of target should be between 0 and 1, got -0.5"):
        _core.bce_backward(np.empty(1, np.float32), np.float32([0.5]), np.float32([-0.5]),
                           R["mean"])
    with pytest.raises(ValueError, match="of target should be between 0 and 1"):
        fn.nn.BCELoss()(fn.tensor([0.9], requires_grad=True), fn.tensor([2.0]))
    with pytest.raises(RuntimeError, match="all elements of target should be between 0 and 1"):
        fn.nn.functional.binary_cross_entropy(fn.tensor([0.9]), fn.tensor([np.nan]),
                                              weight=fn.tensor([1.0]))
    g = np.empty((3, 4), np.float32)
    with pytest.raises(IndexError, match=r"cross_entropy_forward_backward\(\): Target 4 is out"):
        _core.cross_entropy_forward_backward(g, z, [0, 4, 1], 0.0, R["mean"])
    with pytest.raises(ValueError, match=r"forward_backward\(\): argument 'grad' must have shape"):
        _core.cross_entropy_forward_backward(np.empty((4, 3), np.float32), z, [0, 1, 2], 0.0,
                                             R["mean"])
    with pytest.raises(ValueError, match=r"'grad' and 'logits' must not share memory"):
        _core.cross_entropy_forward_backward(z, z, [0, 1, 2], 0.0, R["mean"])
    with pytest.raises(TypeError, match=r"argument 'grad' must"):
        _core.cross_entropy_forward_backward(np.empty((3, 4)), z, [0, 1, 2], 0.0, R["mean"])
    with pytest.raises(ValueError, match=r"mse_forward\(\): argument 'target' must have shape"):
        _core.mse_forward(np.zeros(3, np.float32), np.zeros(2, np.float32), R["mean"])


# -- modules -------------------------------------------------------------------------


def test_modules_match_reference_and_scale(rng):
    p = rng.uniform(0.05, 0.95, (6, 3))  # float64 input: converted once
    t = rng.uniform(0.0, 1.0, (6, 3))
    p32, t32 = p.astype(np.float32), t.astype(np.float32)
    for cls, name in [(fn.nn.MSELoss, "mse"), (fn.nn.BCELoss, "bce"),
                      (fn.nn.BCEWithLogitsLoss, "bce_with_logits")]:
        for reduction in R:
            loss = cls(reduction=reduction)
            value = loss(p, t)
            assert isinstance(value, float)
            rvalue, rgrad = ref.LOSSES[name](p32, t32, reduction)
            assert value == pytest.approx(rvalue, rel=1e-12)
            grad = loss.backward()
            assert grad.dtype == np.float32 and grad.shape == p.shape
            np.testing.assert_allclose(grad, rgrad, rtol=1e-5, atol=1e-7)
            np.testing.assert_allclose(loss.backward(2.5), 2.5 * rgrad, rtol=1e-5, atol=1e-7)
    ce = fn.nn.CrossEntropyLoss(label_smoothing=0.2, reduction="sum")
    z, y = rng.standard_normal((5, 4)), np.array([0, 3, 1, 1, 2])
    rvalue, rgrad = ref.cross_entropy(z.astype(np.float32), y, 0.2, "sum")
    assert ce(z, y) == pytest.approx(rvalue, rel=1e-6)
    np.testing.assert_allclose(ce.backward(), rgrad, rtol=1e-5, atol=1e-6)
    assert ce(z, y.astype(np.float64)) == pytest.approx(rvalue, rel=1e-6)  # integral floats


def test_modules_bad_arguments():
    with pytest.raises(ValueError, match=r"reduction' must be 'mean', 'sum' or 'none', got 'avg'"):
        fn.nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match=r"'weight' must be 1-D .* got shape \(2, 2\)"):
        fn.nn.CrossEntropyLoss(weight=np.ones((2, 2)))
    with pytest.raises(TypeError, match=r"'ignore_index' must be an int"):
        fn.nn.NLLLoss(ignore_index=1.5)
    with pytest.raises(ValueError, match=r"label_smoothing' must be in \[0, 1\], got 1.1"):
        fn.nn.CrossEntropyLoss(label_smoothing=1.1)
    with pytest.raises(RuntimeError, match=r"MSELoss.backward\(\) called before a forward"):
        fn.nn.MSELoss().backward()
    with pytest.raises(RuntimeError, match=r"CrossEntropyLoss.backward\(\) called before"):
        fn.nn.CrossEntropyLoss().backward()
    with pytest.raises(ValueError, match=r"'pred' shape \(4, 1\) and 'target' shape \(4,\)"):
        fn.nn.MSELoss()(np.zeros((4, 1)), np.zeros(4))
    with pytest.raises(ValueError, match=r"empty batch"):
        fn.nn.BCEWithLogitsLoss()(np.zeros((0, 2)), np.zeros((0, 2)))
    with pytest.raises(ValueError, match=r"should be between 0 and 1"):
        fn.nn.BCELoss()(np.float32([2.0]), np.float32([1.0]))
    with pytest.raises(TypeError, match=r"'target' must have a real numeric dtype"):
        fn.nn.MSELoss()(np.zeros(2), np.array([True, False]))
    ce = fn.nn.CrossEntropyLoss()
    with pytest.raises(ValueError, match=r"'pred' must have shape \(N, C\), got \(4,\)"):
        ce(np.zeros(4), np.zeros(4, int))
    with pytest.raises(ValueError, match=r"'target' shape \(3,\) must be \(N,\) for 'pred' shape"):
        ce(np.zeros((4, 2)), np.zeros(3, int))
    with pytest.raises(ValueError, match=r"empty batch"):
        ce(np.zeros((0, 2)), np.zeros(0, int))
    # named the kernel (cross_entropy_forward_backward()) instead of the module
    with pytest.raises(IndexError, match=r"^CrossEntropyLoss\.forward\(\): target 10 is out of "
                                         r"bounds for 10 classes"):
        ce(np.zeros((2, 10)), np.array([3, 10]))
    with pytest.raises(TypeError, match=r"integer class indices, got dtype float64 with non-int"):
        ce(np.zeros((2, 3)), np.array([0.5, 1.0]))
    with pytest.raises(TypeError, match=r"integer class indices, got dtype bool"):
        ce(np.zeros((2, 3)), np.array([True, False]))
    ce(np.zeros((2, 3)), np.array([0, 1]))
    with pytest.raises(TypeError, match=r"'grad_out' must be a number"):
        ce.backward("1")


def test_reprs():
    assert repr(fn.nn.MSELoss()) == "MSELoss()"
    assert repr(fn.nn.BCELoss(reduction="sum")) == "BCELoss(reduction='sum')"
    assert repr(fn.nn.CrossEntropyLoss(0.1)) == "CrossEntropyLoss(label_smoothing=0.1)"


def test_modules_match_torch(rng):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    p = rng.uniform(0.0, 1.0, (8, 3)).astype(np.float32)
    p[0, 0], p[1, 1] = 0.0, 1.0  # exercise the log clamp
    z = (3 * rng.standard_normal((8, 3))).astype(np.float32)
    t = rng.uniform(0.0, 1.0, (8, 3)).astype(np.float32)
    cases = [
        (fn.nn.MSELoss, F.mse_loss, z, t, {}),
        (fn.nn.BCELoss, F.binary_cross_entropy, p, t, {}),
        (fn.nn.BCEWithLogitsLoss, F.binary_cross_entropy_with_logits, z, t, {}),
    ]
    for reduction in R:
        for cls, tfn, x, target, kw in cases:
            tx = torch.tensor(x, requires_grad=True)
            tv = tfn(tx, torch.tensor(target), reduction=reduction, **kw)
            tv.backward()
            loss = cls(reduction=reduction)
            assert loss(x, target) == pytest.approx(tv.item(), rel=1e-5), cls.__name__
            np.testing.assert_allclose(loss.backward(), tx.grad.numpy(), rtol=1e-5, atol=1e-6,
                                       err_msg=cls.__name__)
        logits = (3 * rng.standard_normal((9, 6))).astype(np.float32)
        y = rng.integers(0, 6, 9)
        for e in (0.0, 0.25, 1.0):
            tx = torch.tensor(logits, requires_grad=True)
            tv = F.cross_entropy(tx, torch.tensor(y), label_smoothing=e, reduction=reduction)
            tv.backward()
            loss = fn.nn.CrossEntropyLoss(label_smoothing=e, reduction=reduction)
            assert loss(logits, y) == pytest.approx(tv.item(), rel=1e-5)
            np.testing.assert_allclose(loss.backward(), tx.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_nll_loss_module_matches_float64_and_cross_entropy(rng, reduction):
    logits = 2 * rng.standard_normal((7, 5)).astype(np.float32)
    labels = rng.integers(0, 5, 7)
    log_softmax = fn.nn.LogSoftmax(dim=1)
    loss = fn.nn.NLLLoss(reduction=reduction)
    logp = log_softmax(logits)
    value = loss(logp, labels)
    picked = -logp.astype(np.float64)[np.arange(7), labels]
    expected = picked.mean() if reduction == "mean" else picked.sum()
    assert isinstance(value, float) and value == pytest.approx(expected, rel=1e-12)
    grad = loss.backward(3.0)
    want = np.zeros((7, 5), np.float32)
    want[np.arange(7), labels] = -3.0 / (7 if reduction == "mean" else 1)
    np.testing.assert_array_equal(grad, want)
    # LogSoftmax + NLLLoss is cross-entropy: same value and input gradient
    ce = fn.nn.CrossEntropyLoss(reduction=reduction)
    assert value == pytest.approx(ce(logits, labels), rel=1e-6)
    unit = loss.backward()
    np.testing.assert_allclose(log_softmax.backward(unit), ce.backward(), atol=1e-6)
    t = fn.tensor(logp, requires_grad=True)  # the Tensor path
    out = loss(t, fn.tensor(labels))
    out.backward()
    assert out.item() == pytest.approx(value, rel=1e-6)
    np.testing.assert_allclose(t.grad.numpy(), unit, atol=1e-7)


def test_nll_loss_bad_arguments_and_repr():
    loss = fn.nn.NLLLoss()
    with pytest.raises(IndexError, match="target 3 is out of bounds for 3 classes"):
        loss(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(IndexError, match="target -1 is out of bounds"):
        loss(np.zeros((2, 3)), np.array([-1, 0]))
    with pytest.raises(ValueError, match=r"'pred' must have shape \(N, C\), got \(3,\)"):
        loss(np.zeros(3), np.array([0]))
    with pytest.raises(ValueError, match=r"'target' shape \(3,\) must be \(N,\)"):
        loss(np.zeros((2, 3)), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="empty batch"):
        loss(np.zeros((0, 3)), np.zeros(0, int))
    with pytest.raises(TypeError, match="integer class indices"):
        loss(np.zeros((1, 3)), np.array([0.5]))
    with pytest.raises(RuntimeError, match="called before a forward"):
        fn.nn.NLLLoss().backward()
    with pytest.raises(ValueError, match="'reduction' must be 'mean', 'sum' or 'none'"):
        fn.nn.NLLLoss(reduction="avg")
    assert repr(loss) == "NLLLoss()" and repr(fn.nn.NLLLoss(reduction="sum")) == (
        "NLLLoss(reduction='sum')")


def _torch_loss_case(torch, kind, options, rng):
    """(fastnn loss, torch loss, pred, target) for one module and options."""
    n, c = 7, 4
    logits = 2 * rng.standard_normal((n, c)).astype(np.float32)
    labels = rng.integers(0, c, n)
    labels[3] = options.get("ignore_index", -100)  # an ignored target
    t_opts = {k: torch.tensor(v) if k == "weight" else v for k, v in options.items()}
    if kind == "cross_entropy":
        return (fn.nn.CrossEntropyLoss(**options), torch.nn.CrossEntropyLoss(**t_opts),
                logits, labels)
    if kind == "nll":
        logp = torch.log_softmax(torch.tensor(logits), 1).numpy()
        return fn.nn.NLLLoss(**options), torch.nn.NLLLoss(**t_opts), logp, labels
    target = (rng.random((n, c)) > 0.5).astype(np.float32)
    pred = 1 / (1 + np.exp(-logits)) if kind == "bce" else logits
    cls = {"mse": "MSELoss", "bce": "BCELoss", "bce_logits": "BCEWithLogitsLoss"}[kind]
    return (getattr(fn.nn, cls)(**options), getattr(torch.nn, cls)(**t_opts),
            pred.astype(np.float32), target)


WEIGHTS = np.array([1.0, 2.0, 0.5, 3.0], np.float32)


@pytest.mark.parametrize("kind, options", [
    ("cross_entropy", {"weight": WEIGHTS}),
    ("cross_entropy", {"reduction": "none"}),
    ("cross_entropy", {"reduction": "sum", "weight": WEIGHTS, "label_smoothing": 0.1}),
    ("cross_entropy", {"ignore_index": 2}),
    ("cross_entropy", {}),  # the -100 target alone sends it through the autograd path
    ("nll", {"weight": WEIGHTS}),
    ("nll", {"reduction": "none"}),
    ("mse", {"reduction": "none"}),
    ("bce", {"reduction": "none"}),
    ("bce_logits", {"reduction": "none"}),
])
def test_loss_options_match_torch_on_both_paths(rng, kind, options):
    """reduction='none', class weights and ignore_index: values and input gradients equal
    torch's on the NumPy path (forward / backward(grad_out)) and on Tensors."""
    torch = pytest.importorskip("torch")
    loss, ref, pred, target = _torch_loss_case(torch, kind, options, rng)
    none = options.get("reduction") == "none"
    tp = torch.tensor(pred, requires_grad=True)
    expected = ref(tp, torch.tensor(target))
    g = rng.standard_normal(expected.shape).astype(np.float32) if none else np.float32(1.5)
    expected.backward(torch.tensor(g))
    value = loss(pred, target)
    assert isinstance(value, np.ndarray if none else float)
    np.testing.assert_allclose(value, expected.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(loss.backward(g if none else 1.5), tp.grad.numpy(), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(loss.backward(g if none else 1.5), tp.grad.numpy(), rtol=1e-5,
                               atol=1e-6)  # a second backward gives the same
    x = fn.tensor(pred, requires_grad=True)
    out = loss(x, fn.tensor(target))
    out.backward(fn.tensor(g))
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), tp.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_training_refuses_per_sample_losses_and_traces_class_weights(rng):
    X = rng.standard_normal((32, 5)).astype(np.float32)
    y = rng.integers(0, 3, 32)

    def model():
        fn.manual_seed(0)
        return fn.nn.Sequential(fn.nn.Linear(5, 8), fn.nn.ReLU(), fn.nn.Linear(8, 3))

    m = model()
    with pytest.raises(TypeError, match="reduction='none' is not supported"):
        fn.nn.TrainStep(m, fn.nn.CrossEntropyLoss(reduction="none"), fn.optim.SGD(
            m.parameters(), lr=0.1))
    for call in (fn.fit, fn.evaluate):
        kwargs = {"optimizer": fn.optim.SGD(m.parameters(), lr=0.1), "verbose": 0} \
            if call is fn.fit else {}
        with pytest.raises(ValueError, match="reduction='none'"):
            call(m, X, y, loss=fn.nn.MSELoss(reduction="none"), **kwargs)
    weight = np.array([1.0, 3.0, 0.5], np.float32)
    step = fn.nn.TrainStep(m, fn.nn.CrossEntropyLoss(weight=weight),
                           fn.optim.SGD(m.parameters(), lr=0.1))
    with pytest.warns(RuntimeWarning, match="eager autograd loop"):
        got = [step(X, y) for _ in range(3)]
    ref_model = model()  # the eager loop by hand: the class weights are honoured
    opt = fn.optim.SGD(ref_model.parameters(), lr=0.1)
    loss_fn = fn.nn.CrossEntropyLoss(weight=weight)
    for value in got:
        opt.zero_grad()
        loss = loss_fn(ref_model(fn.tensor(X)), fn.tensor(y))
        loss.backward()
        opt.step()
        assert value == pytest.approx(loss.item(), rel=1e-6)


def test_train_step_ignores_targets_at_ignore_index_as_the_loss_does(rng):
    """A batch with targets equal to ignore_index (PyTorch's -100) runs eagerly inside a
    one-call TrainStep; the trajectory equals the eager loop's, Adam state shared."""
    X = rng.standard_normal((6, 4)).astype(np.float32)
    full, ignored = np.array([0, 1, 2, 2, 1, 0]), np.array([0, 1, -100, 2, 1, 0])

    def model():
        fn.manual_seed(0)
        return fn.nn.Sequential(fn.nn.Linear(4, 8), fn.nn.ReLU(), fn.nn.Linear(8, 3))

    m = model()
    step = fn.nn.TrainStep(m, fn.nn.CrossEntropyLoss(), fn.optim.Adam(m.parameters(), lr=0.01))
    assert step.one_call
    got = [step(X, y) for y in (full, ignored, full, ignored)]
    ref = model()
    opt, loss_fn = fn.optim.Adam(ref.parameters(), lr=0.01), fn.nn.CrossEntropyLoss()
    for value, y in zip(got, (full, ignored, full, ignored)):
        opt.zero_grad()
        loss = loss_fn(ref(fn.tensor(X)), fn.tensor(y))
        loss.backward()
        opt.step()
        assert value == pytest.approx(loss.item(), rel=1e-6)


def test_fit_with_metrics_over_batches_with_ignored_targets(rng):
    """fit's one-call step runs a batch with an ignored target eagerly; the metrics read
    that batch's output, not the previous batch's (or an empty one)."""
    X = rng.standard_normal((16, 4)).astype(np.float32)
    y = rng.integers(0, 3, 16)
    y[3] = -100

    def run(use_train_step):
        from fastnn.training import loop
        fn.manual_seed(0)
        m = fn.nn.Sequential(fn.nn.Linear(4, 8), fn.nn.ReLU(), fn.nn.Linear(8, 3))
        saved, loop._USE_TRAIN_STEP = loop._USE_TRAIN_STEP, use_train_step
        try:
            return fn.fit(m, X, y, loss=fn.nn.CrossEntropyLoss(),
                          optimizer=fn.optim.SGD(m.parameters(), lr=0.1), epochs=2,
                          batch_size=4, metrics=["accuracy"], shuffle=False,
                          verbose=0).history
        finally:
            loop._USE_TRAIN_STEP = saved

    fast, eager = run(True), run(False)
    np.testing.assert_allclose(fast["loss"], eager["loss"], rtol=1e-6)
    assert fast["accuracy"] == eager["accuracy"]


@pytest.mark.parametrize("options", [{"weight": [1.0, 5.0, 0.1]}, {"ignore_index": 1},
                                     {"weight": [1.0, 5.0, 0.1], "ignore_index": 2},
                                     {"ignore_index": -100}])
def test_evaluate_and_fit_losses_are_the_dataset_mean_at_any_batch_size(rng, options):
    # A mean loss with class weights or ignored targets divides by the summed weight of
    # the targets it counts: batch means weighted by batch size depended on batch_size.
    # accuracy skips the ignored targets as the loss does.
    X = rng.standard_normal((60, 5)).astype(np.float32)
    y = rng.integers(0, 3, 60)
    if options.get("ignore_index") == -100:
        y[rng.random(60) < 0.3] = -100
        y[:7] = -100  # a whole batch of 7 ignored: no NaN in the dataset's loss
    fn.manual_seed(0)
    m = fn.nn.Sequential(fn.nn.Linear(5, 3))
    loss = fn.nn.CrossEntropyLoss(**options)
    results = [fn.evaluate(m, X, y, loss=loss, batch_size=b, metrics=["accuracy"])
               for b in (7, 16, 60)]
    logits = m(X).astype(np.float64)
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    keep = y != loss.ignore_index
    w = np.asarray(options.get("weight", [1.0, 1.0, 1.0]))[y[keep]]
    expected = -(w * logp[keep, y[keep]]).sum() / w.sum()
    accuracy = (logits.argmax(1) == y)[keep].mean()
    for r in results:
        assert r["loss"] == pytest.approx(expected, rel=1e-5)
        assert r["accuracy"] == pytest.approx(accuracy)
    all_ignored = options.get("ignore_index") == -100  # batch 0's loss is NaN, as torch's
    with pytest.warns(RuntimeWarning, match="loss is nan") if all_ignored else nullcontext():
        history = fn.fit(m, X, y, loss=loss, optimizer=fn.optim.SGD(m.parameters(), lr=0.0),
                         epochs=1, batch_size=7, metrics=["accuracy"], shuffle=False,
                         verbose=0).history
    assert history["loss"][0] == pytest.approx(expected, rel=1e-5)
    assert history["accuracy"][0] == pytest.approx(accuracy)


def test_class_weights_need_one_per_class_and_work_under_no_grad(rng):
    logits = rng.standard_normal((3, 4)).astype(np.float32)
    labels = np.array([0, 1, 3])
    for loss in (fn.nn.CrossEntropyLoss(weight=[1.0, 2.0]), fn.nn.NLLLoss(weight=[1.0, 2.0])):
        with pytest.raises(ValueError, match=r"for all 4 classes .* shape: \[2\]"):
            loss(logits, labels)
        with pytest.raises(RuntimeError, match="for all 4 classes"):  # a ShapeError: both
            loss(fn.tensor(logits), fn.tensor(labels))
    loss = fn.nn.CrossEntropyLoss(weight=[1.0, 2.0, 1.0, 1.0])
    assert list(loss.state_dict()) == ["weight"]  # a buffer, as in torch
    with fn.no_grad():
        value = loss(logits, labels)
    grad = loss.backward()  # the graph was kept for the NumPy path's backward
    ref = fn.nn.CrossEntropyLoss(weight=[1.0, 2.0, 1.0, 1.0])
    assert ref(logits, labels) == value
    np.testing.assert_array_equal(grad, ref.backward())


@pytest.mark.parametrize("make, ref64", [
    (lambda r: fn.nn.L1Loss(reduction=r), lambda d: np.abs(d)),
    (lambda r: fn.nn.SmoothL1Loss(reduction=r, beta=0.5),
     lambda d: np.where(np.abs(d) < 0.5, d * d, np.abs(d) - 0.25)),
    (lambda r: fn.nn.HuberLoss(reduction=r, delta=2.0),
     lambda d: np.where(np.abs(d) <= 2.0, 0.5 * d * d, 2.0 * (np.abs(d) - 1.0))),
], ids=["l1", "smooth_l1", "huber"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses_match_float64_and_finite_differences(rng, make, ref64, reduction):
    loss = make(reduction)
    pred = (3 * rng.standard_normal((4, 5))).astype(np.float32)
    target = (3 * rng.standard_normal((4, 5))).astype(np.float32)
    p64, t64 = pred.astype(np.float64), target.astype(np.float64)

    def total(p):
        per = ref64(p - t64)
        return per.mean() if reduction == "mean" else per.sum() if reduction == "sum" else per

    value = loss(pred, target)
    np.testing.assert_allclose(value, total(p64), rtol=1e-5, atol=1e-6)
    g = rng.standard_normal((4, 5)) if reduction == "none" else 1.0
    grad = loss.backward(g)
    fd = ref.numerical_grad(lambda p: float((np.asarray(total(p)) * g).sum()), p64, 1e-6)
    np.testing.assert_allclose(grad, fd, rtol=1e-4, atol=1e-5)
    x = fn.tensor(pred, requires_grad=True)
    loss(x, fn.tensor(target)).backward(fn.tensor(np.asarray(g, np.float32)))
    np.testing.assert_allclose(x.grad.numpy(), grad, rtol=1e-6, atol=1e-7)


def test_regression_loss_arguments():
    with pytest.raises(ValueError, match="'delta' must be > 0"):
        fn.nn.HuberLoss(delta=0.0)
    with pytest.raises(ValueError, match="'beta' must be"):
        fn.nn.SmoothL1Loss(beta=-1.0)
    with pytest.raises(ValueError, match=r"'pred' shape \(2,\) and 'target' shape \(3,\)"):
        fn.nn.L1Loss()(np.zeros(2), np.zeros(3))
    with pytest.raises(RuntimeError, match="called before a forward"):
        fn.nn.L1Loss().backward()


def test_regression_losses_at_infinite_differences_and_broadcasting():
    """An infinite difference takes the linear branch's gradient (torch: +-1, +-delta), with
    no NaN from the quadratic branch and no overflow warning; mismatched shapes warn."""
    import warnings

    for loss, slope in ((fn.nn.HuberLoss(reduction="sum", delta=2.0), 2.0),
                        (fn.nn.SmoothL1Loss(reduction="sum", beta=0.5), 1.0)):
        x = fn.tensor([np.inf, -np.inf, 1e20, 0.1], requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            loss(x, fn.zeros(4)).backward()
        np.testing.assert_array_equal(x.grad.numpy()[:3], [slope, -slope, slope])
    with pytest.warns(UserWarning, match="target size"):
        fn.nn.L1Loss()(fn.ones(3, 1, requires_grad=True), fn.zeros(3))


def test_infinite_delta_and_beta_are_all_quadratic_as_torch():
    # delta = inf: Huber is 0.5 d^2 (torch's gradient d / n); the unused linear branch
    # used to contribute inf * 0 = NaN. beta = inf: SmoothL1 is 0 with gradient 0.
    d = np.float32([1.0, -2.0, 3.0])
    for huber in (fn.nn.HuberLoss(delta=float("inf")),):
        x = fn.tensor(d, requires_grad=True)
        value = huber(x, fn.zeros(3))
        value.backward()
        assert value.item() == pytest.approx(0.5 * (d.astype(np.float64) ** 2).mean())
        np.testing.assert_allclose(x.grad.numpy(), d / 3, rtol=1e-6)
        assert huber(d, np.zeros(3, np.float32)) == pytest.approx(value.item())
        np.testing.assert_allclose(huber.backward(), d / 3, rtol=1e-6)
    x = fn.tensor(d, requires_grad=True)
    fn.nn.SmoothL1Loss(beta=float("inf"))(x, fn.zeros(3)).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 0])


def test_label_smoothing_with_every_target_ignored_leaves_the_weights_alone(rng):
    import warnings

    x = fn.tensor(rng.standard_normal((4, 5)).astype(np.float32), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 0 / 0 for the NaN value
        loss = fn.nn.CrossEntropyLoss(label_smoothing=0.1)(x, fn.tensor(np.full(4, -100)))
    loss.backward()
    assert np.isnan(loss.item()) and not x.grad.numpy().any()  # torch: NaN loss, zero gradient


def test_per_sample_backward_argument_errors():
    loss = fn.nn.MSELoss(reduction="none")
    loss(np.ones(2), np.zeros(2))
    with pytest.raises(TypeError, match=r"'grad_out' must be a number or an array .*\(2,\)"):
        loss.backward(None)
    with pytest.raises(ValueError, match=r"'grad_out' of shape \(3,\) does not fit .*\(2,\)"):
        loss.backward(np.ones(3))
    with pytest.raises(ValueError):  # a failed forward leaves nothing for backward
        loss(np.ones(2), np.zeros(3))
    with pytest.raises(RuntimeError, match="called before a forward"):
        loss.backward()


def test_train_step_reads_loss_options_at_every_call(rng):
    X = rng.standard_normal((8, 4)).astype(np.float32)
    y = rng.integers(0, 3, 8)
    fn.manual_seed(0)
    m = fn.nn.Sequential(fn.nn.Linear(4, 3))
    loss_fn = fn.nn.CrossEntropyLoss()
    step = fn.nn.TrainStep(m, loss_fn, fn.optim.SGD(m.parameters(), lr=0.0))
    plain = step(X, y)
    loss_fn.weight = np.array([1.0, 5.0, 0.1], np.float32)  # set after the step was built
    weighted = step(X, y)
    assert weighted == pytest.approx(loss_fn(m(X), y), rel=1e-6) and weighted != plain
    loss_fn.weight = None
    loss_fn.reduction = "none"
    with pytest.raises(TypeError, match="reduction='none' is not supported"):
        step(X, y)


def test_new_layers_train_in_train_step_and_fit(rng):
    X = rng.standard_normal((32, 5)).astype(np.float32)
    y = rng.integers(0, 3, 32)

    def model():
        fn.manual_seed(0)
        return fn.nn.Sequential(fn.nn.Linear(5, 8), fn.nn.SiLU(), fn.nn.Linear(8, 8),
                                fn.nn.ELU(), fn.nn.Linear(8, 3))

    m = model()
    step = fn.nn.TrainStep(m, fn.nn.CrossEntropyLoss(), fn.optim.SGD(m.parameters(), lr=0.1))
    assert step.one_call  # SiLU and ELU run in the C++ plan
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = [step(X, y) for _ in range(3)]
    soft = fn.nn.Sequential(fn.nn.Linear(5, 3), fn.nn.Softplus())
    with pytest.warns(RuntimeWarning, match="eager autograd loop"):  # two kernel parameters
        fn.nn.TrainStep(soft, fn.nn.MSELoss(), fn.optim.SGD(soft.parameters(), lr=0.1))(
            X, np.zeros((32, 3), np.float32))
    ref = model()
    opt, loss_fn = fn.optim.SGD(ref.parameters(), lr=0.1), fn.nn.CrossEntropyLoss()
    for value in got:
        opt.zero_grad()
        loss = loss_fn(ref(fn.tensor(X)), fn.tensor(y))
        loss.backward()
        opt.step()
        assert value == pytest.approx(loss.item(), rel=1e-6)
    fn.manual_seed(0)
    reg = fn.nn.Sequential(fn.nn.Linear(5, 8), fn.nn.Softplus(), fn.nn.Linear(8, 1))
    target = X[:, :1] * 2.0
    history = fn.fit(reg, X, target, loss=fn.nn.HuberLoss(),
                     optimizer=fn.optim.Adam(reg.parameters(), lr=0.05), epochs=20,
                     verbose=0).history["loss"]
    assert np.isfinite(history).all() and history[-1] < 0.5 * history[0]


def test_labels_beyond_int64_and_non_numeric_weights_are_named():
    # float labels of 1e20 and uint64 labels >= 2**63 wrapped to INT64_MIN in the message
    z = np.zeros((2, 3), np.float32)
    with pytest.raises(IndexError, match=r"Target 1e\+20 is out of bounds"):
        fn.nn.CrossEntropyLoss()(z, np.array([0, 1e20]))
    with pytest.raises(IndexError, match="Target 9223372036854775808 is out of bounds"):
        fn.nn.CrossEntropyLoss()(z, np.array([0, 2 ** 63], np.uint64))
    with pytest.raises(IndexError, match="Target 9223372036854775813 is out of bounds"):
        _core.cross_entropy_forward(z, np.array([0, 2 ** 63 + 5], np.uint64), 0.0, R["mean"])
    assert fn.nn.CrossEntropyLoss()(z, np.array([0, 2], np.uint64)) == pytest.approx(np.log(3))
    with pytest.raises(TypeError, match="argument 'weight' must be numeric, got dtype <U1"):
        fn.nn.CrossEntropyLoss(weight=["a", "b"])


BCE_WEIGHTS = [
    ("BCEWithLogitsLoss", {"pos_weight": [3.0, 0.5, 1.0]}),
    ("BCEWithLogitsLoss", {"weight": [0.5, 2.0, 1.0], "pos_weight": [3.0, 0.5, 1.0]}),
    ("BCEWithLogitsLoss", {"weight": 2.0}),
    ("BCELoss", {"weight": [0.5, 2.0, 1.0]}),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(("name", "options"), BCE_WEIGHTS)
def test_bce_weights_match_float64_and_torch_on_both_paths(rng, name, options, reduction):
    # nn.BCEWithLogitsLoss(pos_weight=...) (imbalanced labels) raised TypeError
    z = rng.standard_normal((6, 3))
    t = (rng.random((6, 3)) > 0.6).astype(np.float64)
    x = z if name == "BCEWithLogitsLoss" else 1 / (1 + np.exp(-z))
    w = np.asarray(options.get("weight", 1.0))
    pw = np.asarray(options.get("pos_weight", 1.0))

    def total(v):
        if name == "BCEWithLogitsLoss":
            log_p, log_q = -np.logaddexp(0, -v), -np.logaddexp(0, v)
        else:
            log_p, log_q = np.log(v), np.log1p(-v)
        per = -w * (pw * t * log_p + (1 - t) * log_q)
        return per.mean() if reduction == "mean" else per.sum() if reduction == "sum" else per

    loss = getattr(fn.nn, name)(reduction=reduction, **options)
    x32, t32 = x.astype(np.float32), t.astype(np.float32)
    np.testing.assert_allclose(loss(x32, t32), total(x), rtol=1e-5, atol=1e-6)
    g = rng.standard_normal(x.shape) if reduction == "none" else 1.0
    fd = ref.numerical_grad(lambda v: float((np.asarray(total(v)) * g).sum()), x, 1e-6)
    np.testing.assert_allclose(loss.backward(g), fd, rtol=1e-4, atol=1e-5)
    xt = fn.tensor(x32, requires_grad=True)
    loss(xt, fn.tensor(t32)).backward(fn.tensor(np.asarray(g, np.float32)))
    np.testing.assert_allclose(xt.grad.numpy(), fd, rtol=1e-4, atol=1e-5)
    assert set(loss.state_dict()) == {k for k in ("weight", "pos_weight") if k in options}
    torch = pytest.importorskip("torch")
    theirs = getattr(torch.nn, name)(reduction=reduction,
                                     **{k: torch.tensor(v) for k, v in options.items()})
    np.testing.assert_allclose(loss(x32, t32), theirs(torch.tensor(x32), torch.tensor(t32)),
                               rtol=1e-5, atol=1e-6)


def test_train_step_honours_bce_pos_weight_set_before_or_after_the_build(rng):
    import warnings

    x = rng.standard_normal((16, 4)).astype(np.float32)
    t = (rng.random((16, 2)) > 0.7).astype(np.float32)
    pw = np.float32([3.0, 0.5])

    def losses(at_build):
        fn.manual_seed(0)
        m = fn.nn.Sequential(fn.nn.Linear(4, 8), fn.nn.ReLU(), fn.nn.Linear(8, 2))
        loss = fn.nn.BCEWithLogitsLoss(pos_weight=pw if at_build else None)
        step = fn.nn.TrainStep(m, loss, fn.optim.SGD(m.parameters(), lr=0.1))
        loss.pos_weight = pw  # after the build: the one-call plan runs such batches eagerly
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return [step(x, t) for _ in range(3)]

    fn.manual_seed(0)
    m = fn.nn.Sequential(fn.nn.Linear(4, 8), fn.nn.ReLU(), fn.nn.Linear(8, 2))
    opt = fn.optim.SGD(m.parameters(), lr=0.1)
    eager = []
    for _ in range(3):
        opt.zero_grad()
        value = fn.nn.BCEWithLogitsLoss(pos_weight=pw)(m(fn.from_numpy(x)), fn.from_numpy(t))
        value.backward()
        opt.step()
        eager.append(value.item())
    np.testing.assert_allclose(losses(True), eager, rtol=1e-6)
    np.testing.assert_allclose(losses(False), eager, rtol=1e-6)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_weighted_bce_gradient_is_finite_at_zero_and_one_as_torch(reduction):
    # the composed path took log's 0/0 before the clamp: NaN where p is 0 or 1
    p, t, w = [0.0, 1.0, 0.3], [1.0, 0.0, 0.3], [1.0, 2.0, 0.5]
    x = fn.tensor(p, requires_grad=True)
    loss = fn.nn.BCELoss(weight=w, reduction=reduction)
    value = loss(x, fn.tensor(t))
    (value.sum() if reduction == "none" else value).backward()
    div = 3.0 if reduction == "mean" else 1.0
    expected = np.float32([-1e12, 2e12, 0.0]) / div
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-5)
    loss(np.float32(p), np.float32(t))
    g = loss.backward(np.ones(3, np.float32) if reduction == "none" else 1.0)
    np.testing.assert_allclose(g, expected, rtol=1e-5)
    torch = pytest.importorskip("torch")
    tx = torch.tensor(p, requires_grad=True)
    tv = torch.nn.BCELoss(weight=torch.tensor(w), reduction=reduction)(tx, torch.tensor(t))
    (tv.sum() if reduction == "none" else tv).backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-5)
    np.testing.assert_allclose(value.detach().numpy(), tv.detach().numpy(), rtol=1e-6)


def test_float_label_at_two_to_the_63_is_out_of_bounds():
    with pytest.raises(IndexError, match="out of bounds"):
        fn.nn.CrossEntropyLoss()(np.zeros((1, 3), np.float32), np.array([2.0 ** 63]))


@pytest.mark.parametrize("options", [{}, {"weight": [1.0] * 3}, {"pos_weight": [1.0] * 3},
                                     {"reduction": "none"}],
                         ids=["kernel", "weight", "pos_weight", "none"])
def test_bce_with_logits_keeps_tiny_losses_of_confident_logits(options):
    """log(1 + e^-|z|) rounded 1 + 4e-8 to 1 (loss 0 at z = 17, target 1) on the paths
    through autograd; log1p keeps it, as torch does, on every path. (At z = -17, target 0,
    torch's formula gives 0 too: -17 + 17 cancels; the fused kernel, in double, 4e-8.)"""
    z = np.array([17.0, 15.4, 30.0])  # confident and right: loss log1p(e^-z), tiny
    t = np.ones(3)
    kwargs = {k: (fn.tensor(v) if k != "reduction" else v) for k, v in options.items()}
    got = F.binary_cross_entropy_with_logits(fn.tensor(z), fn.tensor(t), reduction="none",
                                             **{k: v for k, v in kwargs.items()
                                                if k != "reduction"})
    np.testing.assert_allclose(got.numpy(), np.log1p(np.exp(-np.abs(z))), rtol=1e-5)
    mean = nn.BCEWithLogitsLoss(**kwargs)(z, t)
    expected = np.log1p(np.exp(-np.abs(z)))
    np.testing.assert_allclose(mean, expected if options.get("reduction") else expected.mean(),
                               rtol=1e-5)


def test_loss_constructors_take_pytorchs_positional_weight():
    """nn.CrossEntropyLoss(w) put w into label_smoothing (TypeError), nn.NLLLoss(w) into
    the reduction; an array first is PyTorch's weight now, and fastnn's keyword forms
    (CrossEntropyLoss(0.1, "sum", weight=w), NLLLoss("sum", weight=w)) still read."""
    w = np.array([1.0, 2.0, 3.0], np.float32)
    x = np.arange(15, dtype=np.float32).reshape(5, 3) / 7
    y = np.array([0, 1, 2, 1, 0])
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    picked = -logp[np.arange(5), y]
    assert nn.CrossEntropyLoss(w)(x, y) == pytest.approx(
        float((w[y] * picked).sum() / w[y].sum()), rel=1e-6)
    assert nn.CrossEntropyLoss(fn.tensor(w))(x, y) == nn.CrossEntropyLoss(weight=w)(x, y)
    assert nn.CrossEntropyLoss(0.0, "mean", ignore_index=2)(x, y) == pytest.approx(
        float(picked[y != 2].mean()), rel=1e-6)
    assert nn.NLLLoss(w)(logp, y) == pytest.approx(
        float((w[y] * picked).sum() / w[y].sum()), rel=1e-6)
    assert nn.NLLLoss("sum")(logp, y) == pytest.approx(float(picked.sum()), rel=1e-6)
    smooth = nn.CrossEntropyLoss(0.1, "sum", weight=w, ignore_index=2)
    assert (smooth.label_smoothing, smooth.reduction, smooth.ignore_index) == (0.1, "sum", 2)
    np.testing.assert_array_equal(smooth.weight, w)
    np.testing.assert_array_equal(nn.NLLLoss("sum", weight=w).weight, w)
    with pytest.raises(ValueError, match="argument 'weight' must be 1-D"):
        nn.CrossEntropyLoss(weight=0.3)  # a number is no weight (nor label smoothing)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_of_one_sample(reduction):
    """A 1-D input with a 0-d target (one sample) raised ShapeError; cross_entropy took it."""
    x = fn.tensor([-1.2, -0.3, -2.0, -0.9], requires_grad=True)
    loss = F.nll_loss(x, fn.tensor(2), reduction=reduction)
    assert loss.shape == () and loss.item() == pytest.approx(2.0)
    loss.backward()
    assert x.grad.tolist() == [0, 0, -1, 0]


def test_a_loss_beyond_float32_range_is_inf_as_torchs():
    """The fused kernels add up in double: a loss above float32's largest value came back
    as a finite double (5e39) that a math.isfinite check passed, where torch gives inf. A
    mean that fits float32 keeps its value: there fastnn differs from torch on purpose,
    whose float32 squares and sums overflow first (inf for 2e19)."""
    zeros = np.zeros(2, np.float32)
    assert fn.nn.MSELoss()(np.array([1e20, 0], np.float32), zeros) == math.inf
    assert fn.nn.MSELoss(reduction="sum")(np.full(2, 1.5e19, np.float32), zeros) == math.inf
    assert fn.nn.MSELoss()(np.array([2e19, 0], np.float32), zeros) == pytest.approx(2e38)
    logits = np.tile(np.array([[3e38, -3e38]], np.float32), (4, 1))
    assert fn.nn.CrossEntropyLoss(reduction="sum")(logits, np.ones(4, np.int64)) == math.inf
    largest = float(np.finfo(np.float32).max)
    assert fn.nn.L1Loss(reduction="sum")(np.array([largest], np.float32), zeros[:1]) == largest


@pytest.mark.parametrize("loss_cls", [nn.MSELoss, nn.L1Loss, nn.BCELoss, nn.BCEWithLogitsLoss,
                                      nn.HuberLoss, nn.SmoothL1Loss])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_changing_pred_or_target_in_place_before_backward_keeps_the_gradient(
        rng, loss_cls, reduction):
    """The kernel losses kept the caller's pred and target: ``loss(p, t); p += 5;
    loss.backward()`` differentiated at the changed p (MSE: [4, 4] for [-1, -1])."""
    pred = rng.uniform(0.1, 0.9, (4, 3)).astype(np.float32)
    target = rng.uniform(0.1, 0.9, (4, 3)).astype(np.float32)
    clean = loss_cls(reduction=reduction)
    clean(pred.copy(), target.copy())
    expected = clean.backward(np.ones((4, 3), np.float32) if reduction == "none" else 1.0)
    loss = loss_cls(reduction=reduction)
    loss(pred, target)
    pred += 0.05
    target -= 0.05
    got = loss.backward(np.ones((4, 3), np.float32) if reduction == "none" else 1.0)
    np.testing.assert_array_equal(got, expected)


def test_mse_backward_after_an_in_place_change_written_out():
    loss = nn.MSELoss()
    p = np.zeros(2, np.float32)
    loss(p, np.ones(2, np.float32))
    p += 5
    np.testing.assert_array_equal(loss.backward(), [-1.0, -1.0])  # 2 (0 - 1) / 2


# -- extreme values (a numerical review, every SIMD path) ----------------------------------

@pytest.mark.parametrize("ignored_row", [[3e38, -3e38, 0.0], [-np.inf, 0.0, -np.inf]])
@pytest.mark.parametrize("weight", [None, np.array([1.0, 2.0, 3.0], np.float32)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_label_smoothing_ignores_the_values_of_ignored_rows(ignored_row, weight, reduction):
    """With label_smoothing and ignore_index, an ignored row's log-probabilities (-inf,
    or huge) entered the smoothing sum times 0: the loss was NaN (torch: 0.791627)."""
    logits = np.array([[2, -1, 0.5], ignored_row, [0.3, 0.2, 0.1]], np.float32)
    labels = np.array([0, 1, 2])
    loss = nn.CrossEntropyLoss(label_smoothing=0.1, ignore_index=1, reduction=reduction,
                               weight=weight)
    value = np.asarray(loss(logits, labels))
    grad = loss.backward(np.ones(3, np.float32) if reduction == "none" else 1.0)
    kept = [0, 2]  # the same loss without the ignored row, written out in float64
    z = logits[kept].astype(np.float64)
    logp = z - z.max(1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(1, keepdims=True))
    w = np.ones(3) if weight is None else weight.astype(np.float64)
    per = 0.9 * -logp[[0, 1], [0, 2]] * w[[0, 2]] + 0.1 * -(logp * w).sum(1) / 3
    expected = {"mean": per.sum() / w[[0, 2]].sum(), "sum": per.sum(),
                "none": np.array([per[0], 0.0, per[1]])}[reduction]
    np.testing.assert_allclose(value, expected, rtol=1e-6)
    assert np.isfinite(grad).all() and (grad[1] == 0).all()


def test_label_smoothing_with_every_target_ignored_sums_to_zero():
    loss = nn.CrossEntropyLoss(label_smoothing=0.1, ignore_index=0, reduction="sum")
    assert loss(np.array([[1.0], [2.0]], np.float32), np.array([0, 0])) == 0.0


@pytest.mark.parametrize("options", [{"reduction": "none"}, {"weight": np.full(7, 2.0)},
                                     {"pos_weight": np.full(7, 3.0), "reduction": "sum"}])
@pytest.mark.parametrize("target", [0.0, 1.0, 0.3])
def test_bce_with_logits_gradient_of_large_logits_is_torchs(options, target):
    """With weights, pos_weight or reduction="none" the gradient came from autograd's
    composite as 1 - (1 - sigmoid(x)): 3.6e-7 for 3.1e-7 at x = -15, and 0 from -17 on.
    PyTorch's gradient is w (l_w sigmoid(x) - p t), written out here in float64."""
    x = np.array([-30, -17, -15, -1, 0, 17, 30], np.float32)
    t = np.full(7, target, np.float32)
    opts = {k: (np.asarray(v, np.float32) if k != "reduction" else v) for k, v in options.items()}
    loss = nn.BCEWithLogitsLoss(**opts)
    loss(x, t)
    g = loss.backward(np.ones(7, np.float32) if opts.get("reduction") == "none" else 1.0)
    xd, td = x.astype(np.float64), t.astype(np.float64)
    sig = 1 / (1 + np.exp(-xd))
    pw = opts.get("pos_weight", np.ones(7)).astype(np.float64)
    expected = (1 + (pw - 1) * td) * sig - pw * td
    expected *= opts.get("weight", np.ones(7)).astype(np.float64)
    if opts.get("reduction", "mean") == "mean":
        expected /= 7
    # float32 rounding of sigmoid (1 - 4e-8 rounds to 1 at x = 17, as in torch), times pw
    np.testing.assert_allclose(g, expected, rtol=2e-6, atol=4e-7)
    np.testing.assert_allclose(g[:3], expected[:3], rtol=2e-6)  # tiny, and exact


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_bce_with_logits_of_infinite_logits_with_soft_targets_is_torchs(reduction):
    """The fused kernel computed max(z, 0) - z t: +inf with t = 0.3 gave inf - inf = NaN
    (torch, and the true loss: +inf); -inf gives NaN in torch's form, as here."""
    loss = nn.BCEWithLogitsLoss(reduction=reduction)
    value = np.asarray(loss(np.array([np.inf, 1.0], np.float32), np.full(2, 0.3, np.float32)))
    assert np.isposinf(value).all() if reduction == "mean" else np.isposinf(value[0])
    values = np.asarray(nn.BCEWithLogitsLoss(reduction="none")(
        np.array([np.inf, -np.inf, np.inf], np.float32), np.array([0.0, 0.3, 1.0], np.float32)))
    assert np.isposinf(values[0]) and np.isnan(values[1]) and np.isnan(values[2])


@pytest.mark.parametrize("loss_cls", [nn.L1Loss, nn.HuberLoss, nn.SmoothL1Loss])
def test_regression_losses_refuse_an_empty_batch_as_the_others(loss_cls):
    """L1, Huber and SmoothL1 returned NaN on an empty batch where MSE, BCE and
    cross-entropy raise (docs/robustness.md: "empty batch for a loss": ValueError)."""
    with pytest.raises(ValueError, match=r"empty batch: 'pred' has shape \(0, 3\)"):
        loss_cls()(np.zeros((0, 3), np.float32), np.zeros((0, 3), np.float32))


@pytest.mark.parametrize("make", [lambda: nn.CrossEntropyLoss(reduction="none"),
                                  lambda: nn.CrossEntropyLoss(weight=np.ones(5, np.float32)),
                                  lambda: nn.CrossEntropyLoss(ignore_index=1), nn.NLLLoss,
                                  lambda: nn.NLLLoss(reduction="sum")])
def test_changing_the_labels_in_place_before_backward_keeps_the_gradient(rng, make):
    """The class-label losses kept the caller's label array: ``loss(x, b); b[:] = 4;
    loss.backward()`` differentiated against the changed labels."""
    x = rng.standard_normal((4, 5)).astype(np.float32)
    ones = np.ones(4, np.float32)
    clean = make()
    clean(x, np.array([0, 1, 2, 3]))
    expected = clean.backward(ones if clean.reduction == "none" else 1.0)
    loss = make()
    labels = np.array([0, 1, 2, 3])
    loss(x, labels)
    labels[:] = 4
    np.testing.assert_array_equal(loss.backward(ones if loss.reduction == "none" else 1.0),
                                  expected)


def test_bce_with_logits_weights_must_broadcast_to_the_input_and_dtypes_promote():
    """A weight of a larger shape than the input gave a (2, 3) loss, or NumPy's bare error
    with a gradient; torch raises. A float64 target makes a float64 loss, as in torch."""
    F = fn.nn.functional
    for rg in (True, False):
        with pytest.raises(ValueError, match=r"weight of shape \(2, 3\) does not broadcast to "
                                             r"the input's shape \(3,\)"):
            F.binary_cross_entropy_with_logits(fn.zeros(3, requires_grad=rg), fn.zeros(3),
                                               weight=fn.ones(2, 3), reduction="none")
    x = fn.zeros(3, requires_grad=True)
    target = fn.tensor(np.array([0.0, 1.0, 0.3]), dtype=fn.float64)
    loss = F.binary_cross_entropy_with_logits(x, target, reduction="none")
    assert loss.dtype == np.float64
    loss.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), [0.5, -0.5, 0.2], rtol=1e-6)
    rows = F.binary_cross_entropy_with_logits(fn.zeros(2, 3), fn.zeros(2, 3), weight=fn.ones(3),
                                              reduction="none")
    assert rows.shape == (2, 3)


def test_bce_with_logits_result_dtype_is_the_input_and_target_promotion():
    """Weights promoted the loss (an int or float64 weight, or a list, gave float64;
    torch: float32), and a float64 target promoted it only off the fused path."""
    F = fn.nn.functional
    x, t = fn.tensor([[0.5, -1.0]]), fn.tensor([[1.0, 0.0]])
    t64 = fn.tensor([[1.0, 0.0]], dtype=fn.float64)
    for options in ({"pos_weight": fn.tensor([3, 1])}, {"weight": np.ones(2)},
                    {"pos_weight": [2.0, 1.0]}):
        assert F.binary_cross_entropy_with_logits(x, t, **options).dtype == np.float32
    for reduction in ("mean", "sum", "none"):
        assert F.binary_cross_entropy_with_logits(x, t64, reduction=reduction).dtype == \
            np.float64
    with pytest.raises(ValueError, match=r"weight of shape \(2,\) does not broadcast"):
        F.binary_cross_entropy_with_logits(fn.zeros(2, 3), fn.zeros(2, 3), weight=fn.ones(2))


def test_functional_losses_take_arguments_in_torchs_positions():
    """torch's functional losses keep slots for the deprecated size_average / reduce, so a
    positional ignore_index or reduction lands after them; given, they set the reduction
    (with torch's warning): both true "mean", reduce alone "sum", reduce False "none"."""
    torch = pytest.importorskip("torch")
    TF = torch.nn.functional
    x = np.array([[1.0, -2.0, 3.0], [0.5, 0.0, -1.0]], np.float32)
    y, t, p = np.array([2, 1]), np.zeros_like(x), np.float32([[0.2, 0.5, 0.9], [0.1, 0.6, 0.3]])
    calls = [
        lambda M, L: M.cross_entropy(L.tensor(x), L.tensor(y), None, None, 2),
        lambda M, L: M.cross_entropy(L.tensor(x), L.tensor(y), None, True),
        lambda M, L: M.cross_entropy(L.tensor(x), L.tensor(y), None, None, -100, False),
        lambda M, L: M.nll_loss(L.tensor(x), L.tensor(y), None, None, 1),
        lambda M, L: M.nll_loss(L.tensor(x), L.tensor(y), None, False, -100, True),
        lambda M, L: M.mse_loss(L.tensor(x), L.tensor(t), None, None, "sum"),
        lambda M, L: M.mse_loss(L.tensor(x), L.tensor(t), False),
        lambda M, L: M.l1_loss(L.tensor(x), L.tensor(t), None, None, "sum"),
        lambda M, L: M.smooth_l1_loss(L.tensor(x), L.tensor(t), None, None, "sum", 0.5),
        lambda M, L: M.binary_cross_entropy(L.tensor(p), L.tensor(p > 0.4).float(), None,
                                            None, None, "sum"),
        lambda M, L: M.binary_cross_entropy_with_logits(L.tensor(x), L.tensor(t), None, None,
                                                        False),
    ]
    for i, call in enumerate(calls):
        with warnings.catch_warnings(record=True) as ours:
            warnings.simplefilter("always")
            got = call(F, fn).numpy()
        with warnings.catch_warnings(record=True) as theirs:
            warnings.simplefilter("always")
            want = call(TF, torch).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7, err_msg=str(i))
        assert [str(w.message) for w in ours] == [str(w.message) for w in theirs], i


@pytest.mark.parametrize("shape", [(5, 4), (4,), (3, 4, 2)])
def test_cross_entropy_class_weights_with_probability_targets_match_torch(shape):
    """weight= with class-probability targets: -sum_c w_c t_ic log p_ic, the mean over the
    positions (not over the weights, as with labels), label smoothing applied first."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    t = rng.random(shape).astype(np.float32)
    t /= t.sum(axis=1 if len(shape) > 1 else 0, keepdims=True)
    w = np.float32([0.5, 2.0, 1.0, 3.0])
    for reduction in ("mean", "sum", "none"):
        for smoothing in (0.0, 0.2):
            ours = fn.tensor(x, requires_grad=True)
            got = F.cross_entropy(ours, fn.tensor(t), weight=fn.tensor(w), reduction=reduction,
                                  label_smoothing=smoothing)
            got.sum().backward()
            theirs = torch.tensor(x, requires_grad=True)
            want = torch.nn.functional.cross_entropy(
                theirs, torch.tensor(t), weight=torch.tensor(w), reduction=reduction,
                label_smoothing=smoothing)
            want.sum().backward()
            np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=2e-6,
                                       atol=1e-6)
            np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=2e-6,
                                       atol=1e-6)
    with pytest.raises(ValueError, match=r"weight must have shape \(4,\)"):
        F.cross_entropy(fn.tensor(x), fn.tensor(t), weight=fn.ones(3))


def test_old_positional_reductions_are_refused_not_misread():
    """fastnn's earlier order (ignore_index, reduction after weight) now meets torch's
    size_average slot: a string there, or a non-integer ignore_index, raises."""
    x, y = fn.tensor([[1.0, -2.0, 3.0]]), fn.tensor([2])
    with pytest.raises(TypeError, match="pass the reduction as reduction='sum'"):
        F.mse_loss(x, x, "sum")
    with pytest.raises(TypeError, match="argument 'ignore_index' must be an int"):
        F.cross_entropy(x, y, None, -100, "sum")
    with pytest.raises(TypeError, match="argument 'ignore_index' must be an int"):
        F.nll_loss(x, y, None, None, "x")
