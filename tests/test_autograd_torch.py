"""PyTorch as the oracle for every differentiable op: forward values and gradients.

Each op of ``autograd_cases.CASES`` runs with fastnn and with torch on the same
inputs, in float32 (compared to float32 rounding) and in float64 (compared
tightly: the same maths, so any difference is a semantic one). Also the dtypes
of results and the non-differentiable outputs (indices, comparisons, argmax).
"""

from __future__ import annotations

import numpy as np
import pytest

import fastnn as fn
import fastnn.nn.functional as F
from autograd_cases import (
    CASES,
    SECOND_BACKWARD,
    ZERO_DIM_PROMOTION,
    Case,
    check_second_backward,
    draw,
    zero_dim_result_dtypes,
)

torch = pytest.importorskip("torch")
TF = torch.nn.functional
pytestmark = pytest.mark.filterwarnings("ignore:std.*degrees of freedom:UserWarning")

_TORCH_DTYPE = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}


def _inputs(case: Case, seed: int = 0):
    rng = np.random.default_rng(seed)
    doms = case.domain if isinstance(case.domain, tuple) else (case.domain,) * len(case.shapes)
    xs = [draw(rng, s, d) for s, d in zip(case.shapes, doms)]
    consts = case.consts(rng) if case.consts else {}
    return xs, consts, rng


def _run(L, Fm, case: Case, xs, consts, dtype, weight=None):
    if L is fn:
        ts = [fn.tensor(x, dtype=dtype, requires_grad=True) for x in xs]
    else:
        ts = [torch.tensor(x, dtype=_TORCH_DTYPE[np.dtype(dtype)], requires_grad=True)
              for x in xs]
    out = case.f(L, Fm, *ts, **consts)
    if weight is None:
        return out, None
    w = (fn.tensor(weight, dtype=dtype) if L is fn else
         torch.tensor(weight, dtype=_TORCH_DTYPE[np.dtype(dtype)]))
    out.backward(w)
    gs = []
    for t, x in zip(ts, xs):
        g = t.grad
        gs.append(np.zeros(x.shape, dtype) if g is None else np.array(g.detach().numpy()))
    return out.detach().numpy(), gs


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_matches_torch(case: Case, dtype):
    xs, consts, rng = _inputs(case)
    probe, _ = _run(torch, TF, case, xs, consts, dtype)
    weight = rng.standard_normal(tuple(probe.shape))
    ref_out, ref_g = _run(torch, TF, case, xs, consts, dtype, weight)
    out, g = _run(fn, F, case, xs, consts, dtype, weight)
    assert out.dtype == ref_out.dtype, f"{case.name}: dtype {out.dtype} vs torch {ref_out.dtype}"
    assert out.shape == ref_out.shape, f"{case.name}: shape {out.shape} vs torch {ref_out.shape}"
    if dtype == np.float32:
        rtol, atol = 2e-5, 2e-6
    else:
        rtol, atol = 1e-10, 1e-12
    vscale = max(1.0, float(np.max(np.abs(ref_out), initial=0)))
    np.testing.assert_allclose(out, ref_out, rtol=rtol, atol=atol * vscale,
                               err_msg=f"{case.name}: forward")
    for i, (a, b) in enumerate(zip(g, ref_g)):
        assert a.shape == b.shape
        scale = max(1.0, float(np.max(np.abs(b), initial=0)))
        np.testing.assert_allclose(a, b, rtol=5 * rtol, atol=5 * atol * scale,
                                   err_msg=f"{case.name}: gradient of input {i}")


# -- outputs without a gradient --------------------------------------------------------------


def _pair(a: np.ndarray):
    return fn.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


A = draw(np.random.default_rng(9), (4, 5), "any").astype(np.float32)


