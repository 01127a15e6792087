"""fastnn.bench: every case runs (quick mode) with fastnn and NumPy agreeing; the table format.

No timing assertions: only that each case runs, is checked, and is reported.
"""

from __future__ import annotations

import io
import math
import sys

import numpy as np
import pytest

import fastnn as fn
from fastnn import bench
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
