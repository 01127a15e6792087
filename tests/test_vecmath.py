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

import fastnn as fn
from fastnn import _core

# the paths this CPU runs, e.g. ["scalar", "avx2", "avx512emu", "avx512"]
ARCHS = _core._elementwise_archs()
SIMD_ARCHS = [a for a in ARCHS if a != "scalar"]  # one source: the same bits on each
DEFAULT = [a for a in ARCHS if a != "avx512emu"][-1]  # the path with FASTNN_ARCH unset
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
    """Vector bodies and masked tails (n % 8, n % 16) give every element the same
    result: every length 0..33 and those around 48 and 64, at 17 start offsets."""
    x = (20 * rng.standard_normal(96)).astype(np.float32)
    if func == "log":
        x = np.abs(x)
    full = _run(arch, func, x)
    for start in range(17):
        for n in [*range(34), 47, 48, 49, 63, 64, 65]:
            part = _run(arch, func, x[start:start + n])
            assert np.array_equal(part, full[start:start + n]), (start, n)
    inplace = x.copy()
    _core._vecmath(arch, func, inplace, inplace)
    assert np.array_equal(inplace, full)


@pytest.mark.parametrize("arch", SIMD_ARCHS)
@pytest.mark.parametrize("func", REFERENCES)
def test_simd_paths_give_identical_bits(arch, func):
    """The 16-lane paths (ymm pairs, zmm) run the 8-lane path's polynomials in the
    same order: the same float32 bits over the whole sweep (NaN where it has NaN)."""
    expected = _run("avx2", func, X)
    got = _run(arch, func, X)
    nan = np.isnan(expected)
    np.testing.assert_array_equal(np.isnan(got), nan)
    np.testing.assert_array_equal(got[~nan].view(np.uint32), expected[~nan].view(np.uint32))


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


def _expected_path(value: str | None) -> str:
    """util/isa.h's rule: a path this CPU runs is taken as named; avx512emu on a CPU
    without AVX2 gives scalar; unset, unknown or unsupported names give the default."""
    if value in ARCHS:
        return value
    return "scalar" if value == "avx512emu" else DEFAULT


def test_active_path_is_the_best_allowed():
    """Run again under every FASTNN_ARCH by test_kernel_suites_pass_on_every_path and
    .ci/forced-isa: the kernels report the path the variable selects."""
    expected = _expected_path(os.environ.get("FASTNN_ARCH"))
    assert _core.elementwise_arch() == expected
    assert fn.info()["elementwise"] == expected


@pytest.mark.parametrize("value", [None, "scalar", "avx2", "avx512emu", "avx512", "bogus"])
def test_fastnn_arch_caps_the_path(value):
    code = "import fastnn; print(fastnn.info()['elementwise'])"
    out = subprocess.run([sys.executable, "-c", code], env=_env(value), capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == _expected_path(value)


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


# -- the kernels on every SIMD path --------------------------------------------------

KERNEL_LENGTHS = [*range(34), 47, 48, 49, 63, 64, 65, 1000]  # every 8/16-lane tail
KERNEL_SPECIAL = np.float32([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-40, -1e-40, 1e-45, 88.7,
                             -103.9, 3e38, -3e38])


def _with_specials(rng, x):
    where = rng.random(x.shape) < 0.2
    x[where] = rng.choice(KERNEL_SPECIAL, int(where.sum()))
    return x


def _kernel_outputs(out_path: str) -> None:
    """Saves every activation (forward, backward), softmax and log-softmax (forward, backward),
    cross-entropy and dropout result of this process's path, over KERNEL_LENGTHS with
    NaN, infinities, subnormals and range edges mixed in, to out_path (.npz)."""
    rng = np.random.default_rng(3)
    out = {"path": np.array(_core.elementwise_arch())}
    for n in KERNEL_LENGTHS:
        x = _with_specials(rng, (4 * rng.standard_normal(n)).astype(np.float32))
        dy = rng.standard_normal(n).astype(np.float32)
        for name, act in _core.Activation.__members__.items():
            y, dx = np.empty_like(x), np.empty_like(x)
            p1, p2 = {"elu": (0.7, 0.0), "softplus": (1.5, 5.0)}.get(name, (0.01, 0.0))
            _core.activation_forward(act, p1, y, x, p2)
            _core.activation_backward(act, p1, dx, dy, x, y, p2)
            out[f"{name} forward {n}"], out[f"{name} backward {n}"] = y, dx
        y = np.empty_like(x)
        _core.dropout_forward(y, x, 0.3, 99)
        out[f"dropout {n}"] = y
        if n == 0:
            continue
        # 5 rows: two with special values, three finite (softmax of a NaN row is NaN)
        logits = (3 * rng.standard_normal((5, n))).astype(np.float32)
        logits[:2] = _with_specials(rng, logits[:2])
        probs, grad = np.empty_like(logits), np.empty_like(logits)
        _core.softmax_forward(probs, logits)
        _core.softmax_backward(grad, rng.standard_normal(logits.shape).astype(np.float32), probs)
        out[f"softmax {n}"], out[f"softmax backward {n}"] = probs, grad
        _core.log_softmax_forward(probs, logits)
        _core.log_softmax_backward(grad, rng.standard_normal(logits.shape).astype(np.float32),
                                   probs)
        out[f"log_softmax {n}"], out[f"log_softmax backward {n}"] = probs, grad
        labels = rng.integers(0, n, 3).astype(np.int64)
        finite = np.ascontiguousarray(logits[2:])
        ce_grad = np.empty_like(finite)
        loss = _core.cross_entropy_forward_backward(ce_grad, finite, labels, 0.1,
                                                    _core.Reduction.mean)
        out[f"cross_entropy {n}"] = np.float32([loss])
        out[f"cross_entropy grad {n}"] = ce_grad
    np.savez(out_path, **out)


def test_kernels_give_identical_bits_on_every_simd_path(tmp_path):
    """Each SIMD path forced in a subprocess (FASTNN_ARCH): the 16-lane builds (ymm
    pairs, zmm) and the 8-lane one give the same bits for every kernel (NaN where
    the 8-lane path has NaN), at every tail length."""
    if len(SIMD_ARCHS) < 2:
        pytest.skip("fewer than two SIMD paths on this CPU")
    outs = {}
    for arch in SIMD_ARCHS:
        path = tmp_path / f"{arch}.npz"
        code = (f"import sys; sys.path.insert(0, {str(TESTS)!r}); import test_vecmath; "
                f"test_vecmath._kernel_outputs({str(path)!r})")
        subprocess.run([sys.executable, "-c", code], env=_env(arch), check=True, cwd=TESTS.parent)
        outs[arch] = np.load(path)
        assert str(outs[arch]["path"]) == arch
    expected = outs[SIMD_ARCHS[0]]
    for arch in SIMD_ARCHS[1:]:
        for key in set(expected.files) - {"path"}:
            a, b = outs[arch][key], expected[key]
            nan = np.isnan(b)
            np.testing.assert_array_equal(np.isnan(a), nan, err_msg=f"{arch}: {key}")
            np.testing.assert_array_equal(a[~nan].view(np.uint32), b[~nan].view(np.uint32),
                                          err_msg=f"{arch}: {key}")
