"""Callbacks against their written-out Keras semantics, driven with scripted logs."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

import fastnn as fn
from fastnn import callbacks


class FakeModel(fn.nn.Module):
    """A one-parameter model whose weight records which epoch it came from."""

    def __init__(self):
        super().__init__()
        self.w = fn.nn.Parameter(np.zeros(1))


class FakeOptimizer:
    def __init__(self, lr):
        self.param_groups = [{"lr": lr}, {"lr": lr}]


def drive(cb, values, key="val_loss", model=None, optimizer=None):
    """Runs cb over epochs whose monitored values are `values`; returns the epochs run."""
    model = model or FakeModel()
    cb.set_model(model)
    cb.optimizer = optimizer
    model.stop_training = False
    cb.on_train_begin({})
    ran = []
    for epoch, v in enumerate(values):
        cb.on_epoch_begin(epoch, {})
        model.w.data[...] = epoch  # "training" this epoch
        ran.append(epoch)
        cb.on_epoch_end(epoch, {key: v})
        if model.stop_training:
            break
    cb.on_train_end({})
    return ran, model


@pytest.mark.parametrize(
    "values, patience, expected_stop",
    [
        ([1.0, 0.9, 0.8, 0.85, 0.86, 0.87, 0.5], 2, 4),  # two bad epochs after the best at 2
        ([1.0, 0.9, 0.8, 0.85, 0.86, 0.87, 0.5], 0, 3),  # first non-improvement stops
        ([1.0, 0.9, 0.8, 0.7, 0.6], 1, None),  # always improving: runs to the end
        ([1.0, 1.0, 1.0], 0, 1),  # equal is not an improvement
    ],
)
def test_early_stopping_patience(values, patience, expected_stop):
    cb = callbacks.EarlyStopping(patience=patience)
    ran, _ = drive(cb, values)
    if expected_stop is None:
        assert ran == list(range(len(values))) and cb.stopped_epoch == 0
    else:
        assert ran[-1] == expected_stop and cb.stopped_epoch == expected_stop


def test_early_stopping_min_delta_and_max_mode():
    cb = callbacks.EarlyStopping(monitor="val_accuracy", min_delta=0.05, patience=2)
    assert cb.mode == "max"
    ran, _ = drive(cb, [0.5, 0.52, 0.53, 0.9], key="val_accuracy")
    assert ran == [0, 1, 2]  # +0.02 and +0.03 are below min_delta
    assert cb.best == 0.5 and cb.best_epoch == 0


@pytest.mark.parametrize("baseline, expected", [(None, [0, 1, 2]), (0.5, [0, 1])])
def test_early_stopping_baseline(baseline, expected):
    # An improvement that misses the baseline does not reset the patience count.
    cb = callbacks.EarlyStopping(patience=2, baseline=baseline)
    ran, _ = drive(cb, [0.9, 1.0, 1.0, 0.4])
    assert ran == expected and cb.best == 0.9


def test_early_stopping_baseline_stops_an_improving_run_that_never_reaches_it():
    # Keras's documented rule (and Keras 2's code): the run had `patience` epochs to beat
    # the baseline; improving above it each epoch used to run to the end (Keras 3's return)
    cb = callbacks.EarlyStopping(patience=2, baseline=0.5)
    ran, _ = drive(cb, [0.9, 0.8, 0.7, 0.6, 0.55])
    assert ran == [0, 1] and cb.stopped_epoch == 1 and cb.best == 0.8
    cb = callbacks.EarlyStopping(patience=2, baseline=0.5)
    ran, _ = drive(cb, [0.9, 0.4, 0.3, 0.2])  # beaten in time: improvements reset the count
    assert ran == [0, 1, 2, 3] and cb.stopped_epoch == 0
    # monitoring from epoch 2: the same two monitored epochs (2 and 3), not one
    cb = callbacks.EarlyStopping(patience=1, baseline=0.5, start_from_epoch=2)
    ran, _ = drive(cb, [0.9, 0.8, 0.7, 0.6, 0.55])
    assert ran == [0, 1, 2, 3] and cb.stopped_epoch == 3


def test_early_stopping_start_from_epoch():
    cb = callbacks.EarlyStopping(patience=0, start_from_epoch=3)
    ran, _ = drive(cb, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    assert ran == [0, 1, 2, 3, 4] and cb.best_epoch == 3


@pytest.mark.parametrize("values", [[1.0, 0.5, 0.7, 0.8, 0.9], [1.0, 0.5, 0.7]])
def test_early_stopping_restores_best_weights_stopped_or_not(values):
    cb = callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    _, model = drive(cb, values)
    assert model.w.data[0] == 1.0  # the weights at the end of the best epoch (1)


def test_early_stopping_missing_monitor_warns_and_continues():
    cb = callbacks.EarlyStopping(patience=0)
    with pytest.warns(RuntimeWarning, match="val_loss"):
        ran, _ = drive(cb, [1.0, 2.0, 3.0], key="loss")
    assert ran == [0, 1, 2]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"patience": -1}, "patience"),
        ({"mode": "up"}, "mode"),
        ({"start_from_epoch": -2}, "start_from_epoch"),
        ({"monitor": 3}, "monitor"),
    ],
)
def test_early_stopping_bad_arguments(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        callbacks.EarlyStopping(**kwargs)


def test_reduce_lr_on_plateau_patience_cooldown_min_lr():
    opt = FakeOptimizer(1.0)
    cb = callbacks.ReduceLROnPlateau(factor=0.5, patience=1, cooldown=2, min_lr=0.2)
    lrs = []
    model = FakeModel()
    cb.set_model(model)
    cb.optimizer = opt
    cb.on_train_begin({})
    for epoch, v in enumerate([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]):
        cb.on_epoch_end(epoch, {"val_loss": v})
        lrs.append(opt.param_groups[0]["lr"])
    # epoch 1: wait 1 >= patience -> 0.5, cooldown 2; epoch 2: cooling down (counter 1);
    # epoch 3: counter 0, counts again -> 0.25; epoch 4 cooling; epoch 5 -> max(0.125, 0.2).
    assert lrs == [1.0, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2]
    assert opt.param_groups[1]["lr"] == 0.2  # every group follows


def test_reduce_lr_on_plateau_improvement_resets_wait():
    opt = FakeOptimizer(1.0)
    cb = callbacks.ReduceLROnPlateau(factor=0.1, patience=2, min_delta=0.0)
    cb.set_model(FakeModel())
    cb.optimizer = opt
    cb.on_train_begin({})
    for epoch, v in enumerate([1.0, 1.1, 0.9, 1.0, 1.0]):
        cb.on_epoch_end(epoch, {"val_loss": v})
    assert math.isclose(opt.param_groups[0]["lr"], 0.1)


def test_lr_callbacks_keep_each_group_s_own_rate():
    # both callbacks used to give every group group 0's rate (a "reduction" raised 0.01 to 0.05)
    opt = FakeOptimizer(1.0)
    opt.param_groups[1]["lr"] = 0.2
    cb = callbacks.ReduceLROnPlateau(factor=0.5, patience=1, min_lr=0.15)
    cb.set_model(FakeModel())
    cb.optimizer = opt
    cb.on_train_begin({})
    for epoch in range(3):
        cb.on_epoch_end(epoch, {"val_loss": 1.0})
    # group 0: 1 -> 0.5 -> 0.25; group 1: 0.2 -> max(0.1, 0.15) = 0.15, then stays
    assert [g["lr"] for g in opt.param_groups] == [0.25, 0.15]
    opt = FakeOptimizer(1.0)
    opt.param_groups[1]["lr"] = 0.2
    cb = callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5)
    cb.optimizer = opt
    cb.on_epoch_begin(0, {})
    assert [g["lr"] for g in opt.param_groups] == [0.5, 0.1]


def test_reduce_lr_on_plateau_bad_factor():
    with pytest.raises(ValueError, match="factor"):
        callbacks.ReduceLROnPlateau(factor=1.5)


def test_learning_rate_scheduler_two_and_one_argument_schedules():
    opt = FakeOptimizer(1.0)
    cb = callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5)
    cb.optimizer = opt
    for epoch in range(3):
        cb.on_epoch_begin(epoch, {})
    assert opt.param_groups[0]["lr"] == 0.125
    cb = callbacks.LearningRateScheduler(lambda epoch: 0.1 * (epoch + 1))
    cb.optimizer = opt
    cb.on_epoch_begin(4, {})
    assert math.isclose(opt.param_groups[1]["lr"], 0.5)
    cb = callbacks.LearningRateScheduler(lambda epoch, lr: float("nan"))
    cb.optimizer = opt
    with pytest.raises(ValueError, match="invalid lr"):
        cb.on_epoch_begin(0, {})
    with pytest.raises(TypeError, match="schedule"):
        callbacks.LearningRateScheduler(0.1)


def test_terminate_on_nan():
    cb = callbacks.TerminateOnNaN()
    model = FakeModel()
    cb.set_model(model)
    model.stop_training = False
    cb.on_train_batch_end(0, {"loss": 1.0})
    assert not model.stop_training
    cb.on_train_batch_end(1, {"loss": float("nan")})
    assert model.stop_training


def _blobs(n=80):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, n)
    X = (rng.normal(0, 0.5, (n, 2)) + np.where(y[:, None] == 1, 1.5, -1.5)).astype(np.float32)
    return X, y.astype(np.int64)


def _small_model():
    return fn.nn.Sequential(fn.nn.Linear(2, 8), fn.nn.ReLU(), fn.nn.Linear(8, 2))


def test_history_best_epoch_comes_from_whichever_callback_monitors(tmp_path):
    """API.md: best_epoch "where a monitor was used": ReduceLROnPlateau monitors val_loss
    too (best_epoch was None with it alone); a ModelCheckpoint that saves every epoch
    judges nothing, even with an initial_value_threshold (best_epoch was 0)."""
    X, y = _blobs()

    def run(cbs):
        fn.manual_seed(0)
        model = _small_model()
        opt = fn.optim.SGD(model.parameters(), lr=1.5)  # large: val_loss moves both ways
        return fn.fit(model, X, y, loss="cross_entropy", optimizer=opt, epochs=8,
                      validation_split=0.25, callbacks=cbs, verbose=0)

    hist = run([callbacks.ReduceLROnPlateau(patience=2, min_delta=0.0)])
    assert hist.best_epoch == int(np.argmin(hist.history["val_loss"]))
    hist = run([callbacks.ModelCheckpoint(tmp_path / "m.safetensors",
                                          initial_value_threshold=0.1)])
    assert hist.best_epoch is None
    assert run([]).best_epoch is None


def test_model_checkpoint_save_best_only_keeps_the_best_epoch(tmp_path):
    X, y = _blobs()
    fn.manual_seed(0)
    model = _small_model()
    snapshots = []

    class Snapshot(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append(self.model.state_dict())

    path = tmp_path / "best.safetensors"
    ckpt = callbacks.ModelCheckpoint(path, save_best_only=True)
    opt = fn.optim.SGD(model.parameters(), lr=1.5)  # large: val_loss moves both ways
    hist = fn.fit(model, X, y, loss="cross_entropy", optimizer=opt, epochs=8,
                  validation_split=0.25, callbacks=[Snapshot(), ckpt], verbose=0)
    best = int(np.argmin(hist.history["val_loss"]))
    assert ckpt.best_epoch == best and hist.best_epoch == best
    saved = fn.load(path)
    for k, v in saved.state_dict().items():
        np.testing.assert_array_equal(v, snapshots[best][k])
    assert fn.io.load_metadata(path)["metadata"]["epoch"] == best + 1


def test_a_reused_best_only_checkpoint_judges_each_run_s_epochs(tmp_path):
    # its best value carries over (Keras), but a second fit whose epochs never beat it
    # reported the first run's best_epoch (5 of a 2-epoch History; plot_history raised)
    X, y = _blobs()
    fn.manual_seed(0)
    model = _small_model()
    ckpt = callbacks.ModelCheckpoint(tmp_path / "best.safetensors", save_best_only=True)
    opt = fn.optim.SGD(model.parameters(), lr=0.5)
    first = fn.fit(model, X, y, loss="cross_entropy", optimizer=opt, epochs=6,
                   validation_split=0.25, callbacks=[ckpt], verbose=0)
    assert first.best_epoch == int(np.argmin(first.history["val_loss"]))
    best = ckpt.best
    for group in opt.param_groups:
        group["lr"] = 0.0  # the model stays at the first run's last epoch: no improvement
    second = fn.fit(model, X, y, loss="cross_entropy", optimizer=opt, epochs=2,
                    validation_split=0.25, callbacks=[ckpt], verbose=0)
    assert min(second.history["val_loss"]) >= best and ckpt.best == best
    assert second.best_epoch is None and ckpt.best_epoch is None


@pytest.mark.parametrize("make, arg", [
    (lambda: callbacks.EarlyStopping(restore_best_weights="False"), "restore_best_weights"),
    (lambda: callbacks.ModelCheckpoint("m.safetensors", save_best_only="no"), "save_best_only"),
])
def test_callback_flags_must_be_bools(make, arg):
    # a string read as true: restore_best_weights="False" restored the weights
    with pytest.raises(TypeError, match=f"argument '{arg}' must be a bool, got str"):
        make()


def test_model_checkpoint_formats_the_path_every_epoch(tmp_path):
    X, y = _blobs()
    ckpt = callbacks.ModelCheckpoint(str(tmp_path / "m-{epoch:02d}-{loss:.2f}.safetensors"))
    fn.fit(_small_model(), X, y, loss="cross_entropy", optimizer="adam", epochs=3,
           callbacks=[ckpt], verbose=0)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert [n[:4] for n in names] == ["m-01", "m-02", "m-03"]
    bad = callbacks.ModelCheckpoint(str(tmp_path / "{val_acc}.safetensors"))
    with pytest.raises(ValueError, match="cannot fill path"):
        fn.fit(_small_model(), X, y, loss="cross_entropy", optimizer="adam", epochs=1,
               callbacks=[bad], verbose=0)
    with pytest.raises(TypeError, match="path"):
        callbacks.ModelCheckpoint(3)


@pytest.mark.parametrize("append", [False, True])
def test_csv_logger(tmp_path, append):
    X, y = _blobs()
    path = tmp_path / "log.csv"
    for _ in range(2):
        fn.fit(_small_model(), X, y, loss="cross_entropy", optimizer="adam", epochs=3,
               metrics=["accuracy"], validation_split=0.25,
               callbacks=[callbacks.CSVLogger(path, append=append)], verbose=0)
    lines = path.read_text().splitlines()
    assert lines[0] == "epoch,accuracy,loss,val_accuracy,val_loss"
    assert len(lines) == (7 if append else 4)
    assert [ln.split(",")[0] for ln in lines[1:4]] == ["0", "1", "2"]
    with pytest.raises(ValueError, match="separator"):
        callbacks.CSVLogger(path, separator="::")


def test_model_checkpoint_creates_its_directory(tmp_path):
    # a path in a missing directory failed at the end of the first epoch (Keras creates it)
    X, y = _blobs()
    path = tmp_path / "runs" / "a" / "best.safetensors"
    fn.fit(_small_model(), X, y, loss="cross_entropy", optimizer="adam", epochs=1,
           callbacks=[callbacks.ModelCheckpoint(str(path), monitor="loss")], verbose=0)
    assert path.is_file()


def test_model_checkpoint_weights_only_and_batch_frequency(tmp_path):
    # Keras's save_weights_only / save_freq were TypeErrors (unexpected keyword)
    X, y = _blobs()
    fn.manual_seed(0)
    model = _small_model()
    weights = callbacks.ModelCheckpoint(str(tmp_path / "w.safetensors"), save_weights_only=True)
    every = callbacks.ModelCheckpoint(str(tmp_path / "b-{epoch}-{loss:.4f}.safetensors"),
                                      save_freq=3)
    fn.fit(model, X, y, loss="cross_entropy", optimizer="adam", epochs=2, batch_size=16,
           callbacks=[weights, every], verbose=0)
    state = fn.load(str(tmp_path / "w.safetensors"), weights_only=True)
    assert sorted(state) == sorted(model.state_dict())
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(np.asarray(state[k]), v)  # the last epoch's weights
    steps = 2 * math.ceil(len(X) / 16)
    batch_files = [p for p in tmp_path.iterdir() if p.name.startswith("b-")]
    assert len(batch_files) == steps // 3  # one per 3rd batch, each with its own loss
    for bad in (0, -1, 2.5, True, "batch"):
        with pytest.raises(ValueError, match="save_freq must be 'epoch' or a positive"):
            callbacks.ModelCheckpoint("x.safetensors", save_freq=bad)
    with pytest.raises(TypeError, match="save_weights_only"):
        callbacks.ModelCheckpoint("x.safetensors", save_weights_only="yes")


def test_model_checkpoint_needs_no_safetensors_package(tmp_path, monkeypatch, rng):
    """fastnn writes the format itself: with the safetensors package unimportable the
    checkpoint is still written, and loads."""
    monkeypatch.setitem(__import__("sys").modules, "safetensors", None)
    model = fn.nn.Sequential(fn.nn.Linear(3, 2))
    X = rng.standard_normal((6, 3)).astype(np.float32)
    y = rng.integers(0, 2, 6)
    path = tmp_path / "best.safetensors"
    fn.fit(model, X, y, loss=fn.nn.CrossEntropyLoss(), optimizer=fn.optim.SGD(
        model.parameters(), lr=0.1), epochs=1, verbose=0,
        callbacks=[callbacks.ModelCheckpoint(path, monitor="loss")])
    np.testing.assert_array_equal(fn.predict(fn.load(path), X), fn.predict(model, X))


class _Recorder(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.batch_logs, self.end_logs, self.epoch_logs = [], None, []

    def on_train_batch_end(self, batch, logs=None):
        self.batch_logs.append(dict(logs))

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_logs.append(dict(logs))

    def on_train_end(self, logs=None):
        self.end_logs = dict(logs)


def test_keras_older_batch_hook_names_are_called_as_aliases():
    """Keras calls on_batch_begin / on_batch_end from on_train_batch_begin / _end (a
    callback written against the older names ran silently never)."""
    class Old(callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.calls = []

        def on_batch_begin(self, batch, logs=None):
            self.calls.append(("begin", batch))

        def on_batch_end(self, batch, logs=None):
            self.calls.append(("end", batch, round(logs["loss"], 6)))

    class Both(_Recorder):  # the newer name overridden: the older one is not called
        def on_batch_end(self, batch, logs=None):
            raise AssertionError("on_batch_end called past an on_train_batch_end override")

    X, y = _blobs(20)
    old, rec, both = Old(), _Recorder(), Both()
    model = _small_model()
    fn.fit(model, X, y, loss="cross_entropy", optimizer=fn.optim.SGD(model.parameters(),
           lr=0.1), epochs=1, batch_size=8, shuffle=False, callbacks=[old, rec, both],
           verbose=0)
    assert [c[:2] for c in old.calls] == [("begin", 0), ("end", 0), ("begin", 1), ("end", 1),
                                         ("begin", 2), ("end", 2)]
    assert [c[2] for c in old.calls[1::2]] == [round(b["loss"], 6) for b in rec.batch_logs]


def test_batch_logs_are_the_running_means_and_train_end_gets_the_last_epoch():
    """Keras: on_train_batch_end gets the epoch's aggregated loss and metrics so far (it
    got that one batch's loss alone, no metrics), on_train_end the last epoch's logs
    (it got {})."""
    X, y = _blobs(50)
    model = _small_model()
    rec = _Recorder()
    opt = fn.optim.SGD(model.parameters(), lr=0.0)  # fixed weights: batch losses known
    fn.fit(model, X, y, loss="cross_entropy", optimizer=opt, epochs=2, batch_size=7,
           shuffle=False, metrics=["accuracy"], callbacks=[rec], verbose=0)
    per_sample = fn.nn.CrossEntropyLoss(reduction="none")(model(X), y)
    right = (model(X).argmax(1) == y).astype(np.float64)
    batches = math.ceil(50 / 7)
    assert len(rec.batch_logs) == 2 * batches
    for i, logs in enumerate(rec.batch_logs[:batches]):
        n = min(50, 7 * (i + 1))
        assert set(logs) == {"loss", "accuracy"}
        assert logs["loss"] == pytest.approx(float(np.mean(per_sample[:n])), rel=1e-5)
        assert logs["accuracy"] == pytest.approx(float(right[:n].mean()))
    assert rec.batch_logs[batches - 1] == pytest.approx(rec.epoch_logs[0])
    assert rec.end_logs == rec.epoch_logs[-1]


def test_model_checkpoint_fills_the_batch_when_saving_by_batches(tmp_path):
    # Keras fills {batch} (1-based) when save_freq is a number: a KeyError mid-fit before
    X, y = _blobs(40)
    ckpt = callbacks.ModelCheckpoint(str(tmp_path / "b-{epoch}-{batch}.safetensors"),
                                     save_freq=2)
    fn.fit(_small_model(), X, y, loss="cross_entropy", optimizer="sgd", epochs=2,
           batch_size=10, callbacks=[ckpt], verbose=0)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["b-1-2.safetensors", "b-1-4.safetensors", "b-2-2.safetensors",
                     "b-2-4.safetensors"]
    every_epoch = callbacks.ModelCheckpoint(str(tmp_path / "e-{batch}.safetensors"))
    with pytest.raises(ValueError, match=r"cannot fill path .*'epoch'.*KeyError\('batch'\)"):
        fn.fit(_small_model(), X, y, loss="cross_entropy", optimizer="sgd", epochs=1,
               callbacks=[every_epoch], verbose=0)


@pytest.mark.parametrize("make", [
    lambda v: callbacks.EarlyStopping(verbose=v),
    lambda v: callbacks.ReduceLROnPlateau(verbose=v),
    lambda v: callbacks.LearningRateScheduler(lambda e, lr: lr, verbose=v),
    lambda v: callbacks.ModelCheckpoint("x.safetensors", verbose=v),
])
def test_callback_verbose_is_checked_at_construction(make):
    """An unchecked verbose crashed at the first print (None > 0), after training."""
    for bad, kind in ((None, TypeError), (-1, ValueError), (1.5, TypeError)):
        with pytest.raises(kind, match="'verbose'"):
            make(bad)
    assert make(True).verbose == 1 and make(2).verbose == 2


def test_early_stopping_takes_api_mds_argument_order():
    """API.md lists EarlyStopping(monitor, min_delta, patience, mode, restore_best_weights);
    Keras's order has verbose before mode, so a positional "max" landed in verbose and mode
    stayed "min": training stopped on an improving metric, then crashed. The first five
    follow API.md; verbose, baseline and start_from_epoch are keyword-only."""
    stop = callbacks.EarlyStopping("val_f1", 0.0, 1, "max", True)
    assert (stop.mode, stop.restore_best_weights, stop.patience) == ("max", True, 1)
    ran, _ = drive(stop, [0.5, 0.6, 0.7, 0.8], key="val_f1")
    assert ran == [0, 1, 2, 3]  # improving: never stops
    with pytest.raises(TypeError, match=r"the fourth argument is mode here .*pass verbose= by"):
        callbacks.EarlyStopping("val_loss", 0.0, 3, 1)  # Keras's positional verbose
    with pytest.raises(TypeError):
        callbacks.EarlyStopping("val_loss", 0.0, 3, "min", False, 1)  # keyword-only
    with pytest.raises(TypeError, match=r"'mode' comes after 'verbose' here"):
        callbacks.ReduceLROnPlateau("val_loss", 0.1, 10, "max")  # Keras's order there


def test_history_best_epoch_is_early_stoppings_when_several_monitor():
    X, y = _blobs()

    class Scripted(callbacks.Callback):  # val_loss best at epoch 1; loss keeps falling
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = [1.0, 0.5, 0.9, 0.9, 0.9, 0.9][epoch]
            logs["loss"] = 5.0 - epoch

    stop = callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    hist = fn.fit(_small_model(), X, y, loss="cross_entropy", optimizer="sgd", epochs=6,
                  verbose=0, callbacks=[Scripted(), callbacks.ReduceLROnPlateau(monitor="loss"),
                                        stop])
    assert stop.best_epoch == 1 and hist.best_epoch == 1  # was 3, ReduceLROnPlateau's


def test_progress_prints_small_values_in_exponent_form_and_the_learning_rate(capsys):
    """Keras prints values of magnitude 1e-3 or less as 1.2345e-05 (a loss of 8.7e-14 was
    0.0000), and its epoch line comes after the callbacks (learning_rate was missing)."""
    X, _ = _blobs(20)
    model = fn.nn.Linear(2, 1)
    model.weight.data[...] = 0.0
    model.bias.data[...] = 1e-3 / 4  # loss = bias**2, far below 1e-3
    fn.fit(model, X, np.zeros((20, 1), np.float32), loss="mse",
           optimizer=fn.optim.SGD(model.parameters(), lr=0.0), epochs=1, verbose=2,
           callbacks=[callbacks.LearningRateScheduler(lambda e, lr: 2e-5)])
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert "loss 6.2500e-08" in line and "learning_rate 2.0000e-05" in line, line


def test_a_nan_first_value_is_never_the_best():
    """Keras starts the best at +inf (-inf), which NaN never beats; fastnn took a NaN first
    value as the best, and no later value could beat it: EarlyStopping stopped at epoch 2
    while val_loss improved, and would have restored the NaN epoch's weights."""
    nan = float("nan")
    stop = callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    ran, model = drive(stop, [nan, 0.5, 0.4, 0.3, 0.2])
    assert ran == [0, 1, 2, 3, 4] and stop.stopped_epoch == 0
    assert stop.best == 0.2 and stop.best_epoch == 4 and model.w.data[0] == 4
    stop = callbacks.EarlyStopping(patience=1)  # every value NaN: stops once patience is out
    assert drive(stop, [nan, nan, nan, nan])[0] == [0, 1] and stop.best is None


