"""GEMM: every path (reference, scalar, avx2, avx512, avx512emu, their 6 x 64 tiles
avx512x64 and avx512emux64, and the dispatched one)
against a float64 NumPy reference over a shape sweep, transposes, alpha/beta, thread
counts; input handling; bad inputs; FASTNN_ARCH dispatch; a PyTorch cross-check."""

from __future__ import annotations

import ast
import itertools
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import fastnn as fn
from fastnn import _core
from fastnn.functional import matmul

U32 = 2.0**-24  # float32 unit roundoff
# "dispatch" is _core.matmul as fastnn.matmul runs it (the chosen kernel);
# the others force one path at every size.
# avx512emu is the 16-lane avx512 kernel compiled for AVX2 (ymm pairs): it runs on
# every AVX2 CPU and must give bit-identical results to avx512 where both run.
# avx512x64 / avx512emux64: the 6 x 64 tile the dispatch takes for tall products on
# Intel CPUs (cpp/src/gemm/arch.h: dispatched_arch); bit-identical to the 8 x 48 tile.
PATHS = ["dispatch", "reference", "scalar", "avx2", "avx512", "avx512emu", "avx512x64",
         "avx512emux64"]
TRANS = [(False, False), (False, True), (True, False), (True, True)]
TRANS_IDS = ["nn", "nt", "tn", "tt"]

# (M, N, K). Tiles: avx512 / avx512emu 8 x 48, avx512x64 / avx512emux64 6 x 64, avx2
# 6 x 16, scalar 4 x 8; table blocks: kc 384 (avx512, x64) / 256, mc 224 (avx512) / 222
# (x64) / 144 (avx2) / 128 (scalar), nc 4080 (avx512, avx2) / 4096 (x64) / 2048 (scalar).
SHAPES = [
    (0, 5, 3), (4, 0, 3), (3, 4, 0),                 # empty
    (1, 1, 1), (1, 17, 1), (2, 3, 5), (7, 11, 13),   # tiny, primes
    (5, 15, 17), (6, 16, 8), (7, 17, 31),            # avx2 tile -1, =, +1
    (3, 7, 9), (4, 8, 4), (9, 9, 2),                 # scalar tile -1, =, +1
    (7, 47, 11), (8, 48, 6), (9, 49, 3),             # avx512 tile -1, =, +1
    (8, 95, 5), (17, 97, 2), (1, 33, 4),             # avx512: 2 panels -1 / +1, 33 lanes
    (5, 63, 11), (6, 64, 6), (7, 65, 3),             # x64 tile -1, =, +1
    (6, 127, 5), (13, 129, 3), (2, 49, 7),           # x64: 2 panels -1 / +1, 49 lanes
    (13, 19, 255), (11, 23, 257), (6, 16, 513),      # kc -1, +1, several K blocks
    (9, 50, 383), (10, 47, 385), (8, 48, 769),       # avx512 kc -1, +1, three K blocks
    (143, 31, 7), (145, 33, 5), (129, 9, 3),         # mc -1 / +1 (avx2), +1 (scalar)
    (223, 49, 3), (225, 47, 2),                      # avx512 mc -1 / +1
    (221, 65, 3), (223, 63, 2),                      # x64 mc -1 / +1
    (3, 2049, 5), (2, 4081, 3), (2, 4097, 2),        # nc +1 (scalar, avx2 / avx512, x64)
    (1000, 3, 2), (2, 3, 1000), (3, 1000, 2),        # tall-skinny
    # few rows, row-major B read in place: edge columns a whole number of vectors
    # (read in place too: avx512 16 / 32 of 64 / 80 / 112, avx2 8 of 24) or not
    (32, 64, 64), (5, 64, 7), (3, 80, 9), (2, 112, 33), (9, 24, 5), (4, 40, 3),
]


