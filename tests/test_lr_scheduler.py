"""fastnn.optim.lr_scheduler: learning-rate sequences against PyTorch and the closed forms."""

from __future__ import annotations

import math
import warnings
from bisect import bisect_right

import numpy as np
import pytest

import fastnn as fn
from fastnn import optim
from fastnn.nn import Parameter
from fastnn.optim import lr_scheduler

BASE_LRS = (0.1, 0.05)
N_EPOCHS = 25


def _optimizer(lrs=BASE_LRS):
    return optim.SGD([{"params": [Parameter(np.zeros(2))], "lr": lr} for lr in lrs], lr=1.0)


def _torch_optimizer(torch, lrs=BASE_LRS):
    return torch.optim.SGD([{"params": [torch.zeros(2, requires_grad=True)], "lr": lr}
                            for lr in lrs], lr=1.0)


def _sequence(opt, sched, n_epochs=N_EPOCHS):
    """get_last_lr() after construction and after each of n_epochs (optimizer, scheduler) steps."""
    lrs = [sched.get_last_lr()]
    for _ in range(n_epochs):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr())
        assert lrs[-1] == [g["lr"] for g in opt.param_groups]
    return lrs


def _cosine(base, t, T_max, eta_min=0.0):
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * t / T_max)) / 2


# (class name, kwargs, closed form lr(base, t)).
SCHEDULES = [
    ("StepLR", {"step_size": 3, "gamma": 0.5}, lambda b, t: b * 0.5 ** (t // 3)),
    ("StepLR", {"step_size": 1}, lambda b, t: b * 0.1**t),
    ("MultiStepLR", {"milestones": [2, 5, 5, 9], "gamma": 0.3},
     lambda b, t: b * 0.3 ** bisect_right([2, 5, 5, 9], t)),
    ("ExponentialLR", {"gamma": 0.9}, lambda b, t: b * 0.9**t),
    ("CosineAnnealingLR", {"T_max": 7, "eta_min": 0.001}, lambda b, t: _cosine(b, t, 7, 0.001)),
    ("CosineAnnealingLR", {"T_max": 5}, lambda b, t: _cosine(b, t, 5)),
    ("LinearLR", {"start_factor": 0.25, "end_factor": 0.9, "total_iters": 6},
     lambda b, t: b * (0.25 + (0.9 - 0.25) * min(t, 6) / 6)),
    ("LinearLR", {}, lambda b, t: b * (1 / 3 + (1 - 1 / 3) * min(t, 5) / 5)),
    ("LambdaLR", {"lr_lambda": lambda e: 0.9 ** e}, lambda b, t: b * 0.9 ** t),
    ("LambdaLR", {"lr_lambda": [lambda e: 1 / (e + 1), lambda e: 0.5]},
     lambda b, t: b / (t + 1) if b == BASE_LRS[0] else b * 0.5),
    ("MultiplicativeLR", {"lr_lambda": lambda e: 0.95}, lambda b, t: b * 0.95 ** t),
    ("ConstantLR", {"factor": 0.5, "total_iters": 4}, lambda b, t: b * (0.5 if t < 4 else 1)),
    ("ConstantLR", {}, lambda b, t: b * (1 / 3 if t < 5 else 1)),
]


def _schedule_id(case):
    return case[0] + "-" + ",".join(f"{k}={v}" for k, v in case[1].items())


@pytest.mark.parametrize("case", SCHEDULES, ids=_schedule_id)
def test_schedule_matches_closed_form(case):
    name, kwargs, closed_form = case
    opt = _optimizer()
    sched = getattr(lr_scheduler, name)(opt, **kwargs)
    assert [g["initial_lr"] for g in opt.param_groups] == list(BASE_LRS)
    assert sched.base_lrs == list(BASE_LRS) and sched.last_epoch == 0
    for t, lrs in enumerate(_sequence(opt, sched)):
        assert lrs == pytest.approx([closed_form(b, t) for b in BASE_LRS], rel=1e-10, abs=1e-15)
    assert sched.last_epoch == N_EPOCHS


@pytest.mark.parametrize("case", SCHEDULES, ids=_schedule_id)
def test_schedule_equals_torch(case):
    torch = pytest.importorskip("torch")
    name, kwargs, _ = case
    opt, topt = _optimizer(), _torch_optimizer(torch)
    ours = _sequence(opt, getattr(lr_scheduler, name)(opt, **kwargs))
    theirs = _sequence(topt, getattr(torch.optim.lr_scheduler, name)(topt, **kwargs))
    assert ours == theirs  # same float operations, so exactly equal


def test_schedulers_chain_like_torch():
    torch = pytest.importorskip("torch")
    results = []
    for mod, make in ((lr_scheduler, _optimizer), (torch.optim.lr_scheduler, None)):
        opt = make() if make else _torch_optimizer(torch)
        first = mod.StepLR(opt, step_size=4, gamma=0.5)
        second = mod.ExponentialLR(opt, gamma=0.95)
        lrs = []
        for _ in range(12):
            opt.step()
            first.step()
            second.step()
            lrs.append([g["lr"] for g in opt.param_groups])
        results.append(lrs)
    assert results[0] == results[1]


def test_manual_lr_change_is_followed():
    opt = _optimizer()
    sched = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    opt.step()
    sched.step()
    opt.param_groups[0]["lr"] = 1.0
    opt.step()
    sched.step()
    assert sched.get_last_lr() == [0.5, 0.05 * 0.25]


def test_scheduled_lr_drives_the_optimizer():
    p = Parameter(np.zeros(1))
    opt = optim.SGD([p], lr=0.1)
    sched = lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):
        p.grad[...] = 1.0
        opt.step()
        sched.step()
    np.testing.assert_allclose(p.data, [-(0.1 + 0.05 + 0.025)], rtol=1e-6)


@pytest.mark.parametrize("name, kwargs", [
    ("StepLR", {"step_size": 3, "gamma": 0.5}),
    ("CosineAnnealingLR", {"T_max": 6, "eta_min": 0.01}),
    ("LinearLR", {"start_factor": 0.5, "total_iters": 8}),
])
def test_resume_with_last_epoch_equals_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    results = []
    for mod, opt in ((lr_scheduler, _optimizer()), (torch.optim.lr_scheduler,
                                                    _torch_optimizer(torch))):
        _sequence(opt, getattr(mod, name)(opt, **kwargs), n_epochs=4)
        # A new scheduler resumes from epoch 4 on the same (already scheduled) optimizer.
        resumed = getattr(mod, name)(opt, last_epoch=4, **kwargs)
        results.append(_sequence(opt, resumed, n_epochs=10))
    assert results[0] == results[1]


def test_resume_without_initial_lr_raises():
    with pytest.raises(KeyError, match=r"param_groups\[0\] has no 'initial_lr'"):
        lr_scheduler.StepLR(_optimizer(), step_size=2, last_epoch=3)


@pytest.mark.parametrize("name, kwargs", [
    ("StepLR", {"step_size": 2, "gamma": 0.5}),
    ("CosineAnnealingLR", {"T_max": 6}),
])
def test_state_dict_round_trip(name, kwargs):
    opt = _optimizer()
    sched = getattr(lr_scheduler, name)(opt, **kwargs)
    _sequence(opt, sched, n_epochs=3)
    saved_sched, saved_opt = sched.state_dict(), opt.state_dict()
    assert "optimizer" not in saved_sched and saved_sched["last_epoch"] == 3
    expected = _sequence(opt, sched, n_epochs=5)

    opt2 = _optimizer()
    sched2 = getattr(lr_scheduler, name)(opt2, **kwargs)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved_sched)
    assert _sequence(opt2, sched2, n_epochs=5) == expected


