"""Element-wise ops: arithmetic with broadcasting, unary maths, comparisons and casts.

Each differentiable op computes its value with one NumPy call and, when recording,
attaches a node whose vjp returns one gradient per input, summed back to that
input's shape (:func:`~fastnn.autograd.graph.unbroadcast`). Dtypes follow
PyTorch: a Python scalar never widens a Tensor, integer / integer is float32, and
float64 appears only where a float64 Tensor is an operand.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .errors import broadcast_error
from .grad_mode import _state
from .graph import RERUN_VJPS, SAVED_UNREAD, unbroadcast
from .tensor import Tensor, _result, _wrap, named, stamp

_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
_BOOL = np.dtype(np.bool_)
_SCALARS = (int, float, bool)


def operand(x: Any) -> tuple[Any, Tensor | None]:
    """``(values, tensor)``: the NumPy values of an op argument and the Tensor, if it is one."""
    if isinstance(x, Tensor):
        return x._data, x
    if isinstance(x, _SCALARS):
        return x, None
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"unsupported operand of type {type(x).__name__} (dtype {arr.dtype})")
    if arr.dtype == _F64:
        arr = arr.astype(_F32)
    return arr, None


_SCALAR_CACHE: dict[Any, np.ndarray] = {}


def _scalar32(v: float) -> np.ndarray:
    """``v`` as a read-only 0-d float32 array (cached: NumPy multiplies an array by a 0-d
    array about twice as fast as by a Python float, with the same float32 result)."""
    # 0.0 and -0.0 are equal dict keys: the sign goes into the key, or x * 0.0 gave -0.0
    # after x * -0.0 had been cached
    key = (v, math.copysign(1.0, v)) if v == 0 else v
    arr = _SCALAR_CACHE.get(key)
    if arr is None:
        if len(_SCALAR_CACHE) > 4096:
            _SCALAR_CACHE.clear()
        arr = np.array(v, _F32)
        arr.flags.writeable = False
        _SCALAR_CACHE[key] = arr
    return arr


def pair(a: Any, b: Any) -> tuple[Any, Tensor | None, Any, Tensor | None]:
    """The values and Tensors of a binary op's operands; a Python float beside a float32
    Tensor becomes a float32 0-d array (the value PyTorch computes with), and so does one
    beside an integer or bool Tensor, whose values become float32 too (:func:`_as_float`)."""
    if isinstance(a, Tensor):
        ad, at = a._data, a
        if isinstance(b, Tensor):
            bd = b._data
            if ad.dtype is not bd.dtype:
                if (ad.ndim == 0) != (bd.ndim == 0):
                    ad, bd = _zero_dim_promoted(ad, bd)
                ad, bd = _as_float(ad, bd)
            return ad, at, bd, b
        if (type(b) is float or isinstance(b, np.floating)) and (
                ad.dtype is _F32 or ad.dtype.kind in "iub"):
            # a NumPy float scalar too: a number beside a Tensor, as torch takes it
            return (ad if ad.dtype is _F32 else ad.astype(_F32)), at, _scalar32(float(b)), None
        bd, bt = operand(b)
        if isinstance(bd, np.ndarray):
            ad, bd = _as_float(ad, bd)
        return ad, at, bd, bt
    bd, bt = operand(b)
    if (type(a) is float or isinstance(a, np.floating)) and bt is not None and (
            bd.dtype is _F32 or bd.dtype.kind in "iub"):
        return _scalar32(float(a)), None, (bd if bd.dtype is _F32 else bd.astype(_F32)), bt
    ad, at = operand(a)
    if isinstance(ad, np.ndarray) and isinstance(bd, np.ndarray):
        ad, bd = _as_float(ad, bd)
    return ad, at, bd, bt


def _as_float(ad: np.ndarray, bd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An integer or bool operand beside a float one converted to that float dtype first,
    as PyTorch computes: NumPy would compute int64 with float32 in float64, so that
    ``tensor([2**24 + 1]) - 2.0**24`` gave 1 (torch: 0) and ``==`` disagreed likewise."""
    ka, kb = ad.dtype.kind, bd.dtype.kind
    if ka == "f" and kb in "iub":
        return ad, bd.astype(ad.dtype)
    if kb == "f" and ka in "iub":
        return ad.astype(bd.dtype), bd
    return ad, bd


_CATEGORY = {"b": 0, "i": 1, "u": 1, "f": 2}


