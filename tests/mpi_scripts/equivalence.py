"""Run by tests/test_distributed.py as ``mpiexec -n 2 python equivalence.py OUT_DIR``.

Every rank runs every check; rank 0 writes the measurements to OUT_DIR/results.json
(the test asserts on them) and rank r's CSVLogger aims at OUT_DIR/log{r}.csv.

* broadcast: ranks seeded differently end with rank 0's weights;
* shard: disjoint, equal, strided shares of the documented permutation;
* allreduce: one collective, the mean of the ranks' gradients, ``p.data`` untouched;
* trajectory: W ranks with batch b vs one process with batch W*b over the same
  samples, step by step, for SGD with momentum and Adam (the reference runs
  locally on every rank); with dropout too, each rank drawing its own masks and the
  reference applying their union to its batch of W*b;
* fit: ``fit(distributed=True)`` vs the single-process reference (History,
  validation metrics, final weights), with class weights and ignored targets too, early
  stopping agreement, rank-0-only files;
* dropout: masks differ per rank, repeat for the same seed, and the loss falls;
* autograd: a forward-only Module subclass trained with ``loss.backward()`` and
  ``allreduce_gradients`` (grads starting as ``None``) follows the single-process
  trajectory, and ``fit(distributed=True)`` trains it as one process would;
* mismatch: a model of another shape raises ValueError on every rank.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np
from mpi4py import MPI

import fastnn as fn
from fastnn import distributed
from fastnn.distributed import _mpi

N_IN, N_HIDDEN, N_OUT = 12, 16, 3
out_dir = sys.argv[1]
rank, size = distributed.init()
comm = MPI.COMM_WORLD
results: dict[str, object] = {"world_size": size}


class RecordingDropout(fn.nn.Dropout):
    """Dropout that keeps the mask of every training forward (backward of ones = mask / (1-p))."""

    def __init__(self, p: float) -> None:
        super().__init__(p)
        self.masks: list[np.ndarray] = []

    def forward(self, x):
        y = super().forward(x)
        if self.training:
            self.masks.append(self.backward(np.ones_like(y)) != 0)
        return y


def make_model(seed: int, dropout: float = 0.0, hidden: int = N_HIDDEN) -> fn.nn.Sequential:
    fn.manual_seed(seed)
    layers = [fn.nn.Linear(N_IN, hidden), fn.nn.ReLU()]
    if dropout:
        layers.append(RecordingDropout(dropout))
    return fn.nn.Sequential(*layers, fn.nn.Linear(hidden, N_OUT))


def flat_params(model: fn.nn.Module) -> np.ndarray:
    return np.concatenate([p.data.ravel() for p in model.parameters()])


def make_data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, N_IN)).astype(np.float32)
    y = (X[:, :N_OUT] + 0.5 * rng.normal(size=(n, N_OUT))).argmax(axis=1)
    return X, y


def make_optimizer(name: str, model: fn.nn.Module) -> fn.optim.Optimizer:
    if name == "sgd_momentum":
        return fn.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    return fn.optim.Adam(model.parameters(), lr=0.01)


def train_step(model, optimizer, loss_fn, xb, yb, reduce: bool) -> tuple[float, np.ndarray]:
    """One step as fit takes it; returns the batch loss and the predictions."""
    optimizer.zero_grad()
    pred = model(xb)
    value = float(loss_fn(pred, yb))
    model.backward(loss_fn.backward())
    if reduce:
        distributed.allreduce_gradients(model)
    optimizer.step()
    return value, pred


def rel_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30))


# -- broadcast -------------------------------------------------------------------------------
model = make_model(100 + rank)
before = flat_params(model)
root_before = comm.bcast(before, root=0)
distributed.broadcast_parameters(model)
after = comm.allgather(flat_params(model))
results["broadcast"] = {
    "seeds_differed": bool(comm.allreduce(int(not np.array_equal(before, root_before)))),
    "equal_root": all(np.array_equal(a, root_before) for a in after),
}

# -- shard -----------------------------------------------------------------------------------
n, seed, epoch = 23, 3, 1
order = np.random.default_rng([seed, epoch]).permutation(n)[: n - n % size]
shards = comm.allgather(distributed.shard(n, seed=seed, epoch=epoch))
in_order = comm.allgather(distributed.shard(n))
results["shard"] = {
    "lengths": [len(s) for s in shards],
    "strided": all(np.array_equal(s, order[r::size]) for r, s in enumerate(shards)),
    "identity_strided": all(
        np.array_equal(s, np.arange(n - n % size)[r::size]) for r, s in enumerate(in_order)
    ),
    "epochs_differ": not np.array_equal(distributed.shard(n, seed=seed, epoch=0), shards[rank]),
}


# -- allreduce_gradients: one collective, the mean, p.data untouched --------------------------
class CountingComm:
    """Forwards to COMM_WORLD, counting Allreduce calls."""

    def __init__(self, inner) -> None:
        self.inner, self.allreduces = inner, 0

    def Allreduce(self, *args, **kwargs):
        self.allreduces += 1
        return self.inner.Allreduce(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.inner, name)


model = make_model(0)
data_before = [p.data.copy() for p in model.parameters()]
for i, p in enumerate(model.parameters()):
    p.grad[...] = (rank + 1) * (i + 1)
counting = CountingComm(_mpi._comm)
_mpi._comm = counting
distributed.allreduce_gradients(model)
_mpi._comm = counting.inner
flat = distributed.flatten_gradients(model)
mean_factor = (size + 1) / 2  # mean of 1..size
results["allreduce"] = {
    "calls": counting.allreduces,
    "mean": all(np.all(p.grad == np.float32(mean_factor * (i + 1)))
                for i, p in enumerate(model.parameters())),
    "views": all(np.shares_memory(p.grad, flat) for p in model.parameters()),
    "data_untouched": all(np.array_equal(p.data, d)
                          for p, d in zip(model.parameters(), data_before)),
}

# -- allreduce_gradients(weight=): the weighted mean; a rank of weight 0 (its mean NaN, 0 / 0)
# drops out; equal or all-zero weights give the plain mean
def weighted_allreduce(weights: list[float], nan_on_zero: bool) -> list[float]:
    m = make_model(0)
    for p in m.parameters():
        p.grad[...] = np.nan if nan_on_zero and weights[rank] == 0 else rank + 1
    distributed.allreduce_gradients(m, weight=weights[rank])
    return sorted({float(v) for p in m.parameters() for v in np.unique(p.grad)})


results["allreduce_weighted"] = {
    "one_three": weighted_allreduce([1.0, 3.0], False),  # (1 * 1 + 3 * 2) / 4 = 1.75
    "zero_nan": weighted_allreduce([0.0, 2.0], True),  # rank 1's 2.0 alone
    "equal": weighted_allreduce([5.0, 5.0], False),  # the plain mean, 1.5
    "all_zero": weighted_allreduce([0.0, 0.0], False),  # the plain mean, 1.5
}

# -- trajectory: W ranks x batch b == one process x batch W*b ---------------------------------
X, y = make_data(97, seed=1)  # 97: the shards drop a sample each epoch
b, seed, epochs = 6, 5, 2
loss_fn = fn.nn.CrossEntropyLoss()


def trajectory(name: str, model_d, model_r, replay=None) -> dict:
    """Steps ``model_d`` on the W ranks (batch b each, gradients averaged) and ``model_r``
    in this process (batch W*b) over the same shuffled epochs, comparing them after every
    step. ``replay(rows)``, when given, prepares the reference's step (its dropout masks)
    and returns whether the ranks' masks differed."""
    opt_d, opt_r = make_optimizer(name, model_d), make_optimizer(name, model_r)
    distributed.broadcast_parameters(model_d)
    worst, steps, differ = 0.0, 0, 0
    for epoch in range(epochs):
        idx = distributed.shard(len(X), seed=seed, epoch=epoch)
        order = np.random.default_rng([seed, epoch]).permutation(len(X))[: len(X) - len(X) % size]
        for k in range(0, len(idx), b):
            train_step(model_d, opt_d, loss_fn, X[idx[k : k + b]], y[idx[k : k + b]], True)
            sel = order[k * size : (k + b) * size]
            if replay is not None:
                differ += replay(len(sel))
            train_step(model_r, opt_r, loss_fn, X[sel], y[sel], False)
            worst = max(worst, rel_diff(flat_params(model_d), flat_params(model_r)))
            steps += 1
    finals = comm.allgather(flat_params(model_d))
    out = {
        "steps": steps,
        "max_rel_diff": worst,
        "moved": rel_diff(flat_params(model_r), flat_params(make_model(0))),
        "ranks_identical": all(np.array_equal(f, finals[0]) for f in finals),
    }
    if replay is not None:
        out["masks_differed"] = differ
    return out


