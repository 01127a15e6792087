"""fastnn bench: the kernel cases, the per-process train-step and GEMM suites, the CLI.

Kernels: every case runs (quick mode) with fastnn and NumPy agreeing; the table
format. Train step: the NumPy baseline MLP computes what fastnn's step computes
(loss, gradients, Adam updates), the worker protocol, interleaving, the tables.
No timing assertions: only that each case runs, is checked, and is reported.
"""

from __future__ import annotations

import io
import json
import math
import os
import sys

import numpy as np
import pytest

import fastnn as fn
from fastnn import _bench_gemm, _bench_proc, _bench_train, bench, cli
from fastnn.bench import CASES, Case, Pair, Row


def test_quick_run_covers_every_case(num_threads):
    stream = io.StringIO()
    rows = bench.run(quick=True, threads=num_threads, repeat=1, stream=stream)
    assert [r.case for r in rows] == list(CASES)
    for row in rows:
        assert row.threads == num_threads
        assert row.size == CASES[row.case].size
        assert math.isfinite(row.fastnn_s) and row.fastnn_s > 0
        assert math.isfinite(row.numpy_s) and row.numpy_s > 0
        assert (row.fastnn_gflops is None) == (CASES[row.case].flops is None)
    assert stream.getvalue().count("\n") == len(CASES)
    assert f"[{len(CASES)}/{len(CASES)}] train_step" in stream.getvalue()


def test_required_cases_present():
    groups = {name.split(".")[0] for name in CASES}
    assert groups == {"matmul", "linear", "activation", "cross_entropy", "adam", "dropout",
                      "train_step"}
    sizes = {c.size for c in CASES.values()}
    assert {"128x784 @ 784x512", "512x512 @ 512x512", "128x10 fwd+bwd",
            "128x1000 fwd+bwd"} <= sizes
    assert {"activation.relu", "activation.sigmoid", "activation.tanh",
            "activation.gelu", "linear.forward", "linear.backward"} <= set(CASES)
    flopped = {name for name, c in CASES.items() if c.flops is not None}
    assert flopped == {n for n in CASES if n.startswith(("matmul.", "linear.", "train_step"))}


def test_run_restores_thread_count():
    before = fn.get_num_threads()
    other = 1 if before != 1 else 2
    rows = bench.run(quick=True, threads=other, repeat=1, cases=["activation.relu"])
    assert rows[0].threads == other
    assert fn.get_num_threads() == before
    assert bench.run(quick=True, repeat=1, cases=["adam"])[0].threads == before


def test_select_cases_by_group_and_name():
    assert [c.name for c in bench.select_cases(["matmul"])] == [
        "matmul.mlp", "matmul.mlp_nt", "matmul.512", "matmul.1024"]
    # table order, no duplicates, whatever the order asked
    assert [c.name for c in bench.select_cases(["adam", "activation.tanh", "adam"])] == [
        "activation.tanh", "adam"]
    assert bench.select_cases(None) == list(CASES.values())