def _zero_dim_promoted(ad: np.ndarray, bd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's promotion between a 0-d and a dimensioned Tensor of one category (bool,
    integer, float): the dimensioned one's dtype wins (float32 beside a 0-d float64 stays
    float32, int32 beside a 0-d int64 stays int32); NumPy would widen to the 0-d's dtype.
    Across categories NumPy's rule stays (PyTorch's for fastnn's float32/float64/int64)."""
    if _CATEGORY.get(ad.dtype.kind) != _CATEGORY.get(bd.dtype.kind):
        return ad, bd
    if ad.ndim == 0:
        return ad.astype(bd.dtype), bd
    return ad, bd.astype(ad.dtype)


def _broadcasting(ufunc: Any, ad: Any, bd: Any) -> Any:
    """``ufunc(ad, bd)``; operands that do not broadcast raise ShapeError (errors.py).
    add, sub and mul write the same try inline: they are the hot ops, and a call costs."""
    try:
        return ufunc(ad, bd)
    except ValueError as e:
        if "broadcast" not in str(e):  # e.g. NumPy's integer ** negative integer: torch's
            raise RuntimeError(str(e)) from None  # RuntimeError with the same text
        raise broadcast_error(np.shape(ad), np.shape(bd)) from None


def _fix(out: Any, at: Tensor | None, bt: Tensor | None) -> Any:
    """Narrows a float64 result to float32 unless a float64 Tensor was an operand."""
    if out.dtype is _F64 and not ((at is not None and at._data.dtype == _F64)
                                  or (bt is not None and bt._data.dtype == _F64)):
        return out.astype(_F32)
    return out


def _rg(t: Tensor | None) -> Tensor | None:
    return t if t is not None and t._rg else None


def _as(g: np.ndarray, like: Tensor) -> np.ndarray:
    """``g`` summed to ``like``'s shape, in ``like``'s dtype."""
    d = like._data
    if g.shape != d.shape:
        g = unbroadcast(g, d.shape)
    return g if g.dtype is d.dtype else g.astype(d.dtype)


# -- binary arithmetic ---------------------------------------------------------
def _add_vjp(node, g):
    a, b = node.inputs
    ga = gb = None
    if a is not None:
        ga = g if g.shape == a._data.shape and g.dtype is a._data.dtype else _as(g, a)
    if b is not None:
        gb = g if g.shape == b._data.shape and g.dtype is b._data.dtype else _as(g, b)
    return ga, gb


def _sub_vjp(node, g):
    a, b = node.inputs
    return (None if a is None else _as(g, a), None if b is None else _as(-g, b))


def _mul_vjp(node, g):
    a, b = node.inputs
    ad, bd = node.saved
    ga = gb = None
    if a is not None:
        ga = g * bd
        if ga.shape != a._data.shape or ga.dtype is not a._data.dtype:
            ga = _as(ga, a)
    if b is not None:
        gb = g * ad
        if gb.shape != b._data.shape or gb.dtype is not b._data.dtype:
            gb = _as(gb, b)
    return ga, gb


def _div_vjp(node, g):
    a, b = node.inputs
    ad, bd = node.saved
    ga = None if a is None else _as(g / bd, a)
    gb = None if b is None else _as(-g * ad / (bd * bd), b)
    return ga, gb


def _number_div_vjp(node, g):
    _, b = node.inputs
    ad, recip = node.saved
    return None, _as(-g * ad * (recip * recip), b)


def _pow_vjp(node, g):
    a, b = node.inputs
    ad, bd, out = node.saved
    ga = gb = None
    if a is not None:
        if isinstance(bd, _SCALARS):
            ga = g * bd * (ad ** (bd - 1)) if bd != 0 else np.zeros_like(g)
        else:
            ga = g * bd * np.where(bd == 0, 1, ad) ** np.where(bd == 0, 0, bd - 1)
        ga = _as(ga, a)
    if b is not None:
        # g out log(a), as PyTorch: 0 where a == 0 and the exponent >= 0 (there out log(a)
        # is 0 * -inf); -inf for a negative exponent (inf * -inf); NaN for a < 0
        with np.errstate(divide="ignore", invalid="ignore"):
            gb = g * out * np.log(ad)
        gb = _as(np.where((ad == 0) & (bd >= 0), 0, gb), b)
    return ga, gb


