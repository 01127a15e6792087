"""fastnn.nn.TrainStep: the one-call step against the layer-by-layer loop, bit for bit.

Every test runs the same seeded training twice, once with ``TrainStep`` and once
with the PyTorch-style loop (``zero_grad``, forward, loss, ``backward``, ``step``),
and requires identical parameters, gradients, optimizer state and losses.
"""

from __future__ import annotations

import pickle
import threading

import numpy as np
import pytest

import fastnn as fn
from fastnn import nn, optim


def layer_step(model, loss_fn, opt, x, y):
    opt.zero_grad()
    value = loss_fn(model(x), y)
    model.backward(loss_fn.backward())
    opt.step()
    return value


def snapshot(model, opt):
    params = [p.data.copy() for p in model.parameters()]
    grads = [p.grad.copy() for p in model.parameters()]
    state = [(k, np.array(v, copy=True)) for p in model.parameters()
             for k, v in sorted(opt.state[p].items())]
    return params, grads, state


def assert_same(a, b):
    for part_a, part_b in zip(a, b):
        assert len(part_a) == len(part_b)
        for u, v in zip(part_a, part_b):
            if isinstance(u, tuple):
                assert u[0] == v[0]
                u, v = u[1], v[1]
            np.testing.assert_array_equal(u, v)


def batches(n_in, n_out, sizes, labels, seed=1):
    rng = np.random.default_rng(seed)
    for n in sizes:
        x = rng.standard_normal((n, n_in)).astype(np.float32)
        if labels:
            y = rng.integers(0, n_out, n)
        else:
            y = rng.uniform(0, 1, (n, n_out)).astype(np.float32)
        yield x, y


def run(make_model, make_loss, make_opt, fast, sizes=(16, 16, 5, 16, 33, 7), n_in=12,
        n_out=4, seed=0, between=None):
    """Trains a fresh seeded model over batches of `sizes`; returns snapshot and losses."""
    fn.manual_seed(seed)
    model = make_model()
    loss_fn = make_loss()
    opt = make_opt(model.parameters())
    step = nn.TrainStep(model, loss_fn, opt) if fast else None
    labels = isinstance(loss_fn, nn.CrossEntropyLoss)
    losses = []
    for i, (x, y) in enumerate(batches(n_in, n_out, sizes, labels)):
        if between is not None:
            between(i, model, opt)
        losses.append(step(x, y) if fast else layer_step(model, loss_fn, opt, x, y))
    return snapshot(model, opt), losses


MODELS = {
    "relu": lambda: nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 4)),
    "deep-mixed": lambda: nn.Sequential(
        nn.Linear(12, 9), nn.LeakyReLU(0.2), nn.Linear(9, 11), nn.Tanh(), nn.Linear(11, 7),
        nn.Sigmoid(), nn.Linear(7, 8), nn.GELU(approximate="tanh"), nn.Linear(8, 4)),
    "dropout-identity": lambda: nn.Sequential(
        nn.Dropout(0.2), nn.Linear(12, 16), nn.GELU(), nn.Dropout(0.5), nn.Identity(),
        nn.Linear(16, 4, bias=False)),
    "nested": lambda: nn.Sequential(
        nn.Sequential(nn.Linear(12, 10), nn.ReLU()), nn.Dropout(0.3),
        nn.Sequential(nn.Linear(10, 4))),
    "softmax-head": lambda: nn.Sequential(nn.Linear(12, 6), nn.Tanh(), nn.Linear(6, 4),
                                          nn.Softmax(dim=-1)),
    # The plan fuses Linear -> ReLU / LeakyReLU(slope >= 0) both ways: chains, an
    # activation first (nothing to fuse with), last (its backward reads the output),
    # and a negative slope (not fused).
    "relu-chain": lambda: nn.Sequential(nn.Linear(12, 20), nn.ReLU(), nn.Linear(20, 9),
                                        nn.LeakyReLU(0.0), nn.Linear(9, 4)),
    "relu-ends": lambda: nn.Sequential(nn.ReLU(), nn.Linear(12, 8), nn.LeakyReLU(0.3),
                                       nn.Linear(8, 4), nn.ReLU()),
    "leaky-negative": lambda: nn.Sequential(nn.Linear(12, 8), nn.LeakyReLU(-0.5),
                                            nn.Linear(8, 4)),
    "silu-elu": lambda: nn.Sequential(nn.Linear(12, 10), nn.SiLU(), nn.Linear(10, 9),
                                      nn.ELU(alpha=0.7), nn.Linear(9, 4)),
}
OPTIMIZERS = {
    "sgd": lambda p: optim.SGD(p, lr=0.1),
    "sgd-nesterov": lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True,
                                        weight_decay=0.01),
    "adam": lambda p: optim.Adam(p, lr=0.01),
    "adam-amsgrad": lambda p: optim.Adam(p, lr=0.01, amsgrad=True, weight_decay=0.1),
    "adamw": lambda p: optim.AdamW(p, lr=0.01, betas=(0.3, 0.5)),
    "rmsprop": lambda p: optim.RMSprop(p, lr=0.01, momentum=0.9, centered=True),
    "adagrad": lambda p: optim.Adagrad(p, lr=0.1, lr_decay=0.01),
}
LOSSES = {
    "ce": nn.CrossEntropyLoss,
    "ce-smooth-sum": lambda: nn.CrossEntropyLoss(label_smoothing=0.1, reduction="sum"),
    "mse": nn.MSELoss,
    "bce-logits": nn.BCEWithLogitsLoss,
}


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("opt", OPTIMIZERS)
def test_bit_identical_to_layer_by_layer(model, opt):
    loss = "mse" if model == "softmax-head" else "ce"
    slow = run(MODELS[model], LOSSES[loss], OPTIMIZERS[opt], fast=False)
    fast = run(MODELS[model], LOSSES[loss], OPTIMIZERS[opt], fast=True)
    assert_same(slow[0], fast[0])
    assert slow[1] == fast[1]
    assert all(isinstance(v, float) for v in fast[1])


