"""Bad input across the NumPy-array API: the error type API.md asks for, raised where the
argument is known, with a message that names it (and the expected and actual shape).

Each case here once surfaced from deep inside (NumPy's own message, an internal
function's name, the batch's shape) or with another exception type.
"""

import re

import numpy as np
import pytest

import fastnn as fn
from fastnn import nn
from fastnn.optim import lr_scheduler


def _mlp() -> nn.Sequential:
    fn.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


def _data(n: int = 64) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.random((n, 4), dtype=np.float32), rng.integers(0, 3, n)


_FIT = dict(loss="cross_entropy", optimizer="adam", epochs=1, verbose=0)


# -- ragged nested lists --------------------------------------------------------------

@pytest.mark.parametrize("call, arg", [
    (lambda: nn.Linear(2, 2)([[1.0, 2.0], [3.0]]), "input"),
    (lambda: fn.data.DataLoader([[1.0, 2.0], [3.0]]), "X"),
    (lambda: fn.data.DataLoader(np.zeros((2, 1)), [[0], [1, 2]]), "y"),
    (lambda: fn.fit(_mlp(), [[1, 2, 3, 4], [1]], [0, 1], **_FIT), "X"),
    (lambda: fn.fit(_mlp(), np.zeros((2, 4)), [[0], [1, 2]], **_FIT), "y"),
    (lambda: fn.matmul([[1.0, 2.0], [3.0]], np.ones((2, 2), np.float32)), "a"),
    (lambda: nn.CrossEntropyLoss()(np.zeros((2, 3), np.float32), [[0], [1, 2]]), "target"),
    (lambda: fn.matmul(np.ones((2, 2), np.float32), ([1.0, 2.0], [3.0])), "b"),
])
def test_ragged_list_names_the_argument(call, arg):
    with pytest.raises(ValueError, match=f"argument '{arg}' is not a rectangular array"):
        call()


def test_uint64_labels_beyond_int64_are_rejected_not_wrapped():
    y = np.array([2**64 - 1, 3], np.uint64)  # int64 would read the first as -1
    with pytest.raises(ValueError, match="argument 'y' holds the label 18446744073709551615"):
        fn.data.DataLoader(np.zeros((2, 1)), y)
    xb, yb = next(iter(fn.data.DataLoader(np.zeros((2, 1)), np.array([5, 3], np.uint64))))
    assert yb.dtype == np.int64 and yb.tolist() == [5, 3]


# -- fit / evaluate targets and arguments ---------------------------------------------

@pytest.mark.parametrize("make_y, message", [
    (lambda y: np.c_[y, y], r"argument 'y' has shape \(64, 2\), class probabilities over 2 "
                            r"classes, but the model's output has shape \(64, 3\)"),
    (lambda y: y[:, None, None], r"argument 'y' has shape \(64, 1, 1\); CrossEntropyLoss "
                                 r"takes \(N,\) class labels or \(N, C\) class probabilities"),
])
def test_cross_entropy_target_shapes_are_checked_before_training(make_y, message):
    X, y = _data()
    with pytest.raises(ValueError, match=f"fit\\(\\): {message}"):
        fn.fit(_mlp(), X, make_y(y), **_FIT)
    with pytest.raises(ValueError, match=r"argument 'validation_data\[1\]' has shape \(64, 2\)"):
        fn.fit(_mlp(), X, y, validation_data=(X, np.c_[y, y]), **_FIT)


def test_nll_loss_takes_no_class_probabilities():
    X, y = _data()
    with pytest.raises(ValueError, match=r"'y' has shape \(64, 2\); NLLLoss takes \(N,\) class "
                                         r"labels$"):
        fn.fit(_mlp(), X, np.c_[y, y], loss=nn.NLLLoss(), optimizer="sgd", epochs=1, verbose=0)