@pytest.fixture(autouse=True, scope="module")
def serial_numpy_blas():
    """Runs NumPy's float64 reference products on one BLAS thread: on a busy machine,
    spinning OpenBLAS threads starve fastnn's OpenMP team and make the tests crawl."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(1, user_api="blas"):
        yield


def supported(path: str) -> bool:
    return path == "dispatch" or _core._gemm_arch_supported(path)


def run(path: str, a, b, ta=False, tb=False, out=None, alpha=1.0, beta=0.0):
    if path == "dispatch":
        return _core.matmul(a, b, ta, tb, out, alpha, beta)
    return _core._matmul_arch(path, a, b, ta, tb, out, alpha, beta)


def operands(rng, M, N, K, ta, tb):
    a = rng.standard_normal((K, M) if ta else (M, K)).astype(np.float32)
    b = rng.standard_normal((N, K) if tb else (K, N)).astype(np.float32)
    return a, b


def op(x, t):
    return np.asarray(x, dtype=np.float64).T if t else np.asarray(x, dtype=np.float64)


def check(c, a, b, ta, tb, alpha=1.0, beta=0.0, c0=None):
    """c == alpha * op(a) @ op(b) + beta * c0 within a float32 error bound growing with K."""
    A, B = op(a, ta), op(b, tb)
    K = A.shape[1]
    expected = alpha * (A @ B)
    scale = abs(alpha) * (np.abs(A) @ np.abs(B))
    if beta != 0.0:
        expected = expected + beta * c0.astype(np.float64)
        scale = scale + np.abs(beta * c0.astype(np.float64))
    tol = 2 * (K + 2) * U32 * scale + 1e-30
    assert c.dtype == np.float32 and c.shape == expected.shape
    bad = np.abs(c - expected) > tol
    assert not bad.any(), f"{bad.sum()} wrong elements, max err {np.abs(c - expected).max()}"


@pytest.fixture(params=PATHS)
def path(request):
    if not supported(request.param):
        pytest.skip(f"this CPU cannot run the {request.param} kernel")
    return request.param


@pytest.mark.parametrize("ta,tb", TRANS, ids=TRANS_IDS)
@pytest.mark.parametrize("M,N,K", SHAPES, ids=lambda s: str(s))
def test_shape_sweep(path, M, N, K, ta, tb, rng):
    # All below the parallel threshold: thread counts are covered by the larger tests.
    a, b = operands(rng, M, N, K, ta, tb)
    out = np.full((M, N), np.nan, np.float32)
    assert run(path, a, b, ta, tb, out) is out
    check(out, a, b, ta, tb)


# The three products of one MLP layer (x: 128 x 784, W: 512 x 784, dy: 128 x 512).
MLP = [
    ((128, 784), (512, 784), False, True),   # y = x @ W.T
    ((128, 512), (512, 784), False, False),  # dx = dy @ W
    ((128, 512), (128, 784), True, False),   # dW = dy.T @ x
]


@pytest.mark.parametrize("a_shape,b_shape,ta,tb", MLP, ids=["forward", "dx", "dW"])
def test_mlp_shapes(path, a_shape, b_shape, ta, tb, num_threads, rng):
    a = rng.standard_normal(a_shape).astype(np.float32)
    b = rng.standard_normal(b_shape).astype(np.float32)
    check(run(path, a, b, ta, tb), a, b, ta, tb)


@pytest.mark.parametrize("ta,tb", TRANS, ids=TRANS_IDS)
@pytest.mark.parametrize("alpha", [1.0, 0.0, -0.5])
@pytest.mark.parametrize("beta", [0.0, 1.0, 2.5])
def test_alpha_beta(path, alpha, beta, ta, tb, num_threads, rng):
    # Two K blocks (one for avx512's kc 384: test_shape_sweep covers several), edge tiles in
    # M (150 = 144 + 6 = 18 x 8 + 6) and N (40 = 32 + 8 = 48 - 8).
    M, N, K = 150, 40, 300
    a, b = operands(rng, M, N, K, ta, tb)
    c0 = rng.standard_normal((M, N)).astype(np.float32)
    if beta == 0.0:
        c0[::3, ::2] = np.nan  # write-only: NaN in C must not leak into the result
    out = c0.copy()
    run(path, a, b, ta, tb, out, alpha, beta)
    check(out, a, b, ta, tb, alpha, beta, c0)


ACTS = [_core.Activation.identity, _core.Activation.relu, _core.Activation.leaky_relu,
        _core.Activation.sigmoid, _core.Activation.tanh, _core.Activation.gelu,
        _core.Activation.gelu_tanh]
READS_Y = (_core.Activation.sigmoid, _core.Activation.tanh)


def unfused(path, a, b, ta, tb, c0, alpha, beta, bias, act, derivative, aux):
    """The epilogue written out: the plain product, then bias add, then the activation
    (or its derivative) as separate kernel calls."""
    out = c0.copy()
    run(path, a, b, ta, tb, out, alpha, beta)
    if bias is not None:
        out += bias
    flat = out.reshape(-1)  # the element-wise kernels take 1-D arrays
    if derivative:
        x, y = (None, aux.reshape(-1)) if act in READS_Y else (aux.reshape(-1), None)
        _core.activation_backward(act, 0.1, flat, flat.copy(), x, y)
    else:
        _core.activation_forward(act, 0.1, flat, flat.copy())
    return out


# (M, N, K): edge tiles in M and N, one and several K blocks, thread grids split along M
# (150 x 40) and N (40 x 300) at 2 threads, the smallest products.
EPILOGUE_SHAPES = [(150, 40, 300), (40, 300, 200), (7, 17, 31), (6, 16, 513), (1, 1, 1), (3, 4, 0),
                   (37, 70, 5)]


@pytest.mark.parametrize("act", ACTS, ids=lambda a: a.name)
@pytest.mark.parametrize("derivative", [False, True], ids=["forward", "derivative"])
@pytest.mark.parametrize("M,N,K", EPILOGUE_SHAPES, ids=lambda s: str(s))
def test_epilogue_equals_unfused_sequence(path, act, derivative, M, N, K, num_threads, rng):
    if path == "dispatch":
        path = _core.build_info()["simd"]
    ta, tb = bool(M % 2), bool(N % 2)
    a, b = operands(rng, M, N, K, ta, tb)
    c0 = rng.standard_normal((M, N)).astype(np.float32)
    bias = None if derivative else rng.standard_normal(N).astype(np.float32)
    aux = rng.standard_normal((M, N)).astype(np.float32)
    if act in READS_Y:
        aux = 1 / (1 + np.exp(-aux))  # a plausible activation output
    alpha, beta = (1.0, 0.0) if derivative else (0.5, 1.5)
    expected = unfused(path, a, b, ta, tb, c0, alpha, beta, bias, act, derivative, aux)
    out = c0.copy()
    kw = {}
    if derivative:
        kw = {"aux_y": aux} if act in READS_Y else {"aux_x": aux}
    _core._matmul_arch(path, a, b, ta, tb, out, alpha, beta, bias=bias, activation=act,
                       activation_param=0.1, derivative=derivative, **kw)
    np.testing.assert_array_equal(out, expected)


def test_epilogue_against_float64_reference(path, rng):
    if path == "dispatch":
        pytest.skip("covered by the named paths")
    M, N, K = 150, 40, 300
    a, b = operands(rng, M, N, K, False, True)
    bias = rng.standard_normal(N).astype(np.float32)
    out = np.empty((M, N), np.float32)
    _core._matmul_arch(path, a, b, False, True, out, bias=bias,
                       activation=_core.Activation.tanh)
    z = op(a, False) @ op(b, True) + bias
    np.testing.assert_allclose(out, np.tanh(z), rtol=1e-5, atol=1e-5)


def test_epilogue_bad_arguments(rng):
    a, b = operands(rng, 4, 5, 3, False, False)
    with pytest.raises(ValueError, match="bias"):
        _core._matmul_arch("reference", a, b, bias=np.zeros(4, np.float32))
    with pytest.raises(ValueError, match="aux_x"):
        _core._matmul_arch("reference", a, b, aux_x=np.zeros((5, 4), np.float32))
    with pytest.raises(ValueError, match="aux_x"):
        _core._matmul_arch("reference", a, b, activation=_core.Activation.relu, derivative=True)
    with pytest.raises(ValueError, match="aux_y"):
        _core._matmul_arch("reference", a, b, activation=_core.Activation.tanh, derivative=True)


@pytest.mark.parametrize("beta", [0.0, 1.0, -2.0])
def test_empty_k_scales_c(path, beta, rng):
    c0 = rng.standard_normal((5, 7)).astype(np.float32)
    out = c0.copy()
    run(path, np.zeros((5, 0), np.float32), np.zeros((0, 7), np.float32), out=out, beta=beta)
    np.testing.assert_array_equal(out, beta * c0 if beta else np.zeros_like(c0))


def test_nan_in_inputs_propagates(path, rng):
    a, b = operands(rng, 20, 30, 40, False, False)
    a[3, 7] = np.nan
    b[5, 11] = np.inf
    c = run(path, a, b)
    assert np.isnan(c[3]).all()
    assert np.isinf(c[:, 11]).sum() + np.isnan(c[:, 11]).sum() == 20
    mask = np.ones_like(c, bool)
    mask[3] = False
    mask[:, 11] = False
    assert np.isfinite(c[mask]).all()


@pytest.mark.parametrize("ta,tb", TRANS, ids=TRANS_IDS)
@pytest.mark.parametrize("M,N,K", [(150, 300, 257), (128, 784, 512), (301, 35, 600),
                                   (1000, 40, 64), (20, 3000, 50), (9, 500, 900)])
def test_bit_identical_across_threads(path, M, N, K, ta, tb, rng):
    if path == "reference":
        pytest.skip("the reference loop is serial")
    a, b = operands(rng, M, N, K, ta, tb)
    c0 = rng.standard_normal((M, N)).astype(np.float32)
    results = []
    before = fn.get_num_threads()
    try:
        # Different counts hand out the shared-B work units (or, for a skinny M, the
        # column blocks) differently; 16 oversubscribes a small machine.
        for n in (1, max(2, os.cpu_count() or 1), 3, 4, 7, 16):
            fn.set_num_threads(n)
            out = c0.copy()
            run(path, a, b, ta, tb, out, 0.75, 1.0)
            results.append(out)
    finally:
        fn.set_num_threads(before)
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])



@pytest.mark.parametrize("ta,tb", TRANS, ids=TRANS_IDS)
@pytest.mark.parametrize("N,K", [(10, 64), (1, 100), (100, 10), (16, 16), (49, 385), (300, 3)])
def test_rows_do_not_depend_on_the_batch(path, N, K, ta, tb, num_threads, rng):
    """A row of C is bit-identical whether it is computed alone, with a few other rows or in
    a large product (edge tiles, the smallest products, thread splits): a model's output for
    a sample does not depend on the batch it is in."""
    if path == "reference":
        pytest.skip("the reference loop is the oracle, not a kernel")
    M = 37
    a, b = operands(rng, M, N, K, ta, tb)
    full = run(path, a, b, ta, tb)
    for rows in (1, 2, 3, 8, 9, 17):
        for start in range(0, M, rows):
            part = a[:, start:start + rows] if ta else a[start:start + rows]
            np.testing.assert_array_equal(run(path, np.ascontiguousarray(part), b, ta, tb),
                                          full[start:start + rows], err_msg=f"rows={rows}")


# ---- input handling (public API) -----------------------------------------------------------

def test_matmul_allocates_and_matches_numpy(rng):
    a, b = operands(rng, 33, 65, 70, False, False)
    c = matmul(a, b)
    assert c.dtype == np.float32 and c.flags.c_contiguous
    np.testing.assert_allclose(c, a @ b, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("ta,tb", TRANS, ids=TRANS_IDS)
def test_f_order_noncontiguous_and_converted_inputs(ta, tb, num_threads, rng):
    M, N, K = 37, 29, 45
    a, b = operands(rng, M, N, K, ta, tb)
    variants_a = [
        np.asfortranarray(a),                                   # read as a.T, flag flipped
        np.repeat(np.repeat(a, 2, axis=0), 3, axis=1)[::2, ::3],  # strided view
        a.astype(np.float64),
        (a * 10).astype(np.int32),
        (a * 10).astype(np.int64).tolist(),                     # nested list
    ]
    variants_b = [np.asfortranarray(b), b[:, ::-1][:, ::-1], b.astype(np.float64),
                  (b * 10).astype(np.uint8), b.astype(np.float16)]
    for va, vb in zip(variants_a, variants_b):
        c = matmul(va, vb, trans_a=ta, trans_b=tb)
        check(c, np.asarray(va, np.float32), np.asarray(vb, np.float32), ta, tb)


def test_f_order_views_match_explicit_copies(rng):
    x = rng.standard_normal((40, 30)).astype(np.float32)
    w = rng.standard_normal((30, 20)).astype(np.float32)
    xt, wt = np.ascontiguousarray(x.T), np.ascontiguousarray(w.T)
    # x.T and w.T are F-contiguous views, read in place with the transpose flag flipped;
    # packing makes the same panels as from C-contiguous copies, so results are identical.
    np.testing.assert_array_equal(matmul(w.T, x.T), matmul(wt, xt))
    np.testing.assert_array_equal(matmul(x.T, w.T, trans_a=True, trans_b=True), matmul(x, w))
    np.testing.assert_array_equal(matmul(w.T, x, trans_b=True), matmul(wt, xt))


def test_out_is_written_and_returned(rng):
    a, b = operands(rng, 8, 9, 10, False, False)
    out = np.full((8, 9), np.nan, np.float32)
    assert matmul(a, b, out=out) is out
    check(out, a, b, False, False)


# ---- bad inputs ------------------------------------------------------------------------------

F32 = np.float32


@pytest.mark.parametrize("a,b,kw,match", [
    (np.ones(3, F32), np.ones((3, 2), F32), {}, r"matmul\(\): argument 'a' must have 2 dimension"),
    (np.ones((2, 3), F32), np.ones((2, 3, 4), F32), {},
     r"argument 'b' must have 2 dimension\(s\), got 3 with shape \(2, 3, 4\)"),
    (np.ones((2, 3), F32), np.ones((4, 5), F32), {},
     r"inner dimensions differ: a of shape \(2, 3\) and b of shape \(4, 5\)"),
    (np.ones((2, 3), F32), np.ones((4, 3), F32), {"trans_a": True, "trans_b": True},
     r"a\.T of shape \(3, 2\) and b\.T of shape \(3, 4\)"),
    (np.ones((2, 3), F32), np.ones((3, 4), F32), {"out": np.zeros((2, 3), F32)},
     r"argument 'out' must have shape \(2, 4\), got \(2, 3\)"),
    (np.ones((2, 3), F32), np.ones((3, 4), F32), {"out": np.zeros((4, 2), F32).T},
     r"argument 'out' must be C-contiguous"),
    (np.ones((2, 3), F32), np.ones((3, 4), F32), {"out": np.zeros((2, 4), F32)[::-1]},
     r"argument 'out' must be C-contiguous"),
])
def test_bad_shapes_raise_value_error(a, b, kw, match):
    with pytest.raises(ValueError, match=match):
        matmul(a, b, **kw)


def test_read_only_out_raises():
    out = np.zeros((2, 4), F32)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="argument 'out' must be writeable"):
        matmul(np.ones((2, 3), F32), np.ones((3, 4), F32), out=out)


@pytest.mark.parametrize("bad", [np.ones((3, 3), bool), np.ones((3, 3), complex),
                                 np.array([["a"] * 3] * 3), np.empty((3, 3), object), "abc"])
def test_non_numeric_inputs_raise_type_error(bad):
    ok = np.ones((3, 3), F32)
    with pytest.raises(TypeError, match=r"argument 'a' must have a real numeric dtype"):
        matmul(bad, ok)
    with pytest.raises(TypeError, match=r"argument 'b' must have a real numeric dtype"):
        matmul(ok, bad)


@pytest.mark.parametrize("out,match", [
    (np.zeros((2, 4)), "argument 'out' must have dtype float32, got float64"),
    (np.zeros((2, 4), np.int32), "argument 'out' must have dtype float32, got int32"),
    ([[0.0] * 4] * 2, "argument 'out' must be a numpy.ndarray"),
])
def test_bad_out_type_raises_type_error(out, match):
    with pytest.raises(TypeError, match=match):
        matmul(np.ones((2, 3), F32), np.ones((3, 4), F32), out=out)


def test_overlapping_out_raises():
    buf = np.ones((4, 4), F32)
    with pytest.raises(ValueError, match="'out' and 'a' must not share memory"):
        matmul(buf, np.ones((4, 4), F32), out=buf)
    with pytest.raises(ValueError, match="'out' and 'b' must not share memory"):
        matmul(np.ones((4, 4), F32), buf, out=buf)
    with pytest.raises(ValueError, match="'out' and 'a' must not share memory"):
        matmul(buf.T, np.ones((4, 4), F32), out=buf)  # F-order view read in place
    big = np.ones(32, F32)
    with pytest.raises(ValueError, match="'out' and 'b' must not share memory"):
        matmul(np.ones((2, 2), F32), big[:8].reshape(2, 4), out=big[6:14].reshape(2, 4))


def test_private_entry_points_validate():
    ok = np.ones((2, 2), F32)
    with pytest.raises(ValueError, match="argument 'beta' must be 0 when 'out' is None"):
        _core.matmul(ok, ok, beta=1.0)
    with pytest.raises(ValueError, match="argument 'arch' must be a GEMM path"):
        _core._matmul_arch("sse9", ok, ok)
    assert not _core._gemm_arch_supported("sse9")
    assert _core._gemm_arch_supported("reference") and _core._gemm_arch_supported("scalar")


# ---- dispatch ----------------------------------------------------------------------------------

def arch_in_subprocess(value: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, FASTNN_ARCH=value)
    code = "import fastnn; print(fastnn.info()['simd'])"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True)


def best_supported() -> str:
    for name in ("avx512", "avx2"):
        if _core._gemm_arch_supported(name):
            return name
    return "scalar"


def cpuinfo_flags() -> set[str] | None:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return None


def test_cpu_features_match_the_kernel_and_cpuinfo():
    features = _core._cpu_features()
    built = _core.build_info()["x86_simd_kernels"]  # False: the portable build (.ci/portable)
    assert (features["avx2_fma"] and built) == _core._gemm_arch_supported("avx2")
    assert not (features["avx512"] and not features["avx2_fma"])
    flags = cpuinfo_flags()
    if flags is None:
        pytest.skip("no /proc/cpuinfo")
    # Linux lists a feature only when the OS also enables its register state.
    assert features["avx2_fma"] == ({"avx2", "fma"} <= flags)
    assert features["avx512"] == ({"avx512f", "avx512dq", "avx512bw", "avx512vl"} <= flags)


def test_default_arch_is_best_supported():
    if "FASTNN_ARCH" in os.environ:
        pytest.skip("FASTNN_ARCH is set for this run")
    assert fn.info()["simd"] == best_supported()


@pytest.mark.parametrize("value", ["scalar", "avx2", "avx512", "avx512emu", "nonsense"])
def test_fastnn_arch_override(value):
    r = arch_in_subprocess(value)
    honoured = value == "scalar" or (value != "nonsense" and _core._gemm_arch_supported(value))
    expected = value if honoured else best_supported()
    assert r.stdout.strip() == expected
    assert ("RuntimeWarning" in r.stderr) == (not honoured)


@pytest.mark.parametrize("native, emulated", [("avx512", "avx512emu"),
                                              ("avx512x64", "avx512emux64")])
def test_avx512_and_its_emulation_are_bit_identical(native, emulated, rng):
    """Each 16-lane kernel gives the same bits natively (zmm) and as ymm pairs: one
    source, same tile, same operations (ukernel_tile.h). Edge tiles, K blocks, alpha/beta."""
    if not _core._gemm_arch_supported(native):
        pytest.skip(f"this CPU has no AVX-512; {emulated} is checked against the reference")
    for (M, N, K), (ta, tb) in zip([(9, 49, 385), (130, 100, 70), (8, 48, 3), (225, 4081, 2),
                                    (7, 65, 390)], TRANS + [(False, False)]):
        a, b = operands(rng, M, N, K, ta, tb)
        c0 = rng.standard_normal((M, N)).astype(np.float32)
        outs = [c0.copy(), c0.copy()]
        for path, out in zip((native, emulated), outs):
            _core._matmul_arch(path, a, b, ta, tb, out, 1.5, -0.5)
        np.testing.assert_array_equal(outs[0], outs[1])


TALL_CHECK = """
import hashlib, json, numpy as np, fastnn as fn
from fastnn import _core
rng = np.random.default_rng(2)
out = {}
for row, tall in (("avx512emu", "avx512emux64"), ("avx512", "avx512x64")):
    if not _core._gemm_arch_supported(tall):
        continue
    for (M, N, K, ta, tb) in [(256, 784, 512, False, False), (300, 530, 70, False, True),
                              (129, 97, 841, True, False), (17, 1000, 33, True, True),
                              (700, 900, 70, False, False), (5, 63, 1000, False, True)]:
        a = rng.standard_normal((K, M) if ta else (M, K)).astype(np.float32)
        b = rng.standard_normal((N, K) if tb else (K, N)).astype(np.float32)
        c0 = rng.standard_normal((M, N)).astype(np.float32)
        bias = rng.standard_normal(N).astype(np.float32)
        digests = set()
        for path in (row, tall):
            for n in (1, 2, 3):
                fn.set_num_threads(n)
                c = c0.copy()
                _core._matmul_arch(path, a, b, ta, tb, c, 0.5, 1.5, bias=bias,
                                   activation=_core.Activation.relu)
                digests.add(hashlib.sha256(c.tobytes()).hexdigest())
        out[f"{row} {M}x{N}x{K}"] = len(digests)