def test_a_nan_first_value_does_not_block_reduce_lr_on_plateau():
    # Keras: NaN at epoch 0 is no improvement (one cut, patience 1); then 0.5, 0.4, ...
    # improve. fastnn cut the rate at every later epoch.
    opt = FakeOptimizer(0.1)
    cb = callbacks.ReduceLROnPlateau(patience=1, min_delta=0.0)
    drive(cb, [float("nan"), 0.5, 0.4, 0.3, 0.2], optimizer=opt)
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.01, 0.01])
    assert cb.best == 0.2 and cb.best_epoch == 4


def test_model_checkpoint_best_only_skips_a_nan_first_value(tmp_path, capsys):
    path = tmp_path / "best.safetensors"
    cb = callbacks.ModelCheckpoint(path, save_best_only=True, verbose=1)
    drive(cb, [float("nan"), 0.5, 0.6])
    assert cb.best == 0.5 and cb.best_epoch == 1
    assert fn.io.load_state_dict(path)["w"][0] == 1  # epoch 1's weights
    assert "did not improve from inf" in capsys.readouterr().out


@pytest.mark.parametrize("make", [callbacks.EarlyStopping, callbacks.ModelCheckpoint])
@pytest.mark.parametrize(("monitor", "mode"), [
    ("val_loss", "min"), ("loss", "min"), ("val_accuracy", "max"), ("acc", "max"),
    ("val_top5_accuracy", "max"), ("val_auc", "max"), ("val_f1", "max"), ("val_mae", "min"),
    ("mse", "min"), ("val_mean_squared_error", "min"), ("val_my_loss", "min")])