def test_float_labels_of_shape_n_by_1_train_as_labels():
    """Keras's sparse form (N, 1) in float, as a CSV column gives it: the same run as (N,)."""
    X, y = _data()
    a, b = _mlp(), _mlp()
    fn.fit(a, X, y, seed=0, **_FIT)
    fn.fit(b, X, y[:, None].astype(np.float64), seed=0, **_FIT)
    for pa, pb in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(np.asarray(pa), np.asarray(pb))
    with pytest.raises(TypeError, match="argument 'y' must hold integer class labels"):
        fn.fit(_mlp(), X, y[:, None] + 0.5, **_FIT)


def test_one_hot_targets_still_train_as_probabilities():
    X, y = _data()
    fn.fit(_mlp(), X, np.eye(3)[y], **_FIT)
    fn.fit(_mlp(), X, np.eye(3, dtype=np.int64)[y], **_FIT)


def test_fit_argument_types_are_named():
    X, y = _data()
    with pytest.raises(TypeError, match="fit\\(\\): argument 'callbacks' must be a list of "
                                        "callbacks, got int"):
        fn.fit(_mlp(), X, y, callbacks=5, **_FIT)
    with pytest.raises(TypeError, match="fit\\(\\): argument 'loss' must be a fastnn loss.*got "
                                        "ReLU"):
        fn.fit(_mlp(), X, y, **{**_FIT, "loss": nn.ReLU()})


def test_evaluate_names_itself_for_an_unknown_metric():
    X, y = _data()
    with pytest.raises(ValueError, match="^evaluate\\(\\): unknown metric 'nope'"):
        fn.evaluate(_mlp(), X, y, loss="cross_entropy", metrics=["nope"])


# -- losses ---------------------------------------------------------------------------

@pytest.mark.parametrize("loss", [nn.BCELoss(weight=np.ones(2)), nn.BCELoss(reduction="none"),
                                  nn.BCELoss()], ids=["weight", "none", "kernel"])
@pytest.mark.parametrize("pred, target, arg, value", [
    ([1.5, 0.5], [1.0, 0.0], "pred", "1.5"),
    ([0.5, 0.5], [1.0, 2.0], "target", "2.0"),
    ([np.nan, 0.5], [1.0, 0.0], "pred", "nan"),
])
def test_bce_range_is_a_value_error_on_every_path(loss, pred, target, arg, value):
    """The unweighted mean already raised ValueError; weights and reduction='none' (through
    autograd, whose Tensor functional raises torch's RuntimeError) raised RuntimeError."""
    with pytest.raises(ValueError, match=f"BCELoss.forward\\(\\): argument '{arg}' must hold "
                                         f"probabilities in \\[0, 1\\], got {value} at index"):
        loss(np.array(pred), np.array(target))


def test_bce_range_error_gives_the_element_s_index():
    """The kernel's error named bce_forward() and the flattened index."""
    with pytest.raises(ValueError, match=r"BCELoss.forward\(\): argument 'pred' .* got 1.5 at "
                                         r"index \(1, 0\)"):
        nn.BCELoss()(np.array([[0.5, 0.5], [1.5, 0.5]]), np.zeros((2, 2)))


@pytest.mark.parametrize("loss, arg, shape", [
    (lambda: nn.BCELoss(weight=np.ones(5)), "weight", "(5,)"),
    (lambda: nn.BCEWithLogitsLoss(weight=np.ones((3, 3))), "weight", "(3, 3)"),
    (lambda: nn.BCEWithLogitsLoss(pos_weight=np.ones(5)), "pos_weight", "(5,)"),
])
def test_loss_weights_that_do_not_broadcast_are_named(loss, arg, shape):
    with pytest.raises(ValueError, match=f"argument '{arg}' of shape {re.escape(shape)} does "
                                         r"not broadcast to 'pred' shape \(3, 2\)"):
        loss()(np.full((3, 2), 0.5), np.ones((3, 2)))


