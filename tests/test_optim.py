"""fastnn.optim: every optimizer and option against the float64 reference and PyTorch.

Trajectories run 12 steps with random gradients over parameters of several
shapes, including an empty one; groups larger than the kernels' OpenMP threshold
(kOptimParallelThreshold = 262144 elements in total) cover the threaded loop, in
one tensor and split across many.
"""

from __future__ import annotations

import inspect
import itertools
import re

import numpy as np
import pytest

import fastnn as fn
import reference_optim as ref
from conftest import ALL_THREADS
from fastnn import _core, optim
from fastnn.nn import Parameter

SHAPES = [(0,), (1,), (7,), (3, 5), (40009,)]
N_STEPS = 12


def _product(**axes):
    keys = list(axes)
    return [dict(zip(keys, values)) for values in itertools.product(*axes.values())]


def _sgd_cases():
    cases = []
    for c in _product(momentum=[0, 0.9], dampening=[0, 0.3], nesterov=[False, True],
                      weight_decay=[0, 0.1], maximize=[False, True]):
        if c["nesterov"] and (c["momentum"] == 0 or c["dampening"] != 0):
            continue
        cases.append({"lr": 0.05, **c})
    return cases


# betas (0.3, 0.5) and alpha 0.3 make 1 - beta >= 0.5, PyTorch's other lerp form.
CASES = (
    [("SGD", c) for c in _sgd_cases()]
    + [("Adam", {"lr": 0.01, **c}) for c in _product(
        betas=[(0.9, 0.999), (0.3, 0.5)], weight_decay=[0, 0.1], amsgrad=[False, True],
        maximize=[False, True])]
    + [("AdamW", {"lr": 0.01, **c}) for c in _product(
        weight_decay=[0, 1e-2, 0.3], amsgrad=[False, True], maximize=[False, True])]
    + [("RMSprop", {"lr": 0.01, **c}) for c in _product(
        alpha=[0.99, 0.3], momentum=[0, 0.9], centered=[False, True], weight_decay=[0, 0.1],
        maximize=[False, True])]
    + [("Adagrad", {"lr": 0.1, **c}) for c in _product(
        lr_decay=[0, 0.1], weight_decay=[0, 0.1], initial_accumulator_value=[0, 0.5],
        maximize=[False, True])]
)


def _case_id(case):
    name, opts = case
    return name + "-" + ",".join(f"{k}={v}" for k, v in opts.items())


def _problem(seed: int, shapes=SHAPES, n_steps=N_STEPS):
    """Initial float32 parameters and n_steps float32 gradients per parameter."""
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    grads = [[(rng.standard_normal(s) * rng.uniform(0.1, 2)).astype(np.float32) for s in shapes]
             for _ in range(n_steps)]
    return params, grads


def _run_fastnn(name, opts, params, grads):
    ps = [Parameter(p) for p in params]
    opt = getattr(optim, name)(ps, **opts)
    for step_grads in grads:
        for p, g in zip(ps, step_grads):
            p.grad[...] = g
        opt.step()
    return ps, opt


def _tolerance(name, opts):
    # RMSprop's first step is g / (sqrt(1 - alpha) |g| + eps): where weight decay
    # nearly cancels the gradient, float32's rounding of the tiny g moves that
    # ratio by ~1e-4 (a float32 emulation of the same operations agrees with the
    # kernel). Centered RMSprop also takes sqrt(s - ga^2), which cancels.
    if name == "RMSprop":
        return {"rtol": 2e-4 if opts.get("centered") else 1e-4, "atol": 2e-5}
    return {"rtol": 2e-5, "atol": 2e-6}


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_trajectory_matches_reference(case, num_threads):
    name, opts = case
    params, grads = _problem(seed=len(opts) + 7)
    ps, _ = _run_fastnn(name, opts, params, grads)
    expected = ref.trajectory(name, params, grads, [opts] * len(grads))
    for p, e in zip(ps, expected):
        assert p.data.dtype == np.float32 and p.shape == e.shape
        np.testing.assert_allclose(p.data, e, **_tolerance(name, opts))
    moved = np.abs(ps[-1].data - params[-1]).max()
    assert moved > 1e-3  # the trajectory actually moved the parameters


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_trajectory_matches_torch(case):
    torch = pytest.importorskip("torch")
    name, opts = case
    params, grads = _problem(seed=3)
    ps, opt = _run_fastnn(name, opts, params, grads)
    tps = [torch.tensor(p, requires_grad=True) for p in params]
    topt = getattr(torch.optim, name)(tps, foreach=False, **opts)
    for step_grads in grads:
        for tp, g in zip(tps, step_grads):
            tp.grad = torch.tensor(g)
        topt.step()
    for p, tp in zip(ps, tps):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), **_tolerance(name, opts))
    # Same state keys and values as PyTorch.
    for p, tp in zip(ps, tps):
        state, tstate = opt.state[p], topt.state[tp]
        assert set(state) == set(tstate)
        for key, value in tstate.items():
            if key == "step":
                assert state[key] == int(value.item())
            else:
                np.testing.assert_allclose(state[key], value.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name, opts", [
    ("SGD", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.1, "nesterov": True}),
    ("Adam", {"amsgrad": True, "weight_decay": 0.1, "maximize": True}),
    ("AdamW", {"amsgrad": True}),
    ("RMSprop", {"momentum": 0.9, "centered": True, "weight_decay": 0.1}),
    ("Adagrad", {"lr_decay": 0.1, "weight_decay": 0.1, "initial_accumulator_value": 0.5}),
])
@pytest.mark.parametrize("shapes", [[(270001,)], [(7001,)] * 40 + [(3,)]],
                         ids=["one-tensor", "many-tensors"])
def test_bit_identical_across_thread_counts(name, opts, shapes):
    params, grads = _problem(seed=11, shapes=shapes, n_steps=3)
    before = fn.get_num_threads()
    try:
        fn.set_num_threads(1)
        serial, _ = _run_fastnn(name, opts, params, grads)
        fn.set_num_threads(ALL_THREADS)
        threaded, _ = _run_fastnn(name, opts, params, grads)
    finally:
        fn.set_num_threads(before)
    for a, b in zip(serial, threaded):
        np.testing.assert_array_equal(a.data, b.data)
    expected = ref.trajectory(name, params, grads, [opts] * len(grads))
    for p, e in zip(serial, expected):
        np.testing.assert_allclose(p.data, e, **_tolerance(name, opts))


# -- param groups and learning-rate changes ------------------------------------

