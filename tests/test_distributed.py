"""fastnn.distributed: single-process behaviour in this process (no MPI), and the real thing
under ``mpiexec -n 2`` in subprocesses (skipped when mpi4py or mpiexec is missing).

The MPI checks are batched into few launches (``tests/mpi_scripts``): one runs the
equivalence, broadcast, shard, allreduce, fit, dropout and mismatch checks and writes
its measurements to JSON; the others are jobs that must fail promptly, and the CLI.
This process never imports mpi4py (MPI is initialised in the subprocesses only).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import fastnn as fn
from autograd_cases import unused_layer_trajectories
from fastnn import distributed
from fastnn.distributed import _mpi

SCRIPTS = Path(__file__).parent / "mpi_scripts"
README = Path(__file__).resolve().parent.parent / "README.md"
# README's MPI scripts are ```py blocks (tests/test_readme.py runs the ```python ones in-process).
README_SCRIPTS = (re.findall(r"```py\n(# \w+\.py: mpiexec .*?)```", README.read_text(), re.S)
                  if README.exists() else [])
# The launcher installed next to this Python first (the mpich wheel of this venv), then PATH's.
MPIEXEC = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or shutil.which("mpiexec")
HAVE_MPI = MPIEXEC is not None and importlib.util.find_spec("mpi4py") is not None
requires_mpi = pytest.mark.skipif(not HAVE_MPI, reason="needs mpi4py and mpiexec (fastnn[dist])")
TIMEOUT = 90  # seconds per launch; a hang fails the test instead of stalling the suite


def run(
    args: list[str], n: int | None = 2, timeout: float = TIMEOUT, omp_threads: str | None = "1"
) -> subprocess.CompletedProcess:
    """Runs ``[mpiexec -n n] python *args`` with ``OMP_NUM_THREADS=omp_threads`` (unset
    when ``None``).

    The launcher gets its own process group, killed whole on a timeout.
    """
    cmd = [sys.executable, *args] if n is None else [MPIEXEC, "-n", str(n), sys.executable, *args]
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    if omp_threads is not None:
        env["OMP_NUM_THREADS"] = omp_threads
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"{' '.join(cmd)} hung for {timeout}s\n{out}\n{err}")
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def small_model(seed: int = 0) -> fn.nn.Sequential:
    fn.manual_seed(seed)
    return fn.nn.Sequential(fn.nn.Linear(5, 4), fn.nn.ReLU(), fn.nn.Linear(4, 3))


# -- one process, no MPI ------------------------------------------------------------------------
def test_import_fastnn_does_not_import_mpi4py():
    code = ("import sys, fastnn as fn; d = fn.distributed; "
            "print('mpi4py' in sys.modules, d.is_initialized(), d.rank(), d.world_size())")
    proc = run(["-c", code], n=None)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "False", "0", "1"]


def test_world_of_one_before_init():
    assert not distributed.is_initialized()
    assert (distributed.rank(), distributed.world_size()) == (0, 1)
    assert "mpi4py" not in sys.modules


def test_fit_checks_the_distributed_flag():
    # "yes" and 1 were taken as true, unchecked (shuffle= was checked)
    model = fn.nn.Sequential(fn.nn.Linear(2, 2))
    X, y = np.zeros((4, 2), np.float32), np.zeros(4, np.int64)
    for bad in ("yes", 1):
        with pytest.raises(TypeError, match="fit\\(\\): argument 'distributed' must be a bool"):
            fn.fit(model, X, y, loss="cross_entropy", optimizer="sgd", verbose=0,
                   distributed=bad)


def test_allreduce_in_a_world_of_one_keeps_an_unused_layer_skipped():
    """allreduce_gradients marked every gradient written, so a layer the forward did not
    use took AdamW's decay (0.07 from the plain loop after 3 steps); a parameter no rank
    wrote is still skipped by step() now, as in the one-process loop."""
    def step(model, opt, X, y, run, i):
        opt.zero_grad()
        fn.nn.CrossEntropyLoss()(model(fn.tensor(X)), fn.tensor(y)).backward()
        if run == 1:
            distributed.allreduce_gradients(model)
        opt.step()
    plain, reduced = unused_layer_trajectories(step)
    for a, b in zip(plain, reduced):
        np.testing.assert_array_equal(a, b)


def test_flatten_gradients_rebinds_grads_to_views_once():
    model = small_model()
    params = model.parameters()
    for i, p in enumerate(params):
        p.grad[...] = i + 1
    data = [p.data.copy() for p in params]
    grads = [p.grad.copy() for p in params]
    flat = distributed.flatten_gradients(model)
    assert flat.dtype == np.float32 and flat.shape == (model.num_parameters(),)
    assert flat.flags.c_contiguous
    np.testing.assert_array_equal(flat, np.concatenate([g.ravel() for g in grads]))
    for p, g, d in zip(params, grads, data):
        assert np.shares_memory(p.grad, flat) and p.grad.shape == p.shape
        np.testing.assert_array_equal(p.grad, g)
        np.testing.assert_array_equal(p.data, d)
        assert not np.shares_memory(p.data, flat)
    assert distributed.flatten_gradients(model) is flat  # cached
    # backward accumulates into the buffer through the views
    model.zero_grad()
    model(np.ones((2, 5), dtype=np.float32))
    model.backward(np.ones((2, 3), dtype=np.float32))
    assert np.abs(flat).sum() > 0
    np.testing.assert_array_equal(flat, np.concatenate([p.grad.ravel() for p in params]))


def test_flatten_gradients_reflattens_when_a_grad_is_replaced():
    model = small_model()
    flat = distributed.flatten_gradients(model)
    p = model.parameters()[1]
    p.grad = np.full(p.shape, 7.0, dtype=np.float32)
    again = distributed.flatten_gradients(model)
    assert again is not flat
    assert np.shares_memory(p.grad, again)
    np.testing.assert_array_equal(p.grad, 7.0)


def test_single_process_collectives_leave_values_alone():
    model = small_model()
    for p in model.parameters():
        p.grad[...] = np.arange(p.size, dtype=np.float32).reshape(p.shape)
    data = [p.data.copy() for p in model.parameters()]
    grads = [p.grad.copy() for p in model.parameters()]
    distributed.broadcast_parameters(model)
    distributed.allreduce_gradients(model)
    flat = distributed.flatten_gradients(model)
    for p, d, g in zip(model.parameters(), data, grads):
        np.testing.assert_array_equal(p.data, d)
        np.testing.assert_array_equal(p.grad, g)
        assert np.shares_memory(p.grad, flat)


def test_shard_in_one_process_is_the_documented_order():
    np.testing.assert_array_equal(distributed.shard(10, seed=3, epoch=2),
                                  np.random.default_rng([3, 2]).permutation(10))
    np.testing.assert_array_equal(distributed.shard(7), np.arange(7))
    assert not np.array_equal(distributed.shard(50, seed=3, epoch=0),
                              distributed.shard(50, seed=3, epoch=1))
    assert distributed.shard(0, seed=1).shape == (0,)
    assert distributed.shard(5).dtype == np.int64


def test_bad_arguments():
    with pytest.raises(TypeError, match=r"allreduce_gradients\(\): argument 'model'"):
        distributed.allreduce_gradients([1, 2])
    with pytest.raises(TypeError, match=r"flatten_gradients\(\): argument 'model'"):
        distributed.flatten_gradients(None)
    with pytest.raises(TypeError, match=r"broadcast_parameters\(\): argument 'model'"):
        distributed.broadcast_parameters("model")
    with pytest.raises(ValueError, match=r"argument 'root' must be a rank in \[0, 1\), got 1"):
        distributed.broadcast_parameters(small_model(), root=1)
    with pytest.raises(ValueError, match=r"shard\(\): argument 'n_samples' must be >= 0"):
        distributed.shard(-1)
    with pytest.raises(TypeError, match=r"shard\(\): argument 'seed' must be an int"):
        distributed.shard(4, seed=1.5)
    with pytest.raises(ValueError, match=r"shard\(\): argument 'epoch' must be >= 0"):
        distributed.shard(4, epoch=-1)


def test_without_mpi4py_a_plain_process_is_a_world_of_one(monkeypatch):
    """API.md: single-process use works without MPI installed; init() and
    fit(distributed=True) raised ImportError, so an mpiexec script could not run as one
    plain process. They warn now; under a launcher the ImportError names the extra."""
    monkeypatch.setattr(_mpi, "_alone", False)  # restored afterwards
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # import mpi4py -> ImportError
    for var in _mpi._LAUNCHER_SIZE_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv(_mpi._LAUNCHER_SIZE_VARS[0], "3")
    with pytest.raises(ImportError, match=r"pip install 'fastnn\[dist\]'"):
        distributed.init()
    assert not distributed.is_initialized()
    monkeypatch.delenv(_mpi._LAUNCHER_SIZE_VARS[0])
    with pytest.warns(RuntimeWarning, match=r"pip install 'fastnn\[dist\]'.*world of one"):
        assert distributed.init() == (0, 1)
    assert distributed.is_initialized() and distributed.world_size() == 1
    assert distributed.init() == (0, 1)  # once
    X = np.random.default_rng(0).standard_normal((8, 5)).astype(np.float32)
    y = np.arange(8) % 2
    fn.manual_seed(0)
    a = small_model()
    fn.fit(a, X, y, loss="cross_entropy", optimizer="sgd", distributed=True, verbose=0,
           seed=1, epochs=2)
    fn.manual_seed(0)
    b = small_model()
    fn.fit(b, X, y, loss="cross_entropy", optimizer="sgd", verbose=0, seed=1, epochs=2)
    for pa, pb in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(pa.data, pb.data)


def test_mpi4py_without_an_mpi_library_names_the_extra_under_a_launcher(monkeypatch):
    """mpi4py loads the MPI library on ``from mpi4py import MPI`` and raises RuntimeError
    when there is none."""
    fake = types.ModuleType("mpi4py")

    def no_library(name):
        raise RuntimeError("cannot load MPI library")

    fake.__getattr__ = no_library
    monkeypatch.setattr(_mpi, "_alone", False)
    monkeypatch.setitem(sys.modules, "mpi4py", fake)
    monkeypatch.delitem(sys.modules, "mpi4py.MPI", raising=False)
    monkeypatch.setenv(_mpi._LAUNCHER_SIZE_VARS[-1], "2")
    with pytest.raises(ImportError, match=r"pip install 'fastnn\[dist\]'.*cannot load MPI"):
        distributed.init()
    assert not distributed.is_initialized()


@pytest.mark.parametrize("var", _mpi._LAUNCHER_SIZE_VARS)
def test_launched_by_mpiexec_without_init_is_an_error(monkeypatch, var):
    """Each rank would silently train a model of its own."""
    monkeypatch.setenv(var, "4")
    match = rf"MPI launcher with 4 processes \({var}\), but fastnn.distributed.init\(\) was not"
    with pytest.raises(RuntimeError, match=match):
        distributed.allreduce_gradients(small_model())
    with pytest.raises(RuntimeError, match=match):
        distributed.broadcast_parameters(small_model())
    with pytest.raises(RuntimeError, match=match):
        distributed.shard(10, seed=0)


# -- two ranks under mpiexec --------------------------------------------------------------------
@pytest.fixture(scope="module")
def mpi_run(tmp_path_factory):
    """One ``mpiexec -n 2`` launch of equivalence.py: (results, stdout, output folder)."""
    out = tmp_path_factory.mktemp("mpi")
    proc = run([str(SCRIPTS / "equivalence.py"), str(out)])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads((out / "results.json").read_text()), proc.stdout, out


@requires_mpi
def test_allreduce_gradients_with_weights(mpi_run):
    got = mpi_run[0]["allreduce_weighted"]
    assert got == {"one_three": [1.75], "zero_nan": [2.0], "equal": [1.5], "all_zero": [1.5]}


@requires_mpi
@pytest.mark.parametrize("case", ["fit_class_weights", "fit_ignore_index"])
def test_losses_that_count_unequally_per_rank_follow_one_process(mpi_run, case):
    """A mean loss dividing by other counts on each rank (class weights, ignored targets):
    fit weighs the ranks' gradients by those counts (allreduce_gradients(weight=)), so
    the weights end as one process's with batch W*b (they differed by 0.2-0.3)."""
    assert mpi_run[0][case] < 1e-5