# -- ReduceLROnPlateau ------------------------------------------------------------

PLATEAU_METRICS = [1.0, 0.9, 0.9, 0.91, 0.9, 0.89995, 0.8, 0.8, 0.85, 0.8, 0.79, 0.9, 0.9,
                   0.9, 0.9, 0.9, 0.5, 0.5, 0.5, 0.5] + [0.6] * 12

PLATEAUS = [
    {},
    {"patience": 1},
    {"patience": 0, "factor": 0.5},
    {"mode": "max", "patience": 1},
    {"mode": "max", "threshold_mode": "abs", "threshold": 0.05, "patience": 0},
    {"threshold_mode": "abs", "threshold": 0.02, "patience": 1},
    {"threshold": 0.1, "patience": 1},
    {"patience": 0, "cooldown": 2},
    {"patience": 0, "min_lr": [0.01, 0.004]},
    {"patience": 0, "min_lr": 0.002, "factor": 0.5},
    {"patience": 0, "eps": 0.02},
]


@pytest.mark.parametrize("kwargs", PLATEAUS, ids=lambda k: ",".join(f"{a}={b}" for a, b in
                                                                        k.items()) or "default")
def test_reduce_on_plateau_equals_torch(kwargs):
    torch = pytest.importorskip("torch")
    results = []
    for mod, opt in ((lr_scheduler, _optimizer()), (torch.optim.lr_scheduler,
                                                    _torch_optimizer(torch))):
        sched = mod.ReduceLROnPlateau(opt, **kwargs)
        lrs = [sched.get_last_lr()]
        for metric in PLATEAU_METRICS:
            opt.step()
            sched.step(metric)
            lrs.append(sched.get_last_lr())
        results.append((lrs, sched.best, sched.num_bad_epochs, sched.cooldown_counter))
    assert results[0] == results[1]
    assert len({tuple(lrs) for lrs in results[0][0]}) > 1  # the schedule did reduce


