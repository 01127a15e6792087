"""nn.TrainStep on models the one-call C++ plan does not run: traced once, then replayed.

The oracle is the eager autograd loop (zero_grad, forward on Tensors, loss,
loss.backward(), step) from the same seed: weights, optimizer state and losses
after N steps must be bit-identical. Untraceable forwards fall back to that loop
with one warning.
"""

from __future__ import annotations

import collections
import warnings

import numpy as np
import pytest

import fastnn as fn
from autograd_cases import eager_step, unused_layer_trajectories
from fastnn import nn, optim


class ResidualMLP(nn.Module):
    def __init__(self, d_in=12, width=16, n_out=5, p=0.0):
        super().__init__()
        self.inp = nn.Linear(d_in, width)
        self.block1 = nn.Linear(width, width)
        self.block2 = nn.Linear(width, width)
        self.out = nn.Linear(width, n_out)
        self.drop = nn.Dropout(p)

    def forward(self, x):
        h = fn.relu(self.inp(x))
        h = h + self.drop(fn.relu(self.block1(h)))
        h = h + 0.5 * fn.tanh(self.block2(h))
        return self.out(h)


class TwoHeads(nn.Module):
    """A parameter used twice and a leaf added directly: leaf accumulation order matters."""

    def __init__(self):
        super().__init__()
        self.shared = nn.Linear(12, 12)
        self.shift = nn.Parameter(np.linspace(-1, 1, 12).astype(np.float32))
        self.head = nn.Linear(12, 5)

    def forward(self, x):
        a = fn.sigmoid(self.shared(x))
        b = self.shared(a) + self.shift
        return self.head(a * b - a)


class DataDependent(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(12, 5)

    def forward(self, x):
        y = self.fc(x)
        if y.sum() > 0:  # Python control flow on a value: not traceable
            return y * 2.0
        return y


class Chain(nn.Module):
    """A chain the one-call C++ plan runs: the traced step hands it to that plan."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(12, 16)
        self.drop = nn.Dropout(0.2)
        self.fc2 = nn.Linear(16, 5)

    def forward(self, x):
        return self.fc2(self.drop(fn.tanh(self.fc1(x))))


class PlanResidual(nn.Module):
    """Residual adds the one-call plan runs: skips from the input, from a ReLU output (fused
    with its Linear when nothing else reads it), through a dropout, and from a Linear's
    output (its pre-activation, then stored)."""

    def __init__(self, p=0.0):
        super().__init__()
        self.fc0 = nn.Linear(12, 12)
        self.fc1 = nn.Linear(12, 12)
        self.fc2 = nn.Linear(12, 12)
        self.fc3 = nn.Linear(12, 12)
        self.out = nn.Linear(12, 5)
        self.drop = nn.Dropout(p)

    def forward(self, x):
        h = x + fn.relu(self.fc0(x))
        a = fn.relu(self.fc1(h))
        h = a + self.drop(nn.functional.leaky_relu(self.fc2(a), 0.1))
        z = self.fc3(h)
        return self.out(fn.tanh(z) + z)


class SharedSkip(PlanResidual):
    """Two adds read one output (three gradient terms meet there, so their order matters):
    the Python replay runs it, not the plan."""

    def forward(self, x):
        a = fn.relu(self.fc0(x))
        b = a + fn.relu(self.fc1(a))
        return self.out(b + a)


class BroadcastSkip(nn.Module):
    """Adds whose operands broadcast ((N, 16) + (N, 1)): not plan layers, the Python replay
    runs them."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(12, 16)
        self.narrow = nn.Linear(16, 1)
        self.out = nn.Linear(16, 5)

    def forward(self, x):
        h = fn.relu(self.a(x))
        return self.out(h + self.narrow(h))


def flatten_model():
    return nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.GELU(), nn.Dropout(0.3),
                         nn.Linear(8, 5))


MODELS = {
    "residual": lambda: ResidualMLP(),
    "residual_dropout": lambda: ResidualMLP(p=0.25),
    "two_heads": TwoHeads,
    "flatten": flatten_model,
    "chain": Chain,
    "plan_residual": lambda: PlanResidual(),
    "plan_residual_dropout": lambda: PlanResidual(p=0.3),
    "shared_skip": SharedSkip,
    "broadcast_skip": BroadcastSkip,
}