@pytest.mark.parametrize("name", ["nope", "matmul.", "mat", "activation.softplus"])
def test_unknown_case_raises(name):
    with pytest.raises(ValueError, match=r"bench: unknown case .*choose from groups"):
        bench.run(quick=True, cases=[name])


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"threads": 0}, ValueError, "'threads' must be >= 1"),
    ({"threads": 1.5}, TypeError, "'threads' must be an int"),
    ({"repeat": 0}, ValueError, "'repeat' must be >= 1"),
    ({"repeat": "3"}, TypeError, "'repeat' must be an int"),
])
def test_bad_arguments_raise(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        bench.run(quick=True, cases=["adam"], **kwargs)


def test_mismatch_raises(monkeypatch):
    wrong = Case("broken", "3", lambda rng: Pair(lambda: (np.ones(3, np.float32),),
                                                 lambda: (np.full(3, 1.01, np.float32),),
                                                 tol=1e-3))
    monkeypatch.setitem(CASES, "broken", wrong)
    with pytest.raises(RuntimeError, match=r"case 'broken': fastnn and NumPy disagree on output 0 "
                                           r"\(max abs difference 0.01, largest \|value\| 1.01, "
                                           r"tol=0.001\)"):
        bench.run(quick=True, cases=["broken"])


@pytest.mark.parametrize("name", [n for n in CASES if n != "dropout"])
def test_each_check_catches_a_one_percent_error(name, rng):
    pair = CASES[name].build(rng)
    counts = []

    def skewed_numpy():  # the last output (for train_step, the last updated weight) 1 % off
        outs = pair.numpy()
        counts.append(len(outs))
        return (*outs[:-1], outs[-1] * 1.01)

    with pytest.raises(RuntimeError, match=f"case '{name}': fastnn and NumPy disagree") as err:
        Pair(pair.fastnn, skewed_numpy, tol=pair.tol).verify(name)
    assert f"on output {counts[0] - 1} " in str(err.value)


def test_dropout_check_rejects_wrong_work(rng):
    pair = CASES["dropout"].build(rng)
    ours, theirs = pair.fastnn(), pair.numpy()
    pair.check(ours, theirs)  # the real outputs pass
    with pytest.raises(RuntimeError, match="numpy kept elements are not x / \\(1 - p\\)"):
        pair.check(ours, (theirs[0] * 0.5,))
    fewer = theirs[0].copy()
    fewer[:64] = 0.0  # drop half of the rows: about a quarter of the elements kept
    with pytest.raises(RuntimeError, match=r"numpy kept 0\.2\d{3} of the elements, expected 0.5"):
        pair.check(ours, (fewer,))


def test_time_pair_interleaves_and_counts_calls():
    calls: list[str] = []
    pair = Pair(lambda: calls.append("f") or (), lambda: calls.append("n") or ())
    fastnn_s, numpy_s = bench._time_pair(pair, repeat=4, quick=True)
    assert calls == ["f", "n", "n", "f", "f", "n", "n", "f"]
    assert fastnn_s >= 0 and numpy_s >= 0


@pytest.mark.parametrize("threads", [1, 2])
def test_time_pair_settles_before_each_multithreaded_loop(monkeypatch, threads):
    """At several threads each timed loop follows a pause (the other side's idle pool
    threads stop spinning) and one untimed call; at one thread neither."""
    events: list[str] = []
    monkeypatch.setattr(bench.time, "sleep", lambda s: events.append(f"sleep {s}"))
    monkeypatch.setattr(bench, "_calls_per_loop", lambda f, target: 1)

    def loop(f, number):
        events.append("timed")
        f()
        return 1.0

    monkeypatch.setattr(bench, "_loop", loop)
    pair = Pair(lambda: events.append("f") or (), lambda: events.append("n") or ())
    bench._time_pair(pair, repeat=2, quick=False, threads=threads)
    pause = [f"sleep {bench.SETTLE_S}"] if threads > 1 else []
    untimed_f, untimed_n = (["f"], ["n"]) if threads > 1 else ([], [])
    assert events == (["f", "n"]  # warm-up before calibration
                      + pause + untimed_f + ["timed", "f"] + pause + untimed_n + ["timed", "n"]
                      + pause + untimed_n + ["timed", "n"] + pause + untimed_f + ["timed", "f"])


def test_calls_per_loop_grows_until_measurable():
    calls = [0]

    def f():
        calls[0] += 1
        return ()

    number = bench._calls_per_loop(f, target=1e-4)
    assert number >= 1 and calls[0] >= 1


def test_row_ratio_and_gflops():
    row = Row("matmul.512", "512x512 @ 512x512", 2, fastnn_s=0.002, numpy_s=0.003, flops=4e9)
    assert row.ratio == pytest.approx(1.5)
    assert row.fastnn_gflops == pytest.approx(2000.0)
    assert row.numpy_gflops == pytest.approx(4e9 / 0.003 / 1e9)
    assert Row("adam", "n", 1, 1.0, 1.0).fastnn_gflops is None


def test_format_table_layout(monkeypatch):
    for var in bench.SLOW_ENV:
        monkeypatch.delenv(var, raising=False)
    rows = [Row("matmul.mlp", "128x784 @ 784x512", 2, 250e-6, 500e-6, 2 * 128 * 784 * 512),
            Row("adam", "1,048,576 params", 2, 1.5e-3, 1e-3)]
    text = bench.format_table(rows)
    lines = text.splitlines()
    blank = lines.index("")
    head, table = lines[:blank], lines[blank + 1:]
    assert head[0].startswith(f"fastnn {fn.__version__} (simd {fn.info()['simd']}")
    assert f"NumPy {np.__version__}" in head[0]
    assert head[1].startswith("BLAS: ")
    assert head[2].startswith("threads: 2;")
    assert "ratio = NumPy time / fastnn time" in head[3]
    assert not any("warning" in h for h in head)
    titles, rule, mlp, adam = table
    assert titles.split() == ["case", "size", "threads", "fastnn", "us", "numpy", "us", "ratio",
                              "fastnn", "GF/s", "numpy", "GF/s"]
    assert set(rule) == {"-", " "}
    assert mlp.startswith("matmul.mlp  128x784 @ 784x512")
    assert mlp.split()[-5:] == ["250.0", "500.0", "2.00", "411.0", "205.5"]
    assert adam.split()[-5:] == ["1500.0", "1000.0", "0.67", "-", "-"]
    # right-aligned numeric columns end where their titles end
    for title, cell in (("ratio", "2.00"), ("numpy us", "500.0"), ("numpy GF/s", "205.5")):
        assert titles.index(title) + len(title) == mlp.index(cell) + len(cell)
    assert titles.index("ratio") + len("ratio") == adam.index("0.67") + len("0.67")


def test_format_table_multiple_threads_and_empty():
    rows = [Row("adam", "n", 1, 1.0, 1.0), Row("adam", "n", 2, 1.0, 1.0)]
    assert "threads: 1, 2;" in bench.format_table(rows)
    empty = bench.format_table([])
    assert "threads: -;" in empty and empty.endswith("numpy GF/s\n" + "  ".join(
        "-" * len(t) for t in ("case", "size", "threads", "fastnn us", "numpy us", "ratio",
                               "fastnn GF/s", "numpy GF/s")))


def test_header_warns_about_slow_openblas_env(monkeypatch):
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    monkeypatch.delenv("OPENBLAS_L2_SIZE", raising=False)
    text = bench.format_table([Row("adam", "n", 1, 1.0, 1.0)])
    assert "warning: OPENBLAS_CORETYPE is set" in text
    assert "OPENBLAS_L2_SIZE" not in text


def test_without_threadpoolctl(monkeypatch):
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)  # import raises ImportError
    rows = bench.run(quick=True, threads=1, repeat=1, cases=["matmul.mlp"])
    assert "threadpoolctl not installed: NumPy's BLAS threads are NOT pinned" in \
        bench.format_table(rows)