def _plateau_lrs(metrics, **kwargs):
    opt = _optimizer(lrs=(0.1,))
    sched = lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    out = []
    for m in metrics:
        sched.step(m)
        out.append(opt.param_groups[0]["lr"])
    return out


def test_reduce_on_plateau_rules():
    # patience 2: the third epoch without improvement reduces.
    assert _plateau_lrs([1, 1, 1, 1, 1], patience=2) == pytest.approx(
        [0.1, 0.1, 0.1, 0.01, 0.01])
    # rel threshold 1e-4: 0.99995 is not below 1 * (1 - 1e-4), so it is a bad epoch.
    assert _plateau_lrs([1, 0.99995], patience=0)[-1] == pytest.approx(0.01)
    assert _plateau_lrs([1, 0.9998], patience=0)[-1] == 0.1
    # max mode: decreasing is bad.
    assert _plateau_lrs([1, 0.5], mode="max", patience=0)[-1] == pytest.approx(0.01)
    # cooldown 2: the two epochs after a reduction are not counted.
    assert _plateau_lrs([1, 1, 1, 1, 1], patience=0, cooldown=2) == pytest.approx(
        [0.1, 0.01, 0.01, 0.01, 0.001])
    # min_lr bounds the reduction; eps suppresses reductions smaller than itself.
    assert _plateau_lrs([1, 1, 1, 1], patience=0, min_lr=0.005)[-1] == 0.005
    assert _plateau_lrs([1, 1, 1], patience=0, factor=0.9, eps=0.05) == [0.1] * 3
    # metrics may be 0-d arrays.
    assert _plateau_lrs([np.float32(1.0), np.array(2.0)], patience=0)[-1] == pytest.approx(0.01)