@pytest.mark.parametrize("op", [
    lambda t: t.max(1).indices, lambda t: t.min(0).indices, lambda t: t.max(-1, True)[1],
    lambda t: t.argmax(), lambda t: t.argmin(1), lambda t: t.argmax(dim=0, keepdim=True),
    lambda t: t > 0, lambda t: t <= 0.5, lambda t: t == t, lambda t: t != 0,
    lambda t: t < t.t().t(),
    lambda t: (t > 0) & (t < 1), lambda t: (t > 0) | (t < -1), lambda t: ~(t > 0),
    lambda t: (t > 0).any(), lambda t: (t > 0).all(), lambda t: (t > 0).any(1),
    lambda t: (t > -5).all(dim=0), lambda t: (t > 0).sum(), lambda t: (t > 0).sum(1),
    lambda t: (t > 0).float(), lambda t: (t * 10).long(),
])
def test_no_grad_outputs_match_torch(op):
    a, b = _pair(A)
    ra, rb = op(a), op(b)
    assert not ra.requires_grad and ra.grad_fn is None
    assert str(ra.dtype).replace("fastnn.", "") == str(rb.dtype).replace("torch.", "") or (
        ra.dtype == np.bool_ and rb.dtype == torch.bool) or ra.dtype == np.float32
    np.testing.assert_array_equal(np.asarray(ra.detach()), rb.detach().numpy())


def test_max_dim_returns_values_and_indices_like_torch():
    a, b = _pair(A)
    va, ia = a.max(dim=1)
    vb, ib = b.max(dim=1)
    np.testing.assert_array_equal(va.detach().numpy(), vb.detach().numpy())
    np.testing.assert_array_equal(ia.numpy(), ib.numpy())
    (va * 2).sum().backward()
    (vb * 2).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