def data(n, shape, labels=True, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, *shape)).astype(np.float32)
    y = rng.integers(0, 5, n) if labels else rng.standard_normal((n, 5)).astype(np.float32)
    return x, y


def eager_run(make, loss_fn, opt_fn, batches, train=True):
    fn.manual_seed(3)
    model = make()
    model.train(train)
    opt = opt_fn(model.parameters())
    losses = []
    for x, y in batches:
        opt.zero_grad()
        loss = loss_fn(model(fn.tensor(x)), fn.tensor(y))
        loss.backward()
        opt.step()
        losses.append(float(loss.item()))
    return model, opt, losses


def loop_step(model, loss_fn, opt, x, y):
    """One step of the plain autograd loop; returns the loss."""
    opt.zero_grad()
    loss = loss_fn(model(fn.tensor(x)), fn.tensor(y))
    loss.backward()
    opt.step()
    return float(loss.item())


def traced_run(make, loss_fn, opt_fn, batches, train=True):
    fn.manual_seed(3)
    model = make()
    model.train(train)
    opt = opt_fn(model.parameters())
    step = nn.TrainStep(model, loss_fn, opt)
    losses = [step(x, y) for x, y in batches]
    return model, opt, losses, step


def assert_same(a, b):
    (ma, oa, la), (mb, ob, lb) = a, b
    assert la == lb
    for (name, p), q in zip(ma.named_parameters(), mb.parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)
    for p, q in zip(oa.state.values(), ob.state.values()):
        for k in p:
            np.testing.assert_array_equal(np.asarray(p[k]), np.asarray(q[k]), err_msg=k)


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("opt_fn", [lambda p: optim.Adam(p, lr=1e-2),
                                    lambda p: optim.SGD(p, lr=0.05, momentum=0.9)],
                         ids=["adam", "sgd"])
def test_replay_is_bit_identical_to_the_eager_loop(name, opt_fn):
    shape = (3, 4) if name == "flatten" else (12,)
    batches = [data(9, shape, seed=s) for s in range(6)]
    eager = eager_run(MODELS[name], nn.CrossEntropyLoss(label_smoothing=0.1), opt_fn, batches)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # traceable: no fallback warning
        model, opt, losses, step = traced_run(MODELS[name], nn.CrossEntropyLoss(
            label_smoothing=0.1), opt_fn, batches)
    assert step.traced
    assert_same(eager, (model, opt, losses))


def test_mse_and_ragged_last_batch_retrace():
    batches = [data(8, (12,), labels=False, seed=s) for s in range(3)] + \
        [data(5, (12,), labels=False, seed=9)]
    eager = eager_run(ResidualMLP, nn.MSELoss(), lambda p: optim.Adam(p), batches)
    model, opt, losses, step = traced_run(ResidualMLP, nn.MSELoss(), lambda p: optim.Adam(p),
                                          batches)
    assert_same(eager, (model, opt, losses))
    np.testing.assert_array_equal(step.output, model(batches[-1][0]) * 0 + step.output)


def test_eval_mode_change_retraces():
    batches = [data(8, (12,), seed=s) for s in range(4)]
    fn.manual_seed(0)
    model = ResidualMLP(p=0.5)
    step = nn.TrainStep(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1))
    step(*batches[0])
    key = step._traced.key
    model.eval()
    step(*batches[1])
    assert step._traced.key != key and step.traced