def test_auto_mode_knows_the_direction_of_common_names(make, monitor, mode):
    cb = make(monitor=monitor) if make is callbacks.EarlyStopping else make("m", monitor=monitor)
    assert cb.mode == mode


@pytest.mark.parametrize("make", [lambda m: callbacks.EarlyStopping(monitor=m),
                                  lambda m: callbacks.ModelCheckpoint("m", monitor=m)])
def test_auto_mode_of_an_unknown_name_asks_for_a_mode(make):
    # Keras 3 raises when it cannot tell the direction; fastnn minimised "val_balanced"
    with pytest.raises(ValueError, match=r"monitor='val_balanced'.*mode='max'"):
        make("val_balanced")


@pytest.mark.parametrize(("monitor", "mode"), [("val_loss", "min"), ("val_acc_top5", "max"),
                                               ("val_balanced_acc", "max"), ("val_f1", "min")])
def test_reduce_lr_on_plateau_auto_maximises_names_with_acc_as_keras(monitor, mode):
    assert callbacks.ReduceLROnPlateau(monitor=monitor).mode == mode


def test_model_checkpoint_in_max_mode_starts_from_minus_inf(tmp_path, capsys):
    cb = callbacks.ModelCheckpoint(tmp_path / "b.safetensors", monitor="val_accuracy",
                                   save_best_only=True, verbose=1)
    drive(cb, [float("nan"), 0.5], key="val_accuracy")
    out = capsys.readouterr().out
    assert "did not improve from -inf" in out and "improved from -inf to 0.50000" in out