@pytest.mark.parametrize("expr", [
    "x.long() / 2", "x.long() * 2", "x.long() + 1.5", "x + x.long()", "x.double() + x",
    "x.double() * 2.0", "(x > 0) * x", "x.sum(0)", "(x > 0).sum()", "x.long().sum()",
    "x.long().float().mean()", "-x.long()", "x.long() // 3", "x.long() % 3",
])
def test_result_dtypes_match_torch(expr):
    x = fn.tensor(A * 4)
    tx = torch.tensor(A * 4)
    ours = eval(expr, {"x": x})
    theirs = eval(expr, {"x": tx})
    assert np.dtype(ours.dtype) == theirs.numpy().dtype, expr
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_setitem_on_graph_matches_torch():
    for L in (fn, torch):
        x = L.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        v = L.tensor([5.0, 6.0], requires_grad=True)
        y = x * 2
        y[0] = 0
        y[2:] = v * 3
        (y * L.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
        if L is fn:
            ours = (x.grad.numpy().copy(), v.grad.numpy().copy())
        else:
            np.testing.assert_array_equal(ours[0], x.grad.numpy())
            np.testing.assert_array_equal(ours[1], v.grad.numpy())


def test_inplace_ops_on_graph_match_torch():
    res = []
    for L in (fn, torch):
        x = L.tensor([[1.0, -2.0], [3.0, 0.5]], requires_grad=True)
        b = L.tensor([0.5, 2.0], requires_grad=True)
        y = x.exp()
        y = y * 1
        y += b
        y -= x
        y *= b
        y /= 2.0
        z = x.clone()
        z[:, 0] = b
        (y.sum() + (z * z).sum()).backward()
        res.append((y.detach().numpy().copy(), x.grad.numpy().copy(), b.grad.numpy().copy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-6)


@pytest.mark.parametrize("code", [
    "y += y", "y -= y", "y.add_(y)", "y += y; y *= 3", "y.sub_(y * 2)",
    "y.clamp_(min=0)", "y.clamp_(min=0); y += 1", "y.exp_()", "y.masked_fill_(y > 0, 5.0)",
    "y[1:].clamp_(max=0)",
])
def test_inplace_ops_reading_their_own_target_match_torch(code):
    """x op= x, and unary in-place ops (clamp_, exp_, masked_fill_) on a non-leaf: the
    node takes the old values as input, never the Tensor it writes (which lost the
    gradient of y += y, or failed clamp_'s backward on a version check)."""
    res = []
    for L in (fn, torch):
        a = L.tensor([1.0, -2.0, 3.0], requires_grad=True)
        y = a * 2
        exec(code, {"y": y})
        (y * L.tensor([1.0, 2.0, 3.0])).sum().backward()
        res.append((y.detach().numpy().copy(), a.grad.numpy().copy()))
    for ours, theirs in zip(*res):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


@pytest.mark.parametrize(("make", "spec"), [
    (lambda lib: lib.tensor(0.25), ""), (lambda lib: lib.tensor(0.1), ""),
    (lambda lib: lib.tensor(3), ""), (lambda lib: lib.tensor(True), ""),
    (lambda lib: lib.tensor(0.5), ".3f"), (lambda lib: lib.tensor(0.5), ">6"),
    (lambda lib: lib.tensor(2.5).sum(), "e"),
])
def test_zero_d_tensors_format_as_their_value_as_torch(make, spec):
    # print(f"loss {loss}") shows the number in torch, not "tensor(...)"
    assert format(make(fn), spec) == format(make(torch), spec)


_PRINT_RNG = np.random.default_rng(7)
PRINTED = [
    np.float32([0.25, 1.0]), np.float32([1, 2]), np.float32([1e-5, 1e3]), np.float32(0.25),
    np.float32(3.0), np.float32([[1.5, -2.25], [3, 4]]),
    _PRINT_RNG.standard_normal((2, 3, 4)).astype(np.float32),
    _PRINT_RNG.standard_normal(30).astype(np.float32), np.arange(12).reshape(3, 4),
    np.array([True, False]), np.float32([np.nan, np.inf, 1.0]), np.float32([0.0, 0.0]),
    np.float32([1e9, 1.0]), np.float32([123456.0, 0.5]), np.float32([-0.0, 1.0]),
    _PRINT_RNG.standard_normal((40, 40)).astype(np.float32),  # wrapped lines
    _PRINT_RNG.standard_normal(2000).astype(np.float32),  # summarised
    (_PRINT_RNG.standard_normal((3, 1200)) * 100).astype(np.float32), np.arange(1500),
    np.zeros(0, np.float32), np.zeros((0, 3), np.float32),
]


@pytest.mark.parametrize("values", PRINTED, ids=range(len(PRINTED)))
def test_tensors_print_as_torch_prints_them(values):
    # print(x) in a swapped script shows torch's text: 4 decimals, "1.", scientific
    # notation, alignment, line wrapping and summarising by torch's default rules
    assert repr(fn.tensor(values)) == repr(torch.tensor(values))
    x, tx = fn.tensor(values.astype(np.float32)), torch.tensor(values.astype(np.float32))
    x.requires_grad_(True)
    tx.requires_grad_(True)
    assert repr(x) == repr(tx)


# Each op as a script on (lib, F, x, y, t, W, b): x (4, 3) requiring grad, y class labels,
# t targets in [0, 1), W (2, 3) and b (2,) requiring grad.
GRAD_FN_OPS = {
    "cross_entropy": "F.cross_entropy(x, y)",
    "cross_entropy_smoothing": "F.cross_entropy(x, y, label_smoothing=0.1)",
    "cross_entropy_sum": "F.cross_entropy(x, y, reduction='sum')",
    "nll_loss": "F.nll_loss(F.log_softmax(x, 1), y)", "mse_loss": "F.mse_loss(x, t)",
    "mse_none": "F.mse_loss(x, t, reduction='none')",
    "bce": "F.binary_cross_entropy(x.sigmoid(), t)",
    "bce_logits": "F.binary_cross_entropy_with_logits(x, t)",
    "l1_loss": "F.l1_loss(x, t)", "smooth_l1": "F.smooth_l1_loss(x, t)",
    "huber": "F.huber_loss(x, t)",
    "relu": "x.relu()", "F.relu": "F.relu(x)", "sigmoid": "x.sigmoid()", "tanh": "x.tanh()",
    "gelu": "F.gelu(x)", "gelu_tanh": "F.gelu(x, approximate='tanh')",
    "leaky_relu": "F.leaky_relu(x)", "silu": "F.silu(x)", "elu": "F.elu(x)",
    "softplus": "F.softplus(x)", "softmax": "x.softmax(1)", "log_softmax": "x.log_softmax(1)",
    "linear": "F.linear(x, W, b)", "linear_no_bias": "F.linear(x, W)",
    "linear_3d": "F.linear(x.reshape(2, 2, 3), W, b)", "matmul": "x @ W.t()",
    "t": "x.t()", "T": "x.T", "transpose": "x.transpose(0, 1)", "permute": "x.permute(1, 0)",
    "view": "x.view(-1)", "reshape": "x.reshape(-1)", "reshape_copy": "x.t().reshape(-1)",
    "flatten": "x.flatten()", "unsqueeze": "x.unsqueeze(0)",
    "squeeze_dim": "x.unsqueeze(0).squeeze(0)", "squeeze": "x.unsqueeze(0).squeeze()",
    "select": "x[0]", "select_2": "x[:, 0]", "select_then_slice": "x[0, 1:3]",
    "slice_then_select": "x[1:3, 0]", "slice": "x[1:3]", "full_slice": "x[:]",
    "none_index": "x[None]", "ellipsis": "x[..., 0]", "index": "x[[0, 1]]",
    "mask": "x[x > 0]", "sum": "x.sum()", "sum_dim": "x.sum(1)", "mean": "x.mean()",
    "mean_dim": "x.mean(0)", "max": "x.max()", "max_dim": "x.max(1)[0]", "min": "x.min()",
    "min_dim": "x.min(dim=1).values", "std": "x.std()", "var": "x.var()", "prod": "x.prod()",
    "clamp": "x.clamp(0, 1)", "clamp_min": "x.clamp(min=0)",
    "clamp_tensor": "x.clamp(min=lib.zeros(3))", "abs": "x.abs()", "exp": "x.exp()",
    "pow": "x ** 2", "neg": "-x", "add": "x + 1", "sub": "x - t", "mul": "x * 2",
    "div": "x / 2", "rsub": "1 - x", "dropout": "F.dropout(x, 0.5)",
    "dropout_module": "lib.nn.Dropout()(x)", "cat": "lib.cat([x, x])",
    "stack": "lib.stack([x, x])", "where": "lib.where(x > 0, x, t)",
}


@pytest.mark.parametrize("op", list(GRAD_FN_OPS))
def test_grad_fn_names_are_torchs(op):
    """`print(loss)` shows the node: tensor(2.3026, grad_fn=<NllLossBackward0>) under both
    libraries (fastnn once printed <CeBackward0>, <ActBackward0>, <ReshapeBackward0>...)."""
    names = []
    for lib, Fm in ((torch, torch.nn.functional), (fn, F)):
        rng = np.random.RandomState(0)
        x = lib.tensor(rng.randn(4, 3).astype(np.float32).tolist(), requires_grad=True)
        y = lib.tensor([0, 2, 1, 0])
        t = lib.tensor(rng.rand(4, 3).astype(np.float32).tolist())
        W = lib.tensor(np.ones((2, 3), np.float32).tolist(), requires_grad=True)
        b = lib.tensor([0.0, 1.0], requires_grad=True)
        out = eval(GRAD_FN_OPS[op], {"lib": lib, "F": Fm, "x": x, "y": y, "t": t, "W": W,
                                     "b": b})
        names.append(out.grad_fn.name())
    assert names[1] == names[0]
    if op == "cross_entropy":
        assert repr(out).endswith("grad_fn=<NllLossBackward0>)")


def _grad_cases(lib):
    """(name, result) of autograd.grad and backward(inputs=) calls, for torch and fastnn."""
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
    z = lib.tensor([1.0], requires_grad=True)
    h = x * w
    y = (h ** 2).sum() + h.exp().mean()
    out = {}
    out["leaf_and_intermediate"] = lib.autograd.grad(y, [x, h], retain_graph=True)
    out["two_outputs"] = lib.autograd.grad([y, h.sum()], w, retain_graph=True)
    out["grad_outputs"] = lib.autograd.grad(h, x, grad_outputs=lib.tensor([1.0, -2.0, 0.5]),
                                            retain_graph=True)
    out["unused_allowed"] = lib.autograd.grad(y, [x, z], allow_unused=True, retain_graph=True)
    out["materialized"] = lib.autograd.grad(y, [z], materialize_grads=True, retain_graph=True)
    out["no_grad_touched"] = (x.grad, w.grad, z.grad)
    y.backward(inputs=[w], retain_graph=True)
    out["backward_inputs"] = (x.grad, w.grad)
    y.backward(inputs=w)
    out["backward_inputs_again"] = (x.grad, w.grad)
    return out


def test_autograd_grad_and_backward_inputs_match_torch():
    """torch.autograd.grad (autograd lessons' dy/dx) was missing; backward(inputs=...) was
    NotImplementedError. Same gradients, no .grad touched by grad(), only the chosen ones
    by backward(inputs=)."""
    ours, theirs = _grad_cases(fn), _grad_cases(torch)
    for name in theirs:
        assert len(ours[name]) == len(theirs[name]), name
        for a, b in zip(ours[name], theirs[name]):
            assert (a is None) == (b is None), name
            if b is not None:
                np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-6,
                                           err_msg=name)
    x = fn.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="index 0 appears to not have been used"):
        fn.autograd.grad((x * 2).sum(), fn.tensor([1.0], requires_grad=True))
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        fn.autograd.grad(x * fn.ones(2), x)
    with pytest.raises(NotImplementedError, match="create_graph"):
        fn.autograd.grad((x * 2).sum(), x, create_graph=True)


