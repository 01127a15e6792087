"""fastnn.nn as a whole: exports, init, conversions shared by every module, and a small
network trained one step against PyTorch autograd."""

from __future__ import annotations

import copy
import math
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fastnn as fn

nn = fn.nn

LAYERS = {
    "Linear": lambda: nn.Linear(5, 3), "ReLU": nn.ReLU, "LeakyReLU": nn.LeakyReLU,
    "Sigmoid": nn.Sigmoid, "Tanh": nn.Tanh, "GELU": nn.GELU, "Identity": nn.Identity,
    "Softmax": nn.Softmax, "Dropout": nn.Dropout,
}


def test_exports():
    expected = {"Module", "Parameter", "Sequential", "Linear", "Dense", "ReLU", "LeakyReLU",
                "Sigmoid", "Tanh", "Softmax", "Identity", "GELU", "Dropout", "MSELoss", "BCELoss",
                "BCEWithLogitsLoss", "CrossEntropyLoss", "init"}
    assert expected <= set(nn.__all__)
    for name in nn.__all__:
        assert hasattr(nn, name)
    assert nn.Dense is nn.Linear


@pytest.mark.parametrize("name", LAYERS)
def test_layers_convert_inputs_once(rng, name):
    x64 = rng.standard_normal((4, 10))[:, ::2]  # float64 and non-contiguous, shape (4, 5)
    m = LAYERS[name]().eval()
    y = m(x64)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, m(np.ascontiguousarray(x64, np.float32)))
    assert m(np.arange(20).reshape(4, 5)).dtype == np.float32  # ints converted
    g = m.backward(np.ones(y.shape))  # float64 grad converted
    assert g.dtype == np.float32 and g.shape == x64.shape
    with pytest.raises(TypeError, match="real numeric dtype"):
        m(np.zeros((4, 5), bool))
    with pytest.raises(TypeError, match="real numeric dtype"):
        m(np.array([[object()] * 5]))


@pytest.mark.parametrize("name", LAYERS)
def test_layers_backward_before_forward_and_empty_batch(name):
    m = LAYERS[name]()
    with pytest.raises(RuntimeError, match=r"backward\(\) called before a forward"):
        m.backward(np.zeros((2, 3)))
    y = m(np.zeros((0, 5)))
    assert y.shape[0] == 0
    assert m.backward(np.zeros(y.shape)).shape == (0, 5)


def test_init_functions():
    gen = np.random.default_rng(0)
    w = np.empty((300, 200), np.float32)
    nn.init.kaiming_uniform_(w, a=0, nonlinearity="relu", generator=gen)
    assert abs(w.std() - math.sqrt(2 / 200)) < 0.02 * math.sqrt(2 / 200)
    assert np.abs(w).max() <= math.sqrt(6 / 200)
    nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu", generator=gen)
    assert abs(w.std() - math.sqrt(2 / 300)) < 0.02 * math.sqrt(2 / 300)
    nn.init.xavier_uniform_(w, generator=gen)
    assert abs(w.std() - math.sqrt(2 / 500)) < 0.02 * math.sqrt(2 / 500)
    nn.init.xavier_normal_(w, gain=2.0, generator=gen)
    assert abs(w.std() - 2 * math.sqrt(2 / 500)) < 0.04 * math.sqrt(2 / 500)
    p = nn.Parameter(np.empty((3, 2)))
    assert nn.init.ones_(p) is p and (p.data == 1).all()
    assert (nn.init.zeros_(p).data == 0).all()
    nn.init.normal_(p, 5.0, 0.0)
    assert (p.data == 5).all()
    assert nn.init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert nn.init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        nn.init.calculate_gain("swish")
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        nn.init.xavier_uniform_(np.empty(3, np.float32))
    with pytest.raises(ValueError, match="'mode' must be 'fan_in' or 'fan_out'"):
        nn.init.kaiming_uniform_(w, mode="fan_avg")
    with pytest.raises(TypeError, match="Parameter or a float ndarray"):
        nn.init.zeros_([1.0, 2.0])
    fn.manual_seed(5)
    a = nn.init.uniform_(np.empty(4, np.float32)).copy()
    fn.manual_seed(5)
    assert np.array_equal(nn.init.uniform_(np.empty(4, np.float32)), a)


def test_sequential_matches_torch_autograd(rng):
    """Linear -> ReLU -> Dropout(eval) -> Linear + CrossEntropyLoss, one backward, vs torch."""
    torch = pytest.importorskip("torch")
    model = nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 5))
    tmodel = torch.nn.Sequential(torch.nn.Linear(12, 16), torch.nn.ReLU(), torch.nn.Dropout(0.3),
                                 torch.nn.Linear(16, 5))
    model.load_state_dict({k: v.detach().numpy() for k, v in tmodel.state_dict().items()})
    model.eval()
    tmodel.eval()
    x = rng.standard_normal((9, 12)).astype(np.float32)
    y = rng.integers(0, 5, 9)
    loss = nn.CrossEntropyLoss(label_smoothing=0.1)
    value = loss(model(x), y)
    model.zero_grad()
    grad_x = model.backward(loss.backward())

    tx = torch.tensor(x, requires_grad=True)
    tloss = torch.nn.CrossEntropyLoss(label_smoothing=0.1)(tmodel(tx), torch.tensor(y))
    tloss.backward()
    assert value == pytest.approx(tloss.item(), rel=1e-5)
    np.testing.assert_allclose(grad_x, tx.grad.numpy(), rtol=1e-4, atol=1e-6)
    tgrads = {k: p.grad.numpy() for k, p in tmodel.named_parameters()}
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad, tgrads[name], rtol=1e-4, atol=1e-6, err_msg=name)


def test_core_converts_float64_and_integer_inputs():
    """The bindings' documented conversion of any real dtype (run in a child: it may crash)."""
    code = (
        "import numpy as np, fastnn._core as C\n"
        "assert C.mse_forward(np.zeros(3), np.arange(3), C.Reduction.sum) == 5.0\n"
        "y = np.empty((2, 2), np.float32)\n"
        "C.linear_forward(y, np.eye(2), np.eye(2), None)\n"
        "assert (y == np.eye(2)).all()\n"
        "C.cross_entropy_forward(np.zeros((2, 3)), np.zeros(2, np.uint64), 0.0, C.Reduction.mean)\n"
    )
    python_dir = Path(fn.__file__).resolve().parent.parent
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": str(python_dir)}, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_summary_lists_layers_shapes_and_parameter_counts():
    model = fn.nn.Sequential(fn.nn.Linear(64, 32), fn.nn.ReLU(), fn.nn.Dropout(0.5),
                             fn.nn.Linear(32, 10))
    model.train()
    lines = []
    model.summary(print_fn=lines.append)
    text = lines[0]
    assert "0      Linear   (N, 32)" in text and "3      Linear   (N, 10)" in text
    assert "2,080" in text and "330" in text and "Total params: 2,410" in text
    assert model.training and model[2].training  # mode restored
    lines.clear()
    fn.nn.Sequential(fn.nn.ReLU()).summary(print_fn=lines.append)
    assert "?" in lines[0]  # no Linear: shapes unknown without input_shape
    lines.clear()
    fn.nn.Sequential(fn.nn.ReLU()).summary(input_shape=5, print_fn=lines.append)
    assert "(N, 5)" in lines[0]


def test_parameter_data_and_grad_answer_the_ndarray_idioms():
    """API.md (Modules): ``.data`` and ``.grad`` are float32 C-contiguous arrays read and
    written in place. As Tensors (PyTorch's semantics) they still answer the NumPy idioms
    that have no PyTorch meaning, and writes through them reach the parameter."""
    layer = nn.Linear(3, 2)
    p = layer.weight
    for arr in (p.data, p.grad):
        assert arr.dtype == np.float32 and arr.flags["C_CONTIGUOUS"] and arr.shape == (2, 3)
        assert (arr.nbytes, arr.itemsize, arr.strides) == (24, 4, (12, 4))
        snap = arr.copy()
        assert type(snap) is np.ndarray and not np.shares_memory(snap, np.asarray(arr))
        wide = arr.astype(np.float64)
        assert type(wide) is np.ndarray and wide.dtype == np.float64
        np.testing.assert_array_equal(wide, snap)
    before = p.data.copy()
    p.data[...] = np.arange(6, dtype=np.float32).reshape(2, 3)
    p.data -= 0.5 * np.ones((2, 3), np.float32)
    p.grad[0] = 2.0
    np.testing.assert_array_equal(np.asarray(layer.weight.data),
                                  np.arange(6, dtype=np.float32).reshape(2, 3) - 0.5)
    assert not np.array_equal(before, np.asarray(p.data))
    np.testing.assert_array_equal(np.asarray(layer.weight.grad)[0], [2.0, 2.0, 2.0])
    assert p.data.tobytes() == np.asarray(p.data).tobytes() and len(p.data.tobytes()) == 24
    assert p.grad.fill(0) is None  # ndarray.fill: in place, returns None
    np.testing.assert_array_equal(np.asarray(layer.weight.grad), np.zeros((2, 3), np.float32))
    p.data.fill(1.5)
    np.testing.assert_array_equal(np.asarray(layer.weight.data), np.full((2, 3), 1.5, np.float32))
    np.testing.assert_array_equal(layer(np.eye(3, dtype=np.float32)),
                                  np.asarray(p.data).T + np.asarray(layer.bias.data))