@pytest.mark.parametrize("name, opts", [
    ("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01}), ("Adagrad", {"lr": 0.1, "lr_decay": 0.05}),
])
def test_lr_change_through_param_groups(name, opts):
    params, grads = _problem(seed=5, shapes=[(4, 3)], n_steps=8)
    ps = [Parameter(p) for p in params]
    opt = getattr(optim, name)(ps, **opts)
    schedule = []
    for t, step_grads in enumerate(grads):
        lr = opts["lr"] * (0.5 ** (t // 3))
        opt.param_groups[0]["lr"] = lr
        assert opt.param_groups[0]["lr"] == lr
        schedule.append({**opts, "lr": lr})
        ps[0].grad[...] = step_grads[0]
        opt.step()
    expected = ref.trajectory(name, params, grads, schedule)
    np.testing.assert_allclose(ps[0].data, expected[0], rtol=2e-5, atol=2e-6)
    constant = ref.trajectory(name, params, grads, [opts] * len(grads))
    assert not np.allclose(constant[0], expected[0], rtol=1e-4)  # the change mattered


def test_param_groups_with_different_options():
    params, grads = _problem(seed=9, shapes=[(5,), (2, 3), (4,)], n_steps=6)
    ps = [Parameter(p) for p in params]
    opt = optim.Adam([{"params": ps[:2]}, {"params": [ps[2]], "lr": 0.1, "amsgrad": True}],
                     lr=0.01, betas=(0.8, 0.9))
    assert [g["lr"] for g in opt.param_groups] == [0.01, 0.1]
    assert opt.param_groups[1]["betas"] == (0.8, 0.9)  # defaults fill the rest
    assert opt.param_groups[1]["amsgrad"] and not opt.param_groups[0]["amsgrad"]
    for step_grads in grads:
        for p, g in zip(ps, step_grads):
            p.grad[...] = g
        opt.step()
    first = {"lr": 0.01, "betas": (0.8, 0.9)}
    second = {"lr": 0.1, "betas": (0.8, 0.9), "amsgrad": True}
    exp01 = ref.trajectory("Adam", params[:2], [g[:2] for g in grads], [first] * len(grads))
    exp2 = ref.trajectory("Adam", params[2:], [g[2:] for g in grads], [second] * len(grads))
    for p, e in zip(ps, exp01 + exp2):
        np.testing.assert_allclose(p.data, e, rtol=2e-5, atol=2e-6)
    assert "max_exp_avg_sq" in opt.state[ps[2]] and "max_exp_avg_sq" not in opt.state[ps[0]]


def test_add_param_group():
    a, b = Parameter(np.ones(3)), Parameter(np.ones(2))
    opt = optim.SGD([a], lr=0.1, momentum=0.5)
    opt.add_param_group({"params": b, "lr": 0.2})
    assert opt.param_groups[1]["params"] == [b]
    assert opt.param_groups[1]["momentum"] == 0.5
    b.grad[...] = 1.0
    opt.step()
    np.testing.assert_allclose(b.data, 1 - 0.2, rtol=1e-7)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(TypeError, match="must be a dict"):
        opt.add_param_group([a])
    with pytest.raises(ValueError, match="no 'params' key"):
        opt.add_param_group({"lr": 0.1})


# -- step, zero_grad, state ------------------------------------------------------

def test_step_closure_and_zero_grad():
    p = Parameter(np.array([1.0, 2.0]))
    opt = optim.SGD([p], lr=0.5)
    calls = []

    def closure():
        calls.append(1)
        p.grad[...] = 2.0
        return 3.25

    assert opt.step(closure) == 3.25 and calls == [1]
    np.testing.assert_array_equal(p.data, [0.0, 1.0])
    assert opt.step() is None
    opt.zero_grad()
    np.testing.assert_array_equal(p.grad, [0.0, 0.0])
    assert p.grad is not None


@pytest.mark.parametrize("name, opts, keys", [
    ("SGD", {}, set()),
    ("SGD", {"momentum": 0.9}, {"momentum_buffer"}),
    ("Adam", {}, {"step", "exp_avg", "exp_avg_sq"}),
    ("AdamW", {"amsgrad": True}, {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}),
    ("RMSprop", {}, {"step", "square_avg"}),
    ("RMSprop", {"momentum": 0.5, "centered": True},
     {"step", "square_avg", "momentum_buffer", "grad_avg"}),
    ("Adagrad", {}, {"step", "sum"}),
])
def test_state_keys_created_on_first_step(name, opts, keys):
    p = Parameter(np.ones((2, 2)))
    opt = getattr(optim, name)([p], **opts)
    if name == "Adagrad":  # PyTorch's Adagrad creates its state in the constructor
        assert set(opt.state[p]) == keys and opt.state[p]["step"] == 0
    else:
        assert not opt.state.get(p)
    opt.step()
    assert set(opt.state.get(p, {})) == keys
    if "step" in keys:
        assert opt.state[p]["step"] == 1
    for key in keys - {"step"}:
        assert opt.state[p][key].dtype == np.float32 and opt.state[p][key].shape == (2, 2)


@pytest.mark.parametrize("case", [
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.1}),
    ("Adam", {"amsgrad": True, "weight_decay": 0.1}),
    ("AdamW", {}),
    ("RMSprop", {"momentum": 0.9, "centered": True}),
    ("Adagrad", {"lr_decay": 0.1}),
], ids=_case_id)
def test_state_dict_round_trip_resumes_bit_identically(case):
    name, opts = case
    params, grads = _problem(seed=21, shapes=[(3, 4), (0,), (5,)], n_steps=10)
    ps, opt = _run_fastnn(name, opts, params, grads[:5])
    saved = opt.state_dict()
    saved_params = [p.data.copy() for p in ps]
    # The saved state is a copy: stepping on must not change it.
    snapshot = {i: {k: np.copy(v) for k, v in s.items()} for i, s in saved["state"].items()}
    for p in ps:
        p.grad[...] = 1.0
    opt.step()
    for i, s in saved["state"].items():
        for k, v in s.items():
            np.testing.assert_array_equal(v, snapshot[i][k])

    # Continue the original from the saved point and a fresh optimizer loaded from it.
    ps_a = [Parameter(p) for p in saved_params]
    ps_b = [Parameter(p) for p in saved_params]
    opt_a = getattr(optim, name)(ps_a, **opts)
    opt_a.load_state_dict(saved)
    opt_b = getattr(optim, name)(ps_b, lr=0.123)  # hyper-parameters come from the state dict
    opt_b.load_state_dict(saved)
    assert opt_b.param_groups[0]["lr"] == saved["param_groups"][0]["lr"]
    assert opt_b.param_groups[0]["params"] == ps_b
    ps_ref, _ = _run_fastnn(name, opts, params, grads)
    for o, qs in ((opt_a, ps_a), (opt_b, ps_b)):
        for step_grads in grads[5:]:
            for q, g in zip(qs, step_grads):
                q.grad[...] = g
            o.step()
        for q, r in zip(qs, ps_ref):
            np.testing.assert_array_equal(q.data, r.data)


def test_state_dict_layout():
    a, b, c = Parameter(np.ones(2)), Parameter(np.ones(3)), Parameter(np.ones(1))
    opt = optim.Adam([{"params": [a, b]}, {"params": [c], "lr": 0.5}])
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sd["param_groups"][1]["lr"] == 0.5 and sd["param_groups"][0]["betas"] == (0.9, 0.999)
    assert set(sd["state"]) == {0, 1, 2}
    assert sd["state"][1]["exp_avg"].shape == (3,) and sd["state"][1]["step"] == 1
    assert sd["state"][1]["exp_avg"] is not opt.state[b]["exp_avg"]


def test_loads_a_torch_state_dict():
    torch = pytest.importorskip("torch")
    params, grads = _problem(seed=2, shapes=[(3, 2), (4,)], n_steps=8)
    tps = [torch.tensor(p, requires_grad=True) for p in params]
    topt = torch.optim.Adam(tps, lr=0.01, amsgrad=True, foreach=False)
    for step_grads in grads[:4]:
        for tp, g in zip(tps, step_grads):
            tp.grad = torch.tensor(g)
        topt.step()
    ps = [Parameter(tp.detach().numpy()) for tp in tps]
    opt = optim.Adam(ps)
    opt.load_state_dict(topt.state_dict())
    assert opt.param_groups[0]["amsgrad"] and opt.state[ps[0]]["step"] == 4
    for step_grads in grads[4:]:
        for p, tp, g in zip(ps, tps, step_grads):
            p.grad[...] = g
            tp.grad = torch.tensor(g)
        opt.step()
        topt.step()
    for p, tp in zip(ps, tps):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_load_state_dict_errors():
    a, b = Parameter(np.ones(2)), Parameter(np.ones(3))
    opt = optim.SGD([a, b], lr=0.1, momentum=0.9)
    opt.step()
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="1 parameter group.*the optimizer has 2"):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="2 parameter.*in the state dict and 1"):
        optim.SGD([a], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match=r"'momentum_buffer' has shape \(2,\), its parameter "
                                         r"has shape \(3,\)"):
        optim.SGD([b, a], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="keys 'state' and 'param_groups'"):
        opt.load_state_dict({"state": {}})
    bad = opt.state_dict()
    bad["param_groups"][0]["lr"] = -1.0
    with pytest.raises(ValueError, match="'lr'"):
        opt.load_state_dict(bad)


def test_repr():
    opt = optim.SGD([Parameter(np.ones(1))], lr=0.1, momentum=0.9)
    text = repr(opt)
    assert text.startswith("SGD (\nParameter Group 0\n") and text.endswith("\n)")
    assert "    lr: 0.1\n" in text and "    momentum: 0.9\n" in text and "params" not in text


def test_defaults_equal_torch():
    torch = pytest.importorskip("torch")
    p, tp = Parameter(np.ones(1)), torch.zeros(1, requires_grad=True)
    for name in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam",
                 "RAdam"):
        ours = getattr(optim, name)([p]).defaults
        theirs = getattr(torch.optim, name)([tp]).defaults
        for key, value in ours.items():
            assert theirs[key] == value, (name, key)


# -- validation -------------------------------------------------------------------

def _p():
    return [Parameter(np.ones(2))]