def test_reduce_on_plateau_takes_torch_s_deprecated_epoch_argument():
    # step(metric, epoch), still accepted by torch with a deprecation warning, raised
    # TypeError (2 positional arguments)
    torch = pytest.importorskip("torch")
    results = []
    for mod, opt in ((lr_scheduler, _optimizer()), (torch.optim.lr_scheduler,
                                                    _torch_optimizer(torch))):
        sched = mod.ReduceLROnPlateau(opt, patience=0)
        with pytest.warns(UserWarning, match="deprecated"):
            sched.step(1.0, 7)
            sched.step(2.0, 9)
        results.append((sched.last_epoch, sched.get_last_lr()))
    assert results[0] == results[1] and results[0][0] == 9


def test_reduce_on_plateau_state_dict_and_new_group():
    opt = _optimizer()
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=0, min_lr=0.001)
    sched.step(1.0)
    sched.step(2.0)
    state = sched.state_dict()
    assert state["best"] == 1.0 and "optimizer" not in state
    sched2 = lr_scheduler.ReduceLROnPlateau(_optimizer())
    sched2.load_state_dict(state)
    assert sched2.best == 1.0 and sched2.patience == 0
    # A group added later takes the scalar min_lr.
    opt.add_param_group({"params": [Parameter(np.zeros(1))], "lr": 0.5})
    sched.step(3.0)
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.001, 0.001, 0.05])
    listed = lr_scheduler.ReduceLROnPlateau(opt, patience=0, min_lr=[0, 0, 0])
    opt.add_param_group({"params": [Parameter(np.zeros(1))]})
    listed.step(1.0)
    with pytest.raises(RuntimeError, match="min_lr has 3 values"):
        listed.step(2.0)


# -- validation ------------------------------------------------------------------------

@pytest.mark.parametrize("make, exc, match", [
    (lambda o: lr_scheduler.StepLR(o, step_size=0), ValueError,
     r"'step_size' must be in \[1, inf\), got 0"),
    (lambda o: lr_scheduler.StepLR(o, step_size="2"), TypeError, "'step_size' must be a number"),
    (lambda o: lr_scheduler.StepLR(o, step_size=True), TypeError, "'step_size' must be a number"),
    (lambda o: lr_scheduler.StepLR(o, 2, gamma="x"), TypeError, "'gamma' must be a number"),
    (lambda o: lr_scheduler.ExponentialLR(o, gamma=float("nan")), ValueError, "'gamma'"),
    (lambda o: lr_scheduler.MultiStepLR(o, milestones=[2, -1]), ValueError, "'milestones'"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=0), ValueError,
     r"'T_max' must be in \[1, inf\)"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=float("inf")), ValueError,
     "'T_max' must be finite"),
    (lambda o: lr_scheduler.LinearLR(o, start_factor=0), ValueError, "'start_factor'"),
    (lambda o: lr_scheduler.LinearLR(o, end_factor=1.5), ValueError, "'end_factor'"),
    (lambda o: lr_scheduler.LinearLR(o, total_iters=0), ValueError, "'total_iters'"),
    (lambda o: lr_scheduler.StepLR(o, 2, last_epoch=-2), ValueError, "'last_epoch' must be >= -1"),
    (lambda o: lr_scheduler.StepLR(object(), 2), TypeError, "must be a fastnn.optim.Optimizer"),
    (lambda o: lr_scheduler.ReduceLROnPlateau([o]), TypeError, "fastnn.optim.Optimizer"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, mode="avg"), ValueError, "'min' or 'max'"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, threshold_mode="x"), ValueError, "'rel' or"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=1.0), ValueError, "'factor'"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, patience=-1), ValueError, "'patience'"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, cooldown=-1), ValueError, "'cooldown'"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError,
     r"one value per parameter group \(2\), got 1"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, min_lr=-1), ValueError, "'min_lr'"),
])
def test_validation(make, exc, match):
    opt = _optimizer()
    with pytest.raises(exc, match=match):
        make(opt)
    # A rejected scheduler leaves the optimizer untouched.
    assert [g["lr"] for g in opt.param_groups] == list(BASE_LRS)
    assert all("initial_lr" not in g for g in opt.param_groups)


