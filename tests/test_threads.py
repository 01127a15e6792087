"""Threads: bit-identical training at 1 and 2 OpenMP threads at sizes that really run
in parallel, Python threads training concurrently, fastnn next to PyTorch (either
import order), and threadpoolctl seeing and limiting fastnn's OpenMP pool.

Also covered elsewhere: fork after parallel work (test_acceptance.py
``test_fork_after_threads_child_keeps_working``), three Python threads against a
sequential run (``test_python_threads_train_separate_models_like_sequential``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

import fastnn as fn

OPENMP = fn.info()["openmp"] != "none (serial build)"


def digits():
    X, y = fn.datasets.load_digits()
    return (X / 16.0).astype(np.float32), y


def wide_model(seed: int, dropout: float) -> fn.nn.Sequential:
    """Wide enough that GEMM, activations and dropout pass their OpenMP thresholds."""
    fn.manual_seed(seed)
    return fn.nn.Sequential(fn.nn.Linear(64, 512), fn.nn.ReLU(), fn.nn.Dropout(dropout),
                            fn.nn.Linear(512, 256), fn.nn.GELU(), fn.nn.Linear(256, 10))


def train(threads: int, optimizer: str, dropout: float) -> dict[str, np.ndarray]:
    X, y = digits()
    before = fn.get_num_threads()
    fn.set_num_threads(threads)
    try:
        model = wide_model(seed=3, dropout=dropout)
        opt = (fn.optim.Adam(model.parameters(), lr=1e-3) if optimizer == "adam"
               else fn.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True))
        fn.fit(model, X[:768], y[:768], loss=fn.nn.CrossEntropyLoss(label_smoothing=0.1),
               optimizer=opt, epochs=1, batch_size=128, seed=0, verbose=0)
        return model.state_dict()
    finally:
        fn.set_num_threads(before)


@pytest.mark.skipif(not OPENMP, reason="serial build: one thread only")
@pytest.mark.parametrize("optimizer, dropout", [("adam", 0.3), ("sgd", 0.0)])
def test_bit_identical_weights_at_1_and_2_threads(optimizer, dropout):
    one, two = train(1, optimizer, dropout), train(2, optimizer, dropout)
    for k in one:
        np.testing.assert_array_equal(one[k], two[k], err_msg=k)


def run_at_once(run, n: int) -> dict:
    """Calls ``run(i, out)`` for i < n, each in a Python thread of its own, all at once;
    returns ``out``."""
    out: dict = {}
    threads = [threading.Thread(target=run, args=(i, out)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)
    return out


def test_two_python_threads_fit_like_one_after_the_other():
    """Two models trained by fit() in two Python threads at once (the kernels release
    the GIL and run their own OpenMP teams) end bit-identical to sequential runs."""
    X, y = digits()
    inits = [wide_model(seed=s, dropout=0.0).state_dict() for s in (5, 6)]

    def run(i: int, out: dict) -> None:
        model = wide_model(seed=0, dropout=0.0)
        model.load_state_dict(inits[i])
        fn.fit(model, X[:512], y[:512], loss=fn.nn.CrossEntropyLoss(),
               optimizer=fn.optim.Adam(model.parameters(), lr=1e-3), epochs=1, batch_size=64,
               seed=10 + i, verbose=0)
        out[i] = model.state_dict()

    sequential: dict = {}
    for i in range(2):
        run(i, sequential)
    concurrent = run_at_once(run, 2)
    for i in range(2):
        for k in sequential[i]:
            np.testing.assert_array_equal(sequential[i][k], concurrent[i][k], err_msg=f"{i} {k}")


@pytest.mark.parametrize("first", ["torch", "fastnn"])
def test_import_alongside_torch(first):
    """Both import orders: fastnn trains, raises its C++ exceptions as Python ones,
    and PyTorch keeps working (two OpenMP runtimes may be loaded side by side)."""
    pytest.importorskip("torch")
    second = "fastnn" if first == "torch" else "torch"
    code = f"""
    import numpy as np
    import {first}
    import {second}
    import fastnn as fn, torch
    a = np.random.default_rng(0).standard_normal((300, 300)).astype(np.float32)
    assert np.allclose(fn.matmul(a, a), (torch.from_numpy(a) @ torch.from_numpy(a)).numpy(),
                       atol=1e-3)
    try:
        fn.matmul(np.zeros((2, 3)), np.zeros((4, 5)))
    except ValueError as e:
        assert "inner dimensions differ" in str(e)
    fn.manual_seed(0)
    m = fn.nn.Sequential(fn.nn.Linear(300, 64), fn.nn.ReLU(), fn.nn.Linear(64, 3))
    h = fn.fit(m, a, np.arange(300) % 3, loss=fn.nn.CrossEntropyLoss(),
               optimizer=fn.optim.Adam(m.parameters()), epochs=2, verbose=0)
    assert np.isfinite(h.history["loss"]).all()
    print("OK", fn.get_num_threads(), torch.get_num_threads())
    """
    here = str(Path(fn.__file__).resolve().parents[1])  # the fastnn under test
    r = subprocess.run([sys.executable, "-X", "faulthandler", "-c", textwrap.dedent(code)],
                       capture_output=True, text=True, timeout=180,
                       env={**os.environ, "PYTHONPATH": here})
    assert r.returncode == 0 and "OK" in r.stdout, r.stderr[-3000:]


@pytest.mark.skipif(not OPENMP, reason="serial build: no OpenMP pool")
def test_threadpoolctl_sees_and_limits_fastnn_openmp_pool():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = fn.get_num_threads()
    fn.set_num_threads(2)
    try:
        pools = [p for p in threadpoolctl.threadpool_info() if p["user_api"] == "openmp"]
        assert pools, threadpoolctl.threadpool_info()
        a = np.random.default_rng(1).standard_normal((200, 200)).astype(np.float32)
        want = fn.matmul(a, a)
        with threadpoolctl.threadpool_limits(limits=1, user_api="openmp"):
            assert fn.get_num_threads() == 1
            np.testing.assert_array_equal(fn.matmul(a, a), want)
        assert fn.get_num_threads() == 2
    finally:
        fn.set_num_threads(before)


@pytest.mark.skipif(not OPENMP, reason="serial build: one thread only")
def test_set_num_threads_applies_to_other_python_threads():
    before = fn.get_num_threads()
    fn.set_num_threads(1)
    seen: list[int] = []
    try:
        t = threading.Thread(target=lambda: seen.append(fn.get_num_threads()))
        t.start()
        t.join(10)
    finally:
        fn.set_num_threads(before)
    assert seen == [1]


@pytest.mark.parametrize("files,expected", [
    ({"cpu.max": "max 100000\n"}, None),
    ({"cpu.max": "150000 100000\n"}, 2),
    ({"cpu.max": "50000 100000\n"}, 1),
    ({"cpu/cpu.cfs_quota_us": "300000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 3),
    ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
    ({}, None),
])
def test_cgroup_cpu_quota_is_read(tmp_path, files, expected):
    from fastnn._runtime import _cgroup_cpu_limit
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert _cgroup_cpu_limit(tmp_path) == expected


def test_default_threads_follow_affinity_quota_and_omp_num_threads(monkeypatch):
    from fastnn import _runtime
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(_runtime, "_cgroup_cpu_limit", lambda: 1)
    assert _runtime.default_num_threads() == 1
    monkeypatch.setattr(_runtime, "_cgroup_cpu_limit", lambda: None)
    assert _runtime.default_num_threads() == len(os.sched_getaffinity(0))
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert _runtime.default_num_threads() is None



def run_fresh(code: str, var: str, value: str | None) -> subprocess.CompletedProcess:
    """`code` in a fresh Python process with the environment variable `var` set to
    `value` (removed when None): fastnn reads these variables at load."""
    env = {k: v for k, v in os.environ.items() if k != var}
    if value is not None:
        env[var] = value
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    return r


DEFAULT_THRESHOLDS = {"gemm_macs_per_thread": 1 << 23, "gemm_macs_per_extra_thread": 1 << 21,
                      "elementwise": 1 << 18, "source": "default"}


@pytest.mark.parametrize("value, expected", [
    (None, DEFAULT_THRESHOLDS),
    ("1000,20", {"gemm_macs_per_thread": 1000, "gemm_macs_per_extra_thread": 250,
                 "elementwise": 20, "source": "env"}),
    ("1000", DEFAULT_THRESHOLDS),
    ("0,5", DEFAULT_THRESHOLDS),
    ("7,x", DEFAULT_THRESHOLDS),
    # beyond 2^53 (or int64: strtoll saturated, and fn.info() showed a wrapped value)
    ("9007199254740993,1", DEFAULT_THRESHOLDS),
    ("9223372036854775807,9223372036854775807", DEFAULT_THRESHOLDS),
    ("99999999999999999999999,1", DEFAULT_THRESHOLDS),
])
def test_parallel_thresholds_default_and_override(value, expected):
    """FASTNN_PARALLEL_THRESHOLDS="MACS,ELEMENTS" replaces the defaults; a malformed
    value keeps them (read once, at load: checked in a fresh process)."""
    code = "import fastnn as fn; print(sorted(fn.info()['parallel_thresholds'].items()))"
    r = run_fresh(code, "FASTNN_PARALLEL_THRESHOLDS", value)
    assert r.stdout.strip() == str(sorted(expected.items()))
    ignored = value is not None and expected["source"] == "default"
    assert (f"RuntimeWarning: FASTNN_PARALLEL_THRESHOLDS='{value}' is not \"MACS,ELEMENTS\""
            in r.stderr) == ignored, r.stderr


GEMM_THREADS_CHECK = """
import fastnn as fn
from fastnn import _core
for n in (1, 2, 3, 16):
    fn.set_num_threads(n)
    sizes = (0, 2**24 - 1, 2**24, 2**24 + 2**21, 51380224, 2**40)
    print(n, [_core._gemm_threads(m) for m in sizes])