@pytest.mark.parametrize("make, exc, match", [
    (lambda: optim.SGD(_p(), lr=-0.1), ValueError, r"SGD\(\): argument 'lr' .* got -0.1"),
    (lambda: optim.SGD(_p(), momentum=-1), ValueError, "'momentum'.*got -1"),
    (lambda: optim.SGD(_p(), weight_decay=-1), ValueError, "'weight_decay'.*got -1"),
    (lambda: optim.SGD(_p(), nesterov=True), ValueError, "nesterov=True requires momentum"),
    (lambda: optim.SGD(_p(), momentum=0.9, dampening=0.1, nesterov=True), ValueError,
     "dampening == 0"),
    (lambda: optim.SGD(_p(), lr="0.1"), TypeError, "'lr' must be a number"),
    (lambda: optim.Adam(_p(), lr=-1), ValueError, r"Adam\(\): argument 'lr'"),
    (lambda: optim.Adam(_p(), eps=-1e-8), ValueError, "'eps'"),
    (lambda: optim.Adam(_p(), betas=(1.0, 0.999)), ValueError,
     re.escape("'betas[0]' must be in [0, 1), got 1.0")),
    (lambda: optim.Adam(_p(), betas=(0.9, -0.1)), ValueError, re.escape("'betas[1]'")),
    (lambda: optim.Adam(_p(), betas=0.9), TypeError, "'betas' must be a pair"),
    (lambda: optim.Adam(_p(), weight_decay=-1), ValueError, "'weight_decay'"),
    (lambda: optim.AdamW(_p(), betas=(0.9, 1.5)), ValueError, r"AdamW\(\): argument 'betas\[1\]'"),
    (lambda: optim.RMSprop(_p(), alpha=-0.5), ValueError, "'alpha'.*got -0.5"),
    (lambda: optim.RMSprop(_p(), alpha=1.5), ValueError, "'alpha'.*got 1.5"),  # NaN in 3 steps
    (lambda: optim.RMSprop(_p(), momentum=-0.5), ValueError, "'momentum'"),
    (lambda: optim.RMSprop(_p(), eps=-1), ValueError, "'eps'"),
    (lambda: optim.RMSprop(_p(), lr=float("nan")), ValueError, "'lr'"),
    (lambda: optim.Adagrad(_p(), lr_decay=-1), ValueError, "'lr_decay'"),
    (lambda: optim.Adagrad(_p(), initial_accumulator_value=-1), ValueError,
     "'initial_accumulator_value'"),
    (lambda: optim.Adagrad(_p(), weight_decay=-1), ValueError, "'weight_decay'"),
    (lambda: optim.Adagrad(_p(), eps=-1), ValueError, "'eps'"),
    (lambda: optim.SGD([], lr=0.1), ValueError, "empty parameter list"),
    (lambda: optim.SGD(iter([]), lr=0.1), ValueError, "empty parameter list"),
    (lambda: optim.SGD([np.ones(2)], lr=0.1), TypeError, r"params\[0\] is ndarray"),
    (lambda: optim.SGD(_p() + [3.0], lr=0.1), TypeError, r"params\[1\] is float"),
    (lambda: optim.SGD(_p()[0], lr=0.1), TypeError, "iterable of Parameters"),
    (lambda: optim.SGD({"params": _p()}, lr=0.1), TypeError, "iterable of Parameters"),
    (lambda: optim.SGD([{"params": set(_p())}], lr=0.1), TypeError, "not a set"),
    (lambda: optim.Adam(set(_p())), TypeError, "not a set"),
    (lambda: optim.SGD(_p() * 2, lr=0.1), ValueError, "same parameter twice"),
    (lambda: optim.SGD([{"params": _p(), "lr": -1}], lr=0.1), ValueError, "'lr'"),
])
def test_validation(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_accepts_a_generator():
    ps = _p() + _p()
    opt = optim.Adam(p for p in ps)
    assert opt.param_groups[0]["params"] == ps


# -- bindings ------------------------------------------------------------------------

def _sgd(param, grad, buf=None, momentum=0.0):
    _core.sgd_step(param, buf, grad, lr=0.1, momentum=momentum, dampening=0.0,
                   weight_decay=0.0, nesterov=False, maximize=False, init_buffer=False)


def test_binding_validation():
    p32 = np.ones(4, np.float32)
    g = np.ones(4, np.float32)
    with pytest.raises(TypeError, match=r"sgd_step\(\): argument 'param' must have dtype float32"):
        _sgd(np.ones(4), g)
    with pytest.raises(ValueError, match="'param' must be C-contiguous"):
        _sgd(np.ones(8, np.float32)[::2], g)
    readonly = np.ones(4, np.float32)
    readonly.flags.writeable = False
    with pytest.raises(ValueError, match="'param' must be writeable"):
        _sgd(readonly, g)
    with pytest.raises(ValueError, match=r"'grad' must have 4 elements like 'param', got 3"):
        _sgd(p32, np.ones(3, np.float32))
    with pytest.raises(TypeError, match="'grad' must have a real numeric dtype"):
        _sgd(p32, np.array(["a"] * 4))
    with pytest.raises(ValueError, match="'momentum_buffer' is required when momentum != 0"):
        _sgd(p32, g, momentum=0.9)
    with pytest.raises(ValueError, match="'momentum_buffer' must have 4 elements"):
        _sgd(p32, g, buf=np.zeros(5, np.float32), momentum=0.9)
    with pytest.raises(ValueError, match="'momentum_buffer' and 'param' must not share memory"):
        _sgd(p32, g, buf=p32, momentum=0.9)
    with pytest.raises(ValueError, match="'param' and 'grad' must not share memory"):
        _sgd(p32, p32)
    z = np.zeros(4, np.float32)
    with pytest.raises(ValueError, match="'exp_avg_sq' and 'exp_avg' must not share memory"):
        _core.adam_step(p32, z, z, None, g, lr=0.1, beta1=0.9, beta2=0.99, eps=1e-8,
                        weight_decay=0.0, amsgrad=False, maximize=False,
                        decoupled_weight_decay=False, step=1)
    with pytest.raises(ValueError, match="'max_exp_avg_sq' is required when amsgrad"):
        _core.adam_step(p32, z, z.copy(), None, g, lr=0.1, beta1=0.9, beta2=0.99, eps=1e-8,
                        weight_decay=0.0, amsgrad=True, maximize=False,
                        decoupled_weight_decay=False, step=1)
    with pytest.raises(ValueError, match="'step' must be >= 1, got 0"):
        _core.adam_step(p32, z, z.copy(), None, g, lr=0.1, beta1=0.9, beta2=0.99, eps=1e-8,
                        weight_decay=0.0, amsgrad=False, maximize=False,
                        decoupled_weight_decay=False, step=0)
    with pytest.raises(ValueError, match="'grad_avg' is required when centered"):
        _core.rmsprop_step(p32, z, None, None, g, lr=0.1, alpha=0.9, eps=1e-8, weight_decay=0.0,
                           momentum=0.0, centered=True, maximize=False)
    with pytest.raises(ValueError, match="'step' must be >= 1"):
        _core.adagrad_step(p32, z, g, lr=0.1, lr_decay=0.0, weight_decay=0.0, eps=1e-10,
                           maximize=False, step=0)


def test_binding_converts_grad_of_any_layout():
    p = np.ones((3, 4), np.float32)
    g = np.arange(24, dtype=np.float32).reshape(4, 6)[:, ::2].T  # non-contiguous
    _sgd(p, g)
    np.testing.assert_allclose(p, 1 - 0.1 * g, rtol=1e-6)


# -- the fused multi-tensor step -----------------------------------------------

# empty, shorter than and around one 8- or 16-lane vector and their multiples, long
TAIL_SHAPES = [(0,), (1,), (7,), (3, 5), (17,), (31,), (33,), (9, 13), (1031,)]
SIMD_PATHS = [a for a in _core._elementwise_archs() if a != "scalar"]  # what this CPU runs


def _fused_trajectory(name, opts, params, grads, isa, flat):
    """Runs the optimizer through _core.optimizer_step with a forced instruction set."""
    if flat:  # back-to-back views of one buffer: coalesced into one span
        buffer = np.concatenate([p.ravel() for p in params]).astype(np.float32)
        ps, offset = [], 0
        for p in params:
            q = Parameter(p)
            q._rebind_data(buffer[offset:offset + p.size].reshape(p.shape))
            ps.append(q)
            offset += p.size
    else:
        ps = [Parameter(p) for p in params]
    opt = getattr(optim, name)(ps, **opts)
    for step_grads in grads:
        for p, g in zip(ps, step_grads):
            p.grad[...] = g
        for group in opt.param_groups:
            _core.optimizer_step(opt._kind, group, opt._group_tensors(group), isa)
    return [p.data for p in ps] + [v for p in ps for _, v in sorted(opt.state[p].items())]


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_fused_step_is_bit_identical_on_every_path(case):
    """The scalar loop and every SIMD path this CPU runs (8 lanes; 16 on ymm pairs and
    on zmm), one span or many, and Optimizer.step() give the same bits."""
    name, opts = case
    params, grads = _problem(seed=21, shapes=TAIL_SHAPES, n_steps=3)
    expected = _fused_trajectory(name, opts, params, grads, "scalar", flat=False)
    ps, opt = _run_fastnn(name, opts, params, grads)
    runs = [[p.data for p in ps] + [v for p in ps for _, v in sorted(opt.state[p].items())],
            _fused_trajectory(name, opts, params, grads, "scalar", flat=True)]
    runs += [_fused_trajectory(name, opts, params, grads, isa, flat)
             for isa in SIMD_PATHS for flat in (False, True)]
    for run in runs:
        assert len(run) == len(expected)
        for a, b in zip(run, expected):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad"])
def test_fused_step_special_values_bit_identical_on_every_path(name):
    """NaN, +-inf, subnormal and zero gradients and parameters: every path agrees with
    the scalar loop bit for bit (NaN where it has NaN), at each tail length 0..33."""
    if not SIMD_PATHS:
        pytest.skip("this CPU runs only the scalar path: nothing to compare it with")
    opts = {"SGD": {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01},
            "Adam": {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1},
            "RMSprop": {"lr": 0.01, "momentum": 0.9, "centered": True},
            "Adagrad": {"lr": 0.1, "weight_decay": 0.1}}[name]
    special = np.float32([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-40, -1e-40, 1e-45, 3e38, -3e38])
    rng = np.random.default_rng(5)
    shapes = [(n,) for n in range(34)]
    params = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    grads = [[np.where(rng.random(s) < 0.3, rng.choice(special, s),
                       rng.standard_normal(s)).astype(np.float32) for s in shapes]
             for _ in range(3)]
    expected = _fused_trajectory(name, opts, params, grads, "scalar", flat=False)
    for isa in SIMD_PATHS:
        run = _fused_trajectory(name, opts, params, grads, isa, flat=False)
        for a, b in zip(run, expected):
            np.testing.assert_array_equal(a, b, err_msg=isa)


# Divisors sqrt(1 - beta2^t) of Adam's bias correction: early, middle and late steps
# (1.0 once beta2^t rounds away), and beta2 = 1, whose divisor 0 takes the plain
# division on every path.
BC2_DIVISORS = [(0.999, 1), (0.999, 2), (0.999, 7), (0.999, 1000), (0.999, 20000),
                (0.99, 3), (0.9, 1), (0.5, 2), (0.9999, 1), (0.95, 50), (1.0, 5)]


@pytest.mark.parametrize("beta2, step", BC2_DIVISORS)
def test_adam_bias_correction_division_is_correctly_rounded_on_every_path(beta2, step):
    """Adam divides sqrt(v) by sqrt(1 - beta2^t); the vector paths do it with a multiply
    and two FMA corrections (optim/update.h: div_bc2). Every path must give the float32
    division's bits: for a third of all mantissas in [1, 2), random values over the whole
    range sqrt(v) takes (2^-75 to 2^64), and 0, -0, inf and NaN."""
    mantissas = np.arange(0x3F800000, 0x40000000, 3, dtype=np.uint32).view(np.float32)
    rng = np.random.default_rng(step)
    spread = (rng.random(200_000) + 1.0) * np.exp2(rng.integers(-75, 64, 200_000))
    special = [0.0, -0.0, np.inf, np.nan, 2.0**-74.5, np.sqrt(np.finfo(np.float32).max)]
    a = np.concatenate([mantissas, spread.astype(np.float32), np.float32(special)])
    divisor = np.float32(np.sqrt(1.0 - beta2**step))
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = a / divisor
    for isa in ["scalar", *SIMD_PATHS]:
        out = np.empty_like(a)
        _core._adam_bc2_division(a, out, beta2, step, isa)
        different = np.flatnonzero(out.view(np.uint32) != expected.view(np.uint32))
        assert different.size == 0, (isa, a[different[:5]], out[different[:5]],
                                     expected[different[:5]])


def _bits(a):
    """A float32 array's encodings (so that -0 differs from 0); other arrays as they are."""
    a = np.asarray(a)
    return a.view(np.uint32) if a.dtype == np.float32 else a


def _near_subnormal(rng, shape):
    """float32 values around and below the smallest normal (2^-126): subnormal bit
    patterns, 2^-140 .. 2^-90, 2^-70 .. 2^-45 (whose squares underflow), zeros and
    ordinary values, mixed within every 8- and 16-lane vector, random signs."""
    n = int(np.prod(shape))
    subnormal = rng.integers(1, 1 << 23, n).astype(np.uint32).view(np.float32)
    kind = rng.integers(0, 5, n)
    tiny = np.exp2(rng.uniform(-140, -90, n))
    small = np.exp2(rng.uniform(-70, -45, n))
    value = np.select([kind == 0, kind == 1, kind == 2, kind == 3],
                      [subnormal, tiny, small, 0.0], rng.standard_normal(n))
    return (value * rng.choice([-1.0, 1.0], n)).astype(np.float32).reshape(shape)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_fused_step_near_subnormal_values_bit_identical_on_every_path(case):
    """The vector paths update vectors with an operand near the subnormals in double
    precision (util/simd_via_f64.h: no microcode assists) and the others in float;
    both must give the scalar loop's bits. Parameters and gradients around 2^-126,
    then zero gradients, under which Adam's and RMSprop's averages decay through the
    subnormals."""
    if not SIMD_PATHS:
        pytest.skip("this CPU runs only the scalar path: nothing to compare it with")
    name, opts = case
    rng = np.random.default_rng(11)
    params = [_near_subnormal(rng, s) for s in TAIL_SHAPES]
    grads = [[_near_subnormal(rng, s) for s in TAIL_SHAPES] for _ in range(3)]
    grads += [[np.zeros(s, np.float32) for s in TAIL_SHAPES]] * 3
    expected = _fused_trajectory(name, opts, params, grads, "scalar", flat=False)
    for isa in SIMD_PATHS:
        for flat in (False, True):
            run = _fused_trajectory(name, opts, params, grads, isa, flat)
            for a, b in zip(run, expected):
                np.testing.assert_array_equal(_bits(a), _bits(b), err_msg=f"{isa} flat={flat}")


def test_fused_step_paths_this_cpu_lacks_are_refused():
    p, g = np.ones(4, np.float32), np.ones(4, np.float32)
    m, v = np.zeros(4, np.float32), np.zeros(4, np.float32)
    group = optim.Adam([Parameter(p)]).param_groups[0]
    for isa in ("avx2", "avx512emu", "avx512"):
        if isa in SIMD_PATHS:
            _core.optimizer_step(_core.OptimKind.adam, group, [(p, g, m, v, None, 1)], isa)
        else:
            with pytest.raises(ValueError, match=f"isa '{isa}' is not supported by this CPU"):
                _core.optimizer_step(_core.OptimKind.adam, group, [(p, g, m, v, None, 1)], isa)


def test_state_of_a_group_is_one_flat_buffer_per_name():
    ps = [Parameter(np.ones(s, np.float32)) for s in [(3, 2), (4,), (5,)]]
    opt = optim.Adam(ps, amsgrad=True)
    for p in ps:
        p.grad[...] = 1.0
    opt.step()
    for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
        views = [opt.state[p][key] for p in ps]
        assert all(v.base is views[0].base for v in views)
        assert views[0].base.shape == (15,)
        assert [v.shape for v in views] == [p.shape for p in ps]
    assert [opt.state[p]["step"] for p in ps] == [1, 1, 1]


def test_fused_binding_validation():
    p, g = np.ones(4, np.float32), np.ones(4, np.float32)
    m, v = np.zeros(4, np.float32), np.zeros(4, np.float32)
    group = optim.Adam([Parameter(p)]).param_groups[0]
    adam = _core.OptimKind.adam

    def call(tensors, isa="best"):
        _core.optimizer_step(adam, group, tensors, isa)
    with pytest.raises(ValueError, match=r"'tensors\[0\]' must be \(param, grad, state0"):
        call([(p, g, m, v, None)])
    with pytest.raises(ValueError, match=r"'tensors\[0\].exp_avg_sq' is required by these "
                                         "options, got None"):
        call([(p, g, m, None, None, 1)])
    with pytest.raises(ValueError, match=r"'tensors\[0\].exp_avg' must have 4 elements like "
                                         "its param, got 3"):
        call([(p, g, np.zeros(3, np.float32), v, None, 1)])
    with pytest.raises(ValueError, match=r"'tensors\[0\].grad' must have 4 elements"):
        call([(p, np.ones(5, np.float32), m, v, None, 1)])
    with pytest.raises(ValueError, match=r"'tensors\[0\].step' must be >= 1, got 0"):
        call([(p, g, m, v, None, 0)])
    with pytest.raises(TypeError, match=r"optimizer_step\(\): argument 'tensors\[1\].param' "
                                        "must have dtype float32"):
        call([(p, g, m, v, None, 1), (np.ones(2), g[:2], m[:2], v[:2], None, 1)])
    big = np.zeros(8, np.float32)
    with pytest.raises(ValueError, match=r"arguments 'tensors\[0\].exp_avg' and "
                                         r"'tensors\[1\].param' must not share memory"):
        call([(p, g, big[:4], v, None, 1), (big[2:6], g.copy(), m, v.copy(), None, 1)])
    with pytest.raises(ValueError, match="argument 'isa' must be 'best', 'scalar', 'avx2', "
                                         "'avx512emu' or 'avx512', got 'sse'"):
        call([(p, g, m, v, None, 1)], isa="sse")
    call([(p, g, m, v, None, 1)])  # the valid call updates in place
    assert np.all(p < 1)


def test_parameters_may_share_one_gradient_as_in_pytorch():
    """p2.grad = p1.grad (one array): both step on it, as in PyTorch; gradients are only
    read by the update. Any other overlap still raises, also behind overlapping grads."""
    p1, p2 = Parameter(np.ones(3, np.float32)), Parameter(np.ones(3, np.float32))
    g = np.full(3, 2.0, np.float32)
    p1.grad = g
    p2.grad = g
    optim.SGD([p1, p2], lr=1.0, momentum=0.5).step()
    np.testing.assert_array_equal(p1.data, [-1.0] * 3)
    np.testing.assert_array_equal(p2.data, [-1.0] * 3)
    group = optim.Adam([Parameter(np.ones(4, np.float32))]).param_groups[0]

    def call(tensors):
        _core.optimizer_step(_core.OptimKind.adam, group, tensors, "best")
    state = [np.zeros(4, np.float32) for _ in range(6)]
    grads = np.ones(10, np.float32)
    params = np.ones(12, np.float32)
    call([(params[:4], grads[:4], state[0], state[1], None, 1),   # grads overlapping
          (params[4:8], grads[2:6], state[2], state[3], None, 1)])  # each other: fine
    # the first grad reaches furthest (elements 0-7); a param at 6-9, behind the second
    # grad (1-4), still overlaps it
    mem = np.ones(16, np.float32)
    big = [np.zeros(8, np.float32) for _ in range(2)]
    with pytest.raises(ValueError, match=r"'tensors\[0\].grad' and 'tensors\[2\].param' "
                                         "must not share memory"):
        call([(np.ones(8, np.float32), mem[0:8], big[0], big[1], None, 1),
              (params[8:12], mem[1:5], state[2], state[3], None, 1),
              (mem[6:10], np.ones(4, np.float32), state[4], state[5], None, 1)])


# -- frozen parameters ----------------------------------------------------------------

FROZEN_OPTIMIZERS = [
    ("SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.1, "weight_decay": 0.1}),
    ("AdamW", {"lr": 0.1}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1}),
]


def _frozen_run(path, name, options, w0, torch=None):
    """Three steps of a 4-8-3 MLP whose first weight is frozen; returns the parameters."""
    lib = torch if torch is not None else fn
    m = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.ReLU(), lib.nn.Linear(8, 3))
    m.load_state_dict({k: lib.tensor(v) if torch is not None else v for k, v in w0.items()})
    m[0].weight.requires_grad = False
    opt = getattr(lib.optim, name)(m.parameters(), **options)
    rng = np.random.default_rng(3)
    step = fn.nn.TrainStep(m, fn.nn.CrossEntropyLoss(), opt) if path == "train_step" else None
    for _ in range(3):
        x = rng.standard_normal((16, 4)).astype(np.float32)
        y = rng.integers(0, 3, 16)
        opt.zero_grad()
        if path == "train_step":
            step(x, y)
        elif path == "numpy":
            loss = fn.nn.CrossEntropyLoss()
            loss(m(x), y)
            m.backward(loss.backward())
            opt.step()
        else:
            lib.nn.CrossEntropyLoss()(m(lib.from_numpy(x)), lib.from_numpy(y)).backward()
            opt.step()
    sd = m.state_dict()
    return {k: np.array(v.detach().numpy() if torch is not None else v) for k, v in sd.items()}