def test_with_threadpoolctl_names_blas():
    pytest.importorskip("threadpoolctl")
    rows = bench.run(quick=True, threads=1, repeat=1, cases=["matmul.512"])
    blas = bench.format_table(rows).splitlines()[1]
    assert "pinned to the fastnn thread count with threadpoolctl" in blas or \
        blas == "BLAS: no BLAS library found by threadpoolctl"


# ---------------------------------------------------------------------------- train-step suite


class _RecordingAdam:
    """Wraps an optimizer: keeps a copy of the gradients each step() used."""

    def __init__(self, optimizer, params):
        self.optimizer, self.params, self.grads = optimizer, params, []

    def step(self):
        self.grads.append([p.grad.copy() for p in self.params])
        self.optimizer.step()

    def zero_grad(self):
        self.optimizer.zero_grad()


def test_numpy_baseline_matches_fastnn_step(num_threads, rng):
    """Same weights and batch: same loss, gradients and Adam updates, step after step."""
    config = _bench_train.Config("tiny", (6, 9, 7, 4), 5)
    fn.manual_seed(3)
    model = _bench_train.fastnn_model(config)
    params = model.parameters()
    mlp = _bench_train.NumpyMLP([p.data for p in params], config.batch)
    recorder = _RecordingAdam(fn.optim.Adam(params, lr=_bench_train.LR), params)
    x = rng.standard_normal((config.batch, 6)).astype(np.float32)
    labels = rng.integers(0, 4, config.batch)
    step = _bench_train.fastnn_step(model, fn.nn.CrossEntropyLoss(), recorder, x, labels)
    for t in range(3):
        ours, theirs = step(), mlp.step(x, labels)
        assert theirs == pytest.approx(ours, rel=1e-5)
        assert all(not p.grad.any() for p in params)  # the step ends with zero_grad
        for name, a, b in zip(["W1", "b1", "W2", "b2", "W3", "b3"], recorder.grads[t], mlp.grads):
            assert b.any(), name
            np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6, err_msg=f"step {t} d{name}")
        for p, q in zip(params, mlp.params):
            np.testing.assert_allclose(q, p.data, rtol=1e-5, atol=1e-7)