@pytest.mark.parametrize("loss", LOSSES)
def test_every_loss_bit_identical(loss, num_threads):
    sizes = (64, 64, 17)
    slow = run(MODELS["dropout-identity"], LOSSES[loss], OPTIMIZERS["adam"], False, sizes)
    fast = run(MODELS["dropout-identity"], LOSSES[loss], OPTIMIZERS["adam"], True, sizes)
    assert_same(slow[0], fast[0])
    assert slow[1] == fast[1]


def test_large_model_bit_identical_across_threads(num_threads):
    """Big enough that the GEMMs and the optimizer run multi-threaded."""
    def make():
        return nn.Sequential(nn.Linear(64, 300), nn.ReLU(), nn.Dropout(0.1), nn.Linear(300, 10))
    slow = run(make, nn.CrossEntropyLoss, OPTIMIZERS["adam"], False, (200, 57), n_in=64, n_out=10)
    fast = run(make, nn.CrossEntropyLoss, OPTIMIZERS["adam"], True, (200, 57), n_in=64, n_out=10)
    assert_same(slow[0], fast[0])
    assert slow[1] == fast[1]


def test_honours_lr_changes_eval_mode_state_loads_and_dropout_p():
    def between(i, model, opt):
        if i == 1:
            opt.param_groups[0]["lr"] = 0.003
        if i == 2:
            model.eval()
        if i == 3:
            model.train()
            model[3].p = 0.1
        if i == 4:  # a state from a checkpoint: new arrays, same values
            opt.load_state_dict(opt.state_dict())
    for opt in ("adam", "sgd-nesterov", "rmsprop"):
        slow = run(MODELS["dropout-identity"], nn.CrossEntropyLoss, OPTIMIZERS[opt], False,
                   between=between)
        fast = run(MODELS["dropout-identity"], nn.CrossEntropyLoss, OPTIMIZERS[opt], True,
                   between=between)
        assert_same(slow[0], fast[0])
        assert slow[1] == fast[1]


def test_scheduler_param_groups_and_frozen_layers():
    """Two groups, a layer the optimizer does not hold (its grad accumulates), a scheduler."""
    def make_opt(params):
        opt = optim.SGD([{"params": params[:2], "lr": 0.05}, {"params": params[4:]}], lr=0.1,
                        momentum=0.5)
        make_opt.sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        return opt

    def between(i, model, opt):
        make_opt.sched.step()
    make = MODELS["deep-mixed"]
    slow = run(make, nn.CrossEntropyLoss, make_opt, False, between=between)
    fast = run(make, nn.CrossEntropyLoss, make_opt, True, between=between)
    assert_same(slow[0], fast[0])
    assert slow[1] == fast[1]


