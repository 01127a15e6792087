"""fit / evaluate / predict, callbacks, save / load, ONNX and distributed with autograd models.

An autograd model is a ``Module`` subclass that defines only ``forward``, written
with Tensor ops and built-in layers. ``fit`` trains it with the eager autograd
step (or ``nn.TrainStep``'s traced replay of it); the NumPy path of built-in
models is covered by test_training.py and must not change.
"""

from __future__ import annotations

import numpy as np
import pytest

import fastnn as fn
from fastnn import nn
from fastnn.training import loop
from fastnn.training.steps import uses_autograd

N_IN, HIDDEN, N_OUT = 6, 16, 3


class Residual(nn.Module):
    """A forward-only residual MLP with dropout."""

    def __init__(self, p: float = 0.0) -> None:
        super().__init__()
        self.fc1 = nn.Linear(N_IN, HIDDEN)
        self.fc2 = nn.Linear(HIDDEN, HIDDEN)
        self.drop = nn.Dropout(p)
        self.out = nn.Linear(HIDDEN, N_OUT)

    def forward(self, x):
        h = fn.relu(self.fc1(x))
        h = h + self.drop(fn.tanh(self.fc2(h)))
        return self.out(h)


class Scale(nn.Module):
    """A forward-only layer with its own Parameter, usable inside a Sequential."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.gain = nn.Parameter(np.ones(n, np.float32))

    def forward(self, x):
        return x * self.gain


class SumSquares(nn.Module):
    """A forward-only loss (nn.TrainStep does not take it: the eager autograd step runs)."""

    reduction = "mean"

    def forward(self, pred, target):
        onehot = fn.tensor(np.eye(N_OUT, dtype=np.float32))[target]
        return ((pred - onehot) ** 2).sum(1).mean()


class HandWritten(nn.Module):
    """A model with its own backward (the NumPy path)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(N_IN, N_OUT)

    def forward(self, x):
        return self.fc(x)

    def backward(self, g):
        return self.fc.backward(g)


def make_data(n: int = 120, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, N_IN)).astype(np.float32)
    y = (X[:, :N_OUT] + 0.3 * rng.standard_normal((n, N_OUT))).argmax(1)
    return X, y


def params(model: nn.Module) -> list[np.ndarray]:
    return [p.detach().numpy().copy() for p in model.parameters()]


def assert_same(a: list[np.ndarray], b: list[np.ndarray]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def fresh(seed: int = 0, p: float = 0.0) -> Residual:
    fn.manual_seed(seed)
    return Residual(p)


# -- which step --------------------------------------------------------------------------------
def test_uses_autograd():
    assert uses_autograd(Residual())
    assert uses_autograd(nn.Sequential(nn.Linear(3, 3), Scale(3)))  # Sequential would call it
    assert uses_autograd(nn.Sequential(nn.Sequential(Scale(3))))
    assert not uses_autograd(nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Dropout(0.1)))
    assert not uses_autograd(nn.Linear(3, 3))
    assert not uses_autograd(HandWritten())


def manual_fit(model, X, y, loss_fn, optimizer, epochs, batch_size):
    """The loop a PyTorch user writes, in order (no shuffling)."""
    losses = []
    for _ in range(epochs):
        total = 0.0
        for i in range(0, len(X), batch_size):
            xb, yb = fn.tensor(X[i:i + batch_size]), fn.tensor(y[i:i + batch_size])
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(xb)
        losses.append(total / len(X))
    return losses


@pytest.mark.parametrize("train_step", [True, False], ids=["train_step", "eager"])
def test_fit_equals_the_hand_written_autograd_loop(monkeypatch, train_step):
    monkeypatch.setattr(loop, "_USE_TRAIN_STEP", train_step)
    X, y = make_data()
    model = fresh()
    hist = fn.fit(model, X, y, loss=nn.CrossEntropyLoss(),
                  optimizer=fn.optim.Adam(model.parameters(), lr=0.01), epochs=3,
                  batch_size=32, shuffle=False, verbose=0)
    ref = fresh()
    want = manual_fit(ref, X, y, nn.CrossEntropyLoss(),
                      fn.optim.Adam(ref.parameters(), lr=0.01), 3, 32)
    assert_same(params(model), params(ref))
    np.testing.assert_allclose(hist.history["loss"], want, rtol=1e-6)