def test_numpy_baseline_gradients_match_float64_reference(rng):
    """Independent of fastnn: the baseline's gradients against float64 finite differences."""
    sizes, n = (4, 5, 3), 6
    params = [rng.standard_normal((5, 4)), rng.standard_normal(5),
              rng.standard_normal((3, 5)), rng.standard_normal(3)]
    x = rng.standard_normal((n, 4)).astype(np.float32)
    labels = rng.integers(0, sizes[-1], n)
    mlp = _bench_train.NumpyMLP(params, n)
    loss = mlp.cross_entropy(mlp.forward(x), labels)
    mlp.backward(x)

    def reference(p):  # float64 loss of the same network
        h = np.maximum(x @ p[0].T + p[1], 0.0)
        z = h @ p[2].T + p[3]
        z = z - z.max(axis=1, keepdims=True)
        return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(n), labels]))

    base = [q.astype(np.float64) for q in mlp.params]
    assert loss == pytest.approx(reference(base), rel=1e-5)
    for i, grad in enumerate(mlp.grads):
        numeric = np.zeros_like(base[i])
        for j in np.ndindex(base[i].shape):
            plus, minus = [q.copy() for q in base], [q.copy() for q in base]
            plus[i][j] += 1e-6
            minus[i][j] -= 1e-6
            numeric[j] = (reference(plus) - reference(minus)) / 2e-6
        np.testing.assert_allclose(grad, numeric, rtol=1e-3, atol=1e-5)


def test_gemm_flops_per_sample():
    # A: forward and dW over all weights, dx for layers 2 and 3 only
    weights = 784 * 512 + 512 * 256 + 256 * 10
    assert _bench_train.CONFIGS["A"].gemm_flops_per_sample == 2.0 * (3 * weights - 784 * 512)
    assert _bench_train.CONFIGS["B"].label == "B: 64-64-10 b32"


@pytest.mark.parametrize("lib", ["fastnn", "numpy", "torch", "torch-fused"])
def test_each_competitor_trains(lib):
    """Every competitor's step on configuration B runs and lowers the loss on its batch."""
    if lib.startswith("torch"):
        pytest.importorskip("torch")
    step = _bench_train.build(lib, _bench_train.CONFIGS["B"])
    values = [step() for _ in range(20)]
    losses = [float(v.detach() if lib.startswith("torch") else v) for v in values]
    assert all(math.isfinite(v) for v in losses)
    assert losses[-1] < 0.9 * losses[0]