def test_is_an_lr_scheduler():
    opt = _optimizer()
    assert isinstance(lr_scheduler.ReduceLROnPlateau(opt), lr_scheduler.LRScheduler)
    assert isinstance(lr_scheduler.StepLR(opt, 2), lr_scheduler.LRScheduler)
    assert optim.lr_scheduler is lr_scheduler


def test_lambda_schedulers_check_their_functions_and_save_without_them():
    opt = _optimizer()
    with pytest.raises(ValueError, match="expected 2 lr_lambdas, but got 1"):
        lr_scheduler.LambdaLR(opt, [lambda e: 1.0])
    with pytest.raises(TypeError, match="must be a function of the epoch"):
        lr_scheduler.MultiplicativeLR(opt, 0.5)
    with pytest.raises(ValueError, match="'factor' must be in"):
        lr_scheduler.ConstantLR(opt, factor=0.0)
    sched = lr_scheduler.LambdaLR(opt, lambda e: 0.5 ** e)
    opt.step()
    sched.step()
    state = sched.state_dict()
    assert state["lr_lambdas"] == [None, None] and state["last_epoch"] == 1
    other = lr_scheduler.LambdaLR(_optimizer(), lambda e: 0.5 ** e)
    other.load_state_dict(state)  # keeps its own functions
    other.optimizer.step()
    other.step()
    assert other.get_last_lr() == pytest.approx([b * 0.25 for b in BASE_LRS])


# -- OneCycleLR, CosineAnnealingWarmRestarts (against torch) ------------------------

ONE_CYCLE = [
    ("SGD", {"momentum": 0.9}, {"max_lr": 0.1, "total_steps": 40}),
    ("SGD", {"momentum": 0.9}, {"max_lr": [0.1, 0.05], "epochs": 4, "steps_per_epoch": 7,
                                "anneal_strategy": "linear", "three_phase": True}),
    ("Adam", {}, {"max_lr": 0.01, "total_steps": 25, "pct_start": 0.25, "div_factor": 10,
                  "final_div_factor": 100, "base_momentum": 0.8, "max_momentum": 0.9}),
    ("AdamW", {}, {"max_lr": 0.01, "total_steps": 30, "three_phase": True}),
    ("SGD", {}, {"max_lr": 0.1, "total_steps": 20, "cycle_momentum": False}),
]


@pytest.mark.parametrize("name, opt_kw, kw", ONE_CYCLE)
def test_one_cycle_equals_torch(name, opt_kw, kw):
    torch = pytest.importorskip("torch")
    histories = []
    finals = []
    for lib, param in ((optim, lambda: Parameter(np.ones(2, np.float32))),
                       (torch.optim, lambda: torch.ones(2, requires_grad=True))):
        opt = getattr(lib, name)([{"params": [param()]}, {"params": [param()]}], lr=1.0,
                                 **opt_kw)
        sched = (lr_scheduler if lib is optim else torch.optim.lr_scheduler).OneCycleLR(
            opt, **kw)
        steps = kw.get("total_steps") or kw["epochs"] * kw["steps_per_epoch"]
        history = []
        for _ in range(steps):
            history.append([(g["lr"], g.get("momentum"), tuple(g.get("betas", ())))
                            for g in opt.param_groups])
            for g in opt.param_groups:  # the same gradients: the updates follow the schedule
                for p in g["params"]:
                    p.grad = (fn.tensor if lib is optim else torch.tensor)([0.5, -1.0])
            opt.step()
            sched.step()
        histories.append(history)
        finals.append([np.array(p.detach().numpy()) for g in opt.param_groups
                       for p in g["params"]])
        with pytest.raises(ValueError, match="(?i)tried to step"):
            sched.step()
    np.testing.assert_allclose(finals[0], finals[1], rtol=1e-5)
    for ours, theirs in zip(*histories):
        for (lr, m, b), (tlr, tm, tb) in zip(ours, theirs):
            assert lr == pytest.approx(tlr, rel=1e-12)
            assert (m is None) == (tm is None) and (m is None or m == pytest.approx(tm))
            assert b == pytest.approx(tb)