print(json.dumps(out))
"""


# Both cache sets give the two tiles the same kc, as the dispatch requires before it uses
# the tall tile: 384 with 48K,2M,32M, 64 with 4K,64K,1M (8 x 48: the A micro-panel in half
# of L1d; 6 x 64: the B micro-panel in a quarter of L2). A CPU's own caches need not (a
# 256 KiB L2 gives 6 x 64 kc 256), so they are not used here.
@pytest.mark.parametrize("caches", ["48K,2M,32M", "4K,64K,1M"])
def test_the_tall_tile_gives_the_8x48_tiles_bits(caches):
    """The dispatch may run a tall product on the 6 x 64 tile (Intel CPUs,
    dispatched_arch): that must never change a result. The two tiles do the same FMAs in
    the same order over the same K blocks, so every product (edge tiles, several K
    blocks, beta and the fused bias + ReLU, 1 to 3 threads, shared A and shared B)
    has the same bits on both, with server-sized caches and with small ones."""
    if not _core._gemm_arch_supported("avx512emux64"):
        pytest.skip("no AVX2: the 16-lane kernels do not run here")
    env = dict(os.environ, FASTNN_PARALLEL_THRESHOLDS="1,1", FASTNN_CACHE_SIZES=caches)
    r = subprocess.run([sys.executable, "-c", TALL_CHECK], env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    counts = json.loads(r.stdout)
    assert len(counts) == (12 if _core._gemm_arch_supported("avx512x64") else 6)
    assert all(n == 1 for n in counts.values()), counts


def cpu_vendor() -> str | None:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("vendor_id"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


@pytest.mark.parametrize("value", [None, "avx512emu", "avx2"])
def test_the_tall_tile_is_offered_on_intel_16_lane_paths_only(value):
    """fn.info()["gemm_blocking"]["tall"]: the 6 x 64 tile for products of 256 rows and
    more where the path is avx512 or avx512emu and the CPU is Intel's, otherwise None."""
    vendor = cpu_vendor()
    if vendor is None:
        pytest.skip("no /proc/cpuinfo")
    assert _core._cpu_features()["intel"] == (vendor == "GenuineIntel")
    env = dict(os.environ)
    env.pop("FASTNN_ARCH", None)
    env.pop("FASTNN_CACHE_SIZES", None)
    if value is not None:
        env["FASTNN_ARCH"] = value
    code = ("import json, fastnn as fn; i = fn.info(); "
            "print(json.dumps([i['simd'], i['gemm_blocking']]))")
    r = subprocess.run([sys.executable, "-W", "ignore", "-c", code], env=env,
                       capture_output=True, text=True, check=True)
    simd, blocking = json.loads(r.stdout)
    # The tall tile needs the 8 x 48 tile's kc: 384 for both unless L1d or L2 is small
    # (derive_blocking: 6 x 64's B micro-panel, kc x 64 floats, in a quarter of L2).
    same_kc = blocking["kc"] == 384 and (blocking["l2"] == 0 or blocking["l2"] >= 384 * 1024)
    offered = vendor == "GenuineIntel" and simd in ("avx512", "avx512emu") and same_kc
    assert blocking["tall"] == ({"mr": 6, "nr": 64, "min_rows": 256} if offered else None)