@requires_mpi
def test_broadcast_gives_every_rank_the_roots_weights(mpi_run):
    results, _, _ = mpi_run
    assert results["world_size"] == 2
    assert results["broadcast"] == {"seeds_differed": True, "equal_root": True}


@requires_mpi
def test_shards_are_equal_disjoint_strided_shares(mpi_run):
    shard = mpi_run[0]["shard"]
    assert shard["lengths"] == [11, 11]  # 23 samples: one sits the epoch out
    assert shard["strided"] and shard["identity_strided"] and shard["epochs_differ"]


@requires_mpi
def test_allreduce_is_one_collective_averaging_in_place(mpi_run):
    assert mpi_run[0]["allreduce"] == {
        "calls": 1, "mean": True, "views": True, "data_untouched": True,
    }


@requires_mpi
@pytest.mark.parametrize("optimizer", ["sgd_momentum", "adam", "dropout_sgd_momentum",
                                       "dropout_adam"])
def test_two_ranks_follow_the_single_process_trajectory(mpi_run, optimizer):
    """Batch b on each of 2 ranks == batch 2b in one process, at every step. With dropout
    the ranks draw different masks and the one process applies their union."""
    t = mpi_run[0][f"trajectory_{optimizer}"]
    assert t["steps"] == 16
    assert t.get("masks_differed", 16) == 16
    assert t["moved"] > 0.1  # the weights did change
    assert t["max_rel_diff"] < 1e-5
    assert t["ranks_identical"]