"""


@pytest.mark.parametrize("value, expected", [
    # Serial below 2 x 8M multiply-adds, then one thread per 2M (so 8 at 16M), at most n.
    (None, ["1 [1, 1, 1, 1, 1, 1]", "2 [1, 1, 2, 2, 2, 2]", "3 [1, 1, 3, 3, 3, 3]",
            "16 [1, 1, 8, 9, 16, 16]"]),
    # MACS = 2^22: serial below 2^23, then one per 2^20.
    ("4194304,1000", ["1 [1, 1, 1, 1, 1, 1]", "2 [1, 2, 2, 2, 2, 2]", "3 [1, 3, 3, 3, 3, 3]",
                      "16 [1, 15, 16, 16, 16, 16]"]),
])
def test_gemm_thread_count_rule(value, expected):
    """How many threads a product gets: none split below 2 x MACS multiply-adds (waking
    the team is what costs), then one per MACS / 4 (checked in a fresh process: the
    thresholds are read once). A serial build runs every product on one thread."""
    if fn.info()["openmp"] == "none (serial build)":
        expected = [f"{n} [1, 1, 1, 1, 1, 1]" for n in (1, 2, 3, 16)]
    r = run_fresh(GEMM_THREADS_CHECK, "FASTNN_PARALLEL_THRESHOLDS", value)
    assert r.stdout.strip().splitlines() == expected


CPU_CAP_CHECK = """
import os, fastnn as fn
from fastnn import _core
fn.set_num_threads(16)
print(fn.info()["cpus"], fn.get_num_threads(), _core._gemm_threads(2**40))
if hasattr(os, "sched_setaffinity"):  # pinned to one CPU after import: re-read
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    fn.set_num_threads(4)
    print(fn.info()["cpus"], fn.get_num_threads(), _core._gemm_threads(2**40))