# ---- PyTorch cross-check ----------------------------------------------------------------------

@pytest.mark.parametrize("ta,tb", TRANS, ids=TRANS_IDS)
def test_matches_torch(ta, tb, rng):
    torch = pytest.importorskip("torch")
    a, b = operands(rng, 70, 90, 300, ta, tb)
    ta_, tb_ = torch.from_numpy(a), torch.from_numpy(b)
    expected = (ta_.T if ta else ta_) @ (tb_.T if tb else tb_)
    np.testing.assert_allclose(matmul(a, b, trans_a=ta, trans_b=tb), expected.numpy(),
                               rtol=1e-4, atol=1e-4)


# ---- cache-aware blocking ---------------------------------------------------------------------

def test_blocking_is_reported_and_sane():
    bl = fn.info()["gemm_blocking"]
    mr, nr, mc, kc, nc = (bl[k] for k in ("mr", "nr", "mc", "kc", "nc"))
    assert mc % mr == 0 and nc % nr == 0 and mc >= mr and nc >= nr and kc >= 16 and kc % 8 == 0
    assert bl["cache_source"] in ("cpuid", "sysfs", "env", "none")
    if bl["cache_source"] != "none":
        assert bl["l1d"] >= 1024 and bl["l2"] >= bl["l1d"]
        # The A block fits half of L2 (unless one panel is already larger).
        assert mc * kc * 4 <= bl["l2"] // 2 or mc == mr
        if bl["l3"] > 0:
            assert kc * nc * 4 <= bl["l3"] // 2 or nc == nr