def _defaults(func) -> dict:
    return {k: p.default for k, p in inspect.signature(func).parameters.items()
            if p.default is not inspect.Parameter.empty}


# -- what a mutation-testing run found unpinned: Keras's defaults and rules -------------------

def test_callback_defaults_are_keras_s():
    assert _defaults(callbacks.ReduceLROnPlateau.__init__) == {
        "monitor": "val_loss", "factor": 0.1, "patience": 10, "verbose": 0, "mode": "auto",
        "min_delta": 1e-4, "cooldown": 0, "min_lr": 0.0}
    d = _defaults(callbacks.EarlyStopping.__init__)
    assert (d["monitor"], d["min_delta"], d["patience"], d["mode"], d["restore_best_weights"],
            d["verbose"]) == ("val_loss", 0.0, 0, "auto", False, 0)
    d = _defaults(callbacks.ModelCheckpoint.__init__)
    assert (d["monitor"], d["save_best_only"], d["verbose"]) == ("val_loss", False, 0)


def test_early_stopping_max_mode_equal_is_no_improvement():
    ran, _ = drive(callbacks.EarlyStopping(monitor="val_accuracy", patience=1),
                   [0.5, 0.5, 0.5], "val_accuracy")
    assert ran == [0, 1]


def test_early_stopping_takes_the_absolute_min_delta_as_keras():
    ran, _ = drive(callbacks.EarlyStopping(min_delta=-0.1), [1.0, 1.05, 1.08], "val_loss")
    assert ran == [0, 1]