for name in ("sgd_momentum", "adam"):
    results[f"trajectory_{name}"] = trajectory(name, make_model(0), make_model(0))


# -- trajectory with dropout: each rank its own masks; the one process applies their union ----
class ReplayDropout(fn.nn.Module):
    """Inverted dropout with a given mask (``mask``, set before each step), as Dropout
    computes it: kept units times 1 / (1 - p), dropped ones 0; backward the same factor."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p, self.mask = p, None

    def forward(self, x):
        self.factor = np.where(self.mask, np.float32(1.0 / (1.0 - self.p)), np.float32(0.0))
        return x * self.factor

    def backward(self, grad_out):
        return grad_out * self.factor


P_DROP = 0.3
for name in ("sgd_momentum", "adam"):
    model_d = make_model(0, dropout=P_DROP)
    fn.manual_seed(0)
    model_r = fn.nn.Sequential(fn.nn.Linear(N_IN, N_HIDDEN), fn.nn.ReLU(), ReplayDropout(P_DROP),
                               fn.nn.Linear(N_HIDDEN, N_OUT))
    fn.manual_seed(1000 + rank)  # the ranks draw different masks, as fit's ranks do

    def replay(rows: int, model_d=model_d, model_r=model_r) -> int:
        masks = comm.allgather(model_d[2].masks[-1])
        # row j of the union batch is row j // size of rank j % size's batch (strided shards)
        model_r[2].mask = np.stack([masks[j % size][j // size] for j in range(rows)])
        return int(not np.array_equal(masks[0], masks[-1]))

    results[f"trajectory_dropout_{name}"] = trajectory(name, model_d, model_r, replay)

# -- fit(distributed=True) vs one process ----------------------------------------------------
X_val, y_val = make_data(37, seed=2)  # 37: unequal validation shares


def reference_history(seed: int, epochs: int) -> tuple[dict[str, list[float]], np.ndarray]:
    """One process, batch W*b over the shuffled orders that fit's shards come from."""
    model = make_model(0)
    optimizer = fn.optim.Adam(model.parameters(), lr=0.01)
    n_used = len(X) - len(X) % size
    history: dict[str, list[float]] = {"loss": [], "accuracy": [], "val_loss": [],
                                       "val_accuracy": []}
    for epoch in range(epochs):
        order = np.random.default_rng([seed, epoch]).permutation(len(X))[:n_used]
        loss_total, correct = 0.0, 0
        for k in range(0, n_used, b * size):
            sel = order[k : k + b * size]
            value, pred = train_step(model, optimizer, loss_fn, X[sel], y[sel], False)
            loss_total += value * len(sel)
            correct += int((pred.argmax(axis=1) == y[sel]).sum())
        val = fn.evaluate(model, X_val, y_val, loss=loss_fn, metrics=["accuracy"])
        for key, value in (("loss", loss_total / n_used), ("accuracy", correct / n_used),
                           ("val_loss", val["loss"]), ("val_accuracy", val["accuracy"])):
            history[key].append(value)
    return history, flat_params(model)