@pytest.mark.parametrize("l1d,kc", [(16, 128), (32, 256), (48, 384), (64, 384)])
def test_avx2_kc_keeps_the_b_micro_panel_in_half_of_l1d(l1d, kc):
    """The avx2 path's B micro-panel (kc x 16 floats) stays in half of L1d, up to the
    table's kc 384: 256 on Zen 3 and Haswell (32 KiB), 384 with a 48 KiB L1d."""
    if not _core._gemm_arch_supported("avx2"):
        pytest.skip("no AVX2 kernel on this CPU or build")
    env = dict(os.environ, FASTNN_ARCH="avx2", FASTNN_CACHE_SIZES=f"{l1d}K,1M,32M")
    code = "import json, fastnn as fn; print(json.dumps(fn.info()['gemm_blocking']))"
    r = subprocess.run([sys.executable, "-W", "ignore", "-c", code], env=env,
                       capture_output=True, text=True, check=True)
    bl = json.loads(r.stdout)
    assert (bl["mr"], bl["nr"], bl["kc"]) == (6, 16, kc)
    assert bl["kc"] * bl["nr"] * 4 <= l1d * 1024 // 2
    assert bl["mc"] * bl["kc"] * 4 <= 1024 * 1024 // 2


SMALL_CACHE_CHECK = """
import numpy as np, fastnn as fn
from fastnn import _core
print(fn.info()["gemm_blocking"])
rng = np.random.default_rng(0)
worst = 0.0
for path in [p for p in ("scalar", "avx2", "avx512emu", "avx512", "avx512emux64", "avx512x64")
             if _core._gemm_arch_supported(p)]:
    for threads in (1, 2):
        fn.set_num_threads(threads)
        for (M, N, K, ta, tb) in [(300, 530, 70, False, True), (129, 97, 41, True, False),
                                  (17, 1000, 33, False, False)]:
            a = rng.standard_normal((K, M) if ta else (M, K)).astype(np.float32)
            b = rng.standard_normal((N, K) if tb else (K, N)).astype(np.float32)
            ref = (a.T if ta else a).astype(np.float64) @ (b.T if tb else b).astype(np.float64)
            got = _core._matmul_arch(path, a, b, ta, tb)
            worst = max(worst, float(np.abs(got - ref).max() / np.sqrt(K)))
            # Many (jc, pc) blocks: every thread count gives the same bits.
            for n in (2, 3, 5):
                fn.set_num_threads(n)
                same = np.array_equal(_core._matmul_arch(path, a, b, ta, tb), got)
                worst = worst if same else float("inf")
            fn.set_num_threads(threads)
print("worst", worst)
"""


def test_forced_small_caches_give_small_blocks_and_correct_products():
    """FASTNN_CACHE_SIZES stands in for a CPU with tiny caches: the blocks shrink (several
    K, M and N blocks even for small shapes) and every path still computes the product,
    bit-identically at 1, 2, 3 and 5 threads (many shared-B blocks and barriers)."""
    env = dict(os.environ, FASTNN_CACHE_SIZES="4K,16K,64K")
    r = subprocess.run([sys.executable, "-c", SMALL_CACHE_CHECK], env=env, capture_output=True,
                       text=True, check=True)
    first, last = r.stdout.strip().splitlines()[0], r.stdout.strip().splitlines()[-1]
    bl = ast.literal_eval(first)
    assert bl["cache_source"] == "env" and (bl["l1d"], bl["l2"], bl["l3"]) == (4096, 16384, 65536)
    assert bl["kc"] <= 128  # the A micro-panel (mr >= 4 rows) in half of the 4 KiB L1d
    assert bl["mc"] * bl["kc"] * 4 <= 8192 or bl["mc"] == bl["mr"]
    assert float(last.split()[1]) < 1e-4