@pytest.mark.parametrize("path", ["numpy", "tensor", "train_step"])
@pytest.mark.parametrize(("name", "options"), FROZEN_OPTIMIZERS,
                         ids=[n for n, _ in FROZEN_OPTIMIZERS])
def test_frozen_parameters_stay_put_on_every_path(path, name, options):
    # PyTorch never steps a parameter with requires_grad=False (its grad stays None);
    # fastnn's .grad is zeros by default and the NumPy path accumulates into it, so the
    # optimizers skip frozen parameters explicitly: no gradient step, weight decay or
    # momentum, and the others follow torch's trajectory.
    rng = np.random.default_rng(0)
    w0 = {"0.weight": rng.standard_normal((8, 4)).astype(np.float32),
          "0.bias": rng.standard_normal(8).astype(np.float32),
          "2.weight": rng.standard_normal((3, 8)).astype(np.float32),
          "2.bias": rng.standard_normal(3).astype(np.float32)}
    ours = _frozen_run(path, name, options, w0)
    np.testing.assert_array_equal(ours["0.weight"], w0["0.weight"])
    assert not np.array_equal(ours["0.bias"], w0["0.bias"])
    torch = pytest.importorskip("torch")
    theirs = _frozen_run("tensor", name, options, w0, torch=torch)
    for key in w0:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-4, atol=1e-5, err_msg=key)