def add(a: Any, b: Any, alpha: Any = 1) -> Tensor:
    """``a + alpha * b`` with broadcasting."""
    if alpha != 1:
        b = mul(b, alpha)
    ad, at, bd, bt = pair(a, b)
    try:
        out = np.add(ad, bd)
    except ValueError:
        raise broadcast_error(np.shape(ad), np.shape(bd)) from None
    if out.dtype is _F64:
        out = _fix(out, at, bt)
    ra = at if at is not None and at._rg else None
    rb = bt if bt is not None and bt._rg else None
    if (ra is not None or rb is not None) and _state.enabled:
        # saved: a constant operand (no node reads it; ONNX export does: _onnx_trace)
        saved = () if ra is not None and rb is not None else (ad, bd)
        return _result(out, _add_vjp, (ra, rb), saved)
    return _result(out, None, ())


def _is_bool(v: Any) -> bool:
    """Whether an operand's values are booleans (a bool array or a Python / NumPy bool)."""
    return v.dtype.kind == "b" if isinstance(v, np.ndarray) else isinstance(v, (bool, np.bool_))


def bool_subtraction_error(ad: Any, bd: Any) -> RuntimeError:
    """PyTorch's error for ``-`` with a bool operand (``sub`` and the in-place ``-=``)."""
    which = "two bool tensors" if _is_bool(ad) and _is_bool(bd) else "a bool tensor"
    return RuntimeError(f"Subtraction, the `-` operator, with {which} is not supported. If "
                        "you are trying to invert a mask, use the `~` or `logical_not()` "
                        "operator instead.")


def sub(a: Any, b: Any, alpha: Any = 1) -> Tensor:
    """``a - alpha * b`` with broadcasting."""
    if alpha != 1:
        b = mul(b, alpha)
    # on the operands as given (pair turns a bool beside a float into float32); inline: hot
    ta, tb = type(a), type(b)
    if (a._data.dtype is _BOOL if ta is Tensor or isinstance(a, Tensor) else
            ta is bool or ta is np.bool_) or \
            (b._data.dtype is _BOOL if tb is Tensor or isinstance(b, Tensor) else
             tb is bool or tb is np.bool_):
        raise bool_subtraction_error(operand(a)[0], operand(b)[0])
    ad, at, bd, bt = pair(a, b)
    try:
        out = np.subtract(ad, bd)
    except ValueError:
        raise broadcast_error(np.shape(ad), np.shape(bd)) from None
    if out.dtype is _F64:
        out = _fix(out, at, bt)
    ra = at if at is not None and at._rg else None
    rb = bt if bt is not None and bt._rg else None
    if (ra is not None or rb is not None) and _state.enabled:
        # saved: a constant operand (no node reads it; ONNX export does: _onnx_trace)
        saved = () if ra is not None and rb is not None else (ad, bd)
        return _result(out, _sub_vjp, (ra, rb), saved)
    return _result(out, None, ())


def mul(a: Any, b: Any) -> Tensor:
    """``a * b`` with broadcasting."""
    ad, at, bd, bt = pair(a, b)
    try:
        out = np.multiply(ad, bd)
    except ValueError:
        raise broadcast_error(np.shape(ad), np.shape(bd)) from None
    if out.dtype is _F64:
        out = _fix(out, at, bt)
    ra = at if at is not None and at._rg else None
    rb = bt if bt is not None and bt._rg else None
    if (ra is not None or rb is not None) and _state.enabled:
        # da reads b's values and db reads a's: stamp the Tensors whose values are read
        if ra is not None:
            stamps = (stamp(bt),) if bt is not None else ()
            if rb is not None:
                stamps += (stamp(at),)
        else:
            stamps = (stamp(at),) if at is not None else ()
        return _result(out, _mul_vjp, (ra, rb), (ad, bd), stamps)
    return _result(out, None, ())


