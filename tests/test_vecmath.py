"""The float32 maths of the element-wise kernels (util/vecmath*) on every SIMD path,
and the path dispatch: FASTNN_ARCH caps it, and the kernel suites pass on every path."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fastnn import _core

ARCHS = _core._elementwise_archs()  # the paths this CPU runs, e.g. ["scalar", "avx2"]
TESTS = Path(__file__).resolve().parent


def _erf(x):
    out = np.full(x.shape, np.nan)
    finite = ~np.isnan(x)
    out[finite] = np.frompyfunc(math.erf, 1, 1)(x[finite]).astype(np.float64)
    return out


def _sigmoid(x):
    return np.exp(-np.logaddexp(0.0, -x))


REFERENCES = {"exp": np.exp, "log": np.log, "tanh": np.tanh, "sigmoid": _sigmoid, "erf": _erf}
# Max error in float32 ulps at the float64 result (util/vecmath_avx2.h: measured 0.98,
# 0.76, 1.22, 2.18, 1.08; glibc's libm on the scalar path: 0.50, 0.78, 2.14, 2.18, 0.82).
MAX_ULP = {"exp": 1.5, "log": 1.5, "tanh": 2.5, "sigmoid": 2.5, "erf": 1.5}
SPECIAL = np.float32([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-45, -1e-45, 1e-40, -1e-40,
                      1.17549435e-38, 3.4028235e38, -3.4028235e38, 1e30, -1e30])


def _sweep() -> np.ndarray:
    """Every 2^11-th float32 (2^-12 relative steps over the whole range, subnormals
    included) of both signs, a fine grid over [-110, 110] (the overflow, underflow and
    saturation edges) and the special values."""
    pos = np.arange(0, 0x7F800000, 1 << 11, dtype=np.uint32).view(np.float32)
    fine = np.linspace(-110.0, 110.0, 400_001, dtype=np.float32)
    return np.concatenate([pos, -pos, fine, SPECIAL])


X = _sweep()


@pytest.fixture(scope="module")
def references():
    with np.errstate(all="ignore"):
        return {f: ref(X.astype(np.float64)) for f, ref in REFERENCES.items()}


def _run(arch, func, x):
    y = np.full_like(x, 7.0)
    _core._vecmath(arch, func, y, x)
    return y


def _ulp_error(y, ref):
    """|y - ref| in units of the float32 spacing at ref (the subnormal spacing below
    FLT_MIN); only where ref rounds to a finite float32."""
    r32 = ref.astype(np.float32)
    ok = np.isfinite(r32)
    spacing = np.maximum(np.spacing(np.abs(r32[ok])).astype(np.float64), 2.0**-149)
    return np.abs(y[ok].astype(np.float64) - ref[ok]) / spacing, ok


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("func", REFERENCES)
def test_accuracy_over_dense_sweep(references, arch, func):
    ref = references[func]
    y = _run(arch, func, X)
    with np.errstate(all="ignore"):
        err, ok = _ulp_error(y, ref)
        r32 = ref.astype(np.float32)
    worst = int(np.argmax(err))
    assert err[worst] <= MAX_ULP[func], f"{func} on {arch}: {err[worst]:.2f} ulp at x = " \
                                        f"{X[ok][worst]!r}"
    # NaN exactly where the reference is NaN; infinities exact
    np.testing.assert_array_equal(np.isnan(y), np.isnan(ref))
    np.testing.assert_array_equal(y[~ok], r32[~ok])


@pytest.mark.parametrize("arch", ARCHS)
def test_special_values(arch):
    inf, nan = np.inf, np.nan
    x = np.float32([nan, inf, -inf, 0.0, -0.0, -1.0])
    expect = {
        "exp": [nan, inf, 0.0, 1.0, 1.0, math.exp(-1)],
        "log": [nan, inf, nan, -inf, -inf, nan],
        "tanh": [nan, 1.0, -1.0, 0.0, -0.0, math.tanh(-1)],
        "sigmoid": [nan, 1.0, 0.0, 0.5, 0.5, 1 / (1 + math.e)],
        "erf": [nan, 1.0, -1.0, 0.0, -0.0, math.erf(-1)],
    }
    for func, e in expect.items():
        y = _run(arch, func, x)
        e = np.float32(e)
        np.testing.assert_allclose(y, e, rtol=3e-7, atol=0, err_msg=func)
        num = ~np.isnan(e)
        assert np.array_equal(np.signbit(y[num]), np.signbit(e[num])), func  # tanh(-0) = -0


@pytest.mark.parametrize("arch", ARCHS)
def test_saturation_and_range_edges(arch):
    big = np.float32([9.5, 20.0, 1e4, 3e38])
    assert np.all(_run(arch, "tanh", big) == 1.0) and np.all(_run(arch, "tanh", -big) == -1.0)
    erf_big = np.float32([3.95, 4.0, 6.0, 1e4, 3e38])
    assert np.all(_run(arch, "erf", erf_big) == 1.0) and np.all(_run(arch, "erf", -erf_big) == -1)
    assert np.all(_run(arch, "sigmoid", np.float32([17.5, 100.0, 1e30])) == 1.0)
    # exp: largest finite result, first overflow, subnormal results, underflow to 0
    e = _run(arch, "exp", np.float32([88.72283, 88.72284, -87.5, -100.0, -103.9, -104.0, -1e30]))
    assert np.isfinite(e[0]) and e[1] == np.inf
    np.testing.assert_allclose(e[2:5], np.exp(np.float64([-87.5, -100.0, -103.9])), rtol=1e-6,
                               atol=2.0**-149)
    assert 0 < e[3] < 1.17549435e-38 and e[5] == 0.0 and e[6] == 0.0
    # sigmoid of very negative x is the subnormal exp(x), not 0
    s = _run(arch, "sigmoid", np.float32([-100.0, -103.0]))
    np.testing.assert_allclose(s, np.exp(np.float64([-100.0, -103.0])), rtol=1e-6, atol=2.0**-149)
    # log of subnormals
    tiny = np.float32([1e-45, 1e-40, 1e-38])
    np.testing.assert_allclose(_run(arch, "log", tiny), np.log(tiny.astype(np.float64)), rtol=1e-7)


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("func", REFERENCES)
def test_result_independent_of_position(rng, arch, func):
    """Vector bodies and remainders (n % 8) give every element the same result."""
    x = (20 * rng.standard_normal(64)).astype(np.float32)
    if func == "log":
        x = np.abs(x)
    full = _run(arch, func, x)
    for start in range(9):
        for n in (0, 1, 7, 8, 9, 15, 16, 17, 31):
            part = _run(arch, func, x[start:start + n])
            assert np.array_equal(part, full[start:start + n]), (start, n)
    inplace = x.copy()
    _core._vecmath(arch, func, inplace, inplace)
    assert np.array_equal(inplace, full)


def test_vecmath_bad_arguments():
    x = np.zeros(3, np.float32)
    with pytest.raises(ValueError, match=r"_vecmath\(\): no function 'cos' on path 'scalar'"):
        _core._vecmath("scalar", "cos", np.empty(3, np.float32), x)
    with pytest.raises(ValueError, match=r"no function 'exp' on path 'sse9'"):
        _core._vecmath("sse9", "exp", np.empty(3, np.float32), x)
    with pytest.raises(ValueError, match=r"argument 'y' must have shape \(3,\)"):
        _core._vecmath("scalar", "exp", np.empty(4, np.float32), x)


# -- dispatch ---------------------------------------------------------------------------


def _env(arch: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "FASTNN_ARCH"}
    if arch is not None:
        env["FASTNN_ARCH"] = arch
    return env


def test_active_path_is_the_best_allowed():
    cap = os.environ.get("FASTNN_ARCH")
    expected = cap if cap in ARCHS else ARCHS[-1]
    assert _core.elementwise_arch() == expected


@pytest.mark.parametrize("value", [None, "scalar", "avx2", "avx512", "bogus"])
def test_fastnn_arch_caps_the_path(value):
    if value in ("scalar", "avx2") and value not in ARCHS:
        pytest.skip(f"this CPU cannot run {value}")
    code = "from fastnn import _core; print(_core.elementwise_arch())"
    out = subprocess.run([sys.executable, "-c", code], env=_env(value), capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == (value if value in ("scalar", "avx2") else ARCHS[-1])


@pytest.mark.parametrize("arch", ARCHS)
def test_kernel_suites_pass_on_every_path(arch):
    """Runs the activation, loss and dropout suites on each path other than this
    process's (which the normal run covers), forced by FASTNN_ARCH."""
    if "FASTNN_ARCH" in os.environ:
        pytest.skip("FASTNN_ARCH is set for this run")
    if arch == _core.elementwise_arch():
        pytest.skip("the path of this process: covered by the normal run")
    files = [str(TESTS / f) for f in ("test_activations.py", "test_losses.py", "test_dropout.py")]
    files.append(str(TESTS / "test_vecmath.py") + "::test_active_path_is_the_best_allowed")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-x", "-p", "no:cacheprovider",
                           "-k", "not torch", *files], env=_env(arch), capture_output=True,
                          text=True, cwd=TESTS.parent)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout
