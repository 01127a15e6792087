"""Gradient checks for every differentiable op of API.md's PyTorch subset.

Each op of ``autograd_cases.CASES`` runs on float64 Tensors; the gradient that
``backward`` gives is compared with central differences of the float64 forward,
and the float32 path's values and gradients with the float64 ones to float32
tolerance. Broadcast operands get gradients of their own shape (summed back).
"""

from __future__ import annotations

import numpy as np
import pytest

import fastnn as fn
import fastnn.nn.functional as F
from autograd_cases import CASES, Case, draw


def inputs(case: Case, seed: int = 0) -> tuple[list[np.ndarray], dict, np.random.Generator]:
    rng = np.random.default_rng(seed)
    doms = case.domain if isinstance(case.domain, tuple) else (case.domain,) * len(case.shapes)
    xs = [draw(rng, s, d) for s, d in zip(case.shapes, doms)]
    consts = case.consts(rng) if case.consts else {}
    return xs, consts, rng


def forward(case: Case, xs: list[np.ndarray], consts: dict, dtype, requires_grad=True):
    ts = [fn.tensor(x, dtype=dtype, requires_grad=requires_grad) for x in xs]
    return ts, case.f(fn, F, *ts, **consts)


def grads(case: Case, xs, consts, dtype, weight: np.ndarray):
    ts, out = forward(case, xs, consts, dtype)
    assert out.dtype == dtype, f"{case.name}: output dtype {out.dtype}, expected {dtype}"
    out.backward(fn.tensor(weight, dtype=dtype))
    gs = []
    for t, x in zip(ts, xs):
        g = np.zeros(x.shape, dtype) if t.grad is None else t.grad.numpy()
        assert g.shape == x.shape, f"{case.name}: grad shape {g.shape} for input {x.shape}"
        assert g.dtype == dtype
        gs.append(g)
    return out.detach().numpy(), gs


def numeric_grads(case: Case, xs, consts, weight: np.ndarray) -> list[np.ndarray]:
    """Central differences of ``sum(f(xs) * weight)`` on the float64 forward."""
    def loss(vals):
        with fn.no_grad():
            _, out = forward(case, vals, consts, fn.float64, requires_grad=False)
        return float(np.sum(out.numpy() * weight))

    eps = case.fd_eps
    result = []
    for i, x in enumerate(xs):
        g = np.zeros_like(x)
        for j in range(x.size):
            vals = [v.copy() for v in xs]
            vals[i].reshape(-1)[j] += eps
            up = loss(vals)
            vals[i].reshape(-1)[j] -= 2 * eps
            down = loss(vals)
            g.reshape(-1)[j] = (up - down) / (2 * eps)
        result.append(g)
    return result


def test_case_names_are_unique():
    names = [c.name for c in CASES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_gradient(case: Case):
    xs, consts, rng = inputs(case)
    with fn.no_grad():
        _, probe = forward(case, xs, consts, fn.float64, requires_grad=False)
    weight = rng.standard_normal(probe.shape)
    out64, g64 = grads(case, xs, consts, fn.float64, weight)
    # float64 autograd against central differences of the float64 forward
    for i, (g, gn) in enumerate(zip(g64, numeric_grads(case, xs, consts, weight))):
        scale = max(1.0, float(np.max(np.abs(gn), initial=0)))
        np.testing.assert_allclose(g, gn, rtol=1e-5, atol=1e-6 * scale,
                                   err_msg=f"{case.name}: float64 grad of input {i}")
    # the float32 path against float64: values and gradients
    out32, g32 = grads(case, xs, consts, fn.float32, weight)
    assert out32.shape == out64.shape
    vscale = max(1.0, float(np.max(np.abs(out64), initial=0)))
    np.testing.assert_allclose(out32, out64, rtol=1e-5, atol=2e-6 * vscale,
                               err_msg=f"{case.name}: float32 value")
    for i, (a, b) in enumerate(zip(g32, g64)):
        scale = max(1.0, float(np.max(np.abs(b), initial=0)))
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5 * scale,
                                   err_msg=f"{case.name}: float32 grad of input {i}")


# -- ops whose check is not a smooth finite difference ------------------------------------------