def div(a: Any, b: Any, rounding_mode: str | None = None) -> Tensor:
    """``a / b`` (true division; ``rounding_mode="floor"`` or ``"trunc"`` gives no gradient)."""
    ad, at, bd, bt = pair(a, b)
    if rounding_mode is not None:
        if rounding_mode not in ("floor", "trunc"):
            raise ValueError(f"div(): rounding_mode must be None, 'floor' or 'trunc', got "
                             f"{rounding_mode!r}")
        kinds = {getattr(x, "dtype", np.dtype(type(x))).kind for x in (ad, bd)}
        if kinds <= {"i", "u", "b"}:
            return _result(_integer_division(ad, bd, rounding_mode), None, ())
        with np.errstate(divide="ignore", invalid="ignore"):
            q = _broadcasting(np.true_divide, ad, bd)
            q = np.floor(q) if rounding_mode == "floor" else np.trunc(q)
        return _result(_fix(q, at, bt), None, ())
    if (ad.dtype.kind in "iub" if type(ad) is np.ndarray else _integral(ad)) and \
            _integral(bd):  # PyTorch divides integers in float32 (inline: a float32 ad stops)
        ad, bd = np.asarray(ad, _F32), np.asarray(bd, _F32)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = _fix(_broadcasting(np.true_divide, ad, bd), at, bt)
    if _state.enabled and ((at is not None and at._rg) or (bt is not None and bt._rg)):
        if at is None:  # number / b: PyTorch's reciprocal times the number, whose
            # backward reads 1 / b, not b: b may change in place before the backward
            with np.errstate(divide="ignore"):
                return _result(out, _number_div_vjp, (None, bt), (ad, np.reciprocal(bd)), ())
        # both gradients read b; only b's reads a
        stamps = (stamp(bt),) if bt is not None else ()
        if bt is not None and bt._rg:
            stamps += (stamp(at),)
        return _result(out, _div_vjp, (_rg(at), _rg(bt)), (ad, bd), stamps)
    return _result(out, None, ())


def _integral(v: Any) -> bool:
    """Whether an operand's values are integers or bools (an array or a Python number)."""
    return v.dtype.kind in "iub" if isinstance(v, np.ndarray) else \
        isinstance(v, (int, np.integer, np.bool_))  # bool is an int


def pow(input: Any, exponent: Any) -> Tensor:  # noqa: A001, A002 - PyTorch's names
    """``input ** exponent`` with broadcasting (``fn.pow(input=x, exponent=2)`` as in PyTorch)."""
    if isinstance(input, Tensor) and isinstance(exponent, Tensor):
        ad, at, bd, bt = pair(input, exponent)  # a 0-d float64 exponent does not widen
    else:
        ad, at = operand(input)
        bd, bt = operand(exponent)
    with np.errstate(divide="ignore", invalid="ignore"):
        if bt is not None and _negative_integer_powers(ad, bd):
            out = _integer_power(ad, bd)
        else:
            out = _fix(_broadcasting(np.power, ad, bd), at, bt)
    if _state.enabled and ((at is not None and at._rg) or (bt is not None and bt._rg)):
        # As PyTorch's: the Tensor operands, and for a Tensor exponent the output too
        # (its gradient reads it)
        stamps = tuple(stamp(t) for t in (at, bt) if t is not None)
        t = _result(out, _pow_vjp, (_rg(at), _rg(bt)), (ad, bd, out), stamps)
        if bt is not None:
            t.grad_fn.stamps += (stamp(t),)
        return t
    return _result(out, None, ())


def _negative_integer_powers(ad: Any, bd: Any) -> bool:
    """Integers raised to an integer Tensor holding negative exponents (NumPy refuses them;
    torch refuses only a negative number as the exponent)."""
    kinds = (np.asarray(ad).dtype.kind, np.asarray(bd).dtype.kind)
    return kinds[0] in "iu" and kinds[1] in "iu" and bool(np.any(np.asarray(bd) < 0))


def _integer_power(ad: Any, bd: Any) -> np.ndarray:
    """``a ** b`` of integers as torch computes it: a negative power of 1 is 1, of -1 is
    +-1 by the exponent's parity, of anything else 0 (the integer part of 1 / a**|b|)."""
    a, b = np.broadcast_arrays(*(np.asarray(v) for v in (ad, bd)))
    neg = b < 0
    out = np.power(a, np.where(neg, 0, b))
    small = np.where(a == 1, 1, np.where(a == -1, np.where(b % 2 == 0, 1, -1), 0))
    return np.where(neg, small, out).astype(out.dtype, copy=False)


def rsub(a: Any, b: Any) -> Tensor:
    """``b - a`` for ``a`` a Tensor (``1 - x``), PyTorch's ``RsubBackward1`` for a number ``b``."""
    return named(sub(b, a), None if isinstance(b, Tensor) else "RsubBackward1")


def rdiv(a: Any, b: Any) -> Tensor:
    return div(b, a)


def rpow(a: Any, b: Any) -> Tensor:
    return pow(b, a)


def floordiv(a: Any, b: Any) -> Tensor:
    return div(a, b, rounding_mode="floor")