def test_load_state_dict_reports_keys_and_refuses_as_pytorch():
    """Return value (missing, unexpected) as PyTorch's; strict key errors are RuntimeError
    (PyTorch) and KeyError, shape errors RuntimeError and ValueError; nothing half-loads."""
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))
    sd = {k: np.full(v.shape, 0.5, np.float32) for k, v in model.state_dict().items()}
    result = model.load_state_dict(sd)
    assert result == ([], []) and repr(result) == "<All keys matched successfully>"
    assert (result.missing_keys, result.unexpected_keys) == ([], [])
    partial = {"0.weight": np.ones((2, 3), np.float32), "head.weight": np.ones(1)}
    result = model.load_state_dict(partial, strict=False)
    assert result == (["0.bias", "2.weight", "2.bias"], ["head.weight"])
    assert (np.asarray(model[0].weight.data) == 1).all()
    assert (np.asarray(model[0].bias.data) == 0.5).all()
    before = {k: v.copy() for k, v in model.state_dict().items()}
    for bad, errors, match in [
        (partial, (RuntimeError, KeyError), r"missing keys \['0.bias', '2.weight', '2.bias'\]"),
        (dict(sd, extra=np.ones(1)), (RuntimeError, KeyError), r"unexpected keys \['extra'\]"),
        (dict(sd, **{"2.weight": np.ones((2, 1))}), (RuntimeError, ValueError),
         r"'2.weight' expected shape \(1, 2\), got \(2, 1\)"),
    ]:
        for error in errors:
            with pytest.raises(error, match=match):
                model.load_state_dict(bad)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_flatten_parameters_makes_views_and_keeps_every_behaviour(tmp_path):
    fn.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3, bias=False))
    before = model.state_dict()
    for i, p in enumerate(model.parameters()):
        p.grad[...] = i + 1
    grads = [p.grad.copy() for p in model.parameters()]
    data, grad = model.flatten_parameters()
    assert data.shape == grad.shape == (model.num_parameters(),) == (36,)
    assert data.dtype == grad.dtype == np.float32 and not np.shares_memory(data, grad)
    np.testing.assert_array_equal(data, np.concatenate([v.ravel() for v in before.values()]))
    np.testing.assert_array_equal(grad, np.concatenate([g.ravel() for g in grads]))
    for p in model.parameters():
        assert np.shares_memory(p.data, data) and np.shares_memory(p.grad, grad)
    again = model.flatten_parameters()
    assert again[0] is data and again[1] is grad  # cached
    assert fn.distributed.flatten_gradients(model) is grad  # one mechanism
    # Parameter.data assignment, load_state_dict and zero_grad write into the buffers.
    model[0].bias.data = np.full(4, 7.0)
    assert np.all(data[20:24] == 7.0)
    model.load_state_dict(before)
    np.testing.assert_array_equal(data, np.concatenate([v.ravel() for v in before.values()]))
    model.zero_grad()
    assert not grad.any()
    # save / load round trip, and forward/backward through the views.
    fn.save(model, tmp_path / "m.safetensors")
    x = np.ones((2, 5), np.float32)
    np.testing.assert_array_equal(fn.load(tmp_path / "m.safetensors")(x), model(x))
    model.backward(np.ones((2, 3), np.float32))
    np.testing.assert_array_equal(grad, np.concatenate([p.grad.ravel()
                                                        for p in model.parameters()]))
    assert grad.any()
    # Replacing a gradient array makes the next call build new buffers around it.
    model[0].weight.grad = np.zeros((4, 5), np.float32)
    assert model.flatten_parameters()[1] is not grad
    assert model.flatten_parameters()[0] is data


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.ReLU(inplace=True),
    lambda lib: lib.nn.LeakyReLU(0.2, inplace=True),
    lambda lib: lib.nn.Dropout(0.3, inplace=True),
    lambda lib: lib.nn.Dropout(0.3),
    lambda lib: lib.nn.ReLU(),
], ids=["relu", "leaky_relu", "dropout_inplace", "dropout", "relu_default"])
def test_inplace_flag_is_accepted_and_printed_as_torch(make, rng):
    """PyTorch scripts write nn.ReLU(inplace=True): the flag is accepted, printed as torch
    prints it, and the module returns the same values (input unchanged) on both paths."""
    layer = make(fn).eval()
    x = rng.standard_normal((3, 4)).astype(np.float32)
    before = x.copy()
    out = layer(x)
    np.testing.assert_array_equal(x, before)
    t = fn.tensor(x)
    np.testing.assert_array_equal(layer(t).numpy(), out)
    torch = pytest.importorskip("torch")
    ref = make(torch).eval()
    assert repr(layer) == repr(ref)
    np.testing.assert_array_equal(out, ref(torch.tensor(x)).numpy())


def test_sequential_from_an_ordered_dict_names_its_children_as_torch(rng):
    from collections import OrderedDict

    def build(lib):
        return lib.nn.Sequential(OrderedDict([
            ("fc1", lib.nn.Linear(4, 8)), ("act", lib.nn.ReLU()), ("fc2", lib.nn.Linear(8, 3))]))

    model = build(fn)
    assert list(model.state_dict()) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert model.fc1 is model[0] and model.act is model[1] and len(model) == 3
    assert [name for name, _ in model.named_children()] == ["fc1", "act", "fc2"]
    x = rng.standard_normal((5, 4)).astype(np.float32)
    assert model(x).shape == (5, 3) and model.backward(np.ones((5, 3), np.float32)).shape == (5, 4)
    assert model(fn.tensor(x)).shape == (5, 3)
    assert list(fn.nn.Sequential({"a": fn.nn.ReLU()}).state_dict()) == []  # a plain dict too
    with pytest.raises(TypeError, match=r"str -> fastnn.nn.Module, got str -> int \(entry 'a'\)"):
        fn.nn.Sequential(OrderedDict([("a", 3)]))
    for bad in ("a.b", "", "forward", "training"):
        with pytest.raises(KeyError, match="module name"):
            fn.nn.Sequential({bad: fn.nn.ReLU()})
    torch = pytest.importorskip("torch")
    ref = build(torch)
    assert repr(model) == repr(ref) and list(model.state_dict()) == list(ref.state_dict())
    model.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    np.testing.assert_allclose(model(x), ref(torch.tensor(x)).detach().numpy(), rtol=1e-5,
                               atol=1e-6)


class _Normalise(fn.nn.Module):
    """A custom module with buffers, as PyTorch code registers them."""

    def __init__(self, n):
        super().__init__()
        self.fc = fn.nn.Linear(n, 2)
        self.register_buffer("mean", fn.zeros(n))
        self.register_buffer("count", fn.tensor(0))
        self.register_buffer("scratch", fn.ones(3), persistent=False)

    def forward(self, x):
        return self.fc(x - self.mean)


def test_register_buffer_state_dict_and_load_as_torch(tmp_path, rng):
    m = _Normalise(4)
    assert list(m.state_dict()) == ["mean", "count", "fc.weight", "fc.bias"]  # torch's order
    assert [n for n, _ in m.named_buffers()] == ["mean", "count", "scratch"]
    assert len(m.buffers()) == 3 and len(m.parameters()) == 2  # optimizers see parameters
    m.mean = fn.full((4,), 0.5)  # assignment replaces a registered buffer
    assert m.state_dict()["mean"].tolist() == [0.5] * 4
    sd = m.state_dict()
    sd["count"] = np.array(7)
    other = _Normalise(4)
    other.load_state_dict(sd)
    mean_before = other.mean
    assert other.mean is mean_before and other.mean.tolist() == [0.5] * 4  # filled in place
    assert other.count.item() == 7 and other.count.dtype == fn.int64
    x = rng.standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_array_equal(other(fn.tensor(x)).detach().numpy(),
                                  m(fn.tensor(x)).detach().numpy())
    with pytest.raises(KeyError, match=r"missing keys \['count'\]"):
        other.load_state_dict({k: v for k, v in sd.items() if k != "count"})
    fn.save(m, tmp_path / "m.safetensors")  # buffers travel with the weights
    third = fn.load(tmp_path / "m.safetensors", model=_Normalise(4))
    assert third.mean.tolist() == [0.5] * 4
    m.register_buffer("gone", None)
    assert "gone" not in dict(m.named_buffers()) and m.gone is None
    for bad, err in ((("a.b", fn.zeros(1)), KeyError), (("fc", fn.zeros(1)), KeyError),
                     (("p", fn.nn.Parameter(fn.zeros(1))), TypeError), (("l", [1.0]), TypeError)):
        with pytest.raises(err):
            m.register_buffer(*bad)
    torch = pytest.importorskip("torch")

    class TorchNormalise(torch.nn.Module):
        def __init__(self, n):
            super().__init__()
            self.fc = torch.nn.Linear(n, 2)
            self.register_buffer("mean", torch.zeros(n))
            self.register_buffer("count", torch.tensor(0))
            self.register_buffer("scratch", torch.ones(3), persistent=False)

    assert list(TorchNormalise(4).state_dict()) == list(_Normalise(4).state_dict())