def test_early_stopping_restores_the_first_epoch_when_nothing_improves():
    stop = callbacks.EarlyStopping(patience=5, restore_best_weights=True)
    _, model = drive(stop, [math.nan] * 3, "val_loss")
    assert model.w.data[0] == 0  # the first epoch's weights, as Keras keeps them


def test_callbacks_are_quiet_at_verbose_0(tmp_path, capsys):
    opt = fn.optim.SGD([fn.nn.Parameter(fn.zeros(1))], lr=0.1)
    sched = callbacks.LearningRateScheduler(lambda e, lr: lr * 0.5)
    sched.optimizer = opt
    sched.on_epoch_begin(0, {})
    ck = callbacks.ModelCheckpoint(tmp_path / "m.safetensors")
    drive(ck, [1.0], "val_loss")
    assert capsys.readouterr().out == ""
    loud = callbacks.ModelCheckpoint(tmp_path / "n.safetensors", verbose=1)
    drive(loud, [1.0], "val_loss")
    assert "saving model" in capsys.readouterr().out


def test_csv_logger_appending_to_an_empty_file_writes_the_header(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("")
    log = callbacks.CSVLogger(path, append=True)
    log.on_train_begin({})
    log.on_epoch_end(0, {"loss": 1.0})
    log.on_train_end({})
    assert path.read_text().splitlines()[0] == "epoch,loss"