@requires_mpi
@pytest.mark.parametrize("case", ["fit_shuffled", "fit_in_order", "fit_shuffled_plain"])
def test_distributed_fit_matches_single_process_fit(mpi_run, case):
    """History (loss, accuracy, val_loss, val_accuracy), final weights and, in order, the
    callbacks' per-batch logs."""
    r = mpi_run[0][case]
    assert r["history_rel_diff"] < 1e-5
    assert r["params_rel_diff"] < 1e-5
    assert r.get("ranks_same_history", True)
    if case == "fit_in_order":  # per-batch logs: the global running means, as one process's
        assert r["batch_logs_rel_diff"] < 1e-5


@requires_mpi
def test_autograd_model_allreduce_follows_the_single_process_trajectory(mpi_run):
    """A forward-only Module subclass: loss.backward(), allreduce_gradients, step."""
    t = mpi_run[0]["autograd_trajectory"]
    assert t["steps"] == 8
    assert t["moved"] > 0.05
    assert t["max_rel_diff"] < 1e-5
    assert t["ranks_identical"] and t["grads_are_views"]


@requires_mpi
def test_distributed_fit_of_an_autograd_model_matches_single_process_fit(mpi_run):
    r = mpi_run[0]["fit_autograd"]
    assert r["history_rel_diff"] < 1e-5
    assert r["params_rel_diff"] < 1e-5