"""


@pytest.mark.parametrize("value", [None, "3", "0", "x"])
def test_kernels_run_at_most_one_thread_per_cpu(value):
    """set_num_threads(16) on a machine with fewer CPUs keeps 16 as the count, but a
    product's team has at most one thread per CPU this process may use (affinity
    mask and cgroup quota, re-read by set_num_threads); FASTNN_CPU_LIMIT sets another
    cap (0: none; malformed: a warning and the CPUs)."""
    from fastnn._runtime import usable_cpus
    r = run_fresh(CPU_CAP_CHECK, "FASTNN_CPU_LIMIT", value)
    cap = {"3": 3, "0": None}.get(value, usable_cpus())
    n16, n4 = (16, 4) if OPENMP else (1, 1)  # a serial build's count is always 1
    lines = r.stdout.strip().splitlines()
    assert lines[0] == f"{cap} {n16} {min(n16, cap or n16)}"
    if len(lines) > 1:  # pinned to one CPU
        cap1 = {"3": 3, "0": None}.get(value, 1)
        assert lines[1] == f"{cap1} {n4} {min(n4, cap1 or n4)}"
    assert ("RuntimeWarning: FASTNN_CPU_LIMIT='x' is not a CPU count" in r.stderr) == (
        value == "x"), r.stderr


def test_results_do_not_depend_on_the_thresholds():
    """The same training run, with everything serial and with everything split."""
    code = textwrap.dedent("""
        import hashlib, numpy as np, fastnn as fn
        fn.set_num_threads(2)
        fn.manual_seed(0)
        X = np.random.default_rng(0).standard_normal((300, 70)).astype(np.float32)
        y = (X[:, 0] > 0).astype(np.int64)
        model = fn.nn.Sequential(fn.nn.Linear(70, 300), fn.nn.ReLU(), fn.nn.Dropout(0.2),
                                 fn.nn.Linear(300, 2))
        fn.fit(model, X, y, loss="cross_entropy", optimizer="adam", epochs=2, batch_size=150,
               verbose=0)
        weights = np.concatenate([p.data.numpy().ravel() for p in model.parameters()])
        print(hashlib.sha256(weights.tobytes()).hexdigest())
    """)
    outs = []
    for value in ("1000000000,1000000000", "1,1"):
        env = {**os.environ, "FASTNN_PARALLEL_THRESHOLDS": value}
        r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                           text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        outs.append(r.stdout.split()[0])
    assert outs[0] == outs[1]


@pytest.mark.parametrize("env, expected", [
    ({}, {"policy": "PASSIVE", "spin_count": "2000", "source": "fastnn"}),
    ({"GOMP_SPINCOUNT": "0"}, {"policy": "PASSIVE", "spin_count": "0", "source": "fastnn"}),
    ({"OMP_WAIT_POLICY": "active"}, {"policy": "active", "spin_count": None, "source": "env"}),
    ({"OMP_WAIT_POLICY": "passive", "GOMP_SPINCOUNT": "10"},
     {"policy": "passive", "spin_count": "10", "source": "env"}),
])
def test_wait_policy_is_chosen_at_load_and_left_out_of_the_environment(env, expected):
    """fastnn loads libgomp passive after a spin of 2000 unless the user chose a policy
    (the user's spin count is kept); fn.info() says which, and the variables it set do
    not stay in os.environ (child processes and other libraries never see them)."""
    base = {k: v for k, v in os.environ.items()
            if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    code = ("import os, fastnn as fn; print(sorted(fn.info()['omp_wait'].items())); "
            "print(os.environ.get('OMP_WAIT_POLICY'), os.environ.get('GOMP_SPINCOUNT'))")
    r = subprocess.run([sys.executable, "-c", code], env={**base, **env}, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    info_line, env_line = r.stdout.strip().splitlines()
    assert info_line == str(sorted(expected.items()))
    assert env_line == f"{env.get('OMP_WAIT_POLICY')} {env.get('GOMP_SPINCOUNT')}"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork on this platform")
@pytest.mark.skipif(not OPENMP, reason="serial build: one thread everywhere, fork or not")
def test_set_num_threads_in_a_forked_child_warns_instead_of_being_ignored():
    """A forked child runs single-threaded (GNU libgomp's pool does not survive fork); a
    request for more threads there once did nothing, silently. The parent is unaffected."""
    code = """
    import os, warnings, fastnn as fn
    pid = os.fork()
    if pid == 0:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fn.set_num_threads(1)  # what the child runs anyway: no warning
            fn.set_num_threads(2)
        ok = (fn.get_num_threads() == 1 and len(caught) == 1 and
              caught[0].category is RuntimeWarning and "forked" in str(caught[0].message) and
              "'spawn'" in str(caught[0].message))
        os._exit(0 if ok else 3)
    _, status = os.waitpid(pid, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fn.set_num_threads(2)
    print("OK", os.waitstatus_to_exitcode(status), fn.get_num_threads())
    """
    here = str(Path(fn.__file__).resolve().parents[1])
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                       text=True, timeout=120, env={**os.environ, "PYTHONPATH": here})
    assert r.stdout.split() == ["OK", "0", "2"], (r.stdout, r.stderr[-2000:])


def test_threads_that_seed_themselves_train_with_dropout_as_one_after_the_other():
    """fn.manual_seed in a thread other than the main one seeds that thread's own state:
    two threads that each seed, build a model with dropout and fit it get the sequential
    results bit for bit, whatever the timing (before, both drew dropout seeds from one
    global generator, so the masks depended on the interleaving)."""
    X, y = digits()

    def run(i: int, out: dict) -> None:
        model = wide_model(seed=20 + i, dropout=0.3)  # fn.manual_seed(20 + i) first
        fn.fit(model, X[:512], y[:512], loss=fn.nn.CrossEntropyLoss(),
               optimizer=fn.optim.Adam(model.parameters(), lr=1e-3), epochs=1, batch_size=32,
               seed=i, verbose=0)
        out[i] = (model.state_dict(), fn.default_generator.initial_seed())

    sequential: dict = {}
    for i in range(2):
        sequential.update(run_at_once(lambda _, out, i=i: run(i, out), 1))
    concurrent = run_at_once(run, 2)
    for i in range(2):
        assert concurrent[i][1] == 20 + i  # each thread reports its own seed
        for k in sequential[i][0]:
            np.testing.assert_array_equal(sequential[i][0][k], concurrent[i][0][k])
    assert not np.array_equal(concurrent[0][0]["0.weight"], concurrent[1][0]["0.weight"])
    fn.manual_seed(3)  # the main thread's state is the global one, unaffected by the threads
    assert fn.default_generator.initial_seed() == 3


def test_predict_from_two_threads_on_one_model_in_training_mode():
    """Each predict saved the modes, set eval and restored what it saved: a second thread
    saved the first one's eval flags, so some predictions ran with dropout and the model
    was left in eval mode. fit, evaluate and predict hold a lock per model now."""
    X = np.random.default_rng(0).standard_normal((300, 64)).astype(np.float32)
    fn.manual_seed(0)
    model = fn.nn.Sequential(fn.nn.Linear(64, 128), fn.nn.ReLU(), fn.nn.Dropout(0.5),
                             fn.nn.Linear(128, 10))
    model.eval()
    expected = fn.predict(model, X)
    model.train()
    wrong = []

    def predict_many():
        for _ in range(60):
            if not np.array_equal(fn.predict(model, X, batch_size=64), expected):
                wrong.append(1)

    threads = [threading.Thread(target=predict_many) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not wrong and model.training and all(m.training for m in model.modules())


def test_predict_in_another_thread_leaves_fit_bit_identical():
    """A predict between a step's forward and backward overwrote the input a Linear keeps
    for its backward (the NumPy path: 3-D X with a Flatten) and switched Dropout off for
    the batch; now it runs between steps."""
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((256, 8, 8)).astype(np.float32), rng.integers(0, 10, 256)

    def train(with_predictions: bool) -> list[np.ndarray]:
        fn.manual_seed(0)
        model = fn.nn.Sequential(fn.nn.Flatten(), fn.nn.Linear(64, 64), fn.nn.ReLU(),
                                 fn.nn.Dropout(0.2), fn.nn.Linear(64, 10))
        done = threading.Event()

        def predict_while_training():
            while not done.is_set():
                fn.predict(model, X[:32])

        other = threading.Thread(target=predict_while_training)
        if with_predictions:
            other.start()
        try:
            fn.fit(model, X, y, loss="cross_entropy", optimizer="sgd", epochs=6,
                   batch_size=32, verbose=0, seed=1, validation_split=0.25)
        finally:
            done.set()
            if with_predictions:
                other.join()
        return [np.asarray(p.data).copy() for p in model.parameters()]

    for a, b in zip(train(False), train(True)):
        np.testing.assert_array_equal(a, b)


FORK_WHILE_PREDICTING = """
import os, signal, threading, time, numpy as np, fastnn as fn
m = fn.nn.Sequential(fn.nn.Linear(256, 256), fn.nn.ReLU(), fn.nn.Linear(256, 10))
X = np.random.default_rng(0).standard_normal((2048, 256)).astype(np.float32)
stop = False
def loop():
    while not stop:
        fn.predict(m, X)
t = threading.Thread(target=loop)
t.start()
time.sleep(0.2)
codes = []
for _ in range(3):
    pid = os.fork()
    if pid == 0:
        signal.alarm(20)  # a hang ends the child with SIGALRM
        fn.predict(m, X[:4])
        os._exit(0)
    codes.append(os.waitpid(pid, 0)[1])
stop = True
t.join()
print(codes)
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_child_forked_while_another_thread_predicts_can_predict():
    """API.md: a forked child keeps calling fastnn. A model's lock (held by the other
    thread's predict at the fork) stayed held in the child, whose predict waited forever."""
    r = subprocess.run([sys.executable, "-c", FORK_WHILE_PREDICTING], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[0, 0, 0]", r.stdout


def _run_script(code: str, env: dict[str, str] | None = None, timeout: int = 120):
    here = str(Path(fn.__file__).resolve().parents[1])  # the fastnn under test
    return subprocess.run([sys.executable, "-X", "faulthandler", "-c", textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": here, **(env or {})})


@pytest.mark.skipif(not OPENMP, reason="serial build: one thread only")
@pytest.mark.parametrize("omp_num_threads", [None, "1"])
def test_set_num_threads_wins_over_each_threads_default_and_restoring_in_a_worker_keeps_it(
        omp_num_threads):
    """The count was capped by each thread's OpenMP default: with OMP_NUM_THREADS=1,
    fn.set_num_threads(2) left threads Python starts at 1 (PyTorch: 2), and the save /
    restore idiom in a worker thread (as the estimators' n_threads did) lowered the main
    thread's count for good."""
    r = _run_script("""
    import threading, fastnn as fn
    from fastnn import _core
    _core._set_cpu_limit(0)  # counts above the CPUs, checked without running them
    fn.set_num_threads(3)
    seen = []
    def worker():
        seen.append(fn.get_num_threads())
        before = fn.get_num_threads()
        fn.set_num_threads(1)
        fn.set_num_threads(before)
    t = threading.Thread(target=worker)
    t.start(); t.join()
    print(seen[0], fn.get_num_threads())
    """, env={"OMP_NUM_THREADS": omp_num_threads} if omp_num_threads else
        {"OMP_NUM_THREADS": ""})
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.split() == ["3", "3"]


@pytest.mark.skipif(not OPENMP, reason="serial build: no OpenMP runtime")
def test_set_num_threads_leaves_the_openmp_runtimes_own_limit_alone():
    """fn.set_num_threads called omp_set_num_threads, which changed the count of every
    library sharing the runtime in that thread (torch.get_num_threads() followed it)."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before_fn = fn.get_num_threads()

    def openmp_limits():
        return [p["num_threads"] for p in threadpoolctl.threadpool_info()
                if p["user_api"] == "openmp"]

    limits = openmp_limits()
    try:
        fn.set_num_threads(1)
        assert fn.get_num_threads() == 1 and openmp_limits() == limits
    finally:
        fn.set_num_threads(before_fn)


@pytest.mark.skipif(not OPENMP, reason="serial build: one thread only")
def test_thread_count_is_the_calling_threads_own():
    from fastnn._runtime import thread_count
    before = fn.get_num_threads()
    fn.set_num_threads(2)
    try:
        other: list[int] = []
        with thread_count(1):
            assert fn.get_num_threads() == 1
            t = threading.Thread(target=lambda: other.append(fn.get_num_threads()))
            t.start()
            t.join(10)
            with thread_count(None):
                assert fn.get_num_threads() == 1
        assert other == [2] and fn.get_num_threads() == 2
        with pytest.raises(ValueError, match="'n' must be >= 1"):
            with thread_count(0):
                pass
    finally:
        fn.set_num_threads(before)


@pytest.mark.skipif(not OPENMP, reason="serial build: one thread only")
@pytest.mark.filterwarnings("ignore:Stochastic Optimizer")
def test_estimators_n_threads_apply_to_their_own_thread_only():
    """Estimators with n_threads held one process-wide lock for fit and predict (a fit in
    another thread waited for it: fits in concurrent threads ran one after the other) and
    set the process-wide count meanwhile (a concurrent fn.fit in another thread ran at
    the estimator's count)."""
    pytest.importorskip("sklearn")
    from contextlib import contextmanager

    import fastnn.sklearn._base as base
    from fastnn.sklearn import MLPClassifier
    X, y = digits()
    before = fn.get_num_threads()
    fn.set_num_threads(2)
    seen: list[tuple[int, int]] = []
    original = base._threads

    @contextmanager
    def observed(n):  # inside the fit: its own count, and what another thread sees
        with original(n):
            other: list[int] = []
            t = threading.Thread(target=lambda: other.append(fn.get_num_threads()))
            t.start()
            t.join(10)
            seen.append((fn.get_num_threads(), other[0]))
            yield

    try:
        base._threads = observed
        MLPClassifier((16,), max_iter=2, n_threads=1, random_state=0).fit(X[:200], y[:200])
        base._threads = original
        assert seen and set(seen) == {(1, 2)} and fn.get_num_threads() == 2
        # another thread's estimator fits while this thread is inside an n_threads block
        with base._threads(1):
            worker = threading.Thread(target=lambda: MLPClassifier(
                (16,), max_iter=2, n_threads=1, random_state=0).fit(X[:200], y[:200]))
            worker.start()
            worker.join(60)
            assert not worker.is_alive()
    finally:
        base._threads = original
        fn.set_num_threads(before)


FORK_WHILE_ESTIMATOR_FITS = """
import os, signal, threading, time, warnings
import numpy as np
warnings.simplefilter("ignore")
from fastnn.sklearn import MLPClassifier
X = np.random.default_rng(0).standard_normal((20000, 100)).astype(np.float32)
y = (X[:, 0] > 0).astype(int)
small = MLPClassifier((8,), max_iter=2, n_threads=1, random_state=0).fit(X[:200], y[:200])
long_fit = threading.Thread(target=lambda: MLPClassifier(
    (512,), max_iter=50, n_threads=2, random_state=0).fit(X, y), daemon=True)
long_fit.start()
time.sleep(1.0)
assert long_fit.is_alive()  # the fork below happens while it fits
pid = os.fork()
if pid == 0:
    signal.alarm(60)  # a hang ends the child (exit status: killed by SIGALRM)
    small.predict(X[:5])
    MLPClassifier((8,), max_iter=1, n_threads=1, random_state=0).fit(X[:100], y[:100])
    os._exit(0)
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status))
os._exit(0)
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_child_forked_while_an_estimator_fits_in_another_thread_can_fit_and_predict():
    """API.md: a forked child keeps calling fastnn. The estimators' process-wide lock,
    held by the other thread's fit at the fork, stayed held in the child: its predict
    and fit waited forever."""
    pytest.importorskip("sklearn")
    r = _run_script(FORK_WHILE_ESTIMATOR_FITS, timeout=180)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.strip() == "0", r.stdout


FORK_WHILE_STEPPING = """
import os, threading
import numpy as np
import fastnn as fn
fn.manual_seed(0)
model = fn.nn.Sequential(fn.nn.Linear(256, 512), fn.nn.ReLU(), fn.nn.Linear(512, 10))
step = fn.nn.TrainStep(model, fn.nn.CrossEntropyLoss(), fn.optim.SGD(model.parameters(), lr=0.01))
X = np.random.default_rng(0).standard_normal((512, 256)).astype(np.float32)
y = np.arange(512) % 10
stop = False
inside = threading.Event()
def loop():
    while not stop:
        inside.set()
        step(X, y)
t = threading.Thread(target=loop)
t.start()
inside.wait()
codes = []
for _ in range(5):
    pid = os.fork()
    if pid == 0:
        try:
            value = step(X[:64], y[:64])
            assert step.output.shape == (64, 10)
            os._exit(0 if np.isfinite(value) else 3)
        except RuntimeError:
            os._exit(4)
    _, status = os.waitpid(pid, 0)
    codes.append(os.waitstatus_to_exitcode(status))
stop = True
t.join()
print(codes)
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_child_forked_while_another_thread_runs_a_train_step_can_run_it():
    """The step's "running" lock, held by the other thread at the fork, stayed held in the
    child: every call there raised "already running in another thread"."""
    r = _run_script(FORK_WHILE_STEPPING)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.strip() == "[0, 0, 0, 0, 0]", r.stdout


@pytest.mark.skipif(not OPENMP or not os.path.exists("/proc/self/maps"),
                    reason="needs the OpenMP runtime and Linux's /proc/self/maps")
def test_info_says_when_the_wait_policy_came_too_late():
    """With fastnn's libgomp already loaded by another library (torch imported first, in a
    build that shares it), libgomp had read its environment before fastnn chose the
    passive policy, and fn.info() still reported {'policy': 'PASSIVE', 'source':
    'fastnn'} while idle workers spun (3x the CPU time in the review)."""
    runtime = fn.info()["openmp"].split(" ")[0].split(".so")[0]  # libgomp, libgomp-1a2b3c4d
    with open("/proc/self/maps") as maps:
        paths = [line.split()[-1] for line in maps
                 if os.path.basename(line.split()[-1]).startswith(runtime + ".so")]
    if not paths:
        pytest.skip(f"{runtime} is not mapped from a file")
    base = {k: v for k, v in os.environ.items()
            if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    code = (f"import ctypes; ctypes.CDLL({paths[0]!r}); import fastnn as fn; "
            "print(sorted(fn.info()['omp_wait'].items()))")
    r = subprocess.run([sys.executable, "-c", code], env=base, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(sorted(
        {"policy": None, "spin_count": None, "source": "preloaded"}.items()))


def test_a_reimport_reports_the_first_imports_wait_policy():
    """A reload (or a re-import after removing fastnn from sys.modules) found fastnn's own
    libgomp mapped and reported source "preloaded"."""
    base = {k: v for k, v in os.environ.items()
            if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    code = textwrap.dedent("""
    import importlib, sys, fastnn as fn
    first = fn.info()["omp_wait"]
    importlib.reload(fn)
    reloaded = fn.info()["omp_wait"]
    for name in [m for m in sys.modules if m.startswith("fastnn")]:
        del sys.modules[name]
    import fastnn
    print(first == reloaded == fastnn.info()["omp_wait"], first["source"])
    """)
    r = subprocess.run([sys.executable, "-c", code], env=base, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["True", "fastnn"]


FORK_DURING_A_DRAW = """
import copy, os, pickle, threading, fastnn as fn
from fastnn import _random

# Another thread inside a large draw holds the generator's lock (NumPy releases the GIL
# for the draw); a thread holding the (re-entrant) locks at the fork is that moment,
# made certain.
g = fn.Generator().manual_seed(0)
try:
    fn.Generator("cuda")  # a Generator whose __init__ raised, kept alive by the traceback
except RuntimeError as e:
    kept = e
copies = [copy.deepcopy(g), pickle.loads(pickle.dumps(g)),  # made without __init__
          pickle.loads(pickle.dumps(g, protocol=0))]
locks = [_random.default_generator().bit_generator.lock, g._rng.bit_generator.lock]
locks += [c._rng.bit_generator.lock for c in copies]
holding, done = threading.Event(), threading.Event()

def hold():
    for lock in locks:
        lock.acquire()
    holding.set()
    done.wait()
    for lock in locks:
        lock.release()

t = threading.Thread(target=hold)
t.start()
holding.wait()
pid = os.fork()
if pid == 0:
    fn.randn(3)  # the global state
    fn.nn.Linear(4, 4)  # weight init draws from it too
    fn.randn(3, generator=g)  # a Generator of the user's
    for c in copies:
        fn.randn(3, generator=c)
    os._exit(0)
done.set()
t.join()
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_child_forked_during_another_thread_s_draw_can_draw():
    """The child inherited a generator lock held by a thread it does not have, and its
    first draw (randn, a Linear's init, a shuffle) waited forever."""
    try:
        r = _run_script(FORK_DURING_A_DRAW, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("the forked child hung on its first draw")
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.strip() == "0", r.stdout


EXIT_DURING_A_KERNEL = """
import threading, time, numpy as np, fastnn as fn

def products():  # inside a kernel nearly all the time
    a = np.ones((1200, 1200), np.float32)
    while True:
        fn.matmul(a, a)

def steps():  # short kernels: often waiting for the GIL when the interpreter finalizes
    X, y = np.ones((8, 16), np.float32), np.zeros(8, np.int64)
    model = fn.nn.Sequential(fn.nn.Linear(16, 16), fn.nn.ReLU(), fn.nn.Linear(16, 10))
    step = fn.nn.TrainStep(model, fn.nn.CrossEntropyLoss(), fn.optim.Adam(model.parameters()))
    while True:
        step(X, y)

def converting_steps():  # float64 inputs and int32 labels: NumPy casts without the GIL
    X, y = np.ones((20000, 16)), np.zeros(20000, np.int32)
    model = fn.nn.Sequential(fn.nn.Linear(16, 10))
    step = fn.nn.TrainStep(model, fn.nn.CrossEntropyLoss(),
                           fn.optim.SGD(model.parameters(), lr=0.1))
    while True:
        step(X, y)

for work in (products, steps, converting_steps):
    threading.Thread(target=work, daemon=True).start()
time.sleep(0.3)
print("main returns")
"""


def test_the_interpreter_exits_cleanly_while_a_daemon_thread_is_in_a_kernel():
    """When the main thread returned while a daemon thread was inside a kernel, the
    thread's return for the GIL (pthread_exit in a finalizing CPython, from a destructor)
    aborted the process: "terminate called without an active exception", SIGABRT."""
    for _ in range(5):
        r = _run_script(EXIT_DURING_A_KERNEL, timeout=60)
        assert "terminate called" not in r.stderr, r.stderr[-3000:]
        assert r.returncode == 0, r.stderr[-3000:]
        assert r.stdout.strip() == "main returns"