def test_parameters_is_a_list_that_also_works_with_next():
    m = fn.nn.Sequential(fn.nn.Linear(2, 3), fn.nn.ReLU(), fn.nn.Linear(3, 1))
    ps = m.parameters()
    assert isinstance(ps, list) and len(ps) == 4 and ps[0] is m[0].weight
    assert next(m.parameters()) is m[0].weight  # torch's `next(model.parameters()).device`
    it = m.parameters()
    assert [next(it) for _ in range(4)] == list(ps)
    with pytest.raises(StopIteration):
        next(it)
    assert [p for p in it] == list(ps)  # for loops see the whole list whatever next() did
    assert m.parameters(recurse=False) == [] and len(m[0].parameters(recurse=False)) == 2
    assert len(m.buffers()) == 0


def _shared(lib):
    s = lib.nn.Linear(3, 3)
    return lib.nn.Sequential(s, lib.nn.ReLU(), s, lib.nn.ReLU(), lib.nn.Linear(3, 2))


def test_shared_layer_keys_traversal_and_training_as_torch(tmp_path, rng):
    # torch's state_dict names a shared module under every position ("0.*" and "2.*")
    # while named_modules / named_children / parameters list it once.
    m = _shared(fn)
    assert list(m.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight",
                                    "4.bias"]
    assert [n for n, _ in m.named_modules()] == ["", "0", "1", "3", "4"]
    assert [n for n, _ in m.named_modules(remove_duplicate=False)] == ["", "0", "1", "2", "3",
                                                                        "4"]
    assert [n for n, _ in m.named_children()] == ["0", "1", "3", "4"]
    assert len(m.parameters()) == 4 and len(m) == 5
    m.load_state_dict(m.state_dict())  # strict: every key of its own
    with pytest.warns(UserWarning, match="shared weights"):  # a rebuild would untie `s`
        fn.save(m, tmp_path / "m.safetensors")
    x = rng.standard_normal((5, 3)).astype(np.float32)
    with pytest.raises(fn.io.FileFormatError, match="holds no architecture"):
        fn.load(tmp_path / "m.safetensors")
    again = _shared(fn)
    fn.load(tmp_path / "m.safetensors", model=again)
    np.testing.assert_array_equal(again(x), m(x))
    assert again[0] is again[2] and len(again.parameters()) == 4
    torch = pytest.importorskip("torch")
    tm = _shared(torch)
    assert list(tm.state_dict()) == list(m.state_dict())
    assert [n for n, _ in tm.named_modules()] == [n for n, _ in m.named_modules()]
    assert [n for n, _ in tm.named_children()] == [n for n, _ in m.named_children()]
    m.load_state_dict({k: v.numpy() for k, v in tm.state_dict().items()})
    y = rng.integers(0, 2, 5)
    opt, topt = fn.optim.SGD(m.parameters(), lr=0.1), torch.optim.SGD(tm.parameters(), lr=0.1)
    step = fn.nn.TrainStep(m, fn.nn.CrossEntropyLoss(), opt)  # the fused plan runs s twice
    for _ in range(3):
        ours = step(x, y)
        topt.zero_grad()
        loss = torch.nn.CrossEntropyLoss()(tm(torch.from_numpy(x)), torch.from_numpy(y))
        loss.backward()
        topt.step()
        assert ours == pytest.approx(loss.item(), rel=1e-5)


def test_reassigning_a_layer_or_parameter_keeps_its_place_as_torch(rng):
    from collections import OrderedDict
    m = fn.nn.Sequential(OrderedDict(fc1=fn.nn.Linear(4, 4), act=fn.nn.ReLU(),
                                     fc2=fn.nn.Linear(4, 3)))
    new = fn.nn.Linear(4, 4)
    m.fc1 = new  # used to move to the end: the forward ran ReLU, fc2, then fc1
    assert list(m._modules) == ["fc1", "act", "fc2"] and m[0] is new
    x = rng.standard_normal((2, 4)).astype(np.float32)
    np.testing.assert_array_equal(m(x), m.fc2(m.act(new(x))))
    m[2] = fn.nn.Linear(4, 2)
    assert list(m._modules) == ["fc1", "act", "fc2"] and m.fc2.out_features == 2
    lin = fn.nn.Linear(3, 2)
    lin.weight = fn.nn.Parameter(np.zeros((2, 3), np.float32))
    assert [n for n, _ in lin.named_parameters()] == ["weight", "bias"]  # optimizer order
    assert list(lin.state_dict()) == ["weight", "bias"]
    with pytest.raises(TypeError, match="cannot assign 'ndarray' as parameter 'weight'"):
        lin.weight = np.ones((2, 3), np.float32)
    with pytest.raises(TypeError, match="cannot assign 'function' as child module 'act'"):
        m.act = lambda t: t
    with pytest.raises(TypeError, match="can only assign a fastnn.nn.Module"):
        m[1] = "relu"
    with pytest.raises(IndexError):
        m[3] = fn.nn.ReLU()
    lin.bias = None  # None unregisters, as torch
    assert [n for n, _ in lin.named_parameters()] == ["weight"]


def test_private_attribute_names_register_and_refuse_as_public_ones():
    """Module.__setattr__ sends plain private state (a layer's cached input) straight to the
    instance; a Parameter, a Module or a registered name under a private name still goes
    through registration, as in PyTorch."""
    m = fn.nn.Module()
    m._cache = np.zeros(3, np.float32)  # plain state: registered nowhere
    assert m._cache.shape == (3,) and not list(m.parameters()) and not list(m.buffers())
    p = fn.nn.Parameter(np.ones(2, np.float32))
    m._w = p
    assert [n for n, _ in m.named_parameters()] == ["_w"] and m._w is p
    with pytest.raises(TypeError, match="cannot assign 'ndarray' as parameter '_w'"):
        m._w = np.ones(2, np.float32)
    m._sub = fn.nn.ReLU()
    assert [n for n, _ in m.named_children()] == ["_sub"]
    with pytest.raises(TypeError, match="as child module '_sub'"):
        m._sub = 3
    m.register_buffer("_stat", np.zeros(2, np.float32))
    m._stat = np.ones(2, np.float32)
    np.testing.assert_array_equal(dict(m.named_buffers())["_stat"], [1, 1])
    with pytest.raises(TypeError, match="as buffer '_stat'"):
        m._stat = "x"
    m._w = None  # empties the slot, as torch
    assert not list(m.parameters())
    with pytest.raises(TypeError, match="cannot assign 'ndarray' as parameter '_w'"):
        m._w = np.zeros(1, np.float32)  # still a parameter slot (torch too)
    del m._w  # unregisters
    m._w = np.zeros(1, np.float32)  # now plain state
    assert not list(m.parameters()) and m._w.shape == (1,)


def test_del_sequential_items_renumbers_as_torch():
    s = fn.nn.Sequential(fn.nn.Linear(2, 2), fn.nn.ReLU(), fn.nn.Linear(2, 1), fn.nn.Sigmoid())
    del s[1]
    assert list(s._modules) == ["0", "1", "2"]
    assert [type(m).__name__ for m in s] == ["Linear", "Linear", "Sigmoid"]
    del s[0:2]
    assert list(s._modules) == ["0"] and isinstance(s[0], fn.nn.Sigmoid)
    with pytest.raises(IndexError):
        del s[3]
    torch = pytest.importorskip("torch")
    t = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1))
    s = fn.nn.Sequential(fn.nn.Linear(2, 2), fn.nn.ReLU(), fn.nn.Linear(2, 1))
    del t[1], s[1]
    assert list(t.state_dict()) == list(s.state_dict())