@requires_mpi
def test_early_stopping_agrees_and_only_rank0_prints_and_writes(mpi_run):
    results, stdout, out = mpi_run
    assert results["early_stopping"] == {"stopped_epochs": [1, 1], "epochs_run": [2, 2]}
    assert stdout.count("Epoch 1/7") == 1 and stdout.count("Epoch 2/7") == 1
    assert stdout.count("early stopping") == 1
    assert (out / "log0.csv").read_text().count("\n") == 3  # header + 2 epochs
    assert not (out / "log1.csv").exists()


@requires_mpi
@pytest.mark.parametrize("case", ["csv_only", "checkpoint_only"])
def test_rank0_only_callbacks_alone_keep_the_ranks_in_step(mpi_run, case):
    """Rank 0's CSVLogger / ModelCheckpoint (batch-frequency saves) without another callback:
    the other ranks drop them, yet every rank runs the same collectives."""
    assert mpi_run[0][case] == {"epochs_run": [2, 2], "ranks_same_params": True}


@requires_mpi
def test_history_best_epoch_is_rank0_s_on_every_rank(mpi_run):
    """A best-only ModelCheckpoint runs on rank 0 alone; History is the same on every rank
    (rank 1 had best_epoch None)."""
    best = mpi_run[0]["best_only_checkpoint"]
    assert best[0] is not None and best == [best[0], best[0]]