def test_one_cycle_argument_errors():
    opt = _optimizer()
    with pytest.raises(ValueError, match="total_steps, or both epochs and steps_per_epoch"):
        lr_scheduler.OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(ValueError, match="anneal_strategy"):
        lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10, anneal_strategy="exp")
    with pytest.raises(ValueError, match=f"expected {len(BASE_LRS)} values for max_lr"):
        lr_scheduler.OneCycleLR(opt, max_lr=[0.1], total_steps=10)
    with pytest.raises(ValueError, match="no momentum or betas"):
        lr_scheduler.OneCycleLR(optim.Adagrad([Parameter(np.zeros(2))]), max_lr=0.1,
                                total_steps=10)


@pytest.mark.parametrize("kw, epochs", [
    ({"T_0": 5}, None), ({"T_0": 3, "T_mult": 2, "eta_min": 0.01}, None),
    ({"T_0": 4, "T_mult": 2}, [0.5, 1.25, 3.9, 4.0, 7.5, 11.9, 12.0, 30.2, 2.0]),
    ({"T_0": 4}, [0, 3.5, 4.0, 9.25, 1]),
])
def test_cosine_warm_restarts_equals_torch(kw, epochs):
    torch = pytest.importorskip("torch")
    results = []
    for mod, opt in ((lr_scheduler, _optimizer()), (torch.optim.lr_scheduler,
                                                    _torch_optimizer(torch))):
        sched = mod.CosineAnnealingWarmRestarts(opt, **kw)
        lrs = [sched.get_last_lr()]
        for e in (epochs or [None] * 25):
            opt.step()
            sched.step() if e is None else sched.step(e)
            lrs.append(sched.get_last_lr())
        results.append((lrs, sched.last_epoch, sched.T_i))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    assert results[0][1:] == results[1][1:]


@pytest.mark.parametrize("kw", [{"T_0": 1, "T_mult": 2, "last_epoch": 4},
                                {"T_0": 2, "last_epoch": 7}, {"T_0": 3, "T_mult": 3,
                                                              "last_epoch": 10}])
def test_cosine_warm_restarts_resumed_past_two_periods_equals_torch(kw):
    """A schedule resumed with last_epoch >= 2 T_i took T_cur - T_i at the first restart
    (torch: T_cur % T_i): [0.1, 0.0146, 0.1, ...] against torch's [0.1, 0.05, 0.1, ...]."""
    torch = pytest.importorskip("torch")
    results = []
    for mod, opt in ((lr_scheduler, _optimizer()), (torch.optim.lr_scheduler,
                                                    _torch_optimizer(torch))):
        for group in opt.param_groups:
            group["initial_lr"] = group["lr"]  # as a loaded optimizer state holds
        sched = mod.CosineAnnealingWarmRestarts(opt, **kw)
        lrs = [sched.get_last_lr()]
        for _ in range(12):
            opt.step()
            sched.step()
            lrs.append(sched.get_last_lr())
        results.append((lrs, sched.T_cur, sched.T_i))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    assert results[0][1:] == results[1][1:]


# -- step(epoch) (deprecated in PyTorch, accepted there) and float epoch counts ------------

_JUMPS = [None, None, 5, None, 2, 9, None, 0, 13, None, None]


def _jump_sequence(opt, sched):
    """The learning rates after each (optimizer step, scheduler step) with the epochs of
    _JUMPS (None: a plain step())."""
    lrs = []
    for epoch in _JUMPS:
        opt.step()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sched.step() if epoch is None else sched.step(epoch)
        lrs.append([g["lr"] for g in opt.param_groups])
    return lrs


@pytest.mark.parametrize("case", [c for c in SCHEDULES if c[0] not in (
    "LambdaLR", "MultiplicativeLR")], ids=_schedule_id)