@pytest.mark.parametrize("dtype", [fn.float32, fn.float64], ids=str)
@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_dropout_gradient_is_the_mask(dtype, p):
    fn.manual_seed(3)
    x = fn.tensor(draw(np.random.default_rng(1), (40, 50), "any"), dtype=dtype,
                  requires_grad=True)
    y = F.dropout(x, p)
    w = np.random.default_rng(2).standard_normal(x.shape)
    y.backward(fn.tensor(w, dtype=dtype))
    ratio = y.detach().numpy() / x.detach().numpy()
    kept = ratio != 0
    np.testing.assert_allclose(ratio[kept], 1 / (1 - p), rtol=1e-6)
    assert abs(1 - kept.mean() - p) < 0.05
    np.testing.assert_allclose(x.grad.numpy(), w * ratio, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("dtype", [fn.float32, fn.float64], ids=str)
def test_dropout_p1_zeroes_values_and_gradient(dtype):
    x = fn.ones(3, 4, dtype=dtype, requires_grad=True)
    y = F.dropout(x, 1.0)
    y.sum().backward()
    assert not y.detach().numpy().any() and not x.grad.numpy().any()


def test_dropout_module_on_tensors():
    fn.manual_seed(0)
    m = fn.nn.Dropout(0.5)
    x = fn.randn(30, 20, requires_grad=True)
    y = m(x)
    assert isinstance(y, fn.Tensor) and y.grad_fn is not None
    y.sum().backward()
    ratio = y.detach().numpy() / x.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), ratio, rtol=1e-6)
    m.eval()
    assert np.array_equal(m(x).detach().numpy(), x.detach().numpy())


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("which", ["max", "min"])
def test_max_min_dim_indices(which, dim):
    a = draw(np.random.default_rng(5), (4, 6), "any")
    t = fn.tensor(a, requires_grad=True)
    values, indices = getattr(t, which)(dim)
    ref = getattr(np, "arg" + which)(a, axis=dim)
    assert indices.dtype == fn.int64 and not indices.requires_grad
    assert np.array_equal(indices.numpy(), ref)
    np.testing.assert_array_equal(values.detach().numpy(),
                                  getattr(a.astype(np.float32), which)(axis=dim))
    values.sum().backward()
    expect = np.zeros(a.shape, np.float32)
    np.put_along_axis(expect, np.expand_dims(ref, dim), 1, axis=dim)
    np.testing.assert_array_equal(t.grad.numpy(), expect)


def test_max_min_all_ties_split_gradient():
    t = fn.tensor([1.0, 3.0, 3.0, 0.0], requires_grad=True)
    t.max().backward()
    np.testing.assert_allclose(t.grad.numpy(), [0, 0.5, 0.5, 0])


@pytest.mark.parametrize("name", ["amax", "amin"])
@pytest.mark.parametrize(("data", "dim", "keepdim"), [
    ([2.0, 2.0, 1.0], 0, False), ([[2.0, 2.0], [1.0, 3.0]], 1, True),
    ([[2.0, 2.0], [1.0, 3.0]], (0, 1), False), ([[2.0, 2.0], [2.0, 3.0]], 0, False),
    ([[1.0, 5.0, 5.0], [5.0, 5.0, 0.0]], (0,), True), (3.0, 0, False), ([[1.0, 2.0]], -1, False),
    ([[4.0, 4.0], [4.0, 4.0]], None, False),
])
def test_amax_amin_share_the_gradient_among_ties(name, data, dim, keepdim):
    # torch.amax / amin split the gradient equally among the elements equal to the result
    # (max(dim) sends it to the one index it returns); written out per case here.
    x = fn.tensor(data, requires_grad=True)
    y = getattr(fn, name)(x, dim=dim, keepdim=keepdim)
    xd = np.asarray(data, np.float64)
    axes = None if dim is None else dim
    kept = (xd.max if name == "amax" else xd.min)(axis=axes, keepdims=True)
    assert y.shape == (kept.shape if keepdim else np.squeeze(kept, axes).shape if
                       dim is not None and xd.ndim else ())
    w = np.arange(1, y.numel() + 1, dtype=np.float32).reshape(y.shape)
    (y * fn.tensor(w)).sum().backward()
    hit = xd == kept
    wk = w.reshape(kept.shape) if xd.ndim else w
    expect = np.broadcast_to(wk, xd.shape) * hit / hit.sum(axis=axes, keepdims=True)
    np.testing.assert_allclose(x.grad.numpy(), expect, rtol=1e-6)