@requires_mpi
@pytest.mark.parametrize("case, epochs", [("stop_epoch_root_only", 2),
                                          ("stop_batch_root_only", 1)])
def test_a_stop_on_one_rank_stops_every_rank(mpi_run, case, epochs):
    assert mpi_run[0][case] == [epochs, epochs]


@requires_mpi
def test_other_sample_counts_per_rank_raise_the_same_error_everywhere(mpi_run):
    per_rank = mpi_run[0]["sizes"]
    assert per_rank[0] == per_rank[1]
    assert per_rank[0]["sizes"] == (
        "fit(): rank 1 has 50 training and 0 validation samples, rank 0 40 and 0; with "
        "distributed=True pass the same X (and validation data) on every rank: fit gives "
        "each rank its shard")
    assert per_rank[0]["too_few"] == ("fit(): 1 training samples cannot be shared among 2 "
                                      "ranks (distributed=True needs at least one per rank)")


@requires_mpi
def test_other_fit_arguments_or_models_on_one_rank_raise_everywhere(mpi_run):
    """A rank with more epochs hung in a collective, another batch size or metric list
    aborted MPI ("Message truncated"), another learning rate or other values of X trained
    apart silently, and allreduce_gradients averaged the gradients of other shapes."""
    per_rank = mpi_run[0]["settings"]
    assert per_rank[0] == per_rank[1]
    errors = per_rank[0]
    assert errors["epochs"].startswith("fit(): rank 1 passed epochs 2 where rank 0 passed 1; "
                                       "with distributed=True call fit with the same")
    assert "rank 1 passed batch_size 16 where rank 0 passed 8" in errors["batch_size"]
    assert "rank 1 passed metrics ['accuracy'] where rank 0 passed []" in errors["metrics"]
    assert "rank 1 passed optimizer ('SGD', [{'lr': 0.5," in errors["lr"]
    assert "rank 1 passed data of rank 0's shapes with other values" in errors["data"]
    assert errors["allreduce"] == (
        "allreduce_gradients(): rank 1's model differs from root rank 0's: parameter "
        "'0.weight' has shape (17, 12) on rank 1 and (16, 12) on rank 0")


@requires_mpi
def test_broadcast_parameters_also_broadcasts_buffers(mpi_run):
    assert mpi_run[0]["buffers"] == [[[1.0, 1.0], [0, 2]], [[1.0, 1.0], [0, 2]]]


@requires_mpi
def test_dropout_masks_differ_per_rank_and_repeat(mpi_run):
    d = mpi_run[0]["dropout"]
    assert d["masks_differ_across_ranks"] and d["repeatable"] and d["seed_matters"]
    assert 0.5 < d["kept_fraction"] < 0.9  # p = 0.3
    first, last = d["loss_first_last"]
    assert last < 0.8 * first


@requires_mpi
def test_model_mismatch_raises_the_same_error_on_every_rank(mpi_run):
    per_rank = mpi_run[0]["mismatch"]
    assert len(per_rank) == 2 and per_rank[0] == per_rank[1]
    shape, count = per_rank[0]["shape"], per_rank[0]["count"]
    assert shape == ("broadcast_parameters(): rank 1's model differs from root rank 0's: "
                     "parameter '0.weight' has shape (17, 12) on rank 1 and (16, 12) on rank 0")
    assert count.startswith("broadcast_parameters(): rank 1's model differs from root rank 0's")


@requires_mpi
@pytest.mark.parametrize("mode, message", [
    ("raise", "RuntimeError: the last rank fails on purpose"),
    ("mismatch", "ValueError: broadcast_parameters(): rank 1's model differs"),
    ("fit_argument", "ValueError: fit(): argument 'batch_size' must be >= 1, got 0"),
    ("callback_exit", "rank 1: SystemExit inside fit(distributed=True) while the other ranks "
                      "train: aborting the job (status 3)"),
    ("caught_error", "rank 1: OSError inside fit(distributed=True) while the other ranks "
                     "train: aborting the job (status 1)"),
])
def test_a_failing_rank_ends_the_job_instead_of_hanging(mode, message):
    proc = run([str(SCRIPTS / "faults.py"), mode], timeout=30)
    assert proc.returncode != 0
    assert message in proc.stderr
    assert "unreachable" not in proc.stdout