def test_numpy_path_backward_refuses_a_module_at_two_positions(rng):
    # A module keeps only its last forward's values: the layer-by-layer backward of
    # Sequential(fc, act, fc2, act, ...) gave a wrong gradient silently; now it refuses,
    # while autograd and TrainStep (which handle sharing) match torch.
    act = fn.nn.ReLU()
    m = fn.nn.Sequential(fn.nn.Linear(8, 8), act, fn.nn.Linear(8, 8), act, fn.nn.Linear(8, 4))
    x = rng.standard_normal((16, 8)).astype(np.float32)
    loss = fn.nn.CrossEntropyLoss()
    loss(m(x), rng.integers(0, 4, 16))
    with pytest.raises(RuntimeError, match="position '1' appears more than once"):
        m.backward(loss.backward())
    out = m(fn.from_numpy(x))  # autograd: fine
    out.sum().backward()
    assert np.isfinite(m[0].weight.grad.numpy()).all()


@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (0, 3, 4), (2, 0, 3)])
@pytest.mark.parametrize("make", [lambda: fn.nn.Flatten(), lambda: fn.nn.Softmax(dim=-1),
                                  lambda: fn.nn.LogSoftmax(dim=-1), lambda: fn.nn.Softmax(dim=0),
                                  lambda: fn.nn.LogSoftmax(dim=1)])
def test_zero_size_inputs_give_empty_outputs_as_torch(make, shape):
    # an empty batch (or an empty class dimension) used to fail inside NumPy
    m = make()
    x = np.zeros(shape, np.float32)
    y = m(x)
    assert m.backward(np.zeros(y.shape, np.float32)).shape == shape
    t = fn.zeros(*shape, requires_grad=True)
    out = m(t)
    assert out.shape == y.shape
    out.sum().backward()
    assert t.grad.shape == shape
    torch = pytest.importorskip("torch")
    tm = {"Flatten": lambda: torch.nn.Flatten(), "Softmax": lambda: torch.nn.Softmax(m.dim),
          "LogSoftmax": lambda: torch.nn.LogSoftmax(m.dim)}[type(m).__name__]()
    assert tuple(tm(torch.zeros(shape)).shape) == y.shape


def test_flatten_backward_checks_the_gradient_shape():
    f = fn.nn.Flatten()
    f(np.zeros((2, 3, 4), np.float32))
    for bad in ((4, 6), (2, 5)):  # (4, 6) has the right size: it was silently reshaped
        with pytest.raises(ValueError, match=r"last forward's output \(2, 12\), got"):
            f.backward(np.zeros(bad, np.float32))
    assert f.backward(np.ones((2, 12), np.float32)).shape == (2, 3, 4)
    with pytest.raises(RuntimeError, match="before a forward"):
        fn.nn.Flatten().backward(np.zeros((2, 3), np.float32))


def _with_containers(lib):
    class Heads(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.heads = lib.nn.ModuleDict({"a": lib.nn.Linear(3, 2), "b": lib.nn.Linear(3, 1)})
            self.scales = lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2)), lib.ones(1)])
            self.extra = lib.nn.ParameterDict({"bias": lib.nn.Parameter(lib.zeros(2))})

        def forward(self, x):
            return self.heads["a"](x) * self.scales[0] + self.extra["bias"] + self.scales[1]

    return Heads()


def test_module_dict_parameter_list_and_dict_as_torch(rng):
    m = _with_containers(fn)
    keys = ["heads.a.weight", "heads.a.bias", "heads.b.weight", "heads.b.bias", "scales.0",
            "scales.1", "extra.bias"]
    assert list(m.state_dict()) == keys and len(m.parameters()) == 7
    assert all(isinstance(p, fn.nn.Parameter) for p in m.scales)  # a plain Tensor wrapped
    assert list(m.heads) == ["a", "b"] and "a" in m.heads and len(m.heads) == 2
    m.heads["c"] = fn.nn.ReLU()
    del m.heads["b"]
    assert m.heads.keys() == ["a", "c"] and len(m.extra) == 1 and m.extra.keys() == ["bias"]
    with pytest.raises(KeyError, match="attribute 'train' already exists"):
        fn.nn.ModuleDict({"train": fn.nn.ReLU()})
    with pytest.raises(TypeError, match="values must be fastnn.nn.Modules"):
        m.heads["d"] = np.zeros(2)
    with pytest.raises(TypeError, match="values must be Parameters or Tensors"):
        m.scales.append("x")
    with pytest.raises(NotImplementedError, match="no forward"):
        m.heads(np.zeros(2))
    torch = pytest.importorskip("torch")
    tm = _with_containers(torch)
    assert list(tm.state_dict()) == keys
    sd = {k: v.detach().numpy() + rng.standard_normal(v.shape).astype(np.float32)
          for k, v in tm.state_dict().items()}
    ours = _with_containers(fn)
    ours.load_state_dict(sd)
    tm.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()})
    x = rng.standard_normal((4, 3)).astype(np.float32)
    y, ty = ours(fn.from_numpy(x)), tm(torch.from_numpy(x))
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-6, atol=1e-6)
    y.sum().backward()
    ty.sum().backward()
    for (name, p), tp in zip(ours.named_parameters(), tm.parameters()):
        if name.startswith("heads.b"):
            continue  # unused head: None in torch, zeros here (fastnn's .grad is never None)
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-5, err_msg=name)


@pytest.mark.parametrize("make", [
    lambda: nn.Linear(3, 3), nn.ReLU, nn.Sigmoid, nn.Tanh, nn.GELU, lambda: nn.LeakyReLU(0.1),
    nn.Identity, nn.Softmax, nn.LogSoftmax, nn.SiLU, nn.ELU, nn.Softplus, lambda: nn.Dropout(0.5),
    nn.Flatten, lambda: nn.Sequential(nn.Linear(3, 3), nn.ReLU()),
], ids=lambda f: type(f()).__name__)
def test_backward_after_a_tensor_forward_raises_instead_of_using_an_older_input(make):
    # m(np_x); m(fn.tensor(...)); m.backward(g) returned the gradient for np_x
    fn.manual_seed(0)
    m = make()
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    y = m(x)
    m.backward(np.ones_like(y))  # the NumPy path works
    m(fn.tensor(x))
    with pytest.raises(RuntimeError, match=r"backward\(\) called before a forward on NumPy"):
        m.backward(np.ones_like(y))


def test_clip_grad_norm_matches_torch_with_nan_and_large_norms_and_checks_norm_type():
    # a NaN gradient left the finite entries unscaled (torch makes them NaN); a bad
    # norm_type with no gradients passed silently
    torch = pytest.importorskip("torch")
    cases = [([[3.0, 4.0], [0.0, 0.0]], 1.0, 2.0), ([[3.0, float("nan")], [1.0, 2.0]], 1.0, 2.0),
             ([[3.0, 4.0], [1.0, -2.0]], 100.0, 2.0), ([[3.0, -4.0], [1.0, 2.0]], 1.0, "inf"),
             ([[0.5, 1.5], [1.0, -2.0]], 0.5, 1)]
    for grads, max_norm, norm_type in cases:
        ours, theirs = [], []
        for g in grads:
            p = fn.tensor(np.zeros(2, np.float32), requires_grad=True)
            p.grad = fn.tensor(np.array(g, np.float32))
            ours.append(p)
            q = torch.zeros(2, requires_grad=True)
            q.grad = torch.tensor(g)
            theirs.append(q)
        a = nn.utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type, foreach=None)
        b = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
        np.testing.assert_allclose(float(a), float(b), rtol=1e-6)
        for p, q in zip(ours, theirs):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-6)
    with pytest.raises(TypeError, match=r"clip_grad_norm_\(\): argument 'norm_type' must be a "):
        nn.utils.clip_grad_norm_([], 1.0, norm_type="x")


def test_state_dict_values_take_the_tensor_methods_torch_scripts_call():
    # {k: v.clone() for k, v in model.state_dict().items()} (keeping the best weights)
    # raised AttributeError: 'numpy.ndarray' object has no attribute 'clone'
    fn.manual_seed(0)
    m = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    sd = m.state_dict()
    best = {k: v.clone() for k, v in sd.items()}
    for k, v in best.items():
        assert isinstance(v, np.ndarray) and v.dtype == np.float32  # API.md: ndarrays
        assert v is not sd[k] and not np.shares_memory(v, sd[k])
        np.testing.assert_array_equal(v.cpu().detach().numpy(), sd[k])
        assert type(v.numpy()) is np.ndarray and v.numel() == v.size
        assert v.to("cpu") is v and v.float() is v and v.to(fn.float64).dtype == np.float64
    m[0].bias.data[...] = 1.0
    assert not (sd["0.bias"] == 1).all()  # copies, not views: later changes stay out
    best["0.bias"].copy_(np.full(3, 2.0))  # a clone's in-place write stays in the clone
    assert (m[0].bias.data == 1).all()
    # PyTorch's in-place methods on a state_dict value write through (copy_ did nothing
    # to the model: model.state_dict()[k].copy_(w) silently kept the old weights)
    sd["0.bias"].copy_(np.zeros(3))
    assert (sd["0.bias"] == 0).all() and (m[0].bias.data == 0).all()
    best["0.bias"].copy_(sd["0.bias"])
    sd["0.bias"][...] = 7.0  # NumPy's in-place operations change the copy only
    assert (m[0].bias.data == 0).all()
    w = sd["0.weight"]  # views write through too, as torch's
    w[1:].zero_()
    w.view(-1)[:1].fill_(4.0)
    w.T[1].copy_(np.array([8.0, 8.0, 8.0]))
    (w + 1).fill_(-1.0)  # a new array: not the state
    expected = np.float32([[4.0, 8.0], [0.0, 8.0], [0.0, 8.0]])
    assert (m[0].weight.data == expected).all() and (w == expected).all()
    with pytest.raises(RuntimeError, match="CPU only"):
        sd["0.bias"].to("cuda")
    assert repr(sd["0.bias"]).startswith("array(")
    m[0].weight.data[...] = 5.0
    m.load_state_dict(best)
    np.testing.assert_array_equal(m.state_dict()["0.weight"], best["0.weight"])