def test_fit_trains_and_reports_metrics():
    X, y = make_data(200)
    X_val, y_val = make_data(60, seed=1)
    model = fresh(p=0.2)
    hist = fn.fit(model, X, y, loss="cross_entropy", optimizer="adam", epochs=15,
                  batch_size=16, validation_data=(X_val, y_val), metrics=["accuracy"],
                  verbose=0, seed=0)
    assert sorted(hist.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert hist.history["loss"][-1] < 0.6 * hist.history["loss"][0]
    assert hist.history["val_accuracy"][-1] > 0.7
    assert model.training  # fit leaves the model in training mode, as before
    ev = fn.evaluate(model, X_val, y_val, loss=nn.CrossEntropyLoss(), metrics=["accuracy"])
    assert ev["loss"] == pytest.approx(hist.history["val_loss"][-1], rel=1e-6)
    assert ev["accuracy"] == hist.history["val_accuracy"][-1]


def test_eager_step_when_train_step_refuses_the_loss():
    X, y = make_data()
    model = fresh()
    opt = fn.optim.SGD(model.parameters(), lr=0.05)
    hist = fn.fit(model, X, y, loss=SumSquares(), optimizer=opt, epochs=4, batch_size=20,
                  shuffle=False, verbose=0)
    ref = fresh()
    want = manual_fit(ref, X, y, SumSquares(), fn.optim.SGD(ref.parameters(), lr=0.05), 4, 20)
    assert_same(params(model), params(ref))
    np.testing.assert_allclose(hist.history["loss"], want, rtol=1e-6)
    assert want[-1] < want[0]


def test_sequential_holding_a_forward_only_module_and_nd_inputs():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((64, 2, 3)).astype(np.float32)  # 3-D: no TrainStep
    y = (X.reshape(64, 6)[:, :N_OUT]).argmax(1)
    fn.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(6, 8), Scale(8), nn.ReLU(), nn.Linear(8, 3))
    gain = model[2].gain
    hist = fn.fit(model, X, y, loss=nn.CrossEntropyLoss(), optimizer="adam", epochs=5,
                  batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert not np.array_equal(gain.detach().numpy(), np.ones(8, np.float32))  # trained
    out = fn.predict(model, X)
    assert type(out) is np.ndarray and out.shape == (64, 3) and out.dtype == np.float32


def test_predict_and_evaluate_run_in_eval_mode_without_a_graph():
    X, y = make_data(50)
    model = fresh(p=0.5)
    model.train()
    out = fn.predict(model, X, batch_size=16)  # several batches
    assert type(out) is np.ndarray and out.shape == (50, N_OUT) and out.dtype == np.float32
    assert model.training and model.drop.training  # restored
    with fn.no_grad():
        model.eval()
        want = np.concatenate([model(fn.tensor(X[i:i + 16])).numpy() for i in range(0, 50, 16)])
        model.train()
    np.testing.assert_array_equal(out, want)  # eval mode: no dropout, the same batches
    np.testing.assert_allclose(fn.predict(model, X), want, rtol=1e-5, atol=1e-6)
    model.eval()
    fn.evaluate(model, X, y, loss="cross_entropy")
    assert not model.training
    assert all(p.grad is None or not np.any(p.grad.numpy()) for p in model.parameters())


def test_clear_errors_for_models_and_losses_that_are_not_autograd():
    X, y = make_data(20)

    class NumpyForward(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(np.zeros((N_IN, N_OUT), np.float32))

        def forward(self, x):
            return np.asarray(x) @ self.w.detach().numpy()

    class FloatLoss(nn.Module):
        def forward(self, pred, target):
            return 1.0

    model = NumpyForward()
    with pytest.raises(TypeError, match=r"fit\(\): the model returned ndarray for a Tensor input"):
        fn.fit(model, X, y, loss=SumSquares(), optimizer="sgd", epochs=1, verbose=0)
    with pytest.raises(TypeError, match=r"evaluate\(\): the model returned ndarray"):
        fn.evaluate(model, X, y, loss=SumSquares())
    with pytest.raises(TypeError, match=r"fit\(\): the loss FloatLoss returned float for Tensor "
                                        r"inputs; .* needs a loss that returns a 0-d Tensor"):
        fn.fit(fresh(), X, y, loss=FloatLoss(), optimizer="sgd", epochs=1, verbose=0)


# -- callbacks -----------------------------------------------------------------------------------
class Snapshots(fn.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.state_dict())


def test_early_stopping_restores_the_best_autograd_weights():
    X, y = make_data(120)
    model = fresh()
    snaps = Snapshots()
    stop = fn.callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    # a learning rate so high that the validation loss soon gets worse
    hist = fn.fit(model, X, y, loss="cross_entropy",
                  optimizer=fn.optim.SGD(model.parameters(), lr=3.0), epochs=30,
                  validation_split=0.25, callbacks=[snaps, stop], verbose=0, seed=0)
    assert hist.stopped_epoch is not None and hist.stopped_epoch < 29
    best = int(np.argmin(hist.history["val_loss"]))
    assert hist.best_epoch == best
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, snaps.weights[best][key])


def test_model_checkpoint_and_lr_callbacks_with_an_autograd_model(tmp_path):
    X, y = make_data(100)
    model = fresh()
    opt = fn.optim.Adam(model.parameters(), lr=0.01)
    path = tmp_path / "ckpt-{epoch}.safetensors"
    callbacks = [fn.callbacks.ModelCheckpoint(str(path), monitor="loss"),
                 fn.callbacks.LearningRateScheduler(lambda epoch, lr: 0.01 * 0.5 ** epoch),
                 fn.callbacks.ReduceLROnPlateau(monitor="loss", patience=0, factor=0.5,
                                                min_delta=10.0)]  # never "improves"
    fn.fit(model, X, y, loss="cross_entropy", optimizer=opt, epochs=3, verbose=0,
           callbacks=callbacks)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"ckpt-{e}.safetensors" for e in (1, 2, 3)]
    assert opt.param_groups[0]["lr"] < 0.01 * 0.5 ** 2  # both schedules acted
    loaded = fn.load(tmp_path / "ckpt-3.safetensors", model=Residual())
    np.testing.assert_array_equal(fn.predict(loaded, X), fn.predict(model, X))
    assert fn.io.load_metadata(tmp_path / "ckpt-3.safetensors")["metadata"] == {"epoch": 3}