def test_step_with_epoch_sets_the_closed_form_of_that_epoch(case):
    name, kwargs, closed_form = case
    opt = _optimizer()
    sched = getattr(lr_scheduler, name)(opt, **kwargs)
    with pytest.warns(UserWarning, match=r"'epoch' argument is deprecated"):
        sched.step(7)
    assert sched.last_epoch == 7
    assert sched.get_last_lr() == pytest.approx([closed_form(b, 7) for b in BASE_LRS], rel=1e-12)
    with pytest.warns(UserWarning):
        sched.step(2)  # backwards too
    assert sched.get_last_lr() == pytest.approx([closed_form(b, 2) for b in BASE_LRS], rel=1e-12)


@pytest.mark.parametrize("case", SCHEDULES + [
    ("StepLR", {"step_size": 3.0}, None), ("StepLR", {"step_size": 2.5, "gamma": 0.5}, None),
    ("CosineAnnealingLR", {"T_max": 1e1, "eta_min": 0.01}, None),
    ("CosineAnnealingLR", {"T_max": 4.5}, None)], ids=_schedule_id)
def test_step_with_epoch_and_float_counts_equal_torch(case):
    torch = pytest.importorskip("torch")
    name, kwargs, _ = case
    opt, topt = _optimizer(), _torch_optimizer(torch)
    ours = _jump_sequence(opt, getattr(lr_scheduler, name)(opt, **kwargs))
    theirs = _jump_sequence(topt, getattr(torch.optim.lr_scheduler, name)(topt, **kwargs))
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


def test_reduce_on_plateau_takes_float_patience_and_cooldown_as_torch():
    metrics = [1, 2, 2, 2, 2, 2, 2, 2, 0.5, 2, 2, 2, 2, 2, 2]
    ours = lr_scheduler.ReduceLROnPlateau(opt := _optimizer(), patience=1.5, cooldown=0.5)
    lrs = []
    for m in metrics:
        ours.step(m)
        lrs.append(opt.param_groups[0]["lr"])
    b = BASE_LRS[0]  # a reduction at 2 bad epochs (> 1.5); cooldown 0.5 skips one epoch
    assert lrs == pytest.approx([b, b, b * 0.1, b * 0.1, b * 0.1, b * 0.01, b * 0.01, b * 0.01,
                                 b * 0.01, b * 0.01, b * 1e-3, b * 1e-3, b * 1e-3, b * 1e-4,
                                 b * 1e-4])
    torch = pytest.importorskip("torch")
    topt = _torch_optimizer(torch)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, patience=1.5, cooldown=0.5)
    tlrs = []
    for m in metrics:
        theirs.step(m)
        tlrs.append(topt.param_groups[0]["lr"])
    assert lrs == pytest.approx(tlrs, rel=1e-12)


def test_old_scheduler_base_class_name_is_subclassable():
    class Halving(lr_scheduler._LRScheduler):
        def get_lr(self):
            return [b * 0.5 ** self.last_epoch for b in self.base_lrs]

    opt = _optimizer()
    sched = Halving(opt)
    sched.step()
    sched.step()
    assert sched.get_last_lr() == pytest.approx([b / 4 for b in BASE_LRS])
    assert isinstance(sched, lr_scheduler.LRScheduler)


def test_step_with_a_float_epoch_as_torch():
    opt = _optimizer()
    sched = lr_scheduler.StepLR(opt, 2)
    with pytest.warns(UserWarning):
        sched.step(2.0)
    assert sched.last_epoch == 2 and sched.get_last_lr() == pytest.approx(
        [b * 0.1 for b in BASE_LRS])
    cosine = lr_scheduler.CosineAnnealingLR(_optimizer(), 10)
    with pytest.warns(UserWarning):
        cosine.step(2.5)
    assert cosine.get_last_lr() == pytest.approx([_cosine(b, 2.5, 10) for b in BASE_LRS])