def test_loss_weights_that_broadcast_still_work():
    pred, target = np.full((3, 2), 0.25), np.ones((3, 2))
    w = np.array([1.0, 2.0])
    expected = float(np.mean(-np.log(0.25) * np.broadcast_to(w, (3, 2))))
    assert nn.BCELoss(weight=w)(pred, target) == pytest.approx(expected, rel=1e-6)


# -- parameters ----------------------------------------------------------------------

def test_parameter_data_of_strings_is_a_type_error():
    lin = nn.Linear(3, 2)
    with pytest.raises(TypeError, match="Parameter.data: expected a numeric array, got dtype <U1"):
        lin.weight.data = np.array([["a"] * 3] * 2)


def test_parameter_grad_takes_float64_as_data_does():
    lin = nn.Linear(3, 2)
    g = np.arange(6, dtype=np.float64).reshape(2, 3) / 7
    lin.weight.grad = g
    assert np.asarray(lin.weight.grad).dtype == np.float32
    np.testing.assert_array_equal(np.asarray(lin.weight.grad), g.astype(np.float32))
    with pytest.raises(TypeError, match="Parameter.grad: expected a numeric array"):
        lin.weight.grad = np.full((2, 3), "x")
    opt = fn.optim.SGD(lin.parameters(), lr=1.0)
    w0 = np.asarray(lin.weight).copy()
    opt.step()
    np.testing.assert_array_equal(np.asarray(lin.weight), w0 - g.astype(np.float32))


# -- schedulers and callbacks ------------------------------------------------------

def _opt() -> fn.optim.SGD:
    return fn.optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1)


@pytest.mark.parametrize("make, arg", [
    (lambda o: lr_scheduler.StepLR(o, step_size=1, gamma=-0.5), "gamma"),
    (lambda o: lr_scheduler.MultiStepLR(o, milestones=[1], gamma=-0.5), "gamma"),
    (lambda o: lr_scheduler.ExponentialLR(o, gamma=-0.5), "gamma"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=2, eta_min=-1.0), "eta_min"),
    (lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=2, eta_min=-1.0), "eta_min"),
])
def test_schedulers_reject_negative_rates_at_construction(make, arg):
    """Before, they built, the next step() set a negative lr and the optimizer raised."""
    with pytest.raises(ValueError, match=f"argument '{arg}' must be in \\[0, inf\\)"):
        make(_opt())


def test_schedulers_take_gamma_zero_and_eta_min_zero():
    lr_scheduler.ExponentialLR(_opt(), gamma=0.0).step()
    lr_scheduler.CosineAnnealingLR(_opt(), T_max=2, eta_min=0.0).step()


def test_plateau_step_names_a_non_number():
    # with the type float() raises, as PyTorch's step (a str was TypeError here, ValueError
    # there: code catching torch's exception missed fastnn's)
    sched = lr_scheduler.ReduceLROnPlateau(_opt())
    with pytest.raises(ValueError, match="argument 'metrics' must be a number or a "
                                         "one-element Tensor, got str"):
        sched.step("a")
    with pytest.raises(ValueError, match="got Tensor"):
        sched.step(fn.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="got NoneType"):
        sched.step(None)
    sched.step(fn.tensor(0.5))  # a one-element Tensor is a number
    assert sched.best == 0.5


def test_lr_schedule_returning_a_string_is_named():
    X, y = _data()
    cb = fn.callbacks.LearningRateScheduler(lambda epoch: "x")
    with pytest.raises(TypeError, match="schedule must return a number .*got str 'x'"):
        fn.fit(_mlp(), X, y, callbacks=[cb], **_FIT)