def _integer_division(ad: Any, bd: Any, rounding_mode: str) -> np.ndarray:
    """Exact int64 quotient of integer operands, rounded as ``rounding_mode`` says (not
    through float64, which loses digits above 2**53); a zero divisor raises as in torch."""
    a = np.asarray(ad).astype(np.int64, copy=False)
    b = np.asarray(bd).astype(np.int64, copy=False)
    if not np.all(b):
        raise RuntimeError("ZeroDivisionError")
    q = _broadcasting(np.floor_divide, a, b)
    if rounding_mode == "trunc":  # floor rounds negative quotients down: one up if inexact
        q = q + ((q * b != a) & ((a < 0) != (b < 0)))
    return np.asarray(q, np.int64)


def remainder(a: Any, b: Any) -> Tensor:
    ad, at = operand(a)
    bd, bt = operand(b)
    kinds = {getattr(x, "dtype", np.dtype(type(x))).kind for x in (ad, bd)}
    if kinds <= {"i", "u", "b"} and not np.all(bd):
        raise RuntimeError("ZeroDivisionError")
    out = _fix(_broadcasting(np.mod, ad, bd), at, bt)
    if _state.enabled and ((at is not None and at._rg) or (bt is not None and bt._rg)):
        # only b's gradient reads the operands (a's is g)
        stamps = tuple(stamp(t) for t in (at, bt) if t is not None) if _rg(bt) is not None \
            else ()
        # torch: RemainderBackward0 for a number divisor, RemainderBackward1 for a Tensor
        return named(_result(out, _remainder_vjp, (_rg(at), _rg(bt)), (ad, bd), stamps),
                     None if bt is None else "RemainderBackward1")
    return _result(out, None, ())


def _remainder_vjp(node, g):
    """``a - floor(a / b) b``: ``g`` for ``a``, ``-g floor(a / b)`` for ``b`` (as torch).
    The quotient is NumPy's ``floor_divide``, ``(a - remainder) / b`` rounded, an exact
    integer (``floor`` of the rounded ``a / b`` can be one too high: float32 2 / 0.2 rounds
    to 10, the quotient is 9). It is computed from the operands, not the result, which the
    caller may change in place (as torch, which saves the operands)."""
    a, b = node.inputs
    ad, bd = node.saved
    ga = None if a is None else _as(g, a)
    gb = None
    if b is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            gb = _as(-g * _broadcasting(np.floor_divide, ad, bd), b)
    return ga, gb


# -- unary maths ---------------------------------------------------------------
def _neg_vjp(node, g):
    return (-g,)


def _abs_vjp(node, g):
    s = np.sign(node.saved[0])
    return (g * np.where(s == s, s, 0),)  # sign(NaN) taken as 0, as PyTorch's sgn


def _exp_vjp(node, g):
    return (g * node.saved[0],)


def _log_vjp(node, g):
    return (g / node.saved[0],)


_LN2, _LN10 = math.log(2.0), math.log(10.0)


def _log2_vjp(node, g):
    return (g / (node.saved[0] * _LN2),)


def _log10_vjp(node, g):
    return (g / (node.saved[0] * _LN10),)


def _sqrt_vjp(node, g):
    return (g / (2 * node.saved[0]),)


def _sin_vjp(node, g):
    return (g * np.cos(node.saved[0]),)


def _cos_vjp(node, g):
    return (-g * np.sin(node.saved[0]),)


def _clamp_vjp(node, g):
    """out = min(max(x, lo), hi): the gradient goes to whichever of x, lo, hi it came from
    (x on ties, as PyTorch); Tensor bounds take theirs summed back to their shapes."""
    x, lo, hi = node.saved
    raised = np.zeros(x.shape, bool) if lo is None else x < lo
    lowered = np.zeros(x.shape, bool) if hi is None else \
        (x if lo is None else np.maximum(x, lo)) > hi
    # x's share: where it was inside (a NaN x, or a NaN bound, is inside no interval and
    # gets 0, as PyTorch's (x >= lo) & (x <= hi))
    inside = ~(raised | lowered) & (x == x)
    for bound in (lo, hi):
        if bound is not None:
            inside &= bound == bound
    # selected, not multiplied (torch's where): an inf or NaN gradient stays out of the
    # elements it does not reach (inf * 0 made them NaN)
    zero = np.zeros((), g.dtype)
    gx = np.where(inside, g, zero)
    if len(node.inputs) == 1:  # no bound takes a gradient
        return (unbroadcast(gx, node.inputs[0]._data.shape),)
    x_t, lo_t, hi_t = node.inputs
    return (None if x_t is None else unbroadcast(gx, x_t._data.shape),
            None if lo_t is None else unbroadcast(np.where(raised & ~lowered, g, zero),
                                                  lo_t._data.shape),
            None if hi_t is None else unbroadcast(np.where(lowered, g, zero),
                                                  hi_t._data.shape))