def test_fused_hook_follows_fastnn():
    assert _bench_train.fused_step() is fn.nn.TrainStep
    assert _bench_train.unavailable("fastnn-fused") is None
    assert _bench_train.unavailable("numpy") is None


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"configs": ["D"]}, ValueError, r"unknown configuration 'D'; choose from \['A', 'B', 'C'\]"),
    ({"libs": ["jax"]}, ValueError, "unknown library 'jax'"),
    ({"rounds": 0}, ValueError, "'rounds' must be >= 1"),
    ({"threads": []}, ValueError, "'threads' must name at least one"),
    ({"threads": [1, 0]}, ValueError, "'threads' must be >= 1"),
    ({"threads": [1.5]}, TypeError, "'threads' must be an int"),
])
def test_train_run_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        _bench_train.run(**{"configs": ["B"], "libs": ["numpy"], **kwargs})


def test_train_run_per_process_quick():
    stream = io.StringIO()
    rows, skipped = _bench_train.run(configs=["B"], libs=["fastnn", "numpy"], threads=[1, 2],
                                     rounds=2, quick=True, stream=stream)
    assert [(r.config, r.threads, r.lib) for r in rows] == [
        ("B", 1, "fastnn"), ("B", 1, "numpy"), ("B", 2, "fastnn"), ("B", 2, "numpy")]
    for r in rows:
        assert r.seconds > 0 and r.samples_per_s == pytest.approx(32 / r.seconds)
        assert r.maxrss_kib is None or r.maxrss_kib > 1024
    assert skipped == {}
    assert stream.getvalue().count("\n") == 2


def test_train_format_table_ratios_and_ceiling():
    rows = [_bench_train.Row("A", "fastnn", 1, 128 / 2000, None),
            _bench_train.Row("A", "numpy", 1, 128 / 1000, None),
            _bench_train.Row("A", "torch", 1, 128 / 4000, None)]
    lines = _bench_train.format_table(rows, {1: 100.0}).splitlines()
    assert [c.strip() for c in lines[0].strip("|").split("|")] == [
        "config", "threads", "fastnn", "numpy", "torch", "fastnn/numpy", "fastnn/torch",
        "GEMM ceiling", "fastnn % of ceiling"]
    assert lines[1].startswith("|:--") and lines[1].endswith(":|")
    ceiling = 100e9 / _bench_train.CONFIGS["A"].gemm_flops_per_sample
    cells = [c.strip() for c in lines[2].strip("|").split("|")]
    assert cells == ["A: 784-512-256-10 b128", "1", "2,000", "1,000", "4,000", "2.00", "0.50",
                     f"{ceiling:,.0f}", f"{2000 / ceiling:.0%}"]
    assert "GEMM ceiling" not in _bench_train.format_table(rows)


# ---------------------------------------------------------------------------- worker processes


def test_bare_worker_never_loads_fastnn_and_speaks_the_protocol():
    argv = _bench_proc.worker_argv("fastnn._bench_train", ["numpy", "B", "1", "--quick"],
                                   import_fastnn=False)
    proc = _bench_proc._Process(_bench_proc.Worker("numpy", argv, 1))
    try:
        assert proc.receive() == {"loaded": True, "fastnn_core": False}
        assert proc.ask("calibrate") == {"number": 1}
        assert proc.ask("run")["seconds"] > 0
        assert set(proc.ask("quit")) == {"maxrss_kib"}
        assert proc.proc.wait(timeout=30) == 0
    finally:
        proc.close()


def test_interleave_runs_rounds_in_turn(tmp_path):
    log = tmp_path / "calls"
    workers = []
    for label in "ABC":
        code = ("from fastnn._bench_proc import serve\n"
                f"serve(lambda: open({str(log)!r}, 'a').write({label!r}), quick=True)")
        workers.append(_bench_proc.Worker(label, [sys.executable, "-c", code], 1))
    timings = _bench_proc.interleave(workers, rounds=2)
    assert log.read_text() == "ABC" + "ABCABC"  # calibration, then two interleaved rounds
    assert [t.label for t in timings] == ["A", "B", "C"]
    assert all(len(t.seconds) == 2 and t.median > 0 for t in timings)


