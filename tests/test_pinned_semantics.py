"""Behaviour a mutation-testing run found unpinned: each test fails when the named
default, bound or rule changes (PyTorch's, Keras's or the written-out value)."""

from __future__ import annotations

import inspect
import math
import warnings

import numpy as np
import pytest

import fastnn as fn
from fastnn import callbacks, nn


def _torch():
    return pytest.importorskip("torch")


def _defaults(func) -> dict:
    return {k: p.default for k, p in inspect.signature(func).parameters.items()
            if p.default is not inspect.Parameter.empty}


@pytest.mark.parametrize("name", ["uniform_", "normal_", "trunc_normal_", "xavier_uniform_",
                                  "xavier_normal_", "kaiming_uniform_", "kaiming_normal_"])
def test_init_defaults_are_torch_s(name):
    t = _torch()
    ours, theirs = _defaults(getattr(nn.init, name)), _defaults(getattr(t.nn.init, name))
    for key in set(ours) & set(theirs) - {"generator"}:
        assert ours[key] == theirs[key], f"{name}({key}=)"


@pytest.mark.parametrize("gain", ["linear", "sigmoid", "tanh", "relu", "leaky_relu", "selu"])
def test_calculate_gain_is_torch_s(gain):
    assert nn.init.calculate_gain(gain) == pytest.approx(_torch().nn.init.calculate_gain(gain))


@pytest.mark.parametrize("shape", [(16, 8), (16, 8, 3), (16, 8, 3, 3)])
def test_init_bounds_use_torch_s_fans(shape):
    w = fn.empty(*shape)
    nn.init.xavier_uniform_(w)
    fan_in, fan_out = shape[1] * int(np.prod(shape[2:])), shape[0] * int(np.prod(shape[2:]))
    bound = math.sqrt(6 / (fan_in + fan_out))
    assert np.abs(w.detach().numpy()).max() <= bound
    assert np.abs(w.detach().numpy()).max() > 0.8 * bound


@pytest.mark.parametrize("loss", ["MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "BCELoss",
                                  "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss"])
def test_loss_defaults_are_torch_s(loss):
    t = _torch()
    ours, theirs = _defaults(getattr(nn, loss).__init__), _defaults(getattr(t.nn, loss).__init__)
    for key in set(ours) & set(theirs):
        assert ours[key] == theirs[key], f"{loss}({key}=)"
    assert float(nn.SmoothL1Loss()(fn.tensor([1.5]), fn.tensor([0.0]))) == 1.0
    assert float(nn.HuberLoss()(fn.tensor([1.5]), fn.tensor([0.0]))) == 1.0


@pytest.mark.parametrize("sched", ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR",
                                   "ReduceLROnPlateau", "OneCycleLR", "LinearLR",
                                   "CosineAnnealingWarmRestarts"])
def test_scheduler_defaults_are_torch_s(sched):
    t = _torch()
    ours = _defaults(getattr(fn.optim.lr_scheduler, sched).__init__)
    theirs = _defaults(getattr(t.optim.lr_scheduler, sched).__init__)
    for key in set(ours) & set(theirs) - {"verbose"}:
        assert ours[key] == theirs[key], f"{sched}({key}=)"


def test_reduce_lr_on_plateau_max_mode_threshold_is_torch_s():
    t = _torch()
    lrs = []
    for lib, optim in ((t, t.optim), (fn, fn.optim)):
        p = lib.nn.Parameter(lib.zeros(1))
        opt = optim.SGD([p], lr=1.0)
        s = optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", patience=1, factor=0.01)
        for v in (1.0, 0.99995, 0.9999, 1.00005, 0.5):
            s.step(v)
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs[1] == pytest.approx(lrs[0])


def test_one_cycle_div_factor_zero_is_a_value_error():
    opt = fn.optim.SGD([nn.Parameter(fn.zeros(1))], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError):
        fn.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10, div_factor=0)


def _regressor():
    return nn.Sequential(nn.Linear(1, 1, bias=False))


def test_mse_and_mae_metrics_are_their_formulas():
    model = _regressor()
    model[0].weight.data[...] = 0.0
    X, y = np.ones((4, 1), np.float32), np.full((4, 1), 2.0, np.float32)
    out = fn.evaluate(model, X, y, loss="mse", metrics=["mse", "mae", "mean_absolute_error"])
    assert out["mse"] == pytest.approx(4.0) and out["mae"] == pytest.approx(2.0)
    assert out["mean_absolute_error"] == pytest.approx(2.0)


def test_binary_accuracy_thresholds_probabilities_at_one_half():
    model = nn.Sequential(nn.Linear(1, 1), nn.Sigmoid())
    model[0].weight.data[...] = 0.0
    model[0].bias.data[...] = math.log(0.45 / 0.55)  # sigmoid: 0.45
    X, y = np.ones((2, 1), np.float32), np.zeros((2, 1), np.float32)
    assert fn.evaluate(model, X, y, loss="bce", metrics=["accuracy"])["accuracy"] == 1.0


def test_accuracy_of_one_sample():
    model = nn.Sequential(nn.Linear(2, 2))
    X = np.ones((1, 2), np.float32)
    y = fn.predict(model, X).argmax(1)
    assert fn.evaluate(model, X, y, loss="cross_entropy", metrics=["accuracy"])[
        "accuracy"] == 1.0