@pytest.mark.parametrize("case", sorted(SECOND_BACKWARD))
def test_second_backward_outcomes_are_pytorchs(case):
    """The outcomes test_autograd_semantics writes out are torch's."""
    check_second_backward(torch, case)


@pytest.mark.parametrize("zero_dim, dimensioned, result", ZERO_DIM_PROMOTION)
def test_zero_dim_promotion_table_is_torchs(zero_dim, dimensioned, result):
    """The table test_autograd_semantics writes out for fastnn."""
    for dtype in zero_dim_result_dtypes(torch, zero_dim, dimensioned):
        assert dtype == getattr(torch, result)


def test_setitem_with_leading_ones_matches_torch():
    def run(L):
        v = L.arange(5.0).reshape(1, 5).requires_grad_()
        w = L.ones(1, 1, requires_grad=True)
        y = L.zeros(4, 5)
        y[1] = v
        y[:, 0] = w * 2
        y[0, 4] = L.tensor([7.0])
        (y * L.arange(20.0).reshape(4, 5)).sum().backward()
        return y.detach().numpy(), v.grad.numpy(), w.grad.numpy()
    for ours, theirs in zip(run(fn), run(torch)):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("shape", [(3, 4, 5), (2, 3, 2, 4)])
@pytest.mark.parametrize("kwargs", [{}, {"reduction": "none"}, {"reduction": "sum"},
                                    {"label_smoothing": 0.1, "ignore_index": 1},
                                    {"weight": [1.0, 2.0, 0.5]}])
@pytest.mark.parametrize("func", ["cross_entropy", "nll_loss"])
def test_k_dimensional_class_losses_match_torch(func, kwargs, shape):
    if "label_smoothing" in kwargs and func == "nll_loss":
        pytest.skip("nll_loss has no label smoothing")
    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape).astype(np.float32)
    t = rng.integers(0, 3, (shape[0],) + shape[2:])
    g = rng.standard_normal(t.shape if kwargs.get("reduction") == "none" else ()
                            ).astype(np.float32)
    out = []
    for lib, Fm in ((torch, TF), (fn, F)):
        kw = dict(kwargs)
        if "weight" in kw:
            kw["weight"] = lib.tensor(np.resize(np.float32(kw["weight"]), shape[1]))
        xt = lib.tensor(x, requires_grad=True)
        loss = getattr(Fm, func)(xt, lib.tensor(t), **kw)
        loss.backward(lib.tensor(g))
        out.append((loss.detach().numpy(), xt.grad.numpy()))
    np.testing.assert_allclose(out[1][0], out[0][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out[1][1], out[0][1], rtol=1e-5, atol=1e-6)