def history_diff(got: dict[str, list[float]], want: dict[str, list[float]]) -> float:
    if sorted(got) != sorted(want):
        return float("inf")
    return max(rel_diff(np.array(got[k]), np.array(want[k])) for k in want)


def distributed_fit(model, epochs: int, seed: int | None, shuffle: bool = True, data=None,
                    **kwargs):
    optimizer = fn.optim.Adam(model.parameters(), lr=0.01)
    Xd, yd = (X, y) if data is None else data
    return fn.fit(model, Xd, yd, loss=loss_fn, optimizer=optimizer, epochs=epochs, batch_size=b,
                  validation_data=(X_val, y_val), metrics=["accuracy"], shuffle=shuffle,
                  seed=seed, distributed=True, **{"verbose": 0, **kwargs})


model = make_model(0)
hist = distributed_fit(model, epochs=3, seed=11)
want, want_params = reference_history(seed=11, epochs=3)
histories = comm.allgather(hist.history)
results["fit_shuffled"] = {
    "history_rel_diff": history_diff(hist.history, want),
    "params_rel_diff": rel_diff(flat_params(model), want_params),
    "ranks_same_history": all(h == histories[0] for h in histories),
}

class BatchLogs(fn.callbacks.Callback):
    """Every on_train_batch_end's logs (the epoch's running loss and metrics so far)."""

    def __init__(self) -> None:
        super().__init__()
        self.logs: list[dict[str, float]] = []

    def on_train_batch_end(self, batch, logs=None):
        self.logs.append(dict(logs))