def test_data_dependent_control_flow_falls_back_with_one_warning():
    batches = [data(8, (12,), seed=s) for s in range(4)]
    eager = eager_run(DataDependent, nn.CrossEntropyLoss(), lambda p: optim.SGD(p, lr=0.1),
                      batches)
    with pytest.warns(RuntimeWarning, match=r"cannot be traced \(the forward used bool\(\)"):
        model, opt, losses, step = traced_run(DataDependent, nn.CrossEntropyLoss(),
                                              lambda p: optim.SGD(p, lr=0.1), batches[:1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # only one warning
        losses += [step(x, y) for x, y in batches[1:]]
    assert not step.traced
    assert_same(eager, (model, opt, losses))


def test_unknown_op_falls_back():
    class WithSoftmax(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(12, 5)

        def forward(self, x):
            return fn.log(fn.softmax(self.fc(x), dim=1) + 1e-3)

    batches = [data(8, (12,), seed=s) for s in range(3)]
    eager = eager_run(WithSoftmax, nn.CrossEntropyLoss(), lambda p: optim.Adam(p), batches)
    with pytest.warns(RuntimeWarning, match="cannot be traced"):
        traced = traced_run(WithSoftmax, nn.CrossEntropyLoss(), lambda p: optim.Adam(p), batches)
    assert_same(eager, traced[:3])


def test_array_constant_is_not_baked_in():
    class MaskFromData(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(12, 5)

        def forward(self, x):
            mask = (x[:, :5] > 0).float()  # computed from the data outside the graph
            return self.fc(x) * mask

    batches = [data(8, (12,), seed=s) for s in range(3)]
    eager = eager_run(MaskFromData, nn.CrossEntropyLoss(), lambda p: optim.Adam(p), batches)
    with pytest.warns(RuntimeWarning, match="array constant"):
        traced = traced_run(MaskFromData, nn.CrossEntropyLoss(), lambda p: optim.Adam(p),
                            batches)
    assert_same(eager, traced[:3])


def test_threads_do_not_change_the_replay():
    batches = [data(64, (12,), seed=s) for s in range(3)]
    runs = []
    for threads in (1, 2):
        fn.set_num_threads(threads)
        try:
            runs.append(traced_run(ResidualMLP, nn.CrossEntropyLoss(),
                                   lambda p: optim.Adam(p), batches))
        finally:
            fn.set_num_threads(fn._default_num_threads() or 2)
    assert_same(runs[0][:3], runs[1][:3])


def test_a_chain_runs_on_the_one_call_plan():
    batches = [data(9, (12,), seed=s) for s in range(4)]
    model, opt, losses, step = traced_run(Chain, nn.CrossEntropyLoss(),
                                          lambda p: optim.Adam(p), batches)
    assert step._traced._plan is not None
    residual = traced_run(ResidualMLP, nn.CrossEntropyLoss(), lambda p: optim.Adam(p), batches)
    assert residual[3]._traced._plan is None  # its 0.5 * tanh(...) is not a plan layer
    for drop in (0.0, 0.3):  # residual adds are (bit-identity: the test above)
        _, _, _, plan_step = traced_run(lambda d=drop: PlanResidual(d), nn.CrossEntropyLoss(),
                                        lambda params: optim.Adam(params), batches)
        assert plan_step._traced._plan is not None
    shared = traced_run(SharedSkip, nn.CrossEntropyLoss(), lambda p: optim.Adam(p), batches)
    assert shared[3]._traced._plan is None
    broadcast = traced_run(BroadcastSkip, nn.CrossEntropyLoss(), lambda p: optim.Adam(p),
                           batches)
    assert broadcast[3].traced and broadcast[3]._traced._plan is None
    assert step.output.shape == (9, 5)


def test_plan_refuses_add_layers_it_cannot_run():
    """The C++ plan's own checks on residual adds (the tracer never builds these)."""
    from fastnn import _core

    K, A = _core.LayerKind, _core.Activation
    lin = nn.Linear(4, 4)

    def spec(kind, src=-1):
        if kind == "linear":
            return (K.linear, 4, 4, True, A.identity, 0.0, lin)
        return (K.add, 4, 4, False, A.identity, 0.0, None, src)

    loss, opt = _core.LossKind.mse, optim.SGD._kind
    for layers, match in [
        ([spec("linear"), spec("add", 1)], "reads layer 1, which is not an earlier layer"),
        ([spec("linear"), spec("add", 0)], "reads layer 0, which is not an earlier layer"),
        ([spec("linear"), spec("linear"), spec("add", 0), spec("add", 0)],
         "two add layers read layer 0"),
        ([(K.linear, 4, 3, True, A.identity, 0.0, lin),
          (K.add, 3, 3, False, A.identity, 0.0, None, -1)], "of its width"),  # x has 4
    ]:
        with pytest.raises(ValueError, match=match):
            _core.TrainPlan(layers, loss, opt)
    _core.TrainPlan([spec("linear"), spec("linear"), spec("add", 0)], loss, opt)  # fine


class _Scaled(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 1)
        self.drop = nn.Dropout(0.5)
        self.scale = 1.0

    def forward(self, x):
        return self.fc(self.drop(x)) * self.scale


def test_a_setting_assigned_between_steps_is_re_traced():
    # The replay read `scale` and Dropout's p as constants of the trace: assigning them
    # later kept training with the old values. A public attribute assignment bumps the
    # module's version, which is part of the trace key.
    m = _Scaled()
    step = nn.TrainStep(m, nn.MSELoss(), fn.optim.SGD(m.parameters(), lr=0.1))
    x, y = np.ones((8, 4), np.float32), np.zeros((8, 1), np.float32)
    step(x, y)
    step(x, y)
    assert step.traced
    m.scale = 0.0
    assert step(x, y) == 0.0 and step(x, y) == 0.0 and step.traced
    m.scale = 1.0
    m.drop.p = 0.0  # no dropout: the step's output is the plain linear map
    expected = m.fc(x)  # before the step updates fc
    step(x, y)
    np.testing.assert_allclose(step.output, expected, rtol=1e-6)


def test_activation_settings_assigned_after_construction_take_effect():
    a = nn.LeakyReLU(0.01)
    a.negative_slope = 0.2
    assert a(np.float32([-1.0])).tolist() == [pytest.approx(-0.2)]
    assert a(fn.tensor([-1.0])).tolist() == [pytest.approx(-0.2)]
    g = nn.GELU()
    g.approximate = "tanh"
    np.testing.assert_allclose(g(np.float32([1.0])), nn.GELU("tanh")(np.float32([1.0])))
    g.approximate = "erf"
    with pytest.raises(ValueError, match="'none' or 'tanh'"):
        g(np.float32([1.0]))
    # the one-call plan copies the slope: a change builds it again (it raised, and fit,
    # which builds its own step, failed at the next epoch when a callback annealed it)
    x, y = np.ones((4, 3), np.float32), np.array([0, 1, 0, 1])
    results = []
    for fused in (True, False):
        fn.manual_seed(0)
        m = nn.Sequential(nn.Linear(3, 4), nn.LeakyReLU(0.1), nn.Linear(4, 2))
        opt = fn.optim.SGD(m.parameters(), lr=0.1)
        step = nn.TrainStep(m, nn.CrossEntropyLoss(), opt) if fused else None
        losses = []
        for i in range(4):
            if i == 2:
                m[1].negative_slope = 0.3
            if fused:
                losses.append(step(x, y))
                assert step.one_call
            else:
                losses.append(loop_step(m, nn.CrossEntropyLoss(), opt, x, y))
        results.append((losses, [p.detach().numpy().copy() for p in m.parameters()]))
    # the plan's loss is the NumPy layer loop's (summed in double), the eager one float32's
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6)
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_array_equal(a, b)


class _Keeps(nn.Module):
    """Stores its hidden values at each forward (``detach``: off the graph, for a plot)."""

    def __init__(self, detach=False):
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.detach = detach

    def forward(self, x):
        h = self.fc(x)
        self.features = h.detach() if self.detach else h  # bumps the module's version
        return h


def test_a_forward_that_assigns_an_attribute_is_traced_once():
    m = _Keeps()
    m.register_buffer("features", None)  # stored in a buffer: state_dict sees it too
    step = nn.TrainStep(m, nn.CrossEntropyLoss(), fn.optim.SGD(m.parameters(), lr=0.1))
    x, y = np.ones((8, 4), np.float32), np.zeros(8, np.int64)
    step(x, y)
    key = step._traced.key
    for i in range(5):
        before = m.fc(fn.tensor(x + i)).detach().numpy()
        step(x + i, y)
        # each replay stores the value again (it kept the first batch's)
        np.testing.assert_array_equal(m.features.detach().numpy(), before)
        np.testing.assert_array_equal(m.state_dict()["features"], before)
    assert step.traced and step._traced.key == key


def test_a_detached_value_the_forward_keeps_is_stored_by_each_replay():
    m = _Keeps(detach=True)
    step = nn.TrainStep(m, nn.CrossEntropyLoss(), fn.optim.SGD(m.parameters(), lr=0.1))
    x, y = np.ones((8, 4), np.float32), np.zeros(8, np.int64)
    for i in range(4):
        before = m.fc(fn.tensor(x - i)).detach().numpy()
        step(x - i, y)
        np.testing.assert_array_equal(m.features.numpy(), before)
    assert step.traced


class _Counts(nn.Module):
    """A forward with Python state: a counter that changes what it computes."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 5)
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        h = self.fc(x)
        return h * 0.5 if self.calls > 2 else h


class _BatchScaled(nn.Module):
    """A 0-d value computed from the data off the graph, and a 0-d buffer."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 5)
        self.register_buffer("temp", fn.tensor(1.0))

    def forward(self, x):
        return self.fc(x) * x.detach().abs().max() * self.temp


class _PrivateCount(_Counts):
    def forward(self, x):
        self._seen = getattr(self, "_seen", 0) + 1  # a private counter of a user class
        return self.fc(x) * (0.5 if self._seen > 2 else 1.0)


class _Appends(_Counts):
    def __init__(self):
        super().__init__()
        self.history = []
        self.stats = {"n": 0}

    def forward(self, x):
        h = self.fc(x)
        self.history.append(1)
        self.stats["n"] += 1
        return h * (0.5 if len(self.history) > 2 else 1.0)


class _RunningMean(_Counts):
    def __init__(self):
        super().__init__()
        self.register_buffer("mean", fn.zeros(5))

    def forward(self, x):
        h = self.fc(x)
        with fn.no_grad():
            self.mean.mul_(0.9).add_(h.detach().mean(0) * 0.1)  # in place
        return h


class _Nested(_Counts):
    """State the first detection missed: an array counter, a deque, a list in a dict."""

    def __init__(self):
        super().__init__()
        self.count = np.zeros(())
        self.recent = collections.deque(maxlen=10)
        self.log = {"seen": []}

    def forward(self, x):
        self.count += 1
        self.recent.append(1)
        self.log["seen"].append(1)
        return self.fc(x) * (0.5 if self.count > 2 else 1.0)


@pytest.mark.parametrize("make", [_Counts, _BatchScaled, _PrivateCount, _Appends,
                                  _RunningMean, _Nested])
def test_a_forward_with_python_state_or_data_scalars_runs_eagerly(make):
    # the replay kept the counter at 1 and the batch maximum / buffer at their first
    # values: the losses left the eager loop's (35.4 against 2984.6 at the second step)
    batches = [data(8, (4,), seed=s) for s in range(4)]
    batches = [(x * (1 + 50 * i), y) for i, (x, y) in enumerate(batches)]

    def change(model, i):
        if i == 2 and isinstance(model, _BatchScaled):
            model.temp.data = fn.tensor(3.0)

    results = []
    for fused in (True, False):
        fn.manual_seed(0)
        model = make()
        opt = fn.optim.SGD(model.parameters(), lr=0.001)
        step = nn.TrainStep(model, nn.CrossEntropyLoss(), opt) if fused else None
        losses = []
        for i, (x, y) in enumerate(batches):
            change(model, i)
            if fused:
                with pytest.warns(RuntimeWarning, match="cannot be traced") if i == 0 else \
                        warnings.catch_warnings():
                    losses.append(step(x, y))
            else:
                losses.append(loop_step(model, nn.CrossEntropyLoss(), opt, x, y))
        state = {k: np.asarray(v).tolist() for k, v in model.state_dict().items()}
        results.append((losses, state, getattr(model, "_seen", None),
                        getattr(model, "stats", None), np.asarray(getattr(model, "count", 0))
                        .tolist(), getattr(model, "log", None)))
    assert results[0] == results[1]


@pytest.mark.parametrize("change", ["replace_nested", "append_plan_layer",
                                    "append_traced_layer", "remove"])
def test_layers_changed_between_steps_train_as_the_eager_loop(change):
    # TrainStep raised "the model's layers changed since this step was built"; now the
    # next call builds the plan again (or traces what the plan does not run), as the eager
    # loop simply runs the changed model
    x, y = data(8, (4,))
    results = []
    for fused in (True, False):
        fn.manual_seed(0)
        model = nn.Sequential(nn.Sequential(nn.Linear(4, 8), nn.ReLU()), nn.Linear(8, 5))
        opt = fn.optim.Adam(model.parameters(), lr=0.01)
        loss_fn = nn.CrossEntropyLoss()
        step = nn.TrainStep(model, loss_fn, opt) if fused else None
        losses = []
        for i in range(5):
            if i == 2:
                fn.manual_seed(1)
                if change == "replace_nested":  # new parameters the optimizer does not hold
                    model[0][0] = nn.Linear(4, 8)
                elif change == "append_plan_layer":
                    model.append(nn.Tanh())
                elif change == "append_traced_layer":
                    model.append(nn.Softplus())  # not in the plan: traced (eagerly)
                else:
                    del model[0][1]
            if fused:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    losses.append(step(x, y))
            else:
                losses.append(loop_step(model, loss_fn, opt, x, y))
        results.append((losses, [p.detach().numpy().copy() for p in model.parameters()]))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6)
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_the_plan_skips_a_layer_the_forward_does_not_use_as_the_eager_loop():
    """The one-call plan stepped every parameter: a layer the forward never used took
    weight decay (0.048 from the eager loop after 3 AdamW steps), where the eager loop's
    step() skips it, as torch does (its gradient stays None)."""
    steps = {}

    def step(model, opt, X, y, run, i):
        if run == 0:
            eager_step(model, opt, X, y)
            return
        if i == 0:
            steps["traced"] = nn.TrainStep(model, nn.CrossEntropyLoss(), opt)
        steps["traced"](X, y)
        if i == 1:
            model.zero_grad()  # flags reset between steps: the plan still steps a and b
    eager, traced = unused_layer_trajectories(step)
    assert steps["traced"]._traced._plan is not None  # the one-call plan ran
    for a, b in zip(eager, traced):
        np.testing.assert_array_equal(a, b)
    initial = unused_layer_trajectories(None, steps=0)[0]
    for i in (4, 5):  # unused.weight and unused.bias: as they were made
        np.testing.assert_array_equal(traced[i], initial[i])
    assert not np.array_equal(traced[0], initial[0])  # a trained: the runs are not trivial


def test_an_untraceable_forward_warns_before_the_step_changes_anything():
    # the warning came after the eager step: under -W error the call failed yet the
    # weights had changed
    m = nn.Sequential(nn.Linear(4, 3), nn.Softmax(-1))  # a Softmax head: traced, not planned
    step = nn.TrainStep(m, nn.BCELoss(), fn.optim.SGD(m.parameters(), lr=0.1))
    x, y = np.ones((2, 4), np.float32), np.full((2, 3), 0.5, np.float32)
    before = m[0].weight.detach().numpy().copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(RuntimeWarning, match="cannot be traced"):
            step(x, y)
    np.testing.assert_array_equal(m[0].weight.detach().numpy(), before)
    with pytest.warns(RuntimeWarning) as record:  # it points at the caller's line
        nn.TrainStep(m, nn.BCELoss(), fn.optim.SGD(m.parameters(), lr=0.1))(x, y)
    assert record[0].filename == __file__


class _OddState(nn.Module):
    """Attributes and buffers a state snapshot must compare without failing."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 5)
        self.register_buffer("meta", np.array([np.zeros(2), None, np.nan], dtype=object))
        self.table = np.array([np.nan, 1.0])
        self.note = "text"

    def forward(self, x):
        return self.fc(x)


class _ArrayEq(nn.Module):
    """A layer whose == returns an array (as a NumPy-minded class may define it)."""

    def forward(self, x):
        return x * 0.5

    def __eq__(self, other):
        return np.array([True, False])

    __hash__ = nn.Module.__hash__


def test_odd_module_state_is_compared_without_failing():
    # an object-dtype buffer holding an array made every call raise ("truth value of an
    # array ... is ambiguous"); NaN in it or in an array attribute is no change
    x, y = data(8, (4,))
    m = _OddState()
    step = nn.TrainStep(m, nn.CrossEntropyLoss(), fn.optim.SGD(m.parameters(), lr=0.1))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        step(x, y)
        step(x, y)
    assert step.traced
    seq = nn.Sequential(nn.Linear(4, 8), _ArrayEq(), nn.Linear(8, 5))
    step = nn.TrainStep(seq, nn.CrossEntropyLoss(), fn.optim.SGD(seq.parameters(), lr=0.1))
    step(x, y)
    seq[1] = _ArrayEq()  # compared by identity: its __eq__ is never asked
    step(x, y)
    assert step.traced