def test_amax_of_an_empty_dim_is_torch_index_error():
    with pytest.raises(IndexError, match="non-zero size"):
        fn.amax(fn.zeros(0, 3), dim=0)
    assert fn.amin(fn.zeros(0, 3), dim=1).shape == (0,)


def test_argmax_argmin_no_grad():
    t = fn.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]], requires_grad=True)
    assert t.argmax().item() == 3 and t.argmin().item() == 4
    assert t.argmax(1).tolist() == [1, 0] and t.argmin(dim=0).tolist() == [0, 1, 0]
    for r in (t.argmax(), t.argmin(1), fn.argmax(t, 1), t > 1, t == t, t <= 2, t != 1):
        assert not r.requires_grad and r.grad_fn is None


def test_rmatmul_with_an_ndarray():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    w = fn.randn(3, 4, requires_grad=True)
    y = a @ w
    assert isinstance(y, fn.Tensor)
    y.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), a.T @ np.ones((2, 4), np.float32))


def test_reflected_ops_with_ndarray_left():
    x = fn.tensor([1.0, 2.0, 4.0], requires_grad=True)
    c = np.array([2.0, 3.0, 5.0], np.float32)
    y = (c + x) * (c - x) + c * x + c / x + c ** (x / 4)
    y.sum().backward()
    xv, cv = x.detach().numpy().astype(np.float64), c.astype(np.float64)
    expect = -2 * xv + cv - cv / xv ** 2 + np.log(cv) * cv ** (xv / 4) / 4
    np.testing.assert_allclose(x.grad.numpy(), expect, rtol=1e-5)


def test_std_of_a_constant_slice_has_zero_gradient_like_torch():
    # d std / dx = (x - mean) / ((n - 1) std) is 0/0 there: torch gives 0, fastnn gave NaN
    x = fn.tensor([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]], requires_grad=True)
    x.std(dim=1).sum().backward()
    g = x.grad.numpy()
    assert (g[0] == 0).all()
    row = np.array([1.0, 2.0, 4.0])
    np.testing.assert_allclose(g[1], (row - row.mean()) / (2 * row.std(ddof=1)), rtol=1e-6)


@pytest.mark.parametrize("data", [[2**63], np.array([2**64 - 100], np.uint64)])
def test_integers_beyond_int64_raise_instead_of_wrapping(data):
    # 2**64 - 100 wrapped to -100: an ignore_index label that silently vanished
    with pytest.raises(OverflowError, match="does not fit in int64"):
        fn.tensor(data)
    assert fn.tensor(np.array([5], np.uint64)).tolist() == [5]


def test_std_of_one_element_is_nan_like_torch():
    x = fn.tensor([2.0], requires_grad=True)
    s = x.std()
    assert np.isnan(s.item())


def _clamp_grads(case):
    """clamp with Tensor bounds: each of x, lo, hi takes the gradient where its value was
    taken (written out: out = min(max(x, lo), hi), ties to x)."""
    x = fn.tensor([1.0, 5.0, -3.0, 2.0, 0.5], requires_grad=True)
    lo = fn.tensor([2.0, 2.0, 2.0, 2.0, 0.0], requires_grad=True)
    hi = fn.tensor([4.0, 4.0, 4.0, 1.0, 1.0], requires_grad=True)
    w = fn.tensor([1.0, 2.0, 3.0, 4.0, 5.0])
    y = {"min": lambda: x.clamp(min=lo), "max": lambda: x.clamp(max=hi),
         "both": lambda: x.clamp(min=lo, max=hi), "crossed": lambda: x.clamp(min=hi, max=lo),
         "detached": lambda: x.clamp(min=lo.detach(), max=hi)}[case]()
    (y * w).sum().backward()
    return y, x, lo, hi