model = make_model(0)
logs_d = BatchLogs()
hist = distributed_fit(model, epochs=2, seed=None, shuffle=False, callbacks=[logs_d])
model_r = make_model(0)
logs_r = BatchLogs()
n_used = len(X) - len(X) % size
want = fn.fit(model_r, X[:n_used], y[:n_used], loss=loss_fn,
              optimizer=fn.optim.Adam(model_r.parameters(), lr=0.01), epochs=2,
              batch_size=b * size, validation_data=(X_val, y_val), metrics=["accuracy"],
              shuffle=False, verbose=0, callbacks=[logs_r])
results["fit_in_order"] = {
    "history_rel_diff": history_diff(hist.history, want.history),
    "params_rel_diff": rel_diff(flat_params(model), flat_params(model_r)),
    "batch_logs_rel_diff": (history_diff({k: [d[k] for d in logs_d.logs] for k in logs_d.logs[0]},
                                          {k: [d[k] for d in logs_r.logs] for k in logs_r.logs[0]})
                            if len(logs_d.logs) == len(logs_r.logs) else float("inf")),
}

# A loss whose mean divides by other counts on each rank (class weights, ignored targets):
# the ranks' gradients are weighted by those divisors, so the trajectory is still one
# process's over the same batches.
y_ignored = y.copy()
y_ignored[::5] = -100
for case, loss_w, targets in [
        ("fit_class_weights", fn.nn.CrossEntropyLoss(weight=np.float32([1.0, 3.0, 0.5])), y),
        ("fit_ignore_index", fn.nn.CrossEntropyLoss(ignore_index=-100), y_ignored)]:
    models = []
    for distributed_run in (True, False):
        m = make_model(0)
        fn.fit(m, X[:n_used], targets[:n_used], loss=loss_w,
               optimizer=fn.optim.SGD(m.parameters(), lr=0.1, momentum=0.9), epochs=3,
               batch_size=b if distributed_run else b * size, shuffle=False, verbose=0,
               distributed=distributed_run)
        models.append(m)
    results[case] = rel_diff(flat_params(models[0]), flat_params(models[1]))

# A plain single-process fit (no distributed=True), batch W*b, shuffled with the same seed:
# its DataLoader draws epoch e's order as shard does, and with N a multiple of W no sample
# sits out, so the steps are the same.
n_even = len(X) - len(X) % size
model = make_model(0)
hist = distributed_fit(model, epochs=3, seed=11, data=(X[:n_even], y[:n_even]))
model_p = make_model(0)
want = fn.fit(model_p, X[:n_even], y[:n_even], loss=loss_fn,
              optimizer=fn.optim.Adam(model_p.parameters(), lr=0.01), epochs=3,
              batch_size=b * size, validation_data=(X_val, y_val), metrics=["accuracy"],
              seed=11, verbose=0)
results["fit_shuffled_plain"] = {
    "history_rel_diff": history_diff(hist.history, want.history),
    "params_rel_diff": rel_diff(flat_params(model), flat_params(model_p)),
}

# Early stopping (min_delta so large that no epoch improves) and files on rank 0 only; the
# test counts the progress lines that reach stdout (rank 0's alone).
stop = fn.callbacks.EarlyStopping(monitor="val_loss", patience=1, min_delta=100.0, verbose=1)
csv_path = os.path.join(out_dir, f"log{rank}.csv")
hist = distributed_fit(make_model(0), epochs=7, seed=1, verbose=2,
                       callbacks=[stop, fn.callbacks.CSVLogger(csv_path)])
results["early_stopping"] = {
    "stopped_epochs": comm.allgather(hist.stopped_epoch),
    "epochs_run": comm.allgather(len(hist.epoch)),
}

# -- dropout: masks differ per rank, repeat for the same seed, training still learns ----------
def dropout_run(seed: int) -> tuple[np.ndarray, np.ndarray, list[float]]:
    model = make_model(0, dropout=0.3)
    hist = distributed_fit(model, epochs=6, seed=seed)
    return model[2].masks[0], flat_params(model), hist.history["loss"]