@requires_mpi
@pytest.mark.parametrize("omp_threads, call, expected", [
    (None, "", "shared"),
    ("3", "", 3),
    (None, "fn.set_num_threads(3)", 3),
])
def test_ranks_on_one_machine_share_its_cpus(omp_threads, call, expected):
    """Two unbound ranks on this machine take half its CPUs each (at least one thread),
    unless OMP_NUM_THREADS or fn.set_num_threads chose a count."""
    if expected == "shared":
        cpus = len(os.sched_getaffinity(0))
        limit = fn._runtime._cgroup_cpu_limit()
        expected = max(1, min(cpus, limit or cpus) // 2)
    code = ("import fastnn as fn; from fastnn import distributed; from mpi4py import MPI\n"
            f"{call}\ndistributed.init()\n"
            "counts = MPI.COMM_WORLD.gather(fn.get_num_threads())\n"
            "if counts: print('threads', *counts)")
    proc = run(["-c", code], omp_threads=omp_threads)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.split() == ["threads", str(expected), str(expected)]


@requires_mpi
def test_cli_train_distributed_matches_one_process_with_the_global_batch():
    """`mpiexec -n 2 fastnn train --distributed --batch-size 16` prints once, and what it
    prints equals one process with batch 32 (1278 training samples: even, nothing dropped)."""
    common = ["-m", "fastnn", "train", "--distributed", "--epochs", "3", "--dropout", "0",
              "--val-split", "0.11"]
    two = run([*common, "--batch-size", "16"])
    one = run([*common, "--batch-size", "32"], n=None)
    assert two.returncode == 0 and one.returncode == 0, two.stderr + one.stderr
    assert "1278 train" in two.stdout and "batch 16 per rank x 2 MPI rank(s)" in two.stdout
    assert two.stdout.count("fastnn 0.1.0: digits") == 1

    def results(stdout: str) -> list[str]:  # epoch lines without timings, and the test line
        return [ln.rsplit("(", 1)[0] if ln.startswith("Epoch") else ln
                for ln in stdout.splitlines() if ln.startswith(("Epoch", "test accuracy"))]

    assert len(results(two.stdout)) == 4
    assert results(two.stdout) == results(one.stdout)


@requires_mpi
@pytest.mark.parametrize("code", README_SCRIPTS,
                         ids=[c.split(":")[0].lstrip("# ") for c in README_SCRIPTS])
def test_readme_mpi_scripts_run_under_mpiexec(code, tmp_path):
    script = tmp_path / "script.py"
    script.write_text(code)
    proc = run([str(script)])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = re.findall(r"accuracy (\d\.\d+)$", proc.stdout, re.M)
    assert len(results) == 1, proc.stdout  # rank 0 alone prints
    assert float(results[0]) > 0.9


@pytest.mark.skipif(not README.exists(), reason="README.md is not next to tests/")
def test_readme_has_the_mpi_scripts():
    assert len(README_SCRIPTS) == 2


@requires_mpi
def test_warnings_inside_a_distributed_fit_come_from_rank_0_alone():
    """A diverging run warns that the training loss is not finite: once, not once per rank
    (the losses are reduced over the ranks, so rank 0's warning speaks for all)."""
    code = ("import fastnn as fn, numpy as np\n"
            "rng = np.random.default_rng(0)\n"
            "X = rng.random((40, 4)).astype(np.float32) * 1e3\n"
            "y = rng.random((40, 1)).astype(np.float32)\n"
            "fn.manual_seed(0)\n"
            "m = fn.nn.Sequential(fn.nn.Linear(4, 1))\n"
            "fn.fit(m, X, y, loss='mse', optimizer=fn.optim.SGD(m.parameters(), lr=10.0),\n"
            "       epochs=6, verbose=0, distributed=True)\n")
    proc = run(["-c", code])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stderr.count("RuntimeWarning") == 1, proc.stderr