def test_interleaves_with_the_layer_by_layer_path_and_flat_parameters():
    fn.manual_seed(3)
    model = MODELS["relu"]()
    model.flatten_parameters()  # the optimizer then updates one span
    loss_fn = nn.CrossEntropyLoss()
    opt = optim.Adam(model.parameters(), lr=0.01)
    step = nn.TrainStep(model, loss_fn, opt)
    data = list(batches(12, 4, (8, 8, 8, 8), labels=True))
    for i, (x, y) in enumerate(data):
        step(x, y) if i % 2 else layer_step(model, loss_fn, opt, x, y)
    expected = run(MODELS["relu"], nn.CrossEntropyLoss, OPTIMIZERS["adam"], False,
                   sizes=(8, 8, 8, 8), seed=3)
    assert_same(expected[0], snapshot(model, opt))


def test_output_is_a_copy_of_the_step_output():
    fn.manual_seed(0)
    model = MODELS["relu"]()
    opt = optim.SGD(model.parameters(), lr=0.1)
    step = nn.TrainStep(model, nn.MSELoss(), opt)
    (x, y), (x2, y2) = batches(12, 4, (6, 9), labels=False)
    before = model(x)
    step(x, y)
    out = step.output
    np.testing.assert_array_equal(out, before)
    step(x2, y2)
    np.testing.assert_array_equal(out, before)  # not overwritten by the next step
    assert step.output.shape == (9, 4)


def test_a_pickled_model_and_optimizer_train_on_like_the_originals():
    """Unpickled arrays carry dtype objects of their own: the kernels must take them."""
    fn.manual_seed(0)
    model = MODELS["relu"]()
    opt = optim.Adam(model.parameters(), lr=0.01)
    (x, y), (x2, y2) = batches(12, 4, (6, 9), labels=True)
    nn.TrainStep(model, nn.CrossEntropyLoss(), opt)(x, y)
    model2, opt2 = pickle.loads(pickle.dumps((model, opt)))
    losses = [nn.TrainStep(m, nn.CrossEntropyLoss(), o)(x2, y2)
              for m, o in ((model, opt), (model2, opt2))]
    assert losses[0] == losses[1]
    for a, b in zip(model.parameters(), model2.parameters()):
        np.testing.assert_array_equal(a.data, b.data)


def test_accepts_float_labels_and_float64_inputs():
    def go(x, y):
        fn.manual_seed(0)
        model = MODELS["relu"]()
        opt = optim.SGD(model.parameters(), lr=0.1)
        nn.TrainStep(model, nn.CrossEntropyLoss(), opt)(x, y)
        return [p.data for p in model.parameters()]
    x, y = next(batches(12, 4, (10,), labels=True))
    for a, b in zip(go(x, y), go(x.astype(np.float64), y.astype(np.float32))):
        np.testing.assert_array_equal(a, b)


def test_separate_steps_run_in_parallel_threads():
    """The GIL is released inside the step: two threads train two models at once."""
    def make():
        fn.manual_seed(0)  # built in this thread: the global generator is not thread-local
        model = MODELS["relu"]()
        return model, nn.TrainStep(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters()))
    data = list(batches(12, 4, (32,) * 20, labels=True))

    def train(step):
        for x, y in data:
            step(x, y)
    serial, *parallel = [make() for _ in range(3)]
    train(serial[1])
    threads = [threading.Thread(target=train, args=(step,)) for _, step in parallel]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for model, _ in parallel:
        for a, b in zip(serial[0].parameters(), model.parameters()):
            np.testing.assert_array_equal(a.data, b.data)


class Custom(nn.Module):
    def forward(self, x):
        return x

    def backward(self, g):
        return g


class MyAdam(optim.Adam):
    def step(self, closure=None):
        return super().step(closure)


@pytest.mark.parametrize("model, loss, opt, match", [
    (lambda: nn.Sequential(nn.Linear(3, 2), Custom()), nn.MSELoss, optim.SGD,
     r"layer 1 \(Custom\) defines its own backward"),
    (lambda: nn.Sequential(nn.Linear(3, 2)), nn.Identity, optim.SGD, "loss Identity"),
    (lambda: nn.Sequential(nn.Linear(3, 2)), nn.MSELoss, object, "optimizer object"),
])
def test_unsupported_parts_are_named(model, loss, opt, match):
    m = model()
    with pytest.raises(TypeError, match=match):
        nn.TrainStep(m, loss(), opt(m.parameters(), lr=0.1) if opt is not object else opt())