def test_worker_env_reaches_its_own_process_only(tmp_path):
    log = tmp_path / "env"
    code = ("import os\nfrom fastnn._bench_proc import serve\n"
            f"serve(lambda: open({str(log)!r}, 'a').write(os.environ.get('FASTNN_X', '-')),"
            " quick=True)")
    workers = [_bench_proc.Worker("set", [sys.executable, "-c", code], 1, (("FASTNN_X", "7"),)),
               _bench_proc.Worker("plain", [sys.executable, "-c", code], 1)]
    _bench_proc.interleave(workers, rounds=1)
    assert log.read_text() == "7-" + "7-"
    assert "FASTNN_X" not in os.environ


def test_gemm_blocks_script_asks_for_the_kc_it_labels():
    """benchmarks/gemm_blocks.py sets kc through FASTNN_CACHE_SIZES; fastnn must then
    derive exactly that kc (and keep this machine's L2 and L3)."""
    import importlib.util

    path = os.path.join(os.path.dirname(__file__), os.pardir, "benchmarks", "gemm_blocks.py")
    spec = importlib.util.spec_from_file_location("gemm_blocks", path)
    gemm_blocks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gemm_blocks)
    blocking = fn.info()["gemm_blocking"]
    if not blocking["l2"] or not blocking["l3"]:
        pytest.skip("cache sizes unknown on this machine")
    for kc in (128, 192):
        sizes = gemm_blocks.cache_sizes_for(kc, blocking)
        got = gemm_blocks.blocks_under({"FASTNN_CACHE_SIZES": sizes})
        assert got["kc"] == kc and got["l2"] == blocking["l2"] and got["l3"] == blocking["l3"]
        assert got["mc"] % got["mr"] == 0 and got["mc"] * got["kc"] * 4 <= blocking["l2"] // 2


def test_timing_spread_is_the_slowest_window_over_the_fastest():
    t = _bench_proc.Timing("x", (2.0, 1.0, 4.0, 1.5), None)
    assert t.median == 1.75 and t.spread == 4.0
    assert _bench_proc.Timing("y", (3.0,), None).spread == 1.0


def test_dead_worker_raises_with_its_stderr():
    worker = _bench_proc.Worker("broken", [sys.executable, "-c", "raise SystemExit('boom')"], 1)
    with pytest.raises(RuntimeError, match=r"worker 'broken' exited with status 1 .*\n.*boom"):
        _bench_proc.interleave([worker], rounds=1)


def test_serve_protocol_and_unknown_command():
    calls = []
    out = io.StringIO()
    _bench_proc.serve(lambda: calls.append(1), quick=True,
                      stdin=io.StringIO("calibrate\nrun\nrun\nquit\nrun\n"), stdout=out)
    replies = [json.loads(line[len(_bench_proc.PREFIX):]) for line in out.getvalue().splitlines()]
    assert [sorted(r) for r in replies] == [["fastnn_core", "loaded"], ["number"], ["seconds"],
                                            ["seconds"], ["maxrss_kib"]]
    assert len(calls) == 3  # warm-up, two windows; nothing after quit
    with pytest.raises(ValueError, match="unknown command 'go'"):
        _bench_proc.serve(lambda: None, stdin=io.StringIO("go\n"), stdout=io.StringIO())


def test_serve_warms_each_window_outside_the_timing(monkeypatch):
    """A full-mode window first runs a quarter of its calls untimed (WARM_FRACTION: a
    thread team is slow for tens of milliseconds after a pause), then the timed calls."""
    monkeypatch.setattr(_bench_proc, "calls_per_window", lambda call, window_s: 8)
    calls = []
    _bench_proc.serve(lambda: calls.append(1), stdin=io.StringIO("calibrate\nrun\nquit\n"),
                      stdout=io.StringIO())
    assert len(calls) == _bench_proc.WARMUP_CALLS + int(8 * _bench_proc.WARM_FRACTION) + 8