def _float_input(x: Tensor) -> np.ndarray:
    """The values of ``x``, as float32 when they are integers or bools."""
    d = x._data
    return d if d.dtype.kind == "f" else d.astype(_F32)


def _unary(x: Tensor, value: np.ndarray, vjp: Any, saved: np.ndarray | None) -> Tensor:
    """A unary op whose vjp reads ``saved`` (the input's values, or nothing)."""
    if x._rg and _state.enabled:
        if saved is None:
            return _result(value, vjp, (x,))
        vc = x._vc
        if vc is None:
            vc = x._vc = [0]
        return _result(value, vjp, (x,), (saved,), ((vc, vc[0]),))
    return _result(value, None, ())


def neg(x: Tensor) -> Tensor:
    """``-x`` element-wise."""
    if x._data.dtype.kind == "b":
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If "
                           "you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    return _unary(x, np.negative(x._data), _neg_vjp, None)


def abs(x: Tensor) -> Tensor:  # noqa: A001 - PyTorch's name
    """``|x|`` element-wise; the gradient is ``sign(x)`` (0 at 0, as PyTorch)."""
    return _unary(x, np.abs(x._data), _abs_vjp, x._data)


def _unary_out(x: Tensor, value: np.ndarray, vjp: Any) -> Tensor:
    """A unary op whose vjp reads its own output."""
    if _state.enabled and x._rg:
        t = _result(value, vjp, (x,), (value,))
        t.grad_fn.stamps = (stamp(t),)
        return t
    return _result(value, None, ())


def exp(x: Tensor) -> Tensor:
    """:math:`e^x` element-wise (``inf`` on overflow, as PyTorch)."""
    with np.errstate(over="ignore"):  # inf, silently, as torch
        return _unary_out(x, np.exp(_float_input(x)), _exp_vjp)


def log(x: Tensor) -> Tensor:
    """The natural logarithm element-wise (``-inf`` at 0, NaN below, as PyTorch)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return _unary(x, np.log(_float_input(x)), _log_vjp, x._data)


def log2(x: Tensor) -> Tensor:
    r"""The base-2 logarithm element-wise; the gradient is :math:`1 / (x \ln 2)`."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return _unary(x, np.log2(_float_input(x)), _log2_vjp, x._data)


def log10(x: Tensor) -> Tensor:
    r"""The base-10 logarithm element-wise; the gradient is :math:`1 / (x \ln 10)`."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return _unary(x, np.log10(_float_input(x)), _log10_vjp, x._data)


def sqrt(x: Tensor) -> Tensor:
    """The square root element-wise (NaN below 0, as PyTorch)."""
    with np.errstate(invalid="ignore"):
        return _unary_out(x, np.sqrt(_float_input(x)), _sqrt_vjp)


def sin(x: Tensor) -> Tensor:
    """The sine element-wise."""
    return _unary(x, np.sin(_float_input(x)), _sin_vjp, x._data)


def cos(x: Tensor) -> Tensor:
    """The cosine element-wise."""
    return _unary(x, np.cos(_float_input(x)), _cos_vjp, x._data)


def square(x: Tensor) -> Tensor:
    """``x * x`` element-wise."""
    return mul(x, x)


def _log1p_vjp(node, g):
    return (g / (1 + node.saved[0]),)


def _expm1_vjp(node, g):
    return (g * (node.saved[0] + 1),)


def log1p(x: Tensor) -> Tensor:
    r""":math:`\log(1 + x)`, accurate for small :math:`x`."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return _unary(x, np.log1p(_float_input(x)), _log1p_vjp, x._data)


def expm1(x: Tensor) -> Tensor:
    """:math:`e^x - 1`, accurate for small :math:`x`."""
    with np.errstate(over="ignore"):
        return _unary_out(x, np.expm1(_float_input(x)), _expm1_vjp)