mask, params, losses = dropout_run(seed=4)
mask_again, params_again, _ = dropout_run(seed=4)
mask_other, _, _ = dropout_run(seed=5)
masks = comm.allgather(mask)
results["dropout"] = {
    "masks_differ_across_ranks": not np.array_equal(masks[0], masks[1]),
    "repeatable": bool(np.array_equal(mask, mask_again) and np.array_equal(params, params_again)),
    "seed_matters": not np.array_equal(mask, mask_other),
    "loss_first_last": [losses[0], losses[-1]],
    "kept_fraction": float(mask.mean()),
}

# -- autograd: a forward-only Module subclass, loss.backward() then allreduce_gradients ---------
class Residual(fn.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = fn.nn.Linear(N_IN, N_HIDDEN)
        self.fc2 = fn.nn.Linear(N_HIDDEN, N_HIDDEN)
        self.out = fn.nn.Linear(N_HIDDEN, N_OUT)

    def forward(self, x):
        h = fn.relu(self.fc1(x))
        return self.out(h + fn.tanh(self.fc2(h)))


def make_residual(seed: int) -> Residual:
    fn.manual_seed(seed)
    return Residual()


def autograd_step(model, optimizer, xb, yb, reduce: bool) -> None:
    optimizer.zero_grad(set_to_none=True)  # PyTorch's habit: grads start as None
    loss_fn(model(fn.tensor(xb)), fn.tensor(yb)).backward()
    if reduce:
        distributed.allreduce_gradients(model)
    optimizer.step()


model_d, model_r = make_residual(100 + rank), make_residual(100)  # broadcast fixes rank 1's
distributed.broadcast_parameters(model_d)
opt_d = fn.optim.Adam(model_d.parameters(), lr=0.01)
opt_r = fn.optim.Adam(model_r.parameters(), lr=0.01)
worst, steps = 0.0, 0
idx = distributed.shard(len(X), seed=3, epoch=0)
order = np.random.default_rng([3, 0]).permutation(len(X))[: len(X) - len(X) % size]
for k in range(0, len(idx), b):
    autograd_step(model_d, opt_d, X[idx[k : k + b]], y[idx[k : k + b]], True)
    autograd_step(model_r, opt_r, X[order[k * size : (k + b) * size]],
                  y[order[k * size : (k + b) * size]], False)
    worst = max(worst, rel_diff(flat_params(model_d), flat_params(model_r)))
    steps += 1
finals = comm.allgather(flat_params(model_d))
flat = distributed.flatten_gradients(model_d)
results["autograd_trajectory"] = {
    "steps": steps,
    "max_rel_diff": worst,
    "moved": rel_diff(flat_params(model_r), flat_params(make_residual(100))),
    "ranks_identical": all(np.array_equal(f, finals[0]) for f in finals),
    "grads_are_views": all(np.shares_memory(p.grad.numpy(), flat)
                           for p in model_d.parameters()),
}

model = make_residual(0)
hist = distributed_fit(model, epochs=2, seed=None, shuffle=False)
model_r = make_residual(0)
want = fn.fit(model_r, X[:n_used], y[:n_used], loss=loss_fn,
              optimizer=fn.optim.Adam(model_r.parameters(), lr=0.01), epochs=2,
              batch_size=b * size, validation_data=(X_val, y_val), metrics=["accuracy"],
              shuffle=False, verbose=0)
results["fit_autograd"] = {
    "history_rel_diff": history_diff(hist.history, want.history),
    "params_rel_diff": rel_diff(flat_params(model), flat_params(model_r)),
}

# -- a model of another shape on one rank: ValueError everywhere, no hang ---------------------
errors = {}
for case, other in (("shape", make_model(0, hidden=N_HIDDEN + 1)),
                    ("count", fn.nn.Sequential(make_model(0), fn.nn.Linear(N_OUT, N_OUT)))):
    try:
        distributed.broadcast_parameters(other if rank == size - 1 else make_model(0))
        errors[case] = None
    except ValueError as err:
        errors[case] = str(err)
results["mismatch"] = comm.gather(errors, root=0)

# -- rank 0's file writers alone (no EarlyStopping beside them): the ranks stay in step --------
for case, callback in (("csv_only", fn.callbacks.CSVLogger(os.path.join(out_dir, "only.csv"))),
                       ("checkpoint_only", fn.callbacks.ModelCheckpoint(
                           os.path.join(out_dir, "ck-{epoch}.safetensors"), monitor="loss",
                           save_freq=3))):
    model = make_model(0)
    hist = distributed_fit(model, epochs=2, seed=1, callbacks=[callback])
    results[case] = {"epochs_run": comm.allgather(len(hist.epoch)),
                     "ranks_same_params": all(np.array_equal(p, flat_params(model))
                                              for p in comm.allgather(flat_params(model)))}

# -- a best-only checkpoint judges on rank 0 alone: History.best_epoch is still every rank's --
hist = distributed_fit(make_model(0), epochs=3, seed=1, callbacks=[fn.callbacks.ModelCheckpoint(
    os.path.join(out_dir, "best.safetensors"), save_best_only=True)])
results["best_only_checkpoint"] = comm.allgather(hist.best_epoch)


# -- a callback that stops one rank only: every rank stops there ------------------------------
class StopOnRoot(fn.callbacks.Callback):
    def __init__(self, at_batch: int | None) -> None:
        super().__init__()
        self.at_batch = at_batch

    def on_train_batch_end(self, batch, logs=None):
        if self.at_batch is not None and rank == 0 and batch == self.at_batch:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        if self.at_batch is None and rank == 0 and epoch == 1:
            self.model.stop_training = True


for case, at_batch in (("stop_epoch_root_only", None), ("stop_batch_root_only", 2)):
    hist = distributed_fit(make_model(0), epochs=5, seed=1, callbacks=[StopOnRoot(at_batch)])
    results[case] = comm.allgather(len(hist.epoch))

# -- a different X on each rank, or fewer samples than ranks: the same ValueError everywhere ---
sizes_errors = {}
Xs, ys = make_data(40 + 10 * rank, 5)
for case, (X_case, y_case) in (("sizes", (Xs, ys)), ("too_few", (Xs[:1], ys[:1]))):
    try:
        fn.fit(make_model(0), X_case, y_case, loss=fn.nn.CrossEntropyLoss(),
               optimizer="sgd", epochs=1, verbose=0, distributed=True)
        sizes_errors[case] = None
    except ValueError as err:
        sizes_errors[case] = str(err)
results["sizes"] = comm.allgather(sizes_errors)

# -- other fit arguments or data on one rank: the same ValueError everywhere (a rank with
# more epochs waited forever, other batch sizes or metrics aborted MPI, another learning
# rate or other values of X trained silently apart) ------------------------------------
Xa, ya = make_data(40, 5)
last = rank == size - 1
settings_errors = {}
for case, change in (("epochs", {"epochs": 2}), ("batch_size", {"batch_size": 16}),
                     ("metrics", {"metrics": ["accuracy"]}), ("lr", {"lr": 0.5}),
                     ("data", {"X": Xa + 1.0})):
    kwargs = {"epochs": 1, "batch_size": 8, "metrics": [], "lr": 0.1, "X": Xa}
    if last:
        kwargs.update(change)
    model_s = make_model(0)
    try:
        fn.fit(model_s, kwargs.pop("X"), ya, loss=fn.nn.CrossEntropyLoss(),
               optimizer=fn.optim.SGD(model_s.parameters(), lr=kwargs.pop("lr")), verbose=0,
               distributed=True, **kwargs)
        settings_errors[case] = None
    except ValueError as err:
        settings_errors[case] = str(err)
model_a = make_model(0, hidden=N_HIDDEN + 1) if last else make_model(0)
try:  # no broadcast_parameters first: allreduce_gradients compares the models itself
    distributed.allreduce_gradients(model_a)
    settings_errors["allreduce"] = None
except ValueError as err:
    settings_errors["allreduce"] = str(err)
results["settings"] = comm.allgather(settings_errors)


# -- buffers travel with broadcast_parameters, as PyTorch's DDP broadcasts them ---------------
class Scaled(fn.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = fn.nn.Linear(3, 2)
        self.register_buffer("scale", fn.ones(2) * (rank + 1))
        self.register_buffer("table", np.arange(4, dtype=np.int64)[::2] * (rank + 1))

    def forward(self, x):
        return self.fc(x) * self.scale


scaled = Scaled()
distributed.broadcast_parameters(scaled)
results["buffers"] = comm.allgather([scaled.scale.tolist(), np.asarray(scaled.table).tolist()])

if rank == 0:
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