def test_fit_checks_a_module_subclass_labels_before_any_step():
    """Sequentials had their labels checked up front; a Module subclass failed in the
    tenth step, after nine had changed the weights, naming TrainStep and an index within
    a batch."""
    class Net(fn.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = fn.nn.Linear(4, 3)

        def forward(self, x):
            return self.fc(x)

    X = np.random.default_rng(0).standard_normal((320, 4)).astype(np.float32)
    y = np.arange(320) % 3
    y[-1] = 3
    model = Net()
    before = model.fc.weight.detach().numpy().copy()
    with pytest.raises(IndexError, match=r"fit\(\): argument 'y' holds class label 3, but the "
                       r"model outputs 3 classes"):
        fn.fit(model, X, y, loss="cross_entropy", optimizer="sgd", shuffle=False, verbose=0)
    np.testing.assert_array_equal(model.fc.weight.detach().numpy(), before)
    # float labels beyond int64 wrapped to -2**63 in the message
    with pytest.raises(IndexError, match=r"holds class label 1e\+20, beyond any number"):
        fn.fit(fn.nn.Sequential(fn.nn.Linear(4, 3)), X, np.full(320, 1e20),
               loss="cross_entropy", optimizer="sgd", verbose=0)


@pytest.mark.parametrize("call, match", [
    (lambda: fn.nn.functional.leaky_relu(fn.ones(2), "a"),
     r"leaky_relu\(\): argument 'negative_slope' must be a number, got str"),
    (lambda: nn.init.constant_(nn.Parameter(np.ones(2)), "a"),
     r"constant_\(\): argument 'val' must be a number, got str"),
    (lambda: nn.init.constant_(nn.Parameter(np.ones(2)), None),
     r"constant_\(\): argument 'val' must be a number, got NoneType"),
])
def test_a_non_numeric_hyper_parameter_is_a_type_error_naming_it(call, match):
    """These gave NumPy's bare 'could not convert string to float' (a ValueError)."""
    with pytest.raises(TypeError, match=match):
        call()


# -- a review of hostile inputs (this session) ---------------------------------------------

@pytest.mark.parametrize("call", [
    lambda x: fn.nn.functional.softmax(x, dim=1), lambda x: fn.nn.functional.log_softmax(x, 1),
    lambda x: fn.nn.functional.linear(x, np.ones((4, 3), np.float32), np.zeros(4, np.float32)),
    lambda x: fn.nn.functional.linear(x, np.ones((4, 3), np.float32))])
def test_functional_softmax_and_linear_take_ndarrays_as_the_other_functions(call):
    """F.softmax, F.log_softmax and F.linear raised AttributeError ('numpy.ndarray' object
    has no attribute '_data') on ndarrays; F.relu and the losses take them."""
    x = np.arange(6, dtype=np.float32).reshape(2, 3) / 10
    got = call(x)
    expected = call(fn.tensor(x))
    assert isinstance(got, fn.Tensor)
    np.testing.assert_array_equal(got.numpy(), expected.numpy())


@pytest.mark.parametrize("dtype", [bool, np.int64, np.int32, np.uint8])
def test_linear_converts_integer_tensors_and_refuses_bool_ones(dtype):
    """nn.Linear on a bool Tensor computed a result (API.md: not a number; torch raises).
    Integer inputs are converted to float32 as the NumPy-path layers convert them, so a
    forward-only Module takes the arrays a Sequential takes, and an integer first argument
    that is an index (an embedding's) still reaches forward as integers."""
    layer = nn.Linear(3, 2)
    x = np.array([[1, 0, 1]], dtype)

    class Wrapped(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = layer

        def forward(self, x):
            return self.layer(x)

    wrapped = Wrapped()
    if dtype is bool:
        with pytest.raises(TypeError, match=r"linear\(\): expected a floating point input, "
                                            r"got bool") as info:
            layer(fn.from_numpy(x))
        assert isinstance(info.value, RuntimeError)  # torch's class too
        with pytest.raises(TypeError, match="floating point input"):
            wrapped(x)
        with pytest.raises(TypeError):
            layer(x)  # the built-in NumPy path, as before
        return
    expected = layer(x.astype(np.float32))
    np.testing.assert_array_equal(layer(fn.from_numpy(x)).detach().numpy(), expected)
    np.testing.assert_array_equal(wrapped(x), expected)
    layer.zero_grad()
    wrapped.backward(np.ones((1, 2), np.float32))
    np.testing.assert_array_equal(layer.weight.grad, np.ones((2, 1)) * x)


def test_a_forward_only_module_gets_an_integer_index_argument_as_integers():
    class Embedding(nn.Module):
        def __init__(self):
            super().__init__()
            self.table = nn.Parameter(np.arange(30, dtype=np.float32).reshape(10, 3))

        def forward(self, idx):
            return self.table[idx]

    np.testing.assert_array_equal(Embedding()(np.array([1, 2])), [[3, 4, 5], [6, 7, 8]])


@pytest.mark.parametrize("dtype, exc, match", [
    (np.dtype(">f4"), ValueError, "byte order different from the native"),
    (np.dtype(">i8"), ValueError, "byte order different from the native"),
    (np.longdouble, TypeError, "can't convert np.ndarray of type float128"),
    (np.complex64, TypeError, "can't convert np.ndarray of type complex64")])
def test_from_numpy_refuses_what_torch_refuses(dtype, exc, match):
    with pytest.raises(exc, match=match):
        fn.from_numpy(np.ones(3, dtype))


def test_uint64_labels_beyond_int64_name_their_value_in_the_tensor_losses():
    """The int64 cast wrapped 2**64 - 1 to -1: "Target -1 is out of bounds"."""
    labels = fn.from_numpy(np.array([2**64 - 1, 1], np.uint64))
    for loss in (fn.nn.functional.cross_entropy, fn.nn.functional.nll_loss):
        with pytest.raises(IndexError, match="Target 18446744073709551615 is out of bounds"):
            loss(fn.zeros(2, 3), labels)


def test_read_only_out_and_tensor_memory_give_fastnns_errors():
    """fn.matmul(Tensor, Tensor, out=read-only) and t[i] = v on read-only memory raised
    NumPy's bare "assignment destination is read-only"."""
    ro = np.zeros((2, 2), np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="argument 'out' must be writeable"):
        fn.matmul(fn.ones(2, 2), fn.ones(2, 2), out=ro)
    frozen = np.zeros((3, 3), np.float32)
    frozen.flags.writeable = False
    # a broadcast array's rows share memory: torch's error for that
    for t, match in ((fn.from_numpy(frozen), "Tensor whose memory is read-only"),
                     (fn.from_numpy(np.broadcast_to(np.zeros(3, np.float32), (3, 3))),
                      "more than one element of the written-to tensor refers to a single "
                      "memory location")):
        for change in (lambda u: u.__setitem__((0, 0), 5.0), lambda u: u.__iadd__(1),
                       lambda u: u.fill_(1.0), lambda u: u.zero_(),
                       lambda u: u.copy_(fn.ones(3, 3))):
            with pytest.raises(RuntimeError, match=match):
                change(t)


def test_stratify_on_mixed_label_types_names_the_labels():
    X = np.zeros((6, 2), np.float32)
    with pytest.raises(TypeError, match=r"cannot stratify on labels of mixed types \(NoneType, "
                                        r"int, str\)"):
        fn.data.train_test_split(X, np.array([1, "a", None] * 2, object), test_size=3,
                                 stratify=True)


@pytest.mark.parametrize("make", [lambda: fn.nn.Flatten(), lambda: fn.nn.Flatten(0, 1)])
def test_flatten_checks_the_dims_of_a_0d_input_as_torch(make):
    """nn.Flatten()(0-d) returned shape (1,) where torch raises (dims of a 0-d input are in
    [-1, 0]); flatten(0) and flatten() still give (1,)."""
    for x in (np.array(1.0, np.float32), fn.tensor(1.0)):
        with pytest.raises(IndexError, match=r"expected to be in range of \[-1, 0\], but got 1"):
            make()(x)
    assert fn.tensor(2.0).flatten().shape == (1,) and fn.tensor(2.0).flatten(0, -1).shape == (1,)
    assert fn.nn.Flatten(0)(np.array(1.0, np.float32)).shape == (1,)


@pytest.mark.parametrize("call", [
    lambda b: fn.nn.functional.relu(b), lambda b: fn.nn.functional.sigmoid(b),
    lambda b: fn.nn.functional.gelu(b), lambda b: fn.nn.functional.elu(b),
    lambda b: fn.nn.functional.softmax(b, -1), lambda b: fn.nn.functional.log_softmax(b, -1),
    lambda b: fn.nn.functional.dropout(b, 0.5),
    lambda b: fn.nn.functional.linear(b, np.ones((2, 3), np.float32)),
    lambda b: fn.nn.functional.cross_entropy(b, np.array([0])),
])
def test_functional_ops_refuse_a_bool_array_as_the_layers_do(call):
    # a bool NumPy array was read as 0 / 1 (the same values as a Tensor raised)
    with pytest.raises(TypeError, match=r"\(\): argument 'input' must have a real numeric "
                                        "dtype .* got bool"):
        call(np.array([[True, False, True]]))


@pytest.mark.parametrize("call, arg", [
    (lambda x: fn.nn.functional.elu(x, alpha="x"), "alpha"),
    (lambda x: fn.nn.functional.elu(x, alpha=None), "alpha"),
    (lambda x: fn.nn.functional.softplus(x, beta="x"), "beta"),
    (lambda x: fn.nn.functional.softplus(x, threshold=[1]), "threshold"),
    (lambda x: fn.nn.functional.dropout(x, p=None), "p"),
    (lambda x: fn.nn.functional.cross_entropy(x, fn.tensor([0, 1]), label_smoothing="a"),
     "label_smoothing"),
])
def test_functional_hyper_parameters_of_the_wrong_type_name_the_argument(call, arg):
    # ValueError: could not convert string to float: 'x', or TypeError: '<=' not
    # supported between instances of 'float' and 'NoneType'
    with pytest.raises(TypeError, match=f"argument '{arg}' must be a number"):
        call(fn.ones(2, 3))


def test_cross_entropy_of_one_sample_checks_its_target_as_torch():
    x = fn.ones(3)
    assert fn.nn.functional.cross_entropy(x, fn.tensor(1)).item() == pytest.approx(1.0986123)
    assert fn.nn.functional.cross_entropy(x, fn.tensor([1])).item() == pytest.approx(1.0986123)
    # NumPy's "cannot reshape array of size 7 into shape (1,)", and a (1, 1) target taken
    with pytest.raises(ValueError, match="For 1D input, 1D target must have size 1, but got "
                                         "target size: 7"):
        fn.nn.functional.cross_entropy(x, fn.arange(7) % 3)
    with pytest.raises(ValueError, match="0D or 1D target tensor expected"):
        fn.nn.functional.cross_entropy(x, fn.tensor([[1]]))


def test_linear_takes_a_1d_weight_and_a_broadcasting_bias_as_torch():
    # a 1-D weight raised "linear_forward(): argument 'weight' must have shape (*, 5)"
    rng = np.random.default_rng(0)
    x = rng.standard_normal((11, 5)).astype(np.float32)
    w = rng.standard_normal(5).astype(np.float32)
    out = fn.nn.functional.linear(fn.tensor(x), fn.tensor(w))
    assert out.shape == (11,)
    np.testing.assert_allclose(out.numpy(), x.astype(np.float64) @ w, rtol=1e-5, atol=1e-5)
    w2 = rng.standard_normal((2, 5)).astype(np.float32)
    out = fn.nn.functional.linear(fn.tensor(x), fn.tensor(w2), fn.tensor([0.5]))
    np.testing.assert_allclose(out.numpy(), x.astype(np.float64) @ w2.T + 0.5, rtol=1e-5,
                               atol=1e-5)
    with pytest.raises(ValueError, match=r"linear\(\): weight must be 2-D"):
        fn.nn.functional.linear(fn.tensor(x), fn.ones(2, 2, 5))