SHARE_CHECK = """
import hashlib, numpy as np, fastnn as fn
from fastnn import _core
rng = np.random.default_rng(0)
digest = hashlib.sha256()
for path in [p for p in ("scalar", "avx2", "avx512emu", "avx512", "avx512emux64", "avx512x64")
             if _core._gemm_arch_supported(p)]:
    # M <= mc (A can be shared): wide and narrow C, edge tiles, one and several K blocks,
    # row units (few B panels); then M > mc (B is always shared).
    for (M, N, K, ta, tb) in [(128, 784, 512, False, False), (128, 512, 784, False, True),
                              (37, 1000, 900, True, True), (200, 100, 300, True, False),
                              (96, 40, 1000, False, True), (700, 900, 70, False, False)]:
        a = rng.standard_normal((K, M) if ta else (M, K)).astype(np.float32)
        b = rng.standard_normal((N, K) if tb else (K, N)).astype(np.float32)
        c0 = rng.standard_normal((M, N)).astype(np.float32)
        bias = rng.standard_normal(N).astype(np.float32)
        for n in (1, 2, 3, 5, 16):
            fn.set_num_threads(n)
            out = c0.copy()
            _core._matmul_arch(path, a, b, ta, tb, out, 0.5, 1.5, bias=bias,
                               activation=_core.Activation.relu)
            digest.update(out.tobytes())
print(digest.hexdigest())
"""


def test_shared_a_and_shared_b_threading_give_the_same_bits():
    """The team shares A (few rows, wide C) or B (FASTNN_GEMM_SHARE=a|b forces one where
    both apply): every path gives the same bits with either, at 1 to 16 threads, with
    small caches (many K blocks and small mc) and with this CPU's (the K blocks, hence
    the bits, differ between those two)."""
    for caches in (None, "4K,64K,1M"):
        outs = set()
        for share in (None, "a", "b"):
            env = dict(os.environ, FASTNN_PARALLEL_THRESHOLDS="1,1")
            env.pop("FASTNN_GEMM_SHARE", None)
            if share is not None:
                env["FASTNN_GEMM_SHARE"] = share
            if caches is not None:
                env["FASTNN_CACHE_SIZES"] = caches
            r = subprocess.run([sys.executable, "-c", SHARE_CHECK], env=env, capture_output=True,
                               text=True, timeout=300)
            assert r.returncode == 0, r.stderr
            outs.add(r.stdout.strip())
        assert len(outs) == 1, (caches, outs)


BIG_TEAM_CHECK = """
import hashlib, numpy as np, fastnn as fn
from fastnn import _core
rng = np.random.default_rng(3)
out = []
for (M, N, K, ta, tb) in [(128, 784, 900, False, True), (700, 900, 500, True, False)]:
    a = rng.standard_normal((K, M) if ta else (M, K)).astype(np.float32)
    b = rng.standard_normal((N, K) if tb else (K, N)).astype(np.float32)
    digests = set()
    for n in (1, 2, 64, 65, 130):
        fn.set_num_threads(n)
        digests.add(hashlib.sha256(fn.matmul(a, b, trans_a=ta, trans_b=tb).tobytes()).hexdigest())
    out.append(len(digests))
print(out)
"""


def test_teams_larger_than_the_work_ranges_give_the_same_bits():
    """Work units go out by affinity (cpp/src/gemm/blocked.cpp, Team): one range per
    thread up to 64 ranges, beyond that threads share a range, and every thread then
    takes from the back of the others'. Shared A and shared B products (several K blocks)
    at 1, 2, 64, 65 and 130 threads on this machine's CPUs: the same bits."""
    env = dict(os.environ, FASTNN_PARALLEL_THRESHOLDS="1,1", FASTNN_CPU_LIMIT="0",
               FASTNN_CACHE_SIZES="32K,256K,8M")
    r = subprocess.run([sys.executable, "-c", BIG_TEAM_CHECK], env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[1, 1]", r.stdout


@pytest.mark.parametrize("value, warned", [("4K,16K,64K", False), ("32K,1M", True),
                                           ("big,1M,8M", True), ("", False)])
def test_malformed_cache_sizes_warn_and_keep_the_detected_ones(value, warned):
    env = dict(os.environ, FASTNN_CACHE_SIZES=value)
    code = "import fastnn as fn; print(fn.info()['gemm_blocking']['cache_source'])"
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                       check=True)
    assert (r.stdout.strip() == "env") == (value == "4K,16K,64K")
    assert (f"RuntimeWarning: FASTNN_CACHE_SIZES='{value}' is not" in r.stderr) == warned, r.stderr


def test_matmul_flag_and_tensor_out_errors_name_the_argument():
    a = np.ones((2, 3), np.float32)
    with pytest.raises(TypeError, match="argument 'trans_a' must be a bool, got str"):
        fn.matmul(a, a, trans_a="yes")
    with pytest.raises(ValueError, match=r"argument 'out' must have shape \(2, 2\), got \(3, 3\)"):
        fn.matmul(fn.tensor(a), a.T, out=np.empty((3, 3), np.float32))
    with pytest.raises(TypeError, match="argument 'out' must be a Tensor or numpy.ndarray"):
        fn.matmul(fn.tensor(a), a.T, out=[1])
    assert fn.matmul(a, a, trans_b=np.bool_(True)).shape == (2, 2)
    assert fn.matmul(fn.tensor(a), a, trans_b=1).shape == (2, 2)


@pytest.mark.parametrize("path", PATHS)
def test_nothing_is_written_past_the_output(path, rng):
    # a micro-kernel edge writing one row past C was caught only by glibc's heap check
    # (test audit, mutation M1): here the two rows after C are a guard band
    if not supported(path):
        pytest.skip(f"{path} not supported on this CPU")
    for M, N, K in [(7, 17, 31), (150, 40, 300), (9, 49, 3), (3, 7, 9), (17, 33, 5)]:
        for ta, tb in itertools.product((False, True), repeat=2):
            a, b = operands(rng, M, N, K, ta, tb)
            big = np.full((M + 2, N), 12345.0, np.float32)
            out = big[:M]  # C-contiguous rows; the two after it are the guard band
            run(path, a, b, ta, tb, out)
            assert (big[M:] == 12345.0).all(), (M, N, K, ta, tb)


# ---- one column of C (N == 1): the gemv path and the transposed product --------------------