@pytest.mark.parametrize("model, loss, opt", [
    (lambda: nn.Linear(3, 2), nn.MSELoss, optim.SGD),
    (lambda: nn.Sequential(nn.Linear(3, 2), nn.Softmax(dim=0)), nn.MSELoss, optim.SGD),
    (lambda: nn.Sequential(nn.Linear(3, 2)), nn.BCELoss, optim.SGD),
    (lambda: nn.Sequential(nn.Linear(3, 2)), nn.MSELoss, MyAdam),
])
def test_what_the_one_call_plan_does_not_run_is_traced(model, loss, opt):
    m = model()
    step = nn.TrainStep(m, loss(), opt(m.parameters(), lr=0.1))
    assert step._plan is None and step._traced is not None


def test_bad_input_changes_nothing():
    fn.manual_seed(0)
    model = MODELS["relu"]()
    opt = optim.Adam(model.parameters())
    step = nn.TrainStep(model, nn.CrossEntropyLoss(), opt)
    x, y = next(batches(12, 4, (5,), labels=True))
    step(x, y)
    before = snapshot(model, opt)
    with pytest.raises(ValueError, match=r"'x' must have shape \(\*, 12\), got \(5, 11\)"):
        step(x[:, :11], y)
    with pytest.raises(ValueError, match=r"'y' must have shape \(5,\), got \(4,\)"):
        step(x, y[:4])
    with pytest.raises(IndexError, match="Target 4 is out of bounds"):
        step(x, np.array([0, 1, 2, 3, 4]))
    with pytest.raises(ValueError, match="empty batch"):
        step(x[:0], y[:0])
    with pytest.raises(TypeError, match="non-integral"):
        step(x, y + 0.5)
    assert_same(before, snapshot(model, opt))
    assert opt.state[model[0].weight]["step"] == 1
    model.append(nn.ReLU())  # a layer added: the next call builds the plan again
    step(x, y)
    assert step.one_call and opt.state[model[0].weight]["step"] == 2


def test_a_layer_resized_or_stripped_after_the_build_is_refused_not_overrun():
    # The plan's kernels run at the widths it was built with: a Linear given a weight of
    # another shape, or a bias removed / added, must raise before any kernel runs (it
    # used to read and write past the new buffers: a segfault).
    model = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 4))
    opt = optim.SGD(model.parameters(), lr=0.1)
    step = nn.TrainStep(model, nn.CrossEntropyLoss(), opt)
    x, y = next(batches(16, 4, (32,), labels=True))
    step(x, y)
    old_w, old_b = model[0].weight, model[0].bias
    model[0].weight = nn.Parameter(np.zeros((1, 16), np.float32))
    model[0].out_features = 1
    with pytest.raises(ValueError, match=r"weight has shape \(1, 16\), the step was built for "
                                         r"\(64, 16\)"):
        step(x, y)
    model[0].weight, model[0].out_features = old_w, 64
    model[0].bias = None
    with pytest.raises(ValueError, match="lost its bias"):
        step(x, y)
    model[0].bias = old_b
    assert np.isfinite(step(x, y))  # the same layers again: the plan runs


def test_an_optimizer_of_another_model_is_refused():
    # the step trained nothing, silently (fit already refused this)
    fn.manual_seed(0)
    model = fn.nn.Sequential(fn.nn.Linear(4, 3))
    other = fn.nn.Sequential(fn.nn.Linear(4, 3))
    with pytest.raises(ValueError, match=r"TrainStep\(\): the optimizer holds none of the "
                                         r"model's parameters"):
        fn.nn.TrainStep(model, fn.nn.CrossEntropyLoss(), fn.optim.SGD(other.parameters(), 0.1))