# -- save / load ---------------------------------------------------------------------------------
def test_save_load_a_module_subclass(tmp_path):
    X, y = make_data(60)
    model = fresh()
    opt = fn.optim.Adam(model.parameters(), lr=0.01)
    fn.fit(model, X, y, loss="cross_entropy", optimizer=opt, epochs=2, verbose=0, seed=0)
    path = tmp_path / "res.safetensors"
    fn.save(model, path, optimizer=opt)
    info = fn.io.load_metadata(path)
    assert info["architecture"] is None
    assert info["model_class"] == f"{__name__}.Residual"

    with pytest.raises(fn.io.FileFormatError,
                       match=r"holds no architecture: the model saved was a .*Residual, which "
                             r"fastnn.load does not rebuild .*load\(path, model=Residual\(...\)\)"
                             r", or model.load_state_dict\(fastnn.io.load_state_dict\(path\)\)"):
        fn.load(path)

    other = fresh(seed=1)
    other_opt = fn.optim.Adam(other.parameters(), lr=0.01)
    assert fn.load(path, model=other, optimizer=other_opt) is other
    np.testing.assert_array_equal(fn.predict(other, X), fn.predict(model, X))

    # resuming gives the steps an uninterrupted run takes
    fn.fit(model, X, y, loss="cross_entropy", optimizer=opt, epochs=1, shuffle=False, verbose=0)
    fn.fit(other, X, y, loss="cross_entropy", optimizer=other_opt, epochs=1, shuffle=False,
           verbose=0)
    assert_same(params(other), params(model))

    third = fresh(seed=2)
    third.load_state_dict(fn.io.load_state_dict(path))
    assert sorted(fn.io.load_state_dict(path)) == sorted(model.state_dict())  # no optimizer keys
    fn.load(path, model=fresh(seed=3))  # the file is unchanged by the loads


def test_load_state_dict_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="load_state_dict"):
        fn.io.load_state_dict(tmp_path / "nope.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"0123456789abcdef")
    with pytest.raises(fn.io.FileFormatError, match=r"load_state_dict\(\): .*bad.safetensors"):
        fn.io.load_state_dict(bad)


def test_sequential_files_still_rebuild(tmp_path):
    fn.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 2))
    fn.save(model, tmp_path / "s.safetensors")
    info = fn.io.load_metadata(tmp_path / "s.safetensors")
    assert info["model_class"] == "fastnn.nn.container.Sequential"
    X = np.random.default_rng(0).standard_normal((7, 4)).astype(np.float32)
    np.testing.assert_array_equal(fn.predict(fn.load(tmp_path / "s.safetensors"), X),
                                  fn.predict(model, X))