def test_child_env_pins_threads_and_finds_this_fastnn():
    env = _bench_proc.child_env(3)
    assert all(env[v] == "3" for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                       "MKL_NUM_THREADS"))
    root = os.path.dirname(os.path.dirname(os.path.abspath(fn.__file__)))
    assert env["PYTHONPATH"].split(os.pathsep)[0] == root


# ---------------------------------------------------------------------------- GEMM cases


@pytest.mark.parametrize("lib", ["fastnn", "numpy", "torch"])
@pytest.mark.parametrize("case", [n for n in _bench_gemm.CASES if n not in
                                  ("square1024", "square2048")])
def test_gemm_cases_compute_the_same_product(case, lib):
    if lib == "torch":
        pytest.importorskip("torch")
    spec = _bench_gemm.CASES[case]
    a, b = _bench_gemm.operands(spec)
    expected = (a.T if spec.trans_a else a).astype(np.float64) @ (b.T if spec.trans_b else b)
    result = np.asarray(_bench_gemm.build(lib, spec)())
    assert result.shape == spec.mkn[::2]
    np.testing.assert_allclose(result, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


def test_gemm_case_shapes():
    dw = _bench_gemm.CASES["mlp_dW"]
    assert dw.mkn == (512, 128, 784) and dw.label == "128x512^T @ 128x784"
    assert _bench_gemm.CASES["mlp_forward"].mkn == (128, 784, 512)
    assert _bench_gemm.CASES["mlp2_forward"].mkn == (128, 512, 256)
    assert _bench_gemm.CASES["tiny"].end_to_end
    with pytest.raises(ValueError, match="unknown GEMM case 'square3'"):
        _bench_gemm.run(cases=["square3"])


# ---------------------------------------------------------------------------- command line


def test_cli_train_step_suite(capsys):
    assert cli.main(["bench", "--suite", "train-step", "--quick", "--case", "B", "--lib", "fastnn",
                     "--lib", "numpy", "--threads", "1", "--repeat", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("samples/s, median of 1 interleaved round(s)")
    assert "not a measurement" in out[0]  # quick
    assert out[1].startswith("fastnn: the layer-by-layer loop (model.backward returns the "
                             "input gradient: one product more than the others")
    assert [c.strip() for c in out[2].strip("|").split("|")] == [
        "config", "threads", "fastnn", "numpy", "fastnn/numpy"]
    assert out[4].startswith("| B: 64-64-10 b32 |")


def test_train_table_gives_trainstep_ratios_when_measured():
    rows = [_bench_train.Row("A", lib, 1, 128 / rate, None)
            for lib, rate in (("fastnn", 2000), ("fastnn-fused", 3000), ("numpy", 1000),
                              ("torch-fused", 1500))]
    lines = _bench_train.format_table(rows).splitlines()
    assert [c.strip() for c in lines[0].strip("|").split("|")][-4:] == [
        "fastnn/numpy", "fastnn/torch-fused", "fastnn-fused/numpy", "fastnn-fused/torch-fused"]
    assert [c.strip() for c in lines[2].strip("|").split("|")][-4:] == [
        "2.00", "1.33", "3.00", "2.00"]


def test_cli_kernels_suite_several_thread_counts(capsys):
    assert cli.main(["bench", "--quick", "--case", "adam", "--threads", "1", "2",
                     "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "threads: 1, 2;" in out and "(quick: one call per loop, a smoke test" in out


@pytest.mark.parametrize("argv, code, match", [
    (["--lib", "numpy"], 2, "--lib applies to --suite train-step only"),
    (["--suite", "train-step", "--case", "Z"], 2, "argument --case: unknown configuration 'Z'"),
    (["--case", "bogus"], 2, "argument --case: unknown case 'bogus'"),
])
def test_cli_bench_errors(capsys, argv, code, match):
    assert cli.main(["bench", "--quick", *argv]) == code
    assert match in capsys.readouterr().err