def test_state_dict_sizes_print_as_in_the_pytorch_tutorial(capsys):
    """PyTorch's save/load tutorial prints ``model.state_dict()[k].size()``: a TypeError
    ('int' object is not callable) on the ndarray values."""
    m = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    for k in m.state_dict():
        print(k, "\t", m.state_dict()[k].size())
    assert capsys.readouterr().out.splitlines() == [
        "0.weight \t fastnn.Size([3, 2])", "0.bias \t fastnn.Size([3])",
        "2.weight \t fastnn.Size([1, 3])", "2.bias \t fastnn.Size([1])"]
    v = m.state_dict()["0.weight"]
    assert v.size(0) == 3 and v.size(-1) == 2
    assert v.size == 6 and np.zeros(v.size).shape == (6,)  # NumPy's element count still
    assert v.requires_grad is False
    assert pickle.loads(pickle.dumps(v.size)) == 6 and type(copy.deepcopy(v.size)) is int
    assert copy.deepcopy(m.state_dict())["0.weight"].shape == (3, 2)
    assert (v.fill_(2.5) == 2.5).all() and (m[0].weight.data == 2.5).all()  # as torch's
    assert (v.zero_() == 0).all() and (m[0].weight.data == 0).all()
    x = fn.ones(1, 2, requires_grad=True)
    y = m(x).sum()
    v.detach().copy_(np.ones((3, 2)))  # an in-place change the graph sees, as torch's
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()
    assert (m[0].weight.data == 1).all()
    holder = nn.Module()
    holder.register_buffer("counts", np.zeros(2, np.int64))
    holder.register_buffer("shift", fn.zeros(2))
    for key in ("counts", "shift"):
        holder.state_dict()[key].fill_(3)
    assert np.asarray(holder.counts).tolist() == [3, 3] and holder.shift.tolist() == [3.0, 3.0]


def test_trunc_normal_and_orthogonal_init():
    w = fn.zeros(200, 50)
    nn.init.trunc_normal_(w, mean=0.5, std=1.0, a=-0.5, b=1.0,
                          generator=fn.Generator().manual_seed(0))
    v = w.numpy()
    assert v.min() >= -0.5 and v.max() <= 1.0 and v.std() > 0.2  # filled, within bounds
    assert abs(v.mean() - 0.25) < 0.05  # N(0.5, 1) truncated to [-0.5, 1]: mean ~0.26
    with pytest.raises(ValueError, match="a < b"):
        nn.init.trunc_normal_(w, a=1.0, b=1.0)
    for shape in [(6, 4), (4, 6), (3, 2, 2)]:
        q = nn.init.orthogonal_(fn.zeros(*shape), gain=2.0).numpy().reshape(shape[0], -1)
        gram = q @ q.T if q.shape[0] <= q.shape[1] else q.T @ q
        np.testing.assert_allclose(gram, 4.0 * np.eye(min(q.shape)), atol=1e-5)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        nn.init.orthogonal_(fn.zeros(3))


def test_logsigmoid_and_parameter_vectors_match_torch():
    torch = pytest.importorskip("torch")
    x = np.array([-100.0, -3.0, 0.0, 2.5, 100.0], np.float32)
    a, b = fn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ya, yb = nn.functional.logsigmoid(a), torch.nn.functional.logsigmoid(b)
    np.testing.assert_allclose(ya.detach().numpy(), yb.detach().numpy(), rtol=1e-6, atol=1e-40)
    ya.sum().backward()
    yb.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6, atol=1e-30)
    fn.manual_seed(0)
    m = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    vec = nn.utils.parameters_to_vector(m.parameters())
    assert vec.shape == (11,)
    (vec * vec).sum().backward()  # differentiable
    np.testing.assert_allclose(m[0].weight.grad.numpy(), 2 * m[0].weight.detach().numpy())
    nn.utils.vector_to_parameters(fn.arange(11).float(), m.parameters())
    assert m[0].weight.detach().numpy().ravel().tolist() == [0, 1, 2, 3, 4, 5]
    assert m[1].bias.detach().numpy().tolist() == [10]
    with pytest.raises(ValueError, match=r"must have shape \(11,\)"):
        nn.utils.vector_to_parameters(fn.zeros(10), m.parameters())


@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (4, 2)])
def test_eye_init(shape):
    p = nn.Parameter(np.full(shape, 7.0))
    assert nn.init.eye_(p) is p
    np.testing.assert_array_equal(p.data, np.eye(*shape))
    lin = nn.Linear(3, 3)
    nn.init.eye_(lin.weight)
    nn.init.zeros_(lin.bias)
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(lin(x), x)  # the identity layer
    with pytest.raises(ValueError, match="eye_\\(\\): argument 'tensor' must be 2-D"):
        nn.init.eye_(np.zeros((2, 2, 2), np.float32))


def _module_list_cases(L):
    n = L.nn
    return [
        n.ModuleList([n.Linear(4, 4)] * 3 + [n.ReLU(), n.Linear(4, 4), n.Linear(4, 2)]),
        n.ModuleList([n.Linear(2, 2) for _ in range(2)]),
        n.ModuleList(),
        n.ModuleList([n.Sequential(n.Linear(2, 3), n.Tanh()), n.Sequential(n.Linear(2, 3),
                                                                            n.Tanh())]),
        n.Sequential(n.Linear(4, 4), n.Linear(4, 4)),  # Sequential does not group
    ]


def test_module_list_prints_repeated_entries_once():
    printed = repr(_module_list_cases(fn)[0])
    assert printed == ("ModuleList(\n"
                       "  (0-2): 3 x Linear(in_features=4, out_features=4, bias=True)\n"
                       "  (3): ReLU()\n"
                       "  (4): Linear(in_features=4, out_features=4, bias=True)\n"
                       "  (5): Linear(in_features=4, out_features=2, bias=True)\n"
                       ")")


def test_module_list_subclass_prints_its_name():
    class Blocks(nn.ModuleList):
        pass
    assert repr(Blocks([nn.ReLU(), nn.ReLU()])) == "Blocks(\n  (0-1): 2 x ReLU()\n)"
    assert repr(Blocks()) == "Blocks()"


def test_module_reprs_are_pytorchs():
    torch = pytest.importorskip("torch")
    for ours, theirs in zip(_module_list_cases(fn), _module_list_cases(torch)):
        assert repr(ours) == repr(theirs)


def test_sequential_insert_extend_pop_and_module_list_pop_del():
    s = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    assert s.insert(1, nn.Tanh()) is s and s.extend([nn.Linear(3, 1)]) is s
    assert [type(m).__name__ for m in s] == ["Linear", "Tanh", "ReLU", "Linear"]
    assert isinstance(s.pop(1), nn.Tanh) and isinstance(s.pop(), nn.Linear)
    assert list(s.state_dict()) == ["0.weight", "0.bias"] and len(s) == 2
    with pytest.raises(TypeError, match="Sequential.insert\\(\\): argument 'module'"):
        s.insert(0, "relu")
    m = nn.ModuleList([nn.ReLU(), nn.Tanh(), nn.Sigmoid()])
    assert isinstance(m.pop(0), nn.ReLU)
    del m[0]
    assert [type(x).__name__ for x in m] == ["Sigmoid"] and list(m._modules) == ["0"]
    with pytest.raises(IndexError):
        del m[5]


def test_identity_takes_any_arguments_and_conv_gains_are_one():
    assert isinstance(nn.Identity(54, unused_argument1=0.1), nn.Identity)  # torch's docs
    for name in ("conv1d", "conv2d", "conv3d", "conv_transpose2d"):
        assert nn.init.calculate_gain(name) == 1.0