def clamp(x: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """Clips values into ``[min, max]`` (numbers or Tensors, broadcast); the gradient flows
    to ``x`` where it was inside, to a Tensor bound where that bound was taken. An integer
    ``x`` with a floating bound gives float32, as in PyTorch."""
    if min is None and max is None:
        raise RuntimeError("clamp(): At least one of 'min' or 'max' must not be None")
    lo = min._data if isinstance(min, Tensor) else min
    hi = max._data if isinstance(max, Tensor) else max
    xd = x._data
    kinds = [np.asarray(b).dtype.kind for b in (lo, hi) if b is not None]
    if xd.dtype.kind in "iub" and "f" in kinds:
        xd = xd.astype(_F32)
    elif xd.dtype.kind == "b" and ("i" in kinds or "u" in kinds):  # torch: bool with an
        xd = xd.astype(np.int64)                                    # integer bound is int64
    value = np.clip(xd, lo, hi).astype(xd.dtype, copy=False)
    bounds = [t if isinstance(t, Tensor) and t._rg else None for t in (min, max)]
    has_bound = any(t is not None for t in bounds)
    if _state.enabled and (x._rg or has_bound):
        if value.shape != xd.shape:  # a bound broadcast x: save x at the output's shape
            xd = np.broadcast_to(xd, value.shape)
        inputs = (x if x._rg else None, *bounds) if has_bound else (x,)
        # the backward reads x and the bounds: each Tensor among them is stamped (a bound
        # that requires no grad too), as torch's node saves them
        stamps = tuple(stamp(t) for t in (x, min, max) if isinstance(t, Tensor))
        # PyTorch's nodes: ClampBackward1 for number bounds, ClampBackward0 for Tensors
        return named(_result(value, _clamp_vjp, inputs, (xd, lo, hi), stamps),
                     "ClampBackward0" if isinstance(min, Tensor) or isinstance(max, Tensor)
                     else "ClampBackward1")
    return _result(value, None, ())


# Piecewise-constant ops: a zero gradient, but on the graph as in torch (the result
# requires grad when the input does, so a loss built from them can still backward).
def _zero_vjp(node, g):
    return (np.zeros(node.inputs[0]._data.shape, node.inputs[0]._data.dtype),)


def _piecewise_constant(x: Tensor, value: np.ndarray, name: str) -> Tensor:
    """``value`` (``x`` rounded, or its sign) with a zero gradient, its node shown as
    PyTorch's ``name``."""
    if x._data.dtype.kind == "f":
        return named(_unary(x, value, _zero_vjp, None), name)
    return _result(value, None, ())


def sign(x: Tensor) -> Tensor:
    """-1, 0 or 1 by each element's sign (a zero gradient)."""
    return _piecewise_constant(x, np.sign(x._data), "SignBackward0")


def floor(x: Tensor) -> Tensor:
    """The largest integer not above each element (a zero gradient)."""
    return _piecewise_constant(x, np.floor(x._data), "FloorBackward0")


def ceil(x: Tensor) -> Tensor:
    """The smallest integer not below each element (a zero gradient)."""
    return _piecewise_constant(x, np.ceil(x._data), "CeilBackward0")


def round(x: Tensor) -> Tensor:  # noqa: A001
    """Each element rounded to the nearest integer, halves to even (a zero gradient)."""
    return _piecewise_constant(x, np.round(x._data), "RoundBackward0")


# -- comparisons and logic (no gradient) -----------------------------------------
def _compare(ufunc: Any) -> Any:
    def op(a: Any, b: Any) -> Tensor:
        ad, _, bd, _ = pair(a, b)  # the values PyTorch compares (float32 beside a float)
        return _result(_broadcasting(ufunc, ad, bd), None, ())
    op.__name__ = ufunc.__name__
    op.__doc__ = (f"Element-wise ``{ufunc.__name__}`` of ``a`` and ``b`` (broadcast), as a "
                  "bool Tensor (no gradient).")
    return op


eq = _compare(np.equal)
ne = _compare(np.not_equal)
lt = _compare(np.less)
le = _compare(np.less_equal)
gt = _compare(np.greater)
ge = _compare(np.greater_equal)


def _logical(ufunc: Any, name: str) -> Any:
    def op(a: Any, b: Any) -> Tensor:
        ad, _ = operand(a)
        bd, _ = operand(b)
        for d in (ad, bd):
            kind = np.asarray(d).dtype.kind
            if kind not in "biu":
                raise TypeError(f"{name} is only supported for integer and bool Tensors, "
                                f"got {np.asarray(d).dtype}")
        return _result(_broadcasting(ufunc, ad, bd), None, ())
    op.__name__ = name
    return op


bitwise_and = _logical(np.bitwise_and, "bitwise_and")
bitwise_or = _logical(np.bitwise_or, "bitwise_or")
bitwise_xor = _logical(np.bitwise_xor, "bitwise_xor")


def bitwise_not(x: Tensor) -> Tensor:
    if x._data.dtype.kind not in "biu":
        raise TypeError(f"~ is only supported for integer and bool Tensors, got {x.dtype}")
    return _result(np.invert(x._data), None, ())


def logical_not(x: Tensor) -> Tensor:
    """Element-wise NOT, as a bool Tensor (no gradient)."""
    return _result(np.logical_not(x._data), None, ())


def isnan(x: Tensor) -> Tensor:
    """Where the elements are NaN, as a bool Tensor."""
    return _result(np.isnan(x._data), None, ())


def isfinite(x: Tensor) -> Tensor:
    """Where the elements are finite (not NaN or +-inf), as a bool Tensor."""
    return _result(np.isfinite(x._data), None, ())


def maximum(a: Any, b: Any) -> Tensor:
    """Element-wise maximum; the gradient goes to the larger input (split evenly on ties)."""
    return _extremum(a, b, np.maximum)


def minimum(a: Any, b: Any) -> Tensor:
    """Element-wise minimum; the gradient goes to the smaller input (split evenly on ties)."""
    return _extremum(a, b, np.minimum)


def _extremum_vjp(node, g):
    """PyTorch's rule: ``g`` to each operand, halved where they tie, 0 where the other
    won (``a < b`` for the maximum); where either is NaN no comparison holds and both get
    ``g``. Read off the operands, not the result, which the caller may change in place."""
    a, b = node.inputs
    ad, bd, lost = node.saved  # lost: np.less for the maximum, np.greater for the minimum
    with np.errstate(invalid="ignore"):
        shared = np.where(_broadcasting(np.equal, ad, bd), g * g.dtype.type(0.5), g)
        ga = None if a is None else _as(np.where(_broadcasting(lost, ad, bd), 0, shared)
                                        .astype(g.dtype, copy=False), a)
        gb = None if b is None else _as(np.where(_broadcasting(lost, bd, ad), 0, shared)
                                        .astype(g.dtype, copy=False), b)
    return ga, gb


def _extremum(a: Any, b: Any, ufunc: Any) -> Tensor:
    ad, at, bd, bt = pair(a, b)
    out = _fix(_broadcasting(ufunc, ad, bd), at, bt)
    if _state.enabled and ((at is not None and at._rg) or (bt is not None and bt._rg)):
        stamps = tuple(stamp(t) for t in (at, bt) if t is not None)
        lost = np.less if ufunc is np.maximum else np.greater
        return _result(out, _extremum_vjp, (_rg(at), _rg(bt)), (ad, bd, lost), stamps)
    return _result(out, None, ())


# -- casts ---------------------------------------------------------------------
def _cast_vjp(node, g):
    return (g.astype(node.saved[0]),)


def cast(x: Tensor, dtype: np.dtype) -> Tensor:
    """``x`` converted to ``dtype`` (differentiable between float dtypes)."""
    value = x._data.astype(dtype)
    if _state.enabled and x._rg and dtype.kind == "f":
        return _result(value, _cast_vjp, (x,), (x._data.dtype,))
    return _result(value, None, ())


def clone(x: Tensor) -> Tensor:
    """A copy of ``x`` on the graph (the gradient passes through)."""
    value = x._data.copy()
    if _state.enabled and x._rg:
        return _result(value, _clone_vjp, (x,))
    return _result(value, None, ())


def _clone_vjp(node, g):
    return (g,)


def as_tensor_operand(x: Any) -> Tensor:
    """``x`` as a Tensor (a constant when it is not one)."""
    if isinstance(x, Tensor):
        return x
    return _wrap(np.asarray(operand(x)[0]))


def where_finite(x: Tensor) -> Tensor:
    """``x`` with non-finite values replaced by 0 (no gradient; for stabilising shifts)."""
    return _result(np.where(np.isfinite(x._data), x._data, 0).astype(x._data.dtype), None, ())


# Nodes that read no saved values run again in a second backward (graph.RERUN_VJPS).
RERUN_VJPS.update(dict.fromkeys((_add_vjp, _sub_vjp, _neg_vjp, _clone_vjp, _cast_vjp)))
SAVED_UNREAD.update((_add_vjp, _sub_vjp))