@pytest.mark.parametrize("case", ["min", "max", "both", "crossed", "detached"])
def test_clamp_tensor_bounds_take_their_gradient(case):
    # a bound that required grad got None
    y, x, lo, hi = _clamp_grads(case)
    xv, lov, hiv = (np.array(t.detach().tolist()) for t in (x, lo, hi))
    wv = np.arange(1.0, 6.0)
    a, b = {"min": (lov, None), "max": (None, hiv), "both": (lov, hiv), "crossed": (hiv, lov),
            "detached": (lov, hiv)}[case]
    raised = xv < a if a is not None else np.zeros(5, bool)
    m = np.maximum(xv, a) if a is not None else xv
    lowered = m > b if b is not None else np.zeros(5, bool)
    np.testing.assert_array_equal(y.detach().numpy(), np.minimum(m, b) if b is not None else m)
    np.testing.assert_array_equal(x.grad.numpy(), wv * ~(raised | lowered))
    grads = {"min": (lo, raised & ~lowered), "max": (hi, lowered),
             "both": (lo, raised & ~lowered), "crossed": (hi, raised & ~lowered),
             "detached": (hi, lowered)}
    t, mask = grads[case]
    np.testing.assert_array_equal(t.grad.numpy(), wv * mask)
    if case == "detached":
        assert lo.grad is None
    if case == "both":
        np.testing.assert_array_equal(hi.grad.numpy(), wv * lowered)


def test_clamp_tensor_bound_broadcasts_and_sums_back():
    x = fn.tensor([1.0, 5.0], requires_grad=True)
    lo = fn.tensor([[2.0, 0.0, 3.0]], requires_grad=True)
    y = x.reshape(2, 1).clamp(min=lo)
    assert y.shape == (2, 3)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 3.0])  # x=1 kept once, x=5 thrice
    np.testing.assert_array_equal(lo.grad.numpy(), [[1.0, 0.0, 1.0]])


def test_integer_clamp_with_float_bounds_is_float32_like_torch():
    # the bounds were truncated: [0, 1] instead of [0.5, 1.5]
    y = fn.tensor([-1, 2]).clamp(0.5, 1.5)
    assert y.dtype == fn.float32 and y.tolist() == [0.5, 1.5]
    assert fn.tensor([-1, 2]).clamp(0, 1).dtype == fn.int64


@pytest.mark.parametrize("op", ["cat", "stack"])
@pytest.mark.parametrize("a, b, want", [
    ("float32", "int64", "float32"), ("float64", "float32", "float64"),
    ("int32", "int64", "int64"), ("bool", "int64", "int64"), ("float16", "int64", "float16"),
    ("uint8", "int8", "int16"), ("float32", "bool", "float32"), ("bool", "bool", "bool"),
])
def test_cat_and_stack_promote_as_torch(op, a, b, want):
    # float32 with int64 gave NumPy's float64, which then passed through Linear silently
    x, y = fn.ones(2, dtype=getattr(fn, a)), fn.ones(2, dtype=getattr(fn, b))
    assert getattr(fn, op)([x, y]).dtype == getattr(fn, want)


@pytest.mark.parametrize("op", ["cat", "stack"])
def test_cat_and_stack_gradients_keep_each_input_s_dtype(op):
    x = fn.ones(2, requires_grad=True)
    y = fn.ones(2, dtype=fn.float64, requires_grad=True)
    z = getattr(fn, op)([x, y])
    assert z.dtype == fn.float64
    (z * 2).sum().backward()
    assert x.grad.dtype == fn.float32 and y.grad.dtype == fn.float64
    assert x.grad.tolist() == [2.0, 2.0] and y.grad.tolist() == [2.0, 2.0]


@pytest.mark.parametrize("op", ["max", "min"])
def test_full_max_min_with_nan_send_the_gradient_to_the_nans(op):
    # xd == NaN matched nothing: every element's gradient was NaN (torch: the NaNs share it)
    a = fn.tensor([1.0, float("nan"), 3.0, float("nan")], requires_grad=True)
    out = getattr(a, op)()
    assert np.isnan(out.item())
    out.backward()
    assert a.grad.tolist() == [0.0, 0.5, 0.0, 0.5]


# -- 0-d Tensors through the fused kernels, integer Tensors through the nn ops -------------------