GEMV_PATHS = ["dispatch", "avx2", "avx512emu", "avx512emux64", "avx512", "avx512x64", "scalar"]


@pytest.mark.parametrize("path", GEMV_PATHS)
@pytest.mark.parametrize("ta,tb", TRANS, ids=TRANS_IDS)
@pytest.mark.parametrize("N", [1, 2, 3, 4])
def test_one_to_four_column_products(path, N, ta, tb, rng):
    """x @ w.T with w of shape (N, K) and every other product with N <= 4 (gemv_tile.h for a
    row-major op(A) deep enough: K >= 32 N; C^T = op(B)^T op(A)^T for a transposed one): K
    tails around the 16 lanes and the depth rule, M around the row groups, alpha and beta."""
    if not supported(path):
        pytest.skip(f"{path} does not run on this CPU")
    depths = [1, 2, 15, 16, 17, 33, 390] + [32 * N - 1, 32 * N, 32 * N + 1, 32 * N + 16]
    for M, K in itertools.product([1, 2, 3, 4, 5, 9, 130], sorted(set(depths))):
        a, b = operands(rng, M, N, K, ta, tb)
        check(run(path, a, b, ta, tb), a, b, ta, tb)
        c0 = rng.standard_normal((M, N)).astype(np.float32)
        out = c0.copy()
        run(path, a, b, ta, tb, out, 1.5, -0.5)
        check(out, a, b, ta, tb, 1.5, -0.5, c0)


@pytest.mark.parametrize("N", [1, 2, 3, 4])
def test_one_to_four_column_products_are_the_same_bits_for_every_row_split_and_form(N, rng):
    """A row's result depends on its own values only: alone or in a batch of any size, at 1
    to 3 threads; the 16-lane forms (zmm, ymm pairs, both tiles) agree bit for bit."""
    forms = [p for p in ("avx512", "avx512x64", "avx512emu", "avx512emux64", "avx2")
             if supported(p)]
    env_threads = fn.get_num_threads()
    try:
        for M, K, ta, tb in [(300, 784, False, True), (257, 33, False, False),
                             (300, 100, True, False), (64, 4097, False, True),
                             (257, 128, False, False), (6, 200, True, True),
                             (1500, 1000, False, True)]:  # 1.5M per column: threaded
            a, b = operands(rng, M, N, K, ta, tb)
            fn.set_num_threads(1)
            whole = run("dispatch", a, b, ta, tb)
            for t in (2, 3):
                fn.set_num_threads(t)
                np.testing.assert_array_equal(run("dispatch", a, b, ta, tb), whole)
            fn.set_num_threads(1)
            for m in (0, 5, M - 1):
                row = a[:, m:m + 1].copy() if ta else a[m:m + 1]
                np.testing.assert_array_equal(run("dispatch", row, b, ta, tb)[0], whole[m])
            outs = [run(p, a, b, ta, tb) for p in forms]
            for p, o in zip(forms, outs):
                np.testing.assert_array_equal(o, outs[0], err_msg=p)
    finally:
        fn.set_num_threads(env_threads)