def _unreached_run(name, options, w0, torch=None):
    """Four zero_grad / backward / step rounds in which the loss uses the head only in
    the first two and never uses ``extra``; returns every parameter's values."""
    lib = torch if torch is not None else fn
    body, head = lib.nn.Linear(3, 2), lib.nn.Linear(3, 2)
    body.load_state_dict({k: lib.tensor(v) for k, v in w0["body"].items()})
    head.load_state_dict({k: lib.tensor(v) for k, v in w0["head"].items()})
    extra = lib.nn.Parameter(lib.ones(2))
    opt = getattr(lib.optim, name)([*body.parameters(), extra, *head.parameters()],
                                   **options)
    x = lib.tensor(np.arange(12, dtype=np.float32).reshape(4, 3) / 10)
    for i in range(4):
        opt.zero_grad()
        loss = (body(x) ** 2).mean() + ((head(x) ** 2).mean() if i < 2 else 0.0)
        loss.backward()
        opt.step()
    return [np.array(p.detach().numpy()) for p in (*body.parameters(), extra,
                                                  *head.parameters())]


@pytest.mark.parametrize(("name", "options"), FROZEN_OPTIMIZERS,
                         ids=[n for n, _ in FROZEN_OPTIMIZERS])
def test_parameters_the_backward_did_not_reach_are_skipped_as_in_torch(name, options):
    # PyTorch's default zero_grad sets .grad to None and step() skips such parameters:
    # no weight decay, momentum or Adam step. fastnn zero-fills (the NumPy path's
    # contract) and step() skips a parameter whose zero-filled .grad no backward wrote.
    rng = np.random.default_rng(5)
    w0 = {part: {"weight": rng.standard_normal((2, 3)).astype(np.float32),
                 "bias": rng.standard_normal(2).astype(np.float32)} for part in ("body", "head")}
    ours = _unreached_run(name, options, w0)
    np.testing.assert_array_equal(ours[2], np.ones(2))  # extra: never used
    torch = pytest.importorskip("torch")
    theirs = _unreached_run(name, options, w0, torch=torch)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def _grad_none_cases(lib):
    """Scenarios whose PyTorch outcome turns on ``.grad`` being ``None``; each returns
    one number (torch 2.13's values are written out in the test below)."""
    opts = lib.optim

    def first_step_without_zero_grad():  # a fresh layer the loss never used
        lib.manual_seed(0)
        lin, extra = lib.nn.Linear(2, 2), lib.nn.Linear(2, 2)
        w0 = extra.weight.detach().clone()
        opt = opts.SGD([*lin.parameters(), *extra.parameters()], lr=0.1, weight_decay=0.5)
        lin(lib.ones(1, 2)).sum().backward()
        opt.step()
        return float((extra.weight.detach() / w0).mean())

    def never_used_set_to_none_false():  # zeros from False only where a grad existed
        lib.manual_seed(0)
        lin, extra = lib.nn.Linear(2, 2), lib.nn.Linear(2, 2)
        w0 = extra.weight.detach().clone()
        opt = opts.AdamW([*lin.parameters(), *extra.parameters()], lr=0.1,
                         weight_decay=0.5)
        for _ in range(2):
            opt.zero_grad(set_to_none=False)
            lin(lib.ones(1, 2)).sum().backward()
            opt.step()
        return float((extra.weight.detach() / w0).mean())

    def used_once(parameters, set_to_none=None):  # u in the loss at step 0 only
        make = ((lambda: lib.nn.Parameter(lib.ones(2))) if parameters
                else (lambda: lib.ones(2, requires_grad=True)))
        w, u = make(), make()
        opt = opts.SGD([w, u], lr=0.1, momentum=0.9)
        for step in range(3):
            opt.zero_grad() if set_to_none is None else opt.zero_grad(set_to_none=set_to_none)
            loss = (w * 1).sum() + ((u * 1).sum() if step == 0 else 0)
            loss.backward()
            opt.step()
        return float(u.detach()[0])

    def assigned_once():  # .grad written by hand, u's at step 0 only
        w, u = lib.nn.Parameter(lib.ones(2)), lib.nn.Parameter(lib.ones(2))
        opt = opts.SGD([w, u], lr=0.1, momentum=0.9)
        for step in range(3):
            opt.zero_grad()
            w.grad = lib.ones(2)
            if step == 0:
                u.grad = lib.ones(2)
            opt.step()
        return float(u.detach()[0])

    return {"first_step_without_zero_grad": first_step_without_zero_grad(),
            "never_used_set_to_none_false": never_used_set_to_none_false(),
            "tensor_default": used_once(False), "parameter_default": used_once(True),
            "parameter_set_to_none_false": used_once(True, False),
            "tensor_set_to_none_false": used_once(False, False),
            "parameter_set_to_none_true": used_once(True, True),
            "assigned_once": assigned_once()}


# torch 2.13's outcomes: None gradients are skipped (1.0: no decay; 0.9: one step, no
# momentum after), zeros from set_to_none=False are stepped (0.729: momentum goes on).
_GRAD_NONE_OUTCOMES = {"first_step_without_zero_grad": 1.0,
                       "never_used_set_to_none_false": 1.0, "tensor_default": 0.9,
                       "parameter_default": 0.9, "parameter_set_to_none_false": 0.729,
                       "tensor_set_to_none_false": 0.729, "parameter_set_to_none_true": 0.9,
                       "assigned_once": 0.9}


def test_steps_skip_what_torch_skips_as_none_gradients():
    """fastnn zero-fills a Parameter's .grad where torch leaves None; these zeros stand
    for None in a PyTorch-style step (a fresh parameter's too, and after p.grad = ...),
    while set_to_none=False zeros are a gradient, and a plain Tensor's .grad becomes None."""
    got = _grad_none_cases(fn)
    for case, expected in _GRAD_NONE_OUTCOMES.items():
        assert got[case] == pytest.approx(expected, rel=1e-6), case
    torch = pytest.importorskip("torch")
    theirs = _grad_none_cases(torch)
    for case, expected in _GRAD_NONE_OUTCOMES.items():
        assert theirs[case] == pytest.approx(expected, rel=1e-6), case


@pytest.mark.parametrize("name,opts,want", [
    # w0 = (1, 1), grad (1, 2) at steps 0 and 2 only. SGD: buf = g, w = (0.9, 0.8); step 1
    # skipped; buf = 0.9 buf + g = (1.9, 3.8), w = (0.71, 0.42); step 3 skipped.
    ("SGD", {"lr": 0.1, "momentum": 0.9}, [0.71, 0.42]),
    # Adam at lr 0.1 moves each weight by 0.1 on each of its two steps (the bias-corrected
    # ratio is 1 for a constant gradient).
    ("Adam", {"lr": 0.1}, [0.8, 0.8]),
])
def test_a_step_without_a_backward_since_zero_grad_is_skipped_as_in_pytorch(name, opts, want):
    """PyTorch-style loop that skips the backward on some batches (``zero_grad(); if ok:
    loss.backward(); step()``): once autograd has written this optimizer's gradients, a step
    with no backward since zero_grad() changes nothing, as PyTorch's step over None grads.
    Before, the zero-filled gradients stepped: momentum and Adam's moments kept moving."""
    model = fn.nn.Linear(2, 1)
    with fn.no_grad():
        model.weight.fill_(1.0)
        model.bias.fill_(0.0)
    opt = getattr(optim, name)(model.parameters(), **opts)
    x = fn.tensor([[1.0, 2.0]])
    for it in range(4):
        opt.zero_grad()
        loss = model(x).sum()
        if it % 2 == 0:
            loss.backward()
        opt.step()
    np.testing.assert_allclose(model.weight.detach().numpy(), [want], rtol=1e-6)


def test_a_head_left_out_of_the_loss_keeps_its_weights_as_in_pytorch():
    """Two optimizers, the second one's head in the loss only at the first step: its later
    steps skip (PyTorch: its .grad is None after zero_grad()), no Adam drift."""
    trunk, head_a, head_b = fn.nn.Linear(2, 2), fn.nn.Linear(2, 1), fn.nn.Linear(2, 1)
    with fn.no_grad():
        for p in [*trunk.parameters(), *head_a.parameters(), *head_b.parameters()]:
            p.fill_(0.5)
    opt_main = optim.Adam([*trunk.parameters(), *head_a.parameters()], lr=0.1)
    opt_b = optim.Adam(head_b.parameters(), lr=0.1)
    x = fn.tensor([[1.0, -1.0]])
    for it in range(3):
        opt_main.zero_grad()
        opt_b.zero_grad()
        h = trunk(x)
        loss = head_a(h).sum() + (head_b(h).sum() if it == 0 else 0.0)
        loss.backward()
        opt_main.step()
        opt_b.step()
    np.testing.assert_allclose(head_b.weight.detach().numpy(), [[0.4, 0.4]], rtol=1e-6)


