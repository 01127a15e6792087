"""Property tests (hypothesis): the bindings and the public API under random input.

Every example draws shapes (0-d to 3-d, extents 0 to 7), dtypes (float16/32/64,
signed and unsigned ints, bool, complex, object), memory layouts (C, Fortran,
transposed, sliced with a step, negative strides, broadcast zero strides) and
values (NaN and inf included), then calls a kernel binding (``fastnn._core``) or
the public layer / loss / matmul API. The property, for every call: either the
documented exception (``TypeError`` for a non-numeric dtype or a bad output
buffer, ``ValueError`` for a wrong ndim / shape / hyper-parameter, ``IndexError``
for an out-of-range label), or the float64 reference answer of the inputs cast to
float32, and never a crash or a write outside the output.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import fastnn as fn  # noqa: E402
import reference as ref  # noqa: E402
from fastnn import _core  # noqa: E402

PROPERTY = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])

NUMERIC = [np.float16, np.float32, np.float64, np.int8, np.int32, np.int64, np.uint8]
NON_NUMERIC = [np.bool_, np.complex64, object]
LAYOUTS = ["C", "F", "transposed", "sliced", "reversed", "broadcast"]


def numeric(a: np.ndarray) -> bool:
    return a.dtype.kind in "fiu"


def as_reference(a: np.ndarray) -> np.ndarray:
    """What fastnn computes with: the input cast to float32, then promoted to float64."""
    return np.asarray(a, np.float32).astype(np.float64)


def with_layout(values: np.ndarray, layout: str) -> np.ndarray:
    """An array equal to ``values`` (or a broadcast of its first row) in ``layout``."""
    if values.ndim == 0:
        return values.copy()
    if layout == "F":
        return np.asfortranarray(values)
    if layout == "transposed":
        return values.T.copy().T
    if layout == "sliced":  # every other element of a larger array
        big = np.zeros(tuple(2 * s for s in values.shape), values.dtype)
        view = big[tuple(slice(None, None, 2) for _ in values.shape)]
        view[...] = values
        return view
    if layout == "reversed":
        return values[::-1].copy()[::-1]
    if layout == "broadcast" and values.shape[0]:
        return np.broadcast_to(values[:1], values.shape)
    return np.ascontiguousarray(values)


@st.composite
def arrays(draw, shape=None, dtypes=NUMERIC + NON_NUMERIC, ndims=(0, 3), nonfinite=True):
    """A random array; ``shape`` fixes the shape, otherwise 0 to 3 axes of 0 to 7."""
    if shape is None:
        ndim = draw(st.integers(*ndims))
        shape = tuple(draw(st.lists(st.integers(0, 7), min_size=ndim, max_size=ndim)))
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    values = np.asarray(3 * rng.standard_normal(shape))
    if nonfinite and values.size and draw(st.booleans()):
        values.flat[rng.integers(values.size)] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    if dtype.kind in "iu":
        values = np.nan_to_num(values, posinf=100, neginf=-100)
        values = np.clip(np.rint(values), np.iinfo(dtype).min, np.iinfo(dtype).max)
    values = values > 0 if dtype.kind == "b" else values.astype(dtype)
    return with_layout(values, draw(st.sampled_from(LAYOUTS)))


@st.composite
def outputs(draw, shape):
    """A caller-owned output buffer for ``shape``: mostly valid, sometimes each kind of bad."""
    kind = draw(st.sampled_from(["ok", "ok", "ok", "float64", "fortran", "readonly", "shape",
                                 "list"]))
    if kind == "float64":
        return kind, np.zeros(shape, np.float64)
    if kind == "fortran" and len(shape) == 2 and min(shape) > 1:
        return kind, np.asfortranarray(np.zeros(shape, np.float32))
    if kind == "readonly":
        out = np.zeros(shape, np.float32)
        out.flags.writeable = False
        return kind, out
    if kind == "shape":
        return kind, np.zeros(tuple(s + 1 for s in shape), np.float32)
    if kind == "list":
        return kind, np.zeros(shape, np.float32).tolist()
    return "ok", np.full(shape, np.nan, np.float32)


OUTPUT_ERRORS = {"float64": TypeError, "readonly": ValueError, "shape": ValueError,
                 "fortran": ValueError, "list": TypeError}


def check(call, errors, expected=None, rtol=1e-4, atol=1e-5):
    """``call()`` raises one of ``errors`` if any, else returns ~``expected()``."""
    if errors:
        with pytest.raises(tuple(errors)):
            call()
        return None
    got = call()
    if expected is not None:
        want = expected()
        if np.all(np.isfinite(want)):
            np.testing.assert_allclose(np.asarray(got, np.float64), want, rtol=rtol, atol=atol)
    return got


# -- fastnn.matmul ---------------------------------------------------------------------


@PROPERTY
@given(a=arrays(ndims=(1, 3)), b=arrays(ndims=(1, 3)), trans_a=st.booleans(),
       trans_b=st.booleans())
def test_matmul_any_input(a, b, trans_a, trans_b):
    errors = set()
    for x in (a, b):
        if not numeric(x):
            errors.add(TypeError)
        elif x.ndim != 2:
            errors.add(ValueError)
    if not errors:
        oa = a.T if trans_a else a
        ob = b.T if trans_b else b
        if oa.shape[1] != ob.shape[0]:
            errors.add(ValueError)
    a_before, b_before = a.copy(), b.copy()
    got = check(lambda: fn.matmul(a, b, trans_a=trans_a, trans_b=trans_b), errors,
                lambda: (as_reference(a.T if trans_a else a) @ as_reference(b.T if trans_b else b)))
    if got is not None:
        assert got.dtype == np.float32 and got.flags.c_contiguous
    assert a.tobytes() == a_before.tobytes() and b.tobytes() == b_before.tobytes()  # read only


@PROPERTY
@given(data=st.data(), m=st.integers(0, 6), k=st.integers(0, 6), n=st.integers(0, 6))
def test_matmul_out_buffer(data, m, k, n):
    a = data.draw(arrays(shape=(m, k), dtypes=NUMERIC))
    b = data.draw(arrays(shape=(k, n), dtypes=NUMERIC))
    kind, out = data.draw(outputs((m, n)))
    errors = {OUTPUT_ERRORS[kind]} if kind in OUTPUT_ERRORS else set()
    got = check(lambda: fn.matmul(a, b, out=out), errors,
                lambda: as_reference(a) @ as_reference(b))
    if got is not None:
        assert got is out


# -- _core kernels with caller-owned outputs -------------------------------------------


ACTS = list(ref.ACTIVATIONS)


@PROPERTY
@given(data=st.data(), name=st.sampled_from(ACTS))
def test_core_activation_forward_any_input(data, name):
    x = data.draw(arrays())
    n = x.shape[0] if x.ndim else 0
    kind, y = data.draw(outputs((n,)))
    errors = set()
    if not numeric(x):
        errors.add(TypeError)
    elif x.ndim != 1:
        errors.add(ValueError)
    if kind in OUTPUT_ERRORS:
        errors.add(OUTPUT_ERRORS[kind])
    param = ref.LEAKY_SLOPE if name == "leaky_relu" else 0.0
    check(lambda: _core.activation_forward(getattr(_core.Activation, name), param, y, x), errors)
    if not errors:
        want = ref.activation_forward(name, as_reference(x))
        finite = np.isfinite(want)
        np.testing.assert_allclose(y[finite], want[finite], rtol=1e-4, atol=1e-5)


@PROPERTY
@given(data=st.data(), rows=st.integers(0, 6), cols=st.integers(0, 6))
def test_core_softmax_any_input(data, rows, cols):
    x = data.draw(arrays(shape=data.draw(st.sampled_from([(rows, cols), (rows,),
                                                          (rows, cols, 2)]))))
    kind, y = data.draw(outputs(x.shape))
    errors = set()
    if not numeric(x):
        errors.add(TypeError)
    elif x.ndim != 2:
        errors.add(ValueError)
    if kind in OUTPUT_ERRORS and not (kind == "fortran" and x.ndim != 2):
        errors.add(OUTPUT_ERRORS[kind])
    check(lambda: _core.softmax_forward(y, x), errors)
    if not errors:
        with np.errstate(invalid="ignore"):  # inf - inf in the reference: compared only if finite
            want = ref.softmax(as_reference(x))
        finite = np.isfinite(want)
        np.testing.assert_allclose(y[finite], want[finite], rtol=1e-4, atol=1e-6)


@PROPERTY
@given(data=st.data(), n=st.integers(0, 9), p=st.floats(allow_nan=True, width=32),
       seed=st.integers(0, 2**63 - 1))
def test_core_dropout_any_input(data, n, p, seed):
    x = data.draw(arrays(shape=(n,)))
    kind, y = data.draw(outputs((n,)))
    errors = set()
    if not numeric(x):
        errors.add(TypeError)
    if kind in OUTPUT_ERRORS:
        errors.add(OUTPUT_ERRORS[kind])
    if not 0.0 <= p < 1.0:
        errors.add(ValueError)
    check(lambda: _core.dropout_forward(y, x, p, seed), errors)
    if not errors:
        keep = ref.dropout_keep(seed, n, p)
        want = ref.dropout_forward(as_reference(x), keep, p)
        finite = np.isfinite(want)
        np.testing.assert_allclose(y[finite], want[finite], rtol=1e-6)


@PROPERTY
@given(data=st.data(), n=st.integers(0, 6), c=st.integers(0, 5),
       smoothing=st.sampled_from([0.0, 0.1, 1.0, -0.5, 2.0, math.nan]))
def test_core_cross_entropy_any_input(data, n, c, smoothing):
    logits = data.draw(arrays(shape=data.draw(st.sampled_from([(n, c), (n,)]))))
    label_dtype = np.dtype(data.draw(st.sampled_from([np.int64, np.int32, np.uint8, np.float32,
                                                       np.bool_])))
    top = c if data.draw(st.booleans()) else c + 1  # sometimes a label out of range
    low = 0 if label_dtype.kind in "ub" else data.draw(st.sampled_from([0, 0, 0, -1]))
    values = data.draw(st.lists(st.integers(low, max(low, top - 1)), min_size=n, max_size=n))
    labels = with_layout(np.array(values).astype(label_dtype), data.draw(st.sampled_from(LAYOUTS)))
    errors = set()
    if not numeric(logits):
        errors.add(TypeError)
    elif logits.ndim != 2:
        errors.add(ValueError)
    if labels.dtype.kind not in "iu":
        errors.add(TypeError)
    if not 0.0 <= smoothing <= 1.0:
        errors.add(ValueError)
    if not errors and labels.size and (labels.min() < 0 or labels.max() >= c):
        errors.add(IndexError)
    reduction = _core.Reduction.mean
    got = check(lambda: _core.cross_entropy_forward(logits, labels, smoothing, reduction), errors)
    if got is not None and n and np.all(np.isfinite(as_reference(logits))):
        want, want_grad = ref.cross_entropy(as_reference(logits), labels, smoothing)
        assert got == pytest.approx(want, rel=1e-4, abs=1e-5)
        grad = np.full((n, c), np.nan, np.float32)
        _core.cross_entropy_backward(grad, logits, labels, smoothing, reduction)
        np.testing.assert_allclose(grad, want_grad, rtol=1e-4, atol=1e-6)


@PROPERTY
@given(data=st.data(), n=st.integers(0, 5), i=st.integers(0, 5), o=st.integers(0, 5),
       bias=st.booleans())
def test_core_linear_forward_any_input(data, n, i, o, bias):
    x = data.draw(arrays(shape=data.draw(st.sampled_from([(n, i), (n, i + 1), (i,)]))))
    w = data.draw(arrays(shape=data.draw(st.sampled_from([(o, i), (i, o), (o,)]))))
    b = data.draw(arrays(shape=data.draw(st.sampled_from([(o,), (o + 1,)])))) if bias else None
    kind, y = data.draw(outputs((n, o)))
    errors = set()
    for arr in (x, w) + ((b,) if bias else ()):
        if not numeric(arr):
            errors.add(TypeError)
    if x.shape != (n, i) or w.shape != (o, i) or (bias and b.shape != (o,)):
        errors.add(ValueError)
    if kind in OUTPUT_ERRORS:
        errors.add(OUTPUT_ERRORS[kind])
    check(lambda: _core.linear_forward(y, x, w, b), errors)
    if not errors:
        want = ref.linear_forward(as_reference(x), as_reference(w),
                                  None if b is None else as_reference(b))
        if np.all(np.isfinite(want)):
            np.testing.assert_allclose(y, want, rtol=1e-4, atol=1e-4)


# -- the public layer and loss API -----------------------------------------------------


def _layers():
    return st.sampled_from([
        ("relu", lambda: fn.nn.ReLU()),
        ("leaky_relu", lambda: fn.nn.LeakyReLU(ref.LEAKY_SLOPE)),
        ("sigmoid", lambda: fn.nn.Sigmoid()),
        ("tanh", lambda: fn.nn.Tanh()),
        ("gelu", lambda: fn.nn.GELU()),
        ("identity", lambda: fn.nn.Identity()),
    ])


@PROPERTY
@given(layer=_layers(), x=arrays(), data=st.data())
def test_activation_layers_any_input(layer, x, data):
    name, make = layer
    module = make()
    errors = set() if numeric(x) else {TypeError}
    y = check(lambda: module(x), errors)
    if y is None or name == "identity":
        return
    assert y.shape == x.shape and y.dtype == np.float32
    want = ref.activation_forward(name, as_reference(x))
    finite = np.isfinite(want)
    np.testing.assert_allclose(y[finite], want[finite], rtol=1e-4, atol=1e-5)
    grad = data.draw(arrays(shape=data.draw(st.sampled_from([x.shape, x.shape + (1,)]))))
    errors = set()
    if not numeric(grad):
        errors.add(TypeError)
    elif grad.shape != x.shape:
        errors.add(ValueError)
    dx = check(lambda: module.backward(grad), errors)
    if dx is not None:
        want = ref.activation_backward(name, as_reference(grad), as_reference(x))
        finite = np.isfinite(want)
        np.testing.assert_allclose(dx[finite], want[finite], rtol=1e-3, atol=1e-4)


@PROPERTY
@given(data=st.data(), i=st.integers(0, 5), o=st.integers(0, 5))
def test_linear_layer_any_input(data, i, o):
    fn.manual_seed(0)
    layer = fn.nn.Linear(i, o)
    x = data.draw(arrays(ndims=(0, 3)))
    errors = set()
    if not numeric(x):
        errors.add(TypeError)
    elif x.ndim < 1 or x.shape[-1] != i:
        errors.add(ValueError)
    y = check(lambda: layer(x), errors,
              lambda: ref.linear_forward(as_reference(x), layer.weight.data, layer.bias.data))
    if y is None:
        return
    assert y.shape == x.shape[:-1] + (o,)
    grad = data.draw(arrays(shape=data.draw(st.sampled_from([y.shape, y.shape[:-1] + (o + 1,)]))))
    errors = set()
    if not numeric(grad):
        errors.add(TypeError)
    elif grad.shape != y.shape:
        errors.add(ValueError)
    check(lambda: layer.backward(grad), errors,
          lambda: as_reference(grad) @ layer.weight.data.astype(np.float64))


@PROPERTY
@given(data=st.data(), loss=st.sampled_from(["mse", "bce_with_logits"]))
def test_elementwise_losses_any_input(data, loss):
    pred = data.draw(arrays())
    target = data.draw(arrays(shape=data.draw(st.sampled_from([pred.shape, pred.shape + (1,)]))))
    module = fn.nn.MSELoss() if loss == "mse" else fn.nn.BCEWithLogitsLoss()
    errors = set()
    if not (numeric(pred) and numeric(target)):
        errors.add(TypeError)
    elif pred.shape != target.shape or pred.size == 0:  # an empty batch is an error
        errors.add(ValueError)
    reference = ref.mse if loss == "mse" else ref.bce_with_logits
    got = check(lambda: module(pred, target), errors)
    if got is None:
        return
    grad = module.backward()
    assert grad.shape == pred.shape and grad.dtype == np.float32
    with np.errstate(invalid="ignore", over="ignore"):  # inf inputs: compared only if finite
        want, want_grad = reference(as_reference(pred), as_reference(target))
    if math.isfinite(want):
        assert got == pytest.approx(want, rel=1e-4, abs=1e-5)
        np.testing.assert_allclose(grad, want_grad, rtol=1e-4, atol=1e-6)


@PROPERTY
@given(lr=st.floats(allow_nan=True), momentum=st.floats(-1, 2),
       weight_decay=st.floats(-1, 1), beta=st.floats(-0.5, 1.5),
       eps=st.floats(-1, 1), p=st.floats(allow_nan=True))
def test_hyperparameters(lr, momentum, weight_decay, beta, eps, p):
    """Invalid hyper-parameters raise ValueError when the object is built (PyTorch's rules)."""
    params = [fn.nn.Parameter(np.zeros(3, np.float32))]
    ok = lr >= 0 and momentum >= 0 and weight_decay >= 0
    check(lambda: fn.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay),
          set() if ok else {ValueError})
    ok = lr >= 0 and 0 <= beta < 1 and eps >= 0 and weight_decay >= 0
    check(lambda: fn.optim.Adam(params, lr=lr, betas=(beta, 0.999), eps=eps,
                                weight_decay=weight_decay), set() if ok else {ValueError})
    check(lambda: fn.nn.Dropout(p), set() if 0 <= p < 1 else {ValueError})