@pytest.mark.parametrize("loss", ["mse_loss", "binary_cross_entropy",
                                  "binary_cross_entropy_with_logits"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_a_0d_tensor_through_a_fused_loss_keeps_torch_s_shapes(loss, reduction):
    # np.ascontiguousarray made the 0-d input 1-d: the loss's gradient had shape (1,), so
    # loss + x failed at backward and so did the per-sample loss(pred[i], y[i])
    torch = pytest.importorskip("torch")

    def run(L, F):
        x = L.tensor(0.3, requires_grad=True)
        out = getattr(F, loss)(x, L.tensor(1.0), reduction=reduction)
        (out + x).backward()
        pred = L.tensor([0.2, 0.7], requires_grad=True)
        y = L.tensor([0.0, 1.0])
        sum(getattr(F, loss)(pred[i], y[i], reduction=reduction) for i in range(2)).backward()
        return (tuple(out.shape), tuple(x.grad.shape), tuple(pred.grad.shape)), \
            [out.item(), x.grad.item(), *pred.grad.tolist()]

    ours, ref = run(fn, F), run(torch, torch.nn.functional)
    assert ours[0] == ref[0] == ((), (), (2,))
    np.testing.assert_allclose(ours[1], ref[1], rtol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dropout_of_a_0d_tensor_stays_0d_like_torch(dtype):
    torch = pytest.importorskip("torch")
    for L in (fn, torch):
        x = L.tensor(2.0, dtype=getattr(L, dtype), requires_grad=True)
        y = L.nn.functional.dropout(x, 0.5)
        (y + x).backward()  # a (1,) dropout output broke this sum's backward
        assert tuple(y.shape) == tuple(x.grad.shape) == ()
        assert x.grad.item() in (1.0, 3.0)
        assert tuple(L.nn.Dropout()(x).shape) == ()


def _int_outcome(L, call, dtype):
    """``call``'s result as (dtype name, values), or the type of the exception it raises."""
    x = L.tensor([[1, -2, 3], [0, 5, -1]]).to(getattr(L, dtype))
    try:
        y = call(L, L.nn.functional, x)
    except Exception as e:
        return type(e)
    return str(y.dtype).split(".")[-1], np.asarray(y.tolist(), np.float64)


INTEGER_NN_CALLS = {
    "relu": lambda L, F, x: F.relu(x), "relu_method": lambda L, F, x: x.relu(),
    "ReLU": lambda L, F, x: L.nn.ReLU()(x), "sigmoid": lambda L, F, x: L.sigmoid(x),
    "Sigmoid": lambda L, F, x: L.nn.Sigmoid()(x), "tanh": lambda L, F, x: F.tanh(x),
    "tanh_method": lambda L, F, x: x.tanh(), "leaky_relu": lambda L, F, x: F.leaky_relu(x),
    "gelu": lambda L, F, x: F.gelu(x), "silu": lambda L, F, x: F.silu(x),
    "elu": lambda L, F, x: F.elu(x), "softplus": lambda L, F, x: F.softplus(x),
    "softmax": lambda L, F, x: F.softmax(x, 1), "softmax_method": lambda L, F, x: x.softmax(0),
    "softmax_dtype": lambda L, F, x: F.softmax(x, 1, dtype=L.float32),
    "log_softmax": lambda L, F, x: F.log_softmax(x, 1), "std": lambda L, F, x: x.std(),
    "std_dim": lambda L, F, x: x.std(0), "var": lambda L, F, x: x.var(1),
    "norm": lambda L, F, x: x.norm(),
    "cross_entropy": lambda L, F, x: F.cross_entropy(x, L.tensor([0, 1])),
    "nll_loss": lambda L, F, x: F.nll_loss(x, L.tensor([0, 1])),
    "bce_with_logits": lambda L, F, x: F.binary_cross_entropy_with_logits(x, x.float()),
    "dropout": lambda L, F, x: F.dropout(x, 0.5), "Dropout": lambda L, F, x: L.nn.Dropout()(x),
    "dropout_p0": lambda L, F, x: F.dropout(x, 0.0),
    "dropout_p1": lambda L, F, x: F.dropout(x, 1.0),
    "dropout_eval": lambda L, F, x: F.dropout(x, 0.5, training=False),
}


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
@pytest.mark.parametrize("name", list(INTEGER_NN_CALLS))
def test_integer_tensors_through_nn_ops_as_torch(name, dtype):
    # softmax, log_softmax, std and cross_entropy gave float64 Tensors, dropout scaled
    # integers, relu / sigmoid / tanh raised the kernel's unclear RuntimeError
    torch = pytest.importorskip("torch")
    call = INTEGER_NN_CALLS[name]
    ours, ref = _int_outcome(fn, call, dtype), _int_outcome(torch, call, dtype)
    if isinstance(ref, type):
        assert ours is ref, f"{name}: raised {ours}, torch {ref.__name__}"
    else:
        assert not isinstance(ours, type), f"{name}: raised {ours.__name__}"
        assert ours[0] == ref[0]
        np.testing.assert_allclose(ours[1], ref[1], rtol=1e-6)


def test_integer_tensor_errors_name_the_op():
    x = fn.tensor([[1, 2], [3, 4]])
    with pytest.raises(NotImplementedError,
                       match=r"softmax\(\): expected a floating point Tensor, got int64"):
        F.softmax(x, 1)
    with pytest.raises(RuntimeError, match=r"std\(\): std and var only support floating"):
        x.std()
    with pytest.raises(RuntimeError, match=r"dropout\(\): result type float32 can't be cast"):
        F.dropout(x, 0.5)
    with pytest.raises(RuntimeError, match=r"relu\(\): Boolean inputs not supported"):
        F.relu(x > 2)
    assert F.relu(x - 2).dtype == fn.int64 and F.sigmoid(x).dtype == fn.float32


@pytest.mark.parametrize("call, match", [
    (lambda L: L.tensor([]).argmax(), r"argmax\(\): Expected reduction dim to be specified"),
    (lambda L: L.tensor([]).argmin(), r"argmin\(\): Expected reduction dim to be specified"),
    (lambda L: L.zeros(0, 3).argmax(dim=0), r"argmax\(\): Expected reduction dim 0 to have"),
    (lambda L: L.zeros(0, 3).max(dim=0), r"max\(\): Expected reduction dim 0 to have"),
    (lambda L: L.zeros(0, 3).min(0), r"min\(\): Expected reduction dim 0 to have"),
])
def test_arg_extremes_of_nothing_are_index_errors(call, match):
    # NumPy's ValueError "attempt to get argmax of an empty sequence"; torch: IndexError
    with pytest.raises(IndexError, match=match):
        call(fn)
    assert fn.zeros(0, 3).argmax(dim=1).shape == (0,)
    assert fn.zeros(0, 3).max(dim=1).values.shape == (0,)


def test_arg_extremes_of_nothing_are_index_errors_in_torch():
    torch = pytest.importorskip("torch")
    for call in (lambda: torch.tensor([]).argmax(), lambda: torch.zeros(0, 3).max(dim=0)):
        with pytest.raises(IndexError):
            call()


@pytest.mark.parametrize("shape", [(), (1,), (1, 1), (2, 3), (0, 3), (3, 1, 2)])
@pytest.mark.parametrize("reduce", ["sum", "mean"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_full_reduction_gradient_is_a_read_only_broadcast(shape, reduce, keepdim):
    """A full reduction's backward spreads its one value over the input's shape (the
    zero-stride fast path of ops_reduce._expand, as np.broadcast_to): right shape and
    values, float32, and the view handed to the next vjp cannot be written."""
    from fastnn.autograd.ops_reduce import _expand

    x = fn.ones(shape, requires_grad=True)
    out = getattr(x, reduce)() if not keepdim else getattr(x, reduce)(
        dim=tuple(range(len(shape))), keepdim=True)
    (out * 3.0).backward()
    n = max(int(np.prod(shape)), 1)
    want = np.full(shape, 3.0 if reduce == "sum" else 3.0 / n, np.float32)
    got = x.grad.numpy()
    assert got.shape == shape and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-6)
    g = np.array(2.5, np.float32).reshape((1,) * len(shape) if keepdim else ())
    spread = _expand(g, shape, None, keepdim)
    assert spread.shape == shape and not spread.flags.writeable
    np.testing.assert_array_equal(spread, np.broadcast_to(g, shape))


def _kdim_reference(x, t, w, ignore_index, reduction, smoothing):
    """float64 loss of logits (N, C, d...) at labels (N, d...), written out per position."""
    logp = x - x.max(1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(1, keepdims=True))
    c = x.shape[1]
    per = np.zeros(t.shape)
    wsum = 0.0
    for pos in np.ndindex(*t.shape):
        label = t[pos]
        if label == ignore_index:
            continue
        col = logp[(pos[0], slice(None)) + pos[1:]]
        nll = -w[label] * col[label]
        smooth = -(w * col).sum() / c
        per[pos] = (1 - smoothing) * nll + smoothing * smooth
        wsum += w[label]
    if reduction == "none":
        return per
    return per.sum() if reduction == "sum" else per.sum() / wsum


@pytest.mark.parametrize("shape", [(2, 3, 4), (3, 4, 2, 3), (1, 5, 1), (2, 3, 0)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(("weighted", "ignore", "smoothing"),
                         [(False, False, 0.0), (True, False, 0.0), (False, True, 0.0),
                          (True, True, 0.2), (False, False, 0.1)])
def test_cross_entropy_k_dimensional_matches_a_written_out_reference(
        shape, reduction, weighted, ignore, smoothing):
    # PyTorch's (N, C, d1, ..., dK) logits at (N, d1, ..., dK) labels: each position is one
    # sample; the mean divides by the summed weights of the kept positions
    if shape[-1] == 0 and reduction == "mean":
        pytest.skip("an empty mean is NaN (covered by the 2-D tests)")
    rng = np.random.default_rng(7)
    x = rng.standard_normal(shape)
    t = rng.integers(0, shape[1], (shape[0],) + shape[2:])
    if ignore and t.size > 1:  # (ignoring every position is the 2-D tests' NaN case)
        t.flat[0] = -100
    w = rng.uniform(0.5, 2.0, shape[1]) if weighted else np.ones(shape[1])
    weight = fn.tensor(w, dtype=fn.float64) if weighted else None
    xt = fn.tensor(x, dtype=fn.float64, requires_grad=True)
    loss = F.cross_entropy(xt, fn.tensor(t), weight=weight, reduction=reduction,
                           label_smoothing=smoothing)
    want = _kdim_reference(x, t, w, -100, reduction, smoothing)
    assert loss.shape == np.shape(want)
    np.testing.assert_allclose(loss.detach().numpy(), want, rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(np.shape(want))
    loss.backward(fn.tensor(g, dtype=fn.float64))
    num = np.zeros_like(x)
    for i in np.ndindex(*x.shape):  # central differences of the written-out loss
        e = np.zeros_like(x)
        e[i] = 1e-6
        num[i] = ((_kdim_reference(x + e, t, w, -100, reduction, smoothing)
                   - _kdim_reference(x - e, t, w, -100, reduction, smoothing)) * g).sum() / 2e-6
    np.testing.assert_allclose(xt.grad.numpy(), num, rtol=1e-6, atol=1e-8)
    # float32 logits take the same values to float32 rounding
    l32 = F.cross_entropy(fn.tensor(x.astype(np.float32)), fn.tensor(t),
                          weight=fn.tensor(w) if weighted else None, reduction=reduction,
                          label_smoothing=smoothing)
    np.testing.assert_allclose(l32.numpy(), want, rtol=1e-5, atol=1e-6)


def test_nll_loss_k_dimensional_is_the_flattened_positions():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 4, 3, 2))
    t = rng.integers(0, 4, (2, 3, 2))
    xt = fn.tensor(x, dtype=fn.float64, requires_grad=True)
    per = F.nll_loss(xt, fn.tensor(t), reduction="none")
    want = -np.take_along_axis(x, t[:, None], 1)[:, 0]
    np.testing.assert_array_equal(per.detach().numpy(), want)
    F.nll_loss(xt, fn.tensor(t)).backward()
    grad = np.zeros_like(x)
    np.put_along_axis(grad, t[:, None], -1 / t.size, 1)
    np.testing.assert_allclose(xt.grad.numpy(), grad, rtol=1e-15)


@pytest.mark.parametrize("func", ["cross_entropy", "nll_loss"])
def test_k_dimensional_target_of_the_wrong_shape_names_both_shapes(func):
    with pytest.raises(ValueError, match=r"\(2, 5\).*\(2, 3, 5\)"):
        getattr(F, func)(fn.randn(2, 3, 5), fn.tensor(np.zeros((2, 5), np.int64)).T)