def test_on_the_numpy_path_zero_gradients_still_step():
    """Without autograd (model.backward, gradients written by hand) a zero-filled .grad is
    a gradient, as API.md's NumPy path has it: weight decay and momentum apply, as they
    do in torch to an explicit zero gradient. Only after an autograd backward are the
    parameters it did not reach skipped (the test above)."""
    p, q = Parameter(np.ones(3)), Parameter(np.ones(2))
    opt = optim.SGD([p, q], lr=0.5, momentum=0.9, weight_decay=0.1)
    opt.step()  # new parameters: their zero gradients count (weight decay applies)
    np.testing.assert_allclose(p.data, np.full(3, 0.95))
    assert set(opt.state) == {p, q}
    opt.zero_grad()
    p.grad[...] = 1.0
    opt.step()
    assert (p.data.numpy() < 0.95).all()
    np.testing.assert_allclose(q.data, np.full(2, 0.95 - 0.5 * (0.9 * 0.1 + 0.1 * 0.95)),
                               rtol=1e-6)
    model = fn.nn.Sequential(fn.nn.Linear(2, 2))
    opt = optim.AdamW(model.parameters(), lr=0.1, weight_decay=0.5)
    before = model[0].weight.data.numpy().copy()
    opt.zero_grad()
    model(np.ones((1, 2), np.float32))
    model.backward(np.zeros((1, 2), np.float32))  # the NumPy path: a zero gradient
    opt.step()
    np.testing.assert_allclose(model[0].weight.data, before * (1 - 0.1 * 0.5), rtol=1e-6)


@pytest.mark.parametrize(("name", "options"), FROZEN_OPTIMIZERS,
                         ids=[n for n, _ in FROZEN_OPTIMIZERS])
@pytest.mark.parametrize(("key", "bad", "error"), [
    ("lr", None, TypeError), ("weight_decay", "x", TypeError), ("maximize", "no", TypeError),
])
def test_a_bad_option_set_between_steps_raises_and_changes_nothing(name, options, key, bad,
                                                                   error):
    # param_groups[i][key] = bad used to fail inside the update after the step counts had
    # moved (a later good step then used the wrong bias correction); now step() re-checks
    # options that changed, with the constructor's errors, before touching any state.
    def make():
        p = Parameter(np.linspace(-1, 1, 6, dtype=np.float32))
        return p, getattr(optim, name)([p], **options)

    p, opt = make()
    q, ref_opt = make()
    for param in (p, q):
        param.grad = fn.tensor(np.linspace(0.5, -0.5, 6, dtype=np.float32))
    opt.step()
    ref_opt.step()
    good = opt.param_groups[0][key] if key in opt.param_groups[0] else None
    opt.param_groups[0][key] = bad
    with pytest.raises(error, match=f"argument '{key}'"):
        opt.step()
    np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    opt.param_groups[0][key] = good
    opt.step()
    ref_opt.step()
    np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    assert opt.state[p].keys() == ref_opt.state[q].keys()
    for k, v in opt.state[p].items():
        np.testing.assert_array_equal(v, ref_opt.state[q][k], err_msg=k)


@pytest.mark.parametrize(("name", "flag"), [("Adam", "amsgrad"), ("AdamW", "amsgrad"),
                                            ("SGD", "nesterov"), ("SGD", "maximize"),
                                            ("RMSprop", "centered"), ("Adagrad", "maximize")])
def test_on_off_options_must_be_bools(name, flag):
    p = Parameter(np.ones(2, np.float32))
    with pytest.raises(TypeError, match=f"argument '{flag}' must be a bool, got str"):
        getattr(optim, name)([p], lr=0.1, **{flag: "yes"})
    getattr(optim, name)([p], lr=0.1, **{flag: np.bool_(False)})  # NumPy bools and 0 / 1 are fine
    getattr(optim, name)([p], lr=0.1, **{flag: 0})


def test_train_step_rechecks_options_before_any_update():
    model = fn.nn.Sequential(fn.nn.Linear(3, 2))
    opt = optim.Adam(model.parameters(), lr=0.1)
    step = fn.nn.TrainStep(model, fn.nn.CrossEntropyLoss(), opt)
    x, y = np.ones((4, 3), np.float32), np.array([0, 1, 0, 1])
    step(x, y)
    before = model[0].weight.detach().numpy().copy()
    opt.param_groups[0]["betas"] = (0.9, "x")
    with pytest.raises(TypeError, match=r"argument 'betas\[1\]' must be a number"):
        step(x, y)
    assert opt.state[model[0].weight]["step"] == 1
    np.testing.assert_array_equal(model[0].weight.detach().numpy(), before)


@pytest.mark.parametrize(("name", "key", "value"), [
    ("SGD", "lr", -1.85e-18), ("SGD", "lr", -0.1), ("Adam", "lr", -1e-3),
    ("RMSprop", "momentum", -0.5), ("Adam", "betas", [0.9, 0.999])])
def test_an_option_set_between_steps_outside_the_constructor_s_range_steps_as_torch(
        name, key, value):
    """step() re-checked ranges: LinearLR(end_factor=0) rounds the last lr to -1.85e-18 and
    the next step raised "argument 'lr' must be in [0, inf)"; torch checks ranges in the
    constructor only and steps with what the group holds."""
    torch = pytest.importorskip("torch")
    results = []
    for lib, opt_mod in ((torch, torch.optim), (fn, optim)):
        p = lib.nn.Parameter(lib.tensor([1.0, -2.0, 0.5]))
        opt = getattr(opt_mod, name)([p], lr=0.1)
        for i in range(3):
            p.grad = lib.tensor([0.3, -0.1, 0.2]) * (i + 1)
            opt.step()
            opt.param_groups[0][key] = value
        results.append(p.detach().numpy().copy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-6, atol=1e-7)


def test_linear_lr_to_zero_trains_through_its_rounded_negative_rate():
    p = Parameter(np.ones(2, np.float32))
    opt = optim.SGD([p], lr=0.1)
    sched = optim.lr_scheduler.LinearLR(opt, start_factor=1 / 3, end_factor=0.0,
                                        total_iters=4)
    for _ in range(6):
        p.grad = fn.ones(2)
        opt.step()
        sched.step()
    assert opt.param_groups[0]["lr"] < 0  # -1.85e-18, as torch's own arithmetic gives


def test_load_state_dict_refuses_malformed_dicts_with_clear_errors():
    # these used to load and then fail inside step() (KeyError: 'exp_avg', a TypeError)
    p = Parameter(np.ones(3))
    opt = optim.Adam([p])
    p.grad = fn.ones(3)
    opt.step()
    sd = opt.state_dict()
    groups = sd["param_groups"]
    cases = [
        ({"state": [1], "param_groups": groups}, "'state' must be a dict"),
        ({"state": sd["state"], "param_groups": 5}, "'param_groups' must be a list of dicts"),
        ({"state": sd["state"], "param_groups": [{"lr": 0.1}]}, "each with a 'params' list"),
        ({"state": {0: {"step": 1, "exp_avg": np.zeros(3)}}, "param_groups": groups},
         r"lacks \['exp_avg_sq'\]"),
        ({"state": {0: {"step": 1, "exp_avg": [0, 0, 0], "exp_avg_sq": [0, 0]}},
          "param_groups": groups}, r"'exp_avg_sq' has shape \(2,\)"),
        ({"state": {0: {"step": "x", "exp_avg": [0] * 3, "exp_avg_sq": [0] * 3}},
          "param_groups": groups}, "'step' must be a number"),
        ({"state": {0: {"step": 1, "exp_avg": ["a"] * 3, "exp_avg_sq": [0] * 3}},
          "param_groups": groups}, "'exp_avg' must be numeric"),
    ]
    for bad, match in cases:
        with pytest.raises(ValueError, match=match):
            opt.load_state_dict(bad)
    opt.load_state_dict({"state": {0: {"step": 1, "exp_avg": [0.0] * 3, "exp_avg_sq": [0.0] * 3}},
                         "param_groups": groups})  # lists load as arrays
    opt.step()
    assert opt.state[p]["step"] == 2


def test_a_strided_or_read_only_gradient_assignment_is_copied_in():
    # kernels accumulate into .grad in place: such arrays failed later with an internal
    # "argument 'dW' must be C-contiguous" (or wrote into a read-only array)
    lin = fn.nn.Linear(3, 2)
    x, g = np.ones((4, 3), np.float32), np.ones((4, 2), np.float32)
    read_only = np.ones((2, 3), np.float32)
    read_only.flags.writeable = False
    for grad in (np.asfortranarray(np.ones((2, 3), np.float32)),
                 np.ones((3, 2), np.float32).T, read_only):
        lin.weight.grad = grad
        lin(x)
        lin.backward(g)
        np.testing.assert_array_equal(lin.weight.grad.numpy(), np.full((2, 3), 5.0))
    assert read_only.sum() == 6


# -- the NumPy-written optimizers: Adadelta, Adamax, NAdam, RAdam --------------------------