def test_stale_gradients_never_leak_into_a_step():
    """The step writes the Linear gradients its optimizer holds instead of zeroing them
    and accumulating (bind_train.cpp, choose_written): whatever the gradients held before
    (NaN here, as after a diverged step), the step must equal the zero_grad loop's, for
    per-parameter and flat gradients, with and without a fused activation."""
    for flat in (False, True):
        for name in ("relu-chain", "deep-mixed", "dropout-identity"):
            def between(i, model, opt):
                for p in model.parameters():
                    p.grad[...] = np.nan

            def make(name=name, flat=flat):
                model = MODELS[name]()
                if flat:
                    model.flatten_parameters()
                return model
            slow = run(make, nn.CrossEntropyLoss, OPTIMIZERS["adam"], False, between=between)
            fast = run(make, nn.CrossEntropyLoss, OPTIMIZERS["adam"], True, between=between)
            assert_same(slow[0], fast[0])
            assert slow[1] == fast[1]
            assert all(np.isfinite(g).all() for g in fast[0][1]), (name, flat)


def test_a_linear_used_twice_gets_both_gradients():
    """A buffer two layers share (one Linear module applied twice) is written by the later
    layer's backward, then accumulated into by the earlier one's: its gradient is the sum
    of both, as autograd's (the layer-by-layer loop refuses a shared module); a layer
    outside the optimizer keeps accumulating."""
    def make():
        shared = nn.Linear(12, 12)
        return nn.Sequential(shared, nn.Tanh(), shared, nn.ReLU(), nn.Linear(12, 4))

    for make_opt in (lambda p: optim.SGD(p, lr=0.05, momentum=0.9),
                     lambda p: optim.SGD(p[:2], lr=0.05)):  # the head outside the optimizer
        results = []
        for fast in (False, True):
            fn.manual_seed(0)
            model = make()
            loss_fn = nn.CrossEntropyLoss()
            opt = make_opt(list(model.parameters()))
            step = nn.TrainStep(model, loss_fn, opt) if fast else None
            losses = []
            for x, y in batches(12, 4, (16, 16, 5, 16), labels=True):
                if fast:
                    losses.append(step(x, y))
                else:
                    opt.zero_grad()
                    loss = loss_fn(model(fn.tensor(x)), fn.tensor(y))
                    loss.backward()
                    opt.step()
                    losses.append(float(loss.item()))
            results.append((snapshot(model, opt), losses))
        assert_same(results[0][0], results[1][0])  # parameters, gradients, state: bit for bit
        np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-6)  # float32 / double


def test_silu_and_elu_run_in_the_one_call_plan_and_follow_their_settings():
    """SiLU and ELU (one kernel parameter) run in the C++ plan; ELU's alpha changed after
    the build builds the plan again, as a changed LeakyReLU slope does; Softplus (two) is
    traced."""
    x, y = np.linspace(-3, 3, 36, dtype=np.float32).reshape(3, 12), np.array([0, 1, 2])
    model = MODELS["silu-elu"]()
    step = nn.TrainStep(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1))
    assert step.one_call
    step(x, y)
    model[3].alpha = 0.5
    expected = model(x)  # the layer loop's forward with the new alpha
    step(x, y)
    assert step.one_call
    np.testing.assert_array_equal(step.output, expected)
    soft = nn.Sequential(nn.Linear(12, 4), nn.Softplus())
    step = nn.TrainStep(soft, nn.MSELoss(), optim.SGD(soft.parameters(), lr=0.1))
    assert not step.one_call


def test_a_layer_change_that_does_not_fit_leaves_the_step_usable():
    # the failed rebuild left neither plan nor program: every later call, and .output,
    # raised AttributeError even after the layer was removed
    model = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 4))
    step = nn.TrainStep(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters()))
    x, y = np.ones((6, 8), np.float32), np.zeros(6, np.int64)
    step(x, y)
    model.append(nn.Linear(5, 3))
    with pytest.raises(ValueError, match=r"layer 3 \(Linear\) takes 5 features"):
        step(x, y)
    del model[3]
    step(x, y)
    assert step.one_call and step.output.shape == (6, 4)


def test_the_step_returns_to_the_plan_when_the_layers_allow_it_again():
    model = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 4))
    step = nn.TrainStep(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1))
    x, y = np.ones((6, 8), np.float32), np.zeros(6, np.int64)
    step(x, y)
    assert step.one_call and not step.traced
    model[1] = nn.Softplus()  # not in the plan: traced (eagerly, with a warning)
    with pytest.warns(RuntimeWarning, match="cannot be traced"):
        step(x, y)
    assert not step.one_call
    model[1] = nn.ReLU()
    step(x, y)
    assert step.one_call and not step.traced