def test_named_parameters_and_buffers_take_recurse_and_remove_duplicate():
    shared = nn.Linear(2, 2)
    s = nn.Sequential(shared, nn.ReLU(), shared)
    s.register_buffer("scale", np.ones(1, np.float32))
    assert [n for n, _ in s.named_parameters()] == ["0.weight", "0.bias"]
    assert [n for n, _ in s.named_parameters(remove_duplicate=False)] == [
        "0.weight", "0.bias", "2.weight", "2.bias"]
    assert list(s.named_parameters(recurse=False)) == []
    assert [n for n, _ in shared.named_parameters(prefix="lin", recurse=False)] == [
        "lin.weight", "lin.bias"]
    assert [n for n, _ in s.named_buffers(recurse=False)] == ["scale"]
    assert len(s.buffers(recurse=False)) == 1 and len(shared.buffers()) == 0


@pytest.mark.parametrize("norm_type, total", [
    (2, 5.0), (float("inf"), 4.0), (float("-inf"), 0.0), (0, 1.0), (1, 7.0)])
def test_clip_grad_norm_orders_as_torch(norm_type, total):
    """-inf gave 1.0 (torch: the smallest |g|), 0 raised ZeroDivisionError (torch: the
    0-norm of the per-gradient 0-norms). torch 2.13's values, written out."""
    p = nn.Parameter(np.array([3.0, -4.0, 0.0], np.float32))
    p.grad = np.array([3.0, -4.0, 0.0], np.float32)
    got = nn.utils.clip_grad_norm_([p], fn.tensor(1.0), norm_type=norm_type)  # a Tensor too
    assert got.item() == total
    coef = min(1.0, 1.0 / (total + 1e-6))
    np.testing.assert_allclose(p.grad.numpy(), np.array([3.0, -4.0, 0.0]) * coef, rtol=1e-6)


def test_clip_grad_norm_overflowing_float32_is_torchs():
    """The float32 norm overflows: torch zeroes the gradients, and raises with
    error_if_nonfinite; the float64 sum was finite and clipped normally."""
    p = nn.Parameter(np.ones(3, np.float32))
    p.grad = np.full(3, 3e38, np.float32)
    assert nn.utils.clip_grad_norm_([p], 1.0).item() == float("inf")
    assert (p.grad.numpy() == 0).all()
    p.grad = np.full(3, 3e38, np.float32)
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)


def test_a_forward_only_module_keeps_the_numpy_path(rng):
    """API.md: a module called on an ndarray returns an ndarray and keeps
    backward(grad_out). A subclass defining only forward returned a Tensor there and its
    backward raised NotImplementedError; it runs on the graph its ndarray call recorded."""
    torch = pytest.importorskip("torch")

    class Res(fn.nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = fn.nn.Linear(4, 4), fn.nn.Linear(4, 2)

        def forward(self, x):
            return self.b(x + fn.tanh(self.a(x)))

    m = Res()
    x = rng.standard_normal((3, 4))  # float64: converted once, as everywhere
    y = m(x)
    assert isinstance(y, np.ndarray) and y.dtype == np.float32 and y.shape == (3, 2)
    g = rng.standard_normal((3, 2)).astype(np.float32)
    gx = m.backward(g)
    a, b = torch.nn.Linear(4, 4), torch.nn.Linear(4, 2)
    a.load_state_dict({k[2:]: torch.tensor(v) for k, v in m.state_dict().items() if k[0] == "a"})
    b.load_state_dict({k[2:]: torch.tensor(v) for k, v in m.state_dict().items() if k[0] == "b"})
    xt = torch.tensor(x.astype(np.float32), requires_grad=True)
    yt = b(xt + torch.tanh(a(xt)))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gx, xt.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(m.a.weight.grad), a.weight.grad.numpy(), rtol=1e-5,
                               atol=1e-6)
    m.backward(g)  # again: the parameter gradients accumulate, as the layers' do
    np.testing.assert_allclose(np.asarray(m.a.weight.grad), 2 * a.weight.grad.numpy(),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="argument 'grad_out' has shape"):
        m.backward(np.ones((3, 3), np.float32))
    seq = fn.nn.Sequential(fn.nn.Linear(4, 4), Res())  # inside a NumPy-path container
    out = seq(x)
    assert isinstance(out, np.ndarray) and seq.backward(np.ones_like(out)).shape == (3, 4)
    with pytest.raises(NotImplementedError, match="does not implement backward"):
        Res().backward(g)  # no call yet
    assert isinstance(m(fn.tensor(x)), fn.Tensor)  # on Tensors: the autograd path


@pytest.mark.parametrize("bad", [np.array([[1, None]] * 5, dtype=object),
                                 np.full((5, 2), 1 + 5j), np.ones((5, 2), bool),
                                 np.array([["a", "b"]] * 5), None],
                         ids=["object", "complex", "bool", "str", "None"])
def test_a_forward_only_module_rejects_a_non_numeric_grad_out(bad):
    """As the built-in layers: a grad_out of a non-real dtype is a TypeError naming it (an
    object array holding None gave NaN gradients, complex lost its imaginary part)."""
    class Net(fn.nn.Module):
        def __init__(self):
            super().__init__()
            self.l1, self.l2 = fn.nn.Linear(3, 4), fn.nn.Linear(4, 2)

        def forward(self, x):
            return self.l2(fn.relu(self.l1(x)))

    m = Net()
    m(np.ones((5, 3), np.float32))
    m.zero_grad()
    with pytest.raises(TypeError, match=r"Net.backward\(\): argument 'grad_out'"):
        m.backward(bad)
    assert not np.asarray(m.l2.weight.grad).any()  # nothing accumulated


# -- PyTorch's Module conventions a second review found missing ----------------------------

class _FrozenDropout(nn.Module):
    """The idiom of keeping a layer in eval mode by overriding train()."""

    def __init__(self):
        super().__init__()
        self.drop = nn.Dropout(0.5)

    def train(self, mode=True):
        super().train(mode)
        self.drop.eval()
        return self

    def forward(self, x):
        return self.drop(x)


def test_train_and_eval_call_each_childs_train_as_torch():
    """Module.train set every descendant's flag directly, so a child's own train()
    override never ran: dropout stayed active in a layer its owner keeps frozen."""
    m = nn.Sequential(nn.Linear(4, 4), _FrozenDropout())
    assert m.train() is m and m.training and m[0].training and m[1].training
    assert not m[1].drop.training
    x = np.ones((3, 4), np.float32)
    np.testing.assert_array_equal(m[1](x), x)  # the frozen dropout is the identity
    assert m.eval() is m and not m[1].training and not m[1].drop.training
    m.train()
    assert not m[1].drop.training
    calls = []

    class Counting(nn.Module):
        def train(self, mode=True):
            calls.append(mode)
            return super().train(mode)

    outer = nn.Sequential(nn.Sequential(Counting()), nn.ReLU())
    outer.eval()
    outer.train()
    assert calls == [False, True]


class _WithExtra(nn.Module):
    def __init__(self, extra, child):
        super().__init__()
        self._extra = extra
        if child:
            self.fc = nn.Linear(2, 3)

    def extra_repr(self):
        return self._extra


@pytest.mark.parametrize("extra, child, expected", [
    ("k=3", True,
     "_WithExtra(\n  k=3\n  (fc): Linear(in_features=2, out_features=3, bias=True)\n)"),
    ("a=1\nb=2", False, "_WithExtra(\n  a=1\n  b=2\n)"),
    ("a=1\nb=2", True,
     "_WithExtra(\n  a=1\n  b=2\n  (fc): Linear(in_features=2, out_features=3, bias=True)\n)"),
    ("k=3", False, "_WithExtra(k=3)"),
    ("", False, "_WithExtra()"),
    ("", True, "_WithExtra(\n  (fc): Linear(in_features=2, out_features=3, bias=True)\n)"),
])
def test_repr_with_extra_repr_and_children_is_pytorchs_layout(extra, child, expected):
    """An extra_repr with children printed on the head line ("A(k=3\\n  (fc): ..."), a
    multi-line one unindented ("B(a=1\\nb=2)")."""
    assert repr(_WithExtra(extra, child)) == expected