def _ref_numpy_optimizer(name, opts, p0, grads):
    """The written-out update rules in float64 (torch's documentation), one parameter."""
    o = {"lr": {"Adadelta": 1.0, "Adamax": 2e-3, "NAdam": 2e-3, "RAdam": 1e-3}[name],
         "betas": (0.9, 0.999), "eps": 1e-6 if name == "Adadelta" else 1e-8, "rho": 0.9,
         "weight_decay": 0.0, "momentum_decay": 4e-3, "decoupled_weight_decay": False,
         "maximize": False, **opts}
    lr, wd, eps = o["lr"], o["weight_decay"], o["eps"]
    b1, b2 = o["betas"]
    p = p0.astype(np.float64)
    a, b = np.zeros_like(p), np.zeros_like(p)
    mu_product = 1.0
    for t, g in enumerate(grads, start=1):
        g = -g if o["maximize"] else g.astype(np.float64)
        if o["decoupled_weight_decay"]:
            p = p * (1 - lr * wd)
        else:
            g = g + wd * p
        if name == "Adadelta":
            a = o["rho"] * a + (1 - o["rho"]) * g * g
            delta = np.sqrt(b + eps) / np.sqrt(a + eps) * g
            b = o["rho"] * b + (1 - o["rho"]) * delta * delta
            p = p - lr * delta
            continue
        a = b1 * a + (1 - b1) * g
        if name == "Adamax":
            b = np.maximum(b2 * b, np.abs(g) + eps)
            p = p - lr / (1 - b1 ** t) * a / b
            continue
        b = b2 * b + (1 - b2) * g * g
        if name == "NAdam":
            mu = b1 * (1 - 0.5 * 0.96 ** (t * o["momentum_decay"]))
            mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * o["momentum_decay"]))
            mu_product *= mu
            denom = np.sqrt(b / (1 - b2 ** t)) + eps
            p = p - lr * (1 - mu) / (1 - mu_product) * g / denom
            p = p - lr * mu_next / (1 - mu_product * mu_next) * a / denom
            continue
        rho_inf = 2 / (1 - b2) - 1
        rho_t = rho_inf - 2 * t * b2 ** t / (1 - b2 ** t)
        m_hat = a / (1 - b1 ** t)
        if rho_t > 5:
            r = np.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                        / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            p = p - lr * m_hat * r * np.sqrt(1 - b2 ** t) / (np.sqrt(b) + eps)
        else:
            p = p - lr * m_hat
    return p


NUMPY_OPTIMIZERS = [
    ("Adadelta", {}), ("Adadelta", {"lr": 0.5, "rho": 0.8, "weight_decay": 0.1, "maximize": True}),
    ("Adamax", {}), ("Adamax", {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.1}),
    ("NAdam", {}), ("NAdam", {"lr": 0.01, "weight_decay": 0.1}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True,
               "momentum_decay": 0.01}),
    ("RAdam", {}), ("RAdam", {"lr": 0.01, "weight_decay": 0.1, "betas": (0.9, 0.99)}),
    ("RAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True,
               "maximize": True}),
]


@pytest.mark.parametrize(("name", "opts"), NUMPY_OPTIMIZERS,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(NUMPY_OPTIMIZERS)])
def test_numpy_optimizers_follow_their_update_rules_and_torch(name, opts):
    rng = np.random.default_rng(1)
    p0 = rng.standard_normal((3, 5)).astype(np.float32)
    grads = [rng.standard_normal((3, 5)).astype(np.float32) for _ in range(N_STEPS + 18)]
    p = Parameter(p0)
    opt = getattr(optim, name)([p], **opts)
    for g in grads:
        p.grad = fn.tensor(g)
        opt.step()
    ours = p.detach().numpy()
    np.testing.assert_allclose(ours, _ref_numpy_optimizer(name, opts, p0, grads), rtol=1e-4,
                               atol=1e-5)
    assert opt.state[p]["step"] == len(grads)
    again = Parameter(p0)  # the state dict resumes the trajectory exactly
    other = getattr(optim, name)([again], **opts)
    for g in grads[:7]:
        again.grad = fn.tensor(g)
        other.step()
    resumed = Parameter(again.detach().numpy())
    fresh = getattr(optim, name)([resumed], **opts)
    fresh.load_state_dict(other.state_dict())
    for g in grads[7:]:
        resumed.grad = fn.tensor(g)
        fresh.step()
    np.testing.assert_array_equal(resumed.detach().numpy(), ours)
    torch = pytest.importorskip("torch")
    tp = torch.tensor(p0, requires_grad=True)
    topt = getattr(torch.optim, name)([tp], **opts)
    for g in grads:
        tp.grad = torch.from_numpy(g)
        topt.step()
    np.testing.assert_allclose(ours, tp.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_numpy_optimizers_check_options_and_train_a_model():
    p = Parameter(np.ones(2, np.float32))
    with pytest.raises(ValueError, match="'rho' must be in"):
        optim.Adadelta([p], rho=1.5)
    with pytest.raises(ValueError, match=r"'betas\[0\]' must be in"):
        optim.NAdam([p], betas=(1.0, 0.9))
    with pytest.raises(TypeError, match="'decoupled_weight_decay' must be a bool"):
        optim.RAdam([p], decoupled_weight_decay="yes")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    for name in ("Adadelta", "Adamax", "NAdam", "RAdam"):
        fn.manual_seed(0)
        model = fn.nn.Sequential(fn.nn.Linear(4, 8), fn.nn.ReLU(), fn.nn.Linear(8, 2))
        lr = 1.0 if name == "Adadelta" else 0.05
        history = fn.fit(model, X, y, loss=fn.nn.CrossEntropyLoss(),
                         optimizer=getattr(optim, name)(model.parameters(), lr=lr), epochs=15,
                         batch_size=16, verbose=0).history
        assert history["loss"][-1] < 0.7 * history["loss"][0], name


def test_load_state_dict_refuses_non_array_buffers_and_takes_torch_nadam_state():
    p = Parameter(np.ones(3))
    opt = optim.Adam([p])
    p.grad = fn.ones(3)
    opt.step()
    groups = opt.state_dict()["param_groups"]
    for bad in ("x", None, 0.0):
        with pytest.raises(ValueError, match="'exp_avg' must be an array of its parameter's"):
            opt.load_state_dict({"state": {0: {"step": 1, "exp_avg": bad,
                                               "exp_avg_sq": [0.0] * 3}},
                                 "param_groups": groups})
    torch = pytest.importorskip("torch")
    tp = torch.zeros(3, requires_grad=True)
    topt = torch.optim.NAdam([tp], lr=0.1)  # its state holds a scalar mu_product
    tp.grad = torch.ones(3)
    topt.step()
    q = Parameter(tp.detach().numpy().copy())
    ours = optim.NAdam([q], lr=0.1)
    ours.load_state_dict(topt.state_dict())
    for _ in range(3):
        q.grad = fn.ones(3)
        ours.step()
        tp.grad = torch.ones(3)
        topt.step()
    np.testing.assert_allclose(q.detach().numpy(), tp.detach().numpy(), rtol=1e-6)


def test_named_parameters_are_accepted_as_torch_does():
    # torch >= 2.6 takes model.named_parameters() and keeps the names in "param_names"
    model = fn.nn.Sequential(fn.nn.Linear(3, 2), fn.nn.ReLU(), fn.nn.Linear(2, 1))
    opt = optim.Adam(model.named_parameters(), lr=0.1)
    group = opt.param_groups[0]
    assert group["param_names"] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert [id(p) for p in group["params"]] == [id(p) for p in model.parameters()]
    model(fn.ones(4, 3)).sum().backward()
    before = model[0].weight.detach().numpy().copy()
    opt.step()
    assert not np.array_equal(model[0].weight.detach().numpy(), before)
    sd = opt.state_dict()
    assert sd["param_groups"][0]["param_names"] == group["param_names"]
    again = optim.Adam(model.named_parameters(), lr=0.1)
    again.load_state_dict(sd)
    grouped = optim.SGD([{"params": model[0].named_parameters(), "lr": 0.5}], lr=0.1)
    assert grouped.param_groups[0]["param_names"] == ["weight", "bias"]


def _binding_step(name, p, g, st, t, o):
    """One step of the single-tensor binding ``_core.<name>_step`` with options ``o``."""
    if name == "sgd":
        _core.sgd_step(p, st.get("momentum_buffer"), g, lr=o["lr"], momentum=o["momentum"],
                       dampening=o["dampening"], weight_decay=o["weight_decay"],
                       nesterov=o["nesterov"], maximize=o["maximize"], init_buffer=t == 1)
    elif name == "adam":
        _core.adam_step(p, st["exp_avg"], st["exp_avg_sq"], st.get("max_exp_avg_sq"), g,
                        lr=o["lr"], beta1=o["betas"][0], beta2=o["betas"][1], eps=o["eps"],
                        weight_decay=o["weight_decay"], amsgrad=o["amsgrad"],
                        maximize=o["maximize"],
                        decoupled_weight_decay=o["decoupled_weight_decay"], step=t)
    elif name == "rmsprop":
        _core.rmsprop_step(p, st["square_avg"], st.get("grad_avg"), st.get("momentum_buffer"),
                           g, lr=o["lr"], alpha=o["alpha"], eps=o["eps"],
                           weight_decay=o["weight_decay"], momentum=o["momentum"],
                           centered=o["centered"], maximize=o["maximize"])
    else:
        _core.adagrad_step(p, st["sum"], g, lr=o["lr"], lr_decay=o["lr_decay"],
                           weight_decay=o["weight_decay"], eps=o["eps"],
                           maximize=o["maximize"], step=t)


_BINDING_CASES = [
    ("sgd", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01, nesterov=False,
                 maximize=False), ["momentum_buffer"]),
    ("sgd", dict(lr=0.05, momentum=0.8, dampening=0.0, weight_decay=0.0, nesterov=True,
                 maximize=True), ["momentum_buffer"]),
    ("adam", dict(lr=0.01, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1, amsgrad=True,
                  maximize=False, decoupled_weight_decay=False),
     ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]),
    ("adam", dict(lr=0.01, betas=(0.9, 0.99), eps=1e-3, weight_decay=0.1, amsgrad=False,
                  maximize=True, decoupled_weight_decay=True), ["exp_avg", "exp_avg_sq"]),
    ("rmsprop", dict(lr=0.01, alpha=0.9, eps=1e-4, weight_decay=0.05, momentum=0.5,
                     centered=True, maximize=False),
     ["square_avg", "grad_avg", "momentum_buffer"]),
    ("adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.02, eps=1e-5, maximize=True),
     ["sum"]),
]