# -- ONNX ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [lambda: Residual(p=0.3), lambda: nn.Sequential(
    nn.Linear(N_IN, HIDDEN), Scale(HIDDEN), nn.GELU(), nn.Linear(HIDDEN, N_OUT))])
def test_onnx_export_of_an_autograd_model_matches_predict(tmp_path, make):
    """Issue 12: ONNX accepts autograd-written models (forward traced once, eval mode)."""
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    fn.manual_seed(0)
    model = make()
    model.train()
    frozen = list(model.modules())[-1]
    frozen.eval()  # a mixed mode survives the export
    modes = [m.training for m in model.modules()]
    fn.onnx.export(model, tmp_path / "m.onnx")
    assert [m.training for m in model.modules()] == modes  # traced in eval mode, restored
    sess = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    for batch in (1, 9, 64):
        X = np.random.default_rng(batch).standard_normal((batch, N_IN)).astype(np.float32)
        np.testing.assert_allclose(sess.run(None, {"input": X})[0], fn.predict(model, X),
                                   rtol=1e-5, atol=1e-5)


# -- distributed (a world of one here; tests/mpi_scripts/equivalence.py runs two ranks) ------------
def test_allreduce_after_autograd_backward_in_a_world_of_one():
    X, y = make_data(30)
    model = fresh()
    model.zero_grad(set_to_none=True)
    loss = nn.CrossEntropyLoss()(model(fn.tensor(X)), fn.tensor(y))
    loss.backward()
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    model.fc2.bias.grad = None  # a gradient set to None takes part as zeros
    fn.distributed.allreduce_gradients(model)
    flat = fn.distributed.flatten_gradients(model)
    for p, g in zip(model.parameters(), grads):
        assert np.shares_memory(p.grad.numpy(), flat)
        if p is model.fc2.bias:
            assert not np.any(p.grad.numpy())
        else:
            np.testing.assert_array_equal(p.grad.numpy(), g)
    # later backward passes accumulate into the flat buffer
    model.zero_grad()
    nn.CrossEntropyLoss()(model(fn.tensor(X)), fn.tensor(y)).backward()
    np.testing.assert_array_equal(model.fc1.weight.grad.numpy(), grads[0])
    assert np.shares_memory(model.fc1.weight.grad.numpy(), flat)


def test_float_class_labels_are_labels_on_every_path(monkeypatch):
    X, y = make_data(40)
    histories, weights = [], []
    for train_step in (True, False):
        monkeypatch.setattr(loop, "_USE_TRAIN_STEP", train_step)
        model = fresh()
        hist = fn.fit(model, X, y.astype(np.float64), loss="cross_entropy", optimizer="sgd",
                      epochs=2, validation_split=0.25, verbose=0, seed=0)
        histories.append(hist.history)
        weights.append(params(model))
    assert histories[0] == histories[1]
    assert_same(*weights)
    with pytest.raises(TypeError, match="non-integral"):
        fn.fit(fresh(), X, y + 0.5, loss="cross_entropy", optimizer="sgd", epochs=1, verbose=0)


def test_fits_probe_forward_leaves_the_random_stream_alone():
    """fit runs the model on one sample first (output shape, label check); F.dropout's
    default training=True drew from the global generator there, so fit's masks differed
    from the hand-written loop's."""
    import fastnn.nn.functional as F

    class Net(fn.nn.Module):
        def __init__(self):
            super().__init__()
            self.l1, self.l2 = fn.nn.Linear(4, 8), fn.nn.Linear(8, 3)

        def forward(self, x):
            return self.l2(F.dropout(self.l1(x).relu(), 0.5))

    X = np.random.default_rng(0).standard_normal((32, 4)).astype(np.float32)
    y = np.arange(32) % 3
    fn.manual_seed(0)
    a = Net()
    fn.fit(a, X, y, loss="cross_entropy", optimizer=fn.optim.SGD(a.parameters(), lr=0.1),
           batch_size=32, epochs=1, shuffle=False, verbose=0)
    fn.manual_seed(0)
    b = Net()
    opt = fn.optim.SGD(b.parameters(), lr=0.1)
    opt.zero_grad()
    F.cross_entropy(b(fn.tensor(X)), fn.tensor(y)).backward()
    opt.step()
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