@pytest.mark.parametrize(("n", "split"), [(25, 0.28), (10, 0.25), (7, 0.5)])
def test_validation_split_sizes_are_keras_s(n, split):
    X = np.arange(n, dtype=np.float32).reshape(n, 1)
    y = np.zeros(n, np.int64)
    seen = {}

    class Sizes(callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen["steps"] = self.params["steps"]

    model = nn.Sequential(nn.Linear(1, 2))
    fn.fit(model, X, y, loss="cross_entropy", optimizer="sgd", epochs=1, batch_size=1,
           validation_split=split, verbose=0, callbacks=[Sizes()])
    assert seen["steps"] == math.floor(n * (1 - split))  # Keras: the last part validates


def test_amax_off_the_graph_does_not_require_grad():
    x = fn.ones(2, 3, requires_grad=True)
    with fn.no_grad():
        assert not x.amax(dim=0).requires_grad and not x.amin(dim=1).requires_grad
    assert not fn.ones(2, 3).amax(dim=0).requires_grad


def test_tensor_constructor_of_sizes_is_float32():
    assert fn.Tensor(2, 3).dtype == fn.float32 and fn.Tensor(2, 3).shape == (2, 3)


def test_one_hot_infers_the_class_count():
    assert nn.functional.one_hot(fn.tensor([0, 2])).tolist() == [[1, 0, 0], [0, 0, 1]]


def test_normalize_matches_torch_on_3d_and_tiny_norms():
    t = _torch()
    x = np.random.default_rng(0).standard_normal((1, 2, 2)).astype(np.float32)
    x[0, :, 1] = 1e-9
    ours = nn.functional.normalize(fn.tensor(x)).numpy()
    theirs = t.nn.functional.normalize(t.tensor(x)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


@pytest.mark.parametrize("make", [nn.Softmax, nn.LogSoftmax])
def test_softmax_modules_on_a_1d_ndarray(make):
    t = _torch()
    x = np.array([1.0, 2.0, 0.5], np.float32)
    want = getattr(t.nn, make.__name__)(dim=-1)(t.tensor(x)).numpy()
    np.testing.assert_allclose(make()(x), want, rtol=1e-6)


def test_weighted_bce_on_one_sample_and_an_empty_batch():
    t = _torch()
    p, y = np.array([0.3], np.float32), np.array([1.0], np.float32)
    w = np.array([2.0], np.float32)
    want = t.nn.BCELoss(weight=t.tensor(w))(t.tensor(p), t.tensor(y)).item()
    assert nn.BCELoss(weight=w)(p, y) == pytest.approx(want, rel=1e-6)
    with pytest.raises(ValueError, match="empty batch"):
        nn.BCELoss(weight=w)(np.zeros(0, np.float32), np.zeros(0, np.float32))


def test_nll_loss_of_a_tensor_with_ndarray_labels_stays_on_the_graph():
    logp = fn.randn(3, 4, requires_grad=True).log_softmax(1)
    out = nn.NLLLoss()(logp, np.array([0, 1, 2]))
    assert isinstance(out, fn.Tensor) and out.requires_grad


def test_div_with_an_unknown_rounding_mode_raises():
    with pytest.raises((ValueError, RuntimeError)):
        fn.div(fn.tensor([7.0, -7.0]), 2, rounding_mode="round")


def test_parameter_repr_is_torch_s_form():
    assert repr(nn.Parameter(fn.zeros(2))).startswith("Parameter containing:")


def test_clip_grad_value_clips_both_sides():
    p = nn.Parameter(fn.zeros(2))
    p.grad = fn.tensor([-5.0, 5.0])
    nn.utils.clip_grad_value_([p], 1.0)
    assert p.grad.tolist() == [-1.0, 1.0]


def test_var_gradient_of_too_few_samples_is_nan_as_torch():
    x = fn.tensor([3.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the degrees-of-freedom warning, as torch's
        x.var().backward()
    assert math.isnan(x.grad.item())


def test_second_backward_through_a_large_add_keeps_torch_s_gradient():
    x = fn.ones(100 * 200, requires_grad=True)  # 80 KB: its node keeps a stand-in
    w = fn.ones(100, 200, requires_grad=True)
    y = (x.reshape(100, 200) + w).sum()
    y.backward()
    y.backward()
    assert w.grad.numpy().max() == 2.0 and x.grad.numpy().min() == 2.0


@pytest.mark.parametrize(("data", "kw"), [([1.0, 2.0], {"correction": 2}), ([3.0], {}),
                                          ([[1.0, 2.0], [4.0, 4.0]], {"dim": 1, "correction": 3}),
                                          ([1.0, 2.0, 4.0], {"correction": 5})])
@pytest.mark.parametrize("func", ["var", "std"])
def test_var_and_std_with_too_few_samples_are_torch_s(func, data, kw):
    """correction >= N gave NaN where torch divides the squared deviations by 0 (inf)."""
    t = _torch()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = getattr(fn.tensor(data), func)(**kw).numpy()
        theirs = getattr(t.tensor(data), func)(**kw).numpy()
    np.testing.assert_array_equal(ours, theirs)