@pytest.mark.parametrize("name, options, buffers", _BINDING_CASES)
def test_single_tensor_step_bindings_follow_the_written_out_rules(name, options, buffers):
    # these bindings had only argument checks: beta1/beta2 swapped in adam_step passed the
    # suite (test audit, mutation M8). Six steps against reference_optim in float64, with
    # non-default eps and betas so that each hyper-parameter reaches the result.
    rng = np.random.default_rng(3)
    n = 37
    p = rng.standard_normal(n).astype(np.float32)
    p64, ref_state = p.astype(np.float64), {}
    state = {k: np.zeros(n, np.float32) for k in buffers}
    rule = {"sgd": ref.sgd_step, "adam": ref.adam_step, "rmsprop": ref.rmsprop_step,
            "adagrad": ref.adagrad_step}[name]
    for t in range(1, 7):
        g = rng.standard_normal(n).astype(np.float32)
        _binding_step(name, p, g, state, t, options)
        rule(p64, g.astype(np.float64), ref_state, **options)
    np.testing.assert_allclose(p, p64, rtol=2e-5, atol=2e-6)
    for k in buffers:
        np.testing.assert_allclose(state[k], ref_state[k], rtol=2e-5, atol=2e-6, err_msg=k)


def test_amsgrad_nan_state_matches_torch():
    # a NaN gradient: torch's max keeps the NaN in max_exp_avg_sq; a NaN-dropping max
    # passed the suite (test audit, mutation M9)
    torch = pytest.importorskip("torch")
    p0 = np.array([0.5, -1.0, 2.0], np.float32)
    grads = [np.float32([0.3, -0.2, 0.1]), np.float32([np.nan, 0.4, -0.5]),
             np.float32([0.1, 0.1, 0.1])]
    p = Parameter(p0.copy())
    opt = fn.optim.Adam([p], lr=0.01, amsgrad=True)
    tp = torch.tensor(p0.copy(), requires_grad=True)
    topt = torch.optim.Adam([tp], lr=0.01, amsgrad=True, foreach=False)
    for g in grads:
        p.grad[...] = g
        opt.step()
        tp.grad = torch.tensor(g)
        topt.step()
    for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
        np.testing.assert_allclose(np.asarray(opt.state[p][key]), topt.state[tp][key].numpy(),
                                   rtol=1e-6, err_msg=key)  # NaN exactly where torch has NaN
    np.testing.assert_allclose(np.asarray(p.data), tp.detach().numpy(), rtol=1e-6)


IMPLEMENTATION_SWITCHES = [
    {"foreach": None, "fused": None}, {"foreach": True}, {"foreach": False}, {"fused": True},
    {"fused": False}, {"capturable": False, "differentiable": False},
]
OPTIMIZERS = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam",
              "RAdam"]


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_torch_implementation_switches_are_accepted_and_change_nothing(name):
    # Adam(params, fused=True), common in PyTorch scripts, was a TypeError; each optimizer
    # takes the switches its PyTorch namesake has (RMSprop has no fused, SGD no capturable)
    accepted = set(inspect.signature(getattr(optim, name)).parameters)
    results = []
    for switches in [{}] + [s for s in IMPLEMENTATION_SWITCHES if set(s) <= accepted]:
        p = Parameter(np.ones(3, np.float32))
        opt = getattr(optim, name)([p], lr=0.1, **switches)
        for _ in range(3):
            p.grad[...] = np.array([0.5, -1.0, 2.0], np.float32)
            opt.step()
        results.append(p.data.copy())
    assert len(results) >= 4
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])
    for bad, exc in [({"capturable": True}, ValueError), ({"differentiable": True}, ValueError),
                     ({"fused": "yes"}, TypeError), ({"foreach": 1}, TypeError)]:
        if set(bad) <= accepted:
            with pytest.raises(exc, match=rf"{name}\(\): .*{next(iter(bad))}"):
                getattr(optim, name)([Parameter(np.ones(3, np.float32))], lr=0.1, **bad)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_constructor_signature_is_torchs(name):
    """API.md: "Constructor signatures, defaults and update rules equal PyTorch's": the same
    parameter names in the same order, kinds (positional or keyword-only) and defaults
    (SGD and Adagrad once had an extra capturable, RMSprop a fused, Adam another order)."""
    torch = pytest.importorskip("torch")

    def parameters(cls):
        return [(k, p.kind, p.default) for k, p in inspect.signature(cls).parameters.items()]

    assert parameters(getattr(optim, name)) == parameters(getattr(torch.optim, name))
    # and positional calls written for torch bind the same way
    p = Parameter(np.ones(2, np.float32))
    positional = {"RMSprop": (0.01, 0.99, 1e-8, 0, 0, False, False, None),
                  "Adagrad": (0.01, 0, 0, 0, 1e-10, None)}.get(name, ())
    getattr(optim, name)([p], *positional)


@pytest.mark.parametrize("step", [2**80, float("nan"), float("inf"), -5, 2.5])
def test_load_state_dict_refuses_a_step_count_that_is_not_one(step):
    # 2**80 failed in the next step() with pybind11's "Unable to cast", -5 was accepted,
    # NaN and inf gave Python's conversion errors
    p = Parameter(np.ones(2, np.float32))
    opt = optim.Adam([p])
    p.grad[...] = 1.0
    opt.step()
    sd = opt.state_dict()
    sd["state"][0]["step"] = step
    with pytest.raises(ValueError, match="state 'step' must be a whole number of steps >= 0"):
        opt.load_state_dict(sd)
    assert opt.state[p]["step"] == 1  # nothing was loaded


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_a_leaf_over_strided_memory_steps_like_a_contiguous_one(name):
    # fn.from_numpy(a).T as a parameter: step() raised "argument 'tensors[0].param' must
    # be C-contiguous"; PyTorch takes any layout and updates the memory it shares
    grads = np.random.default_rng(0).standard_normal((3, 4, 3)).astype(np.float32)
    results = []
    for strided in (False, True):
        base = np.arange(12, dtype=np.float32).reshape(4, 3) / 10
        w = fn.from_numpy(base).T if strided else fn.tensor(base.T.copy())
        w.requires_grad_()
        opt = getattr(optim, name)([w], lr=0.1, weight_decay=0.01)
        for g in grads:
            w.grad = fn.tensor(g.T.copy())
            opt.step()
        if strided:
            np.testing.assert_array_equal(base.T, w.detach().numpy())  # memory shared
        results.append(w.detach().numpy().copy())
    np.testing.assert_array_equal(results[0], results[1])


def test_adagrad_fills_every_groups_sum_with_the_constructor_value_as_torch():
    """PyTorch keeps a group's own "initial_accumulator_value" in the group but fills
    every sum with the constructor's (torch 2.13: sum [1, 1], a = 0.9 below); fastnn used
    the group's (sum [2, 2], a = 0.929)."""
    a, b = Parameter(np.ones(2, np.float32)), Parameter(np.ones(2, np.float32))
    opt = optim.Adagrad([{"params": [a], "initial_accumulator_value": 1.0}, {"params": [b]}],
                        lr=0.1)
    assert opt.param_groups[0]["initial_accumulator_value"] == 1.0
    added = Parameter(np.ones(2, np.float32))
    opt.add_param_group({"params": [added], "initial_accumulator_value": 3.0})
    for p in (a, b, added):
        p.grad = np.ones(2, np.float32)
    opt.step()
    for p in (a, b, added):  # sum = 0 + 1: p = 1 - 0.1 * 1 / (sqrt(1) + 1e-10)
        np.testing.assert_array_equal(opt.state[p]["sum"], [1.0, 1.0])
        np.testing.assert_allclose(p.data, [0.9, 0.9], rtol=1e-7)


def test_centered_rmsprop_survives_a_gradient_whose_square_overflows():
    """A gradient of 1e38 made square_avg inf and grad_avg^2 overflow too: sqrt(inf - inf)
    turned the parameter into NaN for good. The variance is at least 0 and stays inf
    (torch's fused addcmul gives inf): the step is 0, as torch's (the parameter stays 1)."""
    p = Parameter(np.ones(37, np.float32))  # every SIMD width and a tail
    opt = optim.RMSprop([p], lr=0.01, centered=True)
    p.grad = np.full(37, 1e38, np.float32)
    opt.step()
    np.testing.assert_array_equal(p.data, np.ones(37, np.float32))
    assert np.isposinf(opt.state[p]["square_avg"]).all()
    p.grad = np.ones(37, np.float32)
    opt.step()
    assert np.isfinite(p.data).all()


@pytest.mark.parametrize(("name", "range_key", "type_key"), [("SGD", "lr", "momentum"),
                                                             ("Adam", "lr", "eps")])
def test_types_are_checked_after_a_range_that_torch_lets_through(name, range_key, type_key):
    """A swallowed range error skipped the type checks after it: an opaque pybind cast error
    (or None inside the update) after the step counts moved."""
    p = Parameter(np.ones(3, np.float32))
    opt = getattr(optim, name)([p], lr=0.1, **({"momentum": 0.9} if name == "SGD" else {}))
    p.grad = fn.ones(3)
    opt.step()
    before = p.data.numpy().copy()
    opt.param_groups[0][range_key] = -1e-18
    opt.param_groups[0][type_key] = "0.9"
    with pytest.raises(TypeError, match=f"argument '{type_key}' must be a number"):
        opt.step()
    np.testing.assert_array_equal(p.data.numpy(), before)