def test_one_column_with_a_strided_vector_and_a_linear_head(rng):
    """op(B) a column of a wider array (copied into a contiguous vector) and Linear(K, 1):
    the bias epilogue after the gemv, forward and backward against float64."""
    a = rng.standard_normal((50, 40)).astype(np.float32)
    wide = rng.standard_normal((40, 3)).astype(np.float32)
    check(matmul(a, wide[:, 1:2]), a, wide[:, 1:2], False, False)
    lin = fn.nn.Linear(40, 1)
    x = rng.standard_normal((33, 40)).astype(np.float32)
    w, bias = lin.weight.data.astype(np.float64), lin.bias.data.astype(np.float64)
    np.testing.assert_allclose(lin(x), x.astype(np.float64) @ w.T + bias, rtol=1e-5, atol=1e-5)
    g = rng.standard_normal((33, 1)).astype(np.float32)
    lin.zero_grad()
    dx = lin.backward(g)
    np.testing.assert_allclose(dx, g.astype(np.float64) @ w, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(lin.weight.grad, g.T.astype(np.float64) @ x, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("path", GEMV_PATHS)
@pytest.mark.parametrize("tb", [False, True], ids=["tb0", "tb1"])
def test_narrow_products_with_a_transposed_a_give_the_direct_products_bits(path, tb, rng):
    """C with fewer columns than a vector has lanes and op(A) = A^T runs as C^T = op(B)^T A
    (blocked.cpp: run_transposed): every element must get the bits the direct product
    gives it, which a product with the same op(A) and more columns of op(B) still takes.
    N around the 8 and 16 lanes, K over several K blocks, alpha / beta, the bias and ReLU
    epilogue, 1 and 2 threads (the largest product is split)."""
    if not supported(path):
        pytest.skip(f"{path} does not run on this CPU")
    env_threads = fn.get_num_threads()
    try:
        for threads in (1, 2):
            fn.set_num_threads(threads)
            for M, N, K in [(3, 2, 17), (9, 7, 1), (33, 8, 390), (130, 15, 800), (300, 3, 64),
                            (20, 16, 100), (60, 17, 33), (3000, 7, 800)]:
                a, wide = operands(rng, M, N + 48, K, True, tb)
                b = np.ascontiguousarray(wide[:N] if tb else wide[:, :N])
                full = run(path, a, wide, True, tb)
                np.testing.assert_array_equal(run(path, a, b, True, tb), full[:, :N])
                c0 = rng.standard_normal((M, N + 48)).astype(np.float32)
                out_full, out = c0.copy(), np.ascontiguousarray(c0[:, :N])
                run(path, a, wide, True, tb, out_full, 1.5, -0.5)
                run(path, a, b, True, tb, out, 1.5, -0.5)
                np.testing.assert_array_equal(out, out_full[:, :N])
                check(out, a, b, True, tb, 1.5, -0.5, c0[:, :N])
                if path == "dispatch":
                    continue
                bias = rng.standard_normal(N + 48).astype(np.float32)
                kw = dict(bias=bias, activation=_core.Activation.relu)
                out_full, out = np.empty((M, N + 48), np.float32), np.empty((M, N), np.float32)
                _core._matmul_arch(path, a, wide, True, tb, out_full, 1.0, 0.0, **kw)
                _core._matmul_arch(path, a, b, True, tb, out, 1.0, 0.0,
                                   bias=bias[:N].copy(), activation=_core.Activation.relu)
                np.testing.assert_array_equal(out, out_full[:, :N])
    finally:
        fn.set_num_threads(env_threads)


@pytest.mark.parametrize("tall", [False, True], ids=["8x48", "6x64"])
def test_few_rows_times_a_transposed_w_give_the_blocked_paths_bits(tall, rng):
    """op(A) @ W^T for 1 to 8 rows of op(A) (x or a transposed A) reads W in place,
    transposing it in registers (few_rows_avx512.cpp) where the native avx512 rows run it:
    each element must get the bits of the packed path, which the emulated 16-lane row
    (avx512emu, the same K blocks and FMAs) and a batch of many rows still take. N around
    the 16-column groups, K around the 16-value steps and over several K blocks, alpha /
    beta, 1 and 2 threads."""
    native, emulated = ("avx512x64", "avx512emux64") if tall else ("avx512", "avx512emu")
    if not (supported(native) and supported(emulated)):
        pytest.skip("needs AVX-512")
    env_threads = fn.get_num_threads()
    try:
        for threads in (1, 2):
            fn.set_num_threads(threads)
            for M, N, K, ta in itertools.product([1, 2, 3, 4, 5, 8],
                                                 [3, 5, 15, 16, 17, 48, 100],
                                                 [1, 15, 16, 17, 390, 1000], [False, True]):
                a, b = operands(rng, M, N, K, ta, True)
                ref = run(emulated, a, b, ta, True)
                np.testing.assert_array_equal(run(native, a, b, ta, True), ref)
                c0 = rng.standard_normal((M, N)).astype(np.float32)
                out, out_ref = c0.copy(), c0.copy()
                run(native, a, b, ta, True, out, 1.5, -0.5)
                run(emulated, a, b, ta, True, out_ref, 1.5, -0.5)
                np.testing.assert_array_equal(out, out_ref)
                check(out, a, b, ta, True, 1.5, -0.5, c0)
            a, b = operands(rng, 3, 4000, 4096, False, True)  # 49M multiply-adds: threaded
            np.testing.assert_array_equal(run(native, a, b, False, True),
                                          run(emulated, a, b, False, True))
            batch, w = operands(rng, 40, 70, 300, False, True)
            whole = run("dispatch", batch, w, False, True)
            for m in range(4):
                np.testing.assert_array_equal(run("dispatch", batch[m:m + 1], w, False, True)[0],
                                              whole[m])
            np.testing.assert_array_equal(run("dispatch", batch[3:10], w, False, True),
                                          whole[3:10])
    finally:
        fn.set_num_threads(env_threads)


def rows_match_their_batch(path, rng, M, N, K, ta, tb):
    """M rows of op(A) times op(B) (op(A) stored transposed when ta), with alpha 1.5 and
    beta -0.5: the bits of the same rows in a batch of 12 (the blocked path's tiles) and the
    float64 product's value. Returns the rows' A, the batch's and B as passed."""
    rows = rng.standard_normal((M, K)).astype(np.float32)
    batch = np.concatenate([rows, rng.standard_normal((12 - M, K)).astype(np.float32)])
    a = rows.T.copy() if ta else rows
    big = batch.T.copy() if ta else batch
    b = rng.standard_normal((N, K) if tb else (K, N)).astype(np.float32)
    c0 = rng.standard_normal((12, N)).astype(np.float32)
    out, whole = c0[:M].copy(), c0.copy()
    run(path, a, b, ta, tb, out, 1.5, -0.5)
    run(path, big, b, ta, tb, whole, 1.5, -0.5)
    np.testing.assert_array_equal(out, whole[:M], err_msg=f"{M}x{N}x{K} ta={ta} tb={tb}")
    check(out, a, b, ta, tb, 1.5, -0.5, c0[:M])
    return a, big, b


def test_few_rows_times_a_transposed_w_are_the_rows_of_a_batch(path, rng):
    """op(A) @ W^T for 1 to 8 rows of op(A) (x or a transposed A), W row-major: the native
    avx512 rows and the avx2 row read W in place and transpose it in registers
    (few_rows_avx512.cpp, few_rows_avx2.cpp); each row must get the bits it gets in a batch
    of 12 rows (the packed blocked path), with alpha / beta, at 1 and 2 threads, N around
    the 8- and 16-column groups (one or two rows: two groups at a time on the avx2 row),
    K around the 8- and 16-value steps, over K blocks and at 1024 (W's rows 4 KiB apart:
    one 8-column group at a time, which the avx512 rows then run too for one or two rows)."""
    env_threads = fn.get_num_threads()
    try:
        for threads in (1, 2):
            fn.set_num_threads(threads)
            cases = list(itertools.product([1, 2, 5, 8], [3, 7, 8, 9, 16, 17, 100],
                                           [1, 7, 8, 9, 17, 390, 1000, 1024]))
            if threads == 2:  # 49M and 16M multiply-adds: threaded
                cases += [(3, 4000, 4096), (2, 8000, 1001)]
            for (M, N, K), ta in itertools.product(cases, [False, True]):
                rows_match_their_batch(path, rng, M, N, K, ta, True)
    finally:
        fn.set_num_threads(env_threads)


# Rows of op(A) x columns x depth for the streamed path (stream_rows_tile.h): one row over
# N around the vector widths and its 4096-column accumulator chunk, K around its four-row
# steps and over several K blocks; two to four rows over a B of 2^20 floats or more, N
# around their chunks (2048, 1360, 1024 columns).
STREAM_CASES = ([(1, n, k) for n in (5, 16, 17, 100, 4095, 4097) for k in (1, 3, 4, 5, 390, 1001)]
                + [(2, 2049, 513), (3, 1361, 771), (3, 1359, 775), (4, 1025, 1023),
                   (4, 1023, 1027), (2, 4100, 256)])


def test_few_rows_times_a_row_major_b_give_the_blocked_paths_bits(path, rng):
    """op(A) @ B for one to four rows of op(A) (either layout) with B row-major streams B
    along its rows (one row always, two to four over a B of 2^20 floats or more): each row
    must get the bits it gets in a batch of 12 rows (the blocked path's register tiles),
    with alpha / beta and the bias + ReLU epilogue, at 1 and 2 threads (a 17M
    multiply-add product: threaded), and the float64 product's value."""
    env_threads = fn.get_num_threads()
    try:
        for threads in (1, 2):
            fn.set_num_threads(threads)
            cases = STREAM_CASES + ([(4, 4097, 1025)] if threads == 2 else [])
            for (M, N, K), ta in itertools.product(cases, [False, True]):
                a, big, b = rows_match_their_batch(path, rng, M, N, K, ta, False)
                if path == "dispatch":  # the fused epilogue is reached by a named path only
                    continue
                bias = rng.standard_normal(N).astype(np.float32)
                fused = [_core._matmul_arch(path, x, b, ta, False, bias=bias,
                                            activation=_core.Activation.relu) for x in (a, big)]
                np.testing.assert_array_equal(fused[0], fused[1][:M])
                np.testing.assert_array_equal(fused[0], np.maximum(run(path, a, b, ta) + bias, 0))
    finally:
        fn.set_num_threads(env_threads)