def test_repr_with_extra_repr_equals_torch():
    torch = pytest.importorskip("torch")

    def build(lib):
        class Block(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = lib.nn.Linear(2, 3)
                self.inner = lib.nn.Sequential(lib.nn.Linear(3, 3), lib.nn.ReLU())

            def extra_repr(self):
                return "scale=0.5\nshift=1"

        return lib.nn.Sequential(Block(), lib.nn.Tanh())

    assert repr(build(fn)) == repr(build(torch))


@pytest.mark.parametrize("call, exc, match", [
    (lambda m: m.register_parameter("w", fn.zeros(3)), TypeError,
     r"cannot assign 'Tensor' object to parameter 'w' \(fastnn.nn.Parameter or None"),
    (lambda m: m.register_parameter("w", np.zeros(3, np.float32)), TypeError, "'ndarray'"),
    (lambda m: m.register_parameter("a.b", nn.Parameter(np.zeros(1))), KeyError, "without '.'"),
    (lambda m: m.register_parameter("", nn.Parameter(np.zeros(1))), KeyError, "non-empty"),
    (lambda m: m.register_parameter(3, None), TypeError, "name must be a str, got int"),
    (lambda m: m.register_parameter("training", None), KeyError,
     "attribute 'training' already exists"),
    (lambda m: m.add_module("x", 3), TypeError, r"add_module\(\): int is not a Module"),
    (lambda m: m.add_module("a.b", nn.ReLU()), KeyError, "without '.'"),
    (lambda m: m.add_module("", nn.ReLU()), KeyError, "non-empty"),
    (lambda m: m.add_module(None, nn.ReLU()), TypeError, "name must be a str, got NoneType"),
    (lambda m: m.add_module("forward", nn.ReLU()), KeyError, "'forward' already exists"),
])
def test_register_parameter_and_add_module_refuse_what_torch_refuses(call, exc, match):
    """register_parameter("w", tensor) stored a plain attribute (never trained, no error),
    add_module took an int and dotted names (state-dict keys that load nowhere)."""
    m = nn.Linear(2, 2)
    with pytest.raises(exc, match=match):
        call(m)
    assert list(m.state_dict()) == ["weight", "bias"]


def test_register_parameter_and_add_module_register_and_replace():
    m = nn.Module()
    p = nn.Parameter(np.ones(2, np.float32))
    m.register_parameter("w", p)
    m.add_module("act", nn.ReLU())
    m.register_parameter("w", nn.Parameter(np.zeros(2, np.float32)))  # a registered name
    m.add_module("act", nn.Tanh())
    assert [n for n, _ in m.named_parameters()] == ["w"] and isinstance(m.act, nn.Tanh)
    m.register_parameter("w", None)
    assert m.w is None and list(m.named_parameters()) == []


def test_sequential_add_and_multiply_as_torch():
    a, b = nn.Linear(2, 3), nn.ReLU()
    s = nn.Sequential(a, b)
    t = nn.Sequential(nn.Linear(3, 1))
    joined = s + t
    assert [type(m).__name__ for m in joined] == ["Linear", "ReLU", "Linear"]
    assert joined[0] is a and len(s) == 2  # the same modules; the operands unchanged
    tripled = s * 3
    assert len(tripled) == 6 and tripled[4] is a and list(tripled._modules) == [
        str(i) for i in range(6)]
    assert len(2 * s) == 4
    s += t
    assert len(s) == 3 and s[2] is t[0]
    s *= 2
    assert len(s) == 6 and s[3] is a
    with pytest.raises(ValueError, match=r"Sequential \+: the other operand must be a "
                                         r"Sequential, got ReLU"):
        s + b
    with pytest.raises(TypeError, match=r"repeat count must be an int, got float"):
        s * 2.0
    with pytest.raises(ValueError, match="repeat count must be positive, got 0"):
        s * 0


def test_state_dict_takes_prefix_destination_and_keep_vars():
    m = nn.Sequential(nn.Linear(2, 3))
    assert list(m.state_dict(prefix="model.")) == ["model.0.weight", "model.0.bias"]
    dest = {"step": 3}
    assert m.state_dict(destination=dest, prefix="m.") is dest
    assert list(dest) == ["step", "m.0.weight", "m.0.bias"]
    live = m.state_dict(keep_vars=True)
    assert live["0.weight"] is m[0].weight  # the Parameters themselves, as torch's
    with pytest.raises(TypeError, match="'prefix' must be a str"):
        m.state_dict(prefix=1)


def test_state_dict_values_take_torchs_other_methods_and_keep_numpys_meanings():
    """v.view(-1) read -1 as a dtype, v.sum(dim=0) raised TypeError, v.abs(), v.norm(),
    v.dim(), v.contiguous() raised AttributeError. Where NumPy and PyTorch give one call
    two meanings (std, max(0), view(dtype), repeat), the ndarray API.md promises keeps
    NumPy's."""
    fn.manual_seed(0)
    sd = nn.Linear(5, 7).state_dict()
    w = sd["weight"]
    ref = np.asarray(w, np.float64)
    assert type(w).__name__ == "StateArray" and isinstance(w, np.ndarray)
    assert w.view(-1).shape == (35,) and w.view(5, 7).shape == (5, 7)
    assert w.view((35,)).shape == (35,) and w.view(np.uint32).dtype == np.uint32
    np.testing.assert_allclose(w.sum(dim=0), ref.sum(0), rtol=1e-6)
    assert w.mean(dim=1, keepdim=True).shape == (7, 1) and w.sum(axis=0).shape == (5,)
    assert w.dim() == 2 and w.contiguous() is w and w.T.contiguous().flags.c_contiguous
    np.testing.assert_allclose(float(w.norm()), np.linalg.norm(ref), rtol=1e-6)
    np.testing.assert_array_equal(w.abs(), np.abs(w))
    np.testing.assert_allclose(float(w.std()), ref.std(), rtol=1e-6)  # NumPy's: divides by n
    assert w.max(0).shape == (5,) and w.round(2).shape == (7, 5)
    assert w.repeat(2).shape == (70,) and w.cumsum().shape == (35,)
    kept = {k: v.clone() for k, v in sd.items()}
    assert all(type(v) is type(w) for v in kept.values())


def test_state_dict_values_torch_methods_equal_torch():
    torch = pytest.importorskip("torch")
    fn.manual_seed(1)
    ours = nn.Linear(4, 6)
    theirs = torch.nn.Linear(4, 6)
    theirs.load_state_dict({k: torch.from_numpy(np.asarray(v))
                            for k, v in ours.state_dict().items()})
    a, b = ours.state_dict()["weight"], theirs.state_dict()["weight"]
    for method, args, kwargs in [("sum", (), {"dim": 0}), ("mean", (), {"dim": 1}),
                                 ("norm", (), {}), ("abs", (), {}), ("view", (-1,), {}),
                                 ("view", (3, 8), {}), ("dim", (), {})]:
        np.testing.assert_allclose(np.asarray(getattr(a, method)(*args, **kwargs)),
                                   np.asarray(getattr(b, method)(*args, **kwargs)),
                                   rtol=1e-6, err_msg=method)


def test_none_keeps_a_registered_slot_and_reassignment_takes_its_place_as_torch(tmp_path):
    """m.weight = None; m.weight = w moved weight after bias (torch keeps the slot):
    parameters() order, zip(torch, fastnn) weight copying and optimizer states by index
    broke. print(model) showed no "(enc): None" line."""
    m = nn.Linear(2, 3)
    w = m.weight
    m.weight = None
    assert m.weight is None and list(m.state_dict()) == ["bias"]
    assert [n for n, _ in m.named_parameters()] == ["bias"]
    m.weight = w
    assert list(m.state_dict()) == ["weight", "bias"] and m.parameters()[0] is w

    class AutoEncoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Linear(2, 2)
            self.dec = nn.Linear(2, 2)
            self.register_parameter("scale", None)
            self.add_module("aux", None)

        def forward(self, x):
            return self.dec(self.enc(x))

    a = AutoEncoder()
    enc = a.enc
    a.enc = None
    assert repr(a) == ("AutoEncoder(\n  (enc): None\n  (dec): Linear(in_features=2, "
                       "out_features=2, bias=True)\n  (aux): None\n)")
    assert [n for n, _ in a.named_children()] == ["dec"] and len(list(a.modules())) == 2
    a.train(False)  # the empty slots are skipped
    a.enc = enc
    assert list(a.state_dict()) == ["enc.weight", "enc.bias", "dec.weight", "dec.bias"]
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'scale'"):
        a.scale = fn.zeros(1)  # a registered (empty) parameter slot, as torch
    a.scale = nn.Parameter(np.ones(1, np.float32))
    assert list(a.state_dict())[0] == "scale"
    # a model with an emptied slot trains, summarises and saves
    s = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    s[0].bias = None
    X = np.random.default_rng(0).random((16, 4), dtype=np.float32)
    y = np.arange(16) % 3
    fn.fit(s, X, y, loss="cross_entropy", optimizer=fn.optim.SGD(s.parameters(), lr=0.1),
           epochs=1, verbose=0)
    fn.save(s, tmp_path / "m.safetensors")
    loaded = fn.load(tmp_path / "m.safetensors")
    assert loaded[0].bias is None
    np.testing.assert_array_equal(fn.predict(loaded, X), fn.predict(s, X))


def test_empty_slots_equal_torch():
    torch = pytest.importorskip("torch")

    def build(lib):
        class Net(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.a = lib.nn.Linear(2, 2)
                self.b = lib.nn.Linear(2, 2)
                self.register_parameter("p", None)

        n = Net()
        a, w = n.a, n.b.weight
        n.a, n.b.weight = None, None
        first = (repr(n), list(n.state_dict()))
        n.a, n.b.weight = a, w
        return first, repr(n), list(n.state_dict()), [k for k, _ in n.named_parameters()]

    assert build(fn) == build(torch)


def test_state_dict_value_reductions_are_numpy_scalars_and_torch_calls_take_their_arguments():
    """np.sum(v), v.max(), v.std() were 0-d StateArrays (unhashable, not np.floating);
    v.to("cpu", non_blocking=True), v.clone(memory_format=...), v.norm("fro"), v.norm(dim=1)
    and v.view(()) raised."""
    torch = pytest.importorskip("torch")
    fn.manual_seed(0)
    sd = nn.Linear(3, 4).state_dict()
    v = sd["weight"]
    t = torch.from_numpy(np.asarray(v).copy())
    for scalar in (np.sum(v), v.max(), v.std(), np.mean(v), v.sum()):
        assert isinstance(scalar, np.floating) and hash(scalar) is not None
    assert type(v[0]).__name__ == "StateArray" and type(v + 1).__name__ == "StateArray"
    assert v.to("cpu", non_blocking=True) is v and v.cpu(memory_format=None) is v
    assert v.clone(memory_format=None).shape == (4, 3)
    np.testing.assert_allclose(float(v.norm("fro")), float(t.norm("fro")), rtol=1e-6)
    np.testing.assert_allclose(v.norm(dim=1), t.norm(dim=1).numpy(), rtol=1e-6)
    np.testing.assert_allclose(v.norm(p=1, dim=0, keepdim=True),
                               t.norm(p=1, dim=0, keepdim=True).numpy(), rtol=1e-6)
    np.testing.assert_allclose(float(v.norm(dim=(0, 1))), float(t.norm(dim=(0, 1))), rtol=1e-6)
    assert sd["bias"][:1].view(()).shape == ()
    assert v.sum(keepdim=True).shape == (1, 1) and v.mean(dim=0, keepdim=True).shape == (1, 3)


@pytest.mark.parametrize("mode", [0, 1, "yes", None, np.bool_(True)])
def test_train_takes_a_bool_only_and_raises_torch_s_value_error(mode):
    # PyTorch raises ValueError ("training mode is expected to be boolean"); fastnn raised
    # TypeError only: the error is both now, and the mode is left as it was
    m = nn.Sequential(nn.Linear(2, 2)).eval()
    for kind in (ValueError, TypeError):
        with pytest.raises(kind, match="argument 'mode' must be a bool"):
            m.train(mode)
    assert not m.training and not m[0].training


def test_losses_deep_copy_after_an_autograd_route_forward():
    """A loss whose NumPy-path forward kept an autograd graph (weight=, reduction="none",
    L1) deep-copies, alone and inside a model, as PyTorch's do; the copy's backward needs a
    forward of its own, the original's still works."""
    pred, y = np.random.default_rng(0).standard_normal((4, 3)), np.array([0, 1, 2, 1])
    for loss, target in [(fn.nn.CrossEntropyLoss(weight=np.array([1.0, 2.0, 3.0])), y),
                         (fn.nn.CrossEntropyLoss(reduction="none"), y),
                         (fn.nn.L1Loss(), np.zeros((4, 3)))]:
        loss(pred, target)
        twin = copy.deepcopy(loss)
        assert loss.backward().shape == (4, 3)
        with pytest.raises(RuntimeError, match="before a forward"):
            twin.backward()
        np.testing.assert_array_equal(twin(pred, target), loss(pred, target))

    class WithCriterion(fn.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = fn.nn.Linear(3, 3)
            self.crit = fn.nn.CrossEntropyLoss(weight=np.array([1.0, 2.0, 3.0]))

    model = WithCriterion()
    model.crit(model.fc(pred), y)
    assert isinstance(copy.deepcopy(model).crit, fn.nn.CrossEntropyLoss)


def test_container_and_attribute_errors_as_torch():
    seq = fn.nn.Sequential(fn.nn.ReLU(), fn.nn.Tanh())
    for index in (3, -3, 99, np.int64(99)):
        with pytest.raises(IndexError, match="Index out of range"):
            seq.insert(index, fn.nn.Sigmoid())
    seq.insert(2, fn.nn.Sigmoid()).insert(-3, fn.nn.Identity())
    assert [type(m).__name__ for m in seq] == ["Identity", "ReLU", "Tanh", "Sigmoid"]
    lin = fn.nn.Linear(2, 3)
    with pytest.raises(TypeError, match=r"cannot assign 'ReLU' as parameter 'weight'"):
        lin.weight = fn.nn.ReLU()
    assert [n for n, _ in lin.named_parameters()] == ["weight", "bias"]


def test_one_hot_refuses_labels_it_cannot_encode():
    import fastnn.nn.functional as F
    assert F.one_hot(fn.tensor([0, 2, 1])).tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    assert tuple(F.one_hot(fn.tensor([], dtype=fn.int64), 3).shape) == (0, 3)
    for labels, n, match in [([0, -1, 2], 3, "non-negative"), ([0, 3], 3, "smaller than"),
                             ([], -1, "empty tensor")]:
        with pytest.raises(RuntimeError, match=match):
            F.one_hot(fn.tensor(labels, dtype=fn.int64), n)


def test_binary_cross_entropy_weight_must_not_enlarge_the_input():
    import fastnn.nn.functional as F
    p, t = fn.tensor([0.3, 0.6, 0.9]), fn.tensor([1.0, 0.0, 1.0])
    for func in (F.binary_cross_entropy, F.binary_cross_entropy_with_logits):
        with pytest.raises(ValueError, match=r"weight of shape \(2, 3\) does not broadcast"):
            func(p, t, weight=fn.ones(2, 3), reduction="sum")
        fits = func(p, t, weight=fn.tensor([1.0, 2.0, 3.0]), reduction="sum")
        assert fits.shape == ()


@pytest.mark.parametrize("a, b", [(-2.0, 2.0), (3.0, 4.0), (5.0, 6.0), (8.0, 9.0), (-9.0, -8.0),
                                  (-1e-3, 1e-3), (0.0, 50.0), (-50.0, -3.0), (1.0, 1.05)])
def test_trunc_normal_matches_the_truncated_distribution(a, b):
    """Mean and standard deviation of 100k draws against the truncated normal's own
    (N(0, 1) on [a, b]); windows in the tail piled onto a bound before."""
    def pdf(v):
        return math.exp(-v * v / 2) / math.sqrt(2 * math.pi)

    def upper(v):  # P(Z > v), without cancellation in either tail
        return 0.5 * math.erfc(v / math.sqrt(2))

    mass = (upper(a) - upper(b) if a >= 0 else upper(-b) - upper(-a) if b <= 0
            else 1 - upper(b) - upper(-a))
    mean = (pdf(a) - pdf(b)) / mass
    std = math.sqrt(1 + (a * pdf(a) - b * pdf(b)) / mass - mean * mean)
    t = fn.empty(100_000)
    fn.nn.init.trunc_normal_(t, 0.0, 1.0, a, b, generator=fn.Generator().manual_seed(0))
    x = t.numpy().astype(np.float64)
    assert a <= x.min() and x.max() <= b
    assert abs(x.mean() - mean) < 5 * std / math.sqrt(len(x)) + 1e-6 * abs(mean)
    assert abs(x.std() / std - 1) < 0.02
    assert (x == np.float32(a)).mean() < 1e-3  # not piled onto the bound


def test_trunc_normal_edge_windows():
    """Other means and scales, a negative std (the window read either way round, as the
    formula does), infinite bounds, a window narrower than float64 resolves; NaN or
    infinite mean / std raise instead of hanging."""
    gen = fn.Generator().manual_seed(1)
    t = fn.empty(50_000)
    fn.nn.init.trunc_normal_(t, 3.0, 2.0, 3.0, math.inf, generator=gen)
    x = t.numpy().astype(np.float64)
    assert x.min() >= 3.0 and abs(x.mean() - (3 + 2 * math.sqrt(2 / math.pi))) < 0.03
    fn.nn.init.trunc_normal_(t, 0.0, -1.0, -1.0, 1.0, generator=gen)
    assert -1.0 <= t.numpy().min() and t.numpy().max() <= 1.0
    fn.nn.init.trunc_normal_(t, 5.0, 2.0, -math.inf, math.inf, generator=gen)
    assert abs(t.numpy().mean() - 5.0) < 0.05 and abs(t.numpy().std() - 2.0) < 0.05
    fn.nn.init.trunc_normal_(t, 0.0, 1e-160, 1.0, 2.0, generator=gen)
    assert (t.numpy() == 1.0).all()
    for mean, std in [(math.nan, 1.0), (0.0, math.nan), (0.0, math.inf)]:
        with pytest.raises(ValueError, match="must be finite"):
            fn.nn.init.trunc_normal_(t, mean, std)
