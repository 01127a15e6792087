"""fastnn.io (save / load / load_metadata) and fastnn._architecture: round trips, exact
training resume, PyTorch interop, atomic writes under kill -9, and every bad file."""

from __future__ import annotations

import io
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
import warnings
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

import fastnn as fn
from fastnn import _random
from fastnn._architecture import from_spec, to_spec
from fastnn.io import safetensors_format
from fastnn.nn import (
    ELU,
    GELU,
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    LogSoftmax,
    Module,
    ReLU,
    Sequential,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)

fio = pytest.importorskip("fastnn.io")
FileFormatError = fio.FileFormatError
PYTHON_DIR = str(Path(fn.__file__).resolve().parent.parent)


def every_layer_model() -> Sequential:
    return Sequential(
        Linear(5, 8), ReLU(), Linear(8, 8, bias=False), LeakyReLU(0.2), Sigmoid(),
        Linear(8, 6), Tanh(), GELU(), GELU("tanh"), Dropout(0.3), Identity(), Flatten(),
        Sequential(Linear(6, 4), Sequential(Softmax(dim=-1))),
    )


MODELS = {
    "every_layer": every_layer_model,
    "single_linear": lambda: Linear(5, 3),
    "linear_no_bias": lambda: Sequential(Linear(5, 3, bias=False)),
    "nested": lambda: Sequential(Sequential(Sequential(Linear(5, 4), Tanh())), Linear(4, 2)),
    "no_parameters": lambda: Sequential(ReLU(), Softmax(dim=0)),
    "empty": lambda: Sequential(),
    "log_softmax": lambda: Sequential(Linear(5, 4), LogSoftmax(dim=-1)),
    "silu_elu_softplus": lambda: Sequential(Linear(5, 8), SiLU(), ELU(0.5), Linear(8, 3),
                                            Softplus(beta=2.0, threshold=5.0)),
    "named": lambda: Sequential(OrderedDict([  # PyTorch's named form, nested too
        ("fc1", Linear(5, 4)), ("act", Tanh()),
        ("head", Sequential(OrderedDict([("fc", Linear(4, 3)), ("0", ReLU())])))])),
}


class TwoLayer(Module):
    """A custom module: describable by no spec."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = Linear(5, 7)
        self.fc2 = Linear(7, 2)

    def forward(self, x):
        return self.fc2(np.tanh(self.fc1(x)))


def child(script: str, *args: str, **kw) -> subprocess.Popen:
    """Runs ``script`` in a fresh Python that imports this fastnn."""
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR)
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(script), *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def same_weights(a: Module, b: Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return list(sa) == list(sb) and all(np.array_equal(sa[k], sb[k]) for k in sa)


# -- round trips ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(MODELS))
def test_round_trip_predicts_bit_identically(tmp_path, rng, name):
    fn.manual_seed(0)
    model = MODELS[name]()
    path = tmp_path / "m.safetensors"
    fn.io.save(model, path)
    loaded = fn.io.load(path)
    assert type(loaded) is type(model) and repr(loaded) == repr(model)
    assert to_spec(loaded) == to_spec(model)
    assert same_weights(loaded, model)
    X = rng.standard_normal((7, 5))
    np.testing.assert_array_equal(fn.predict(loaded, X), fn.predict(model, X))
    assert loaded.training


def test_load_restores_each_modules_training_mode(tmp_path, rng):
    """As torch.load of a whole model: a model saved in eval mode comes back in eval mode
    (a direct call then skips its Dropout, as the saved one did), mixed flags per module."""
    fn.manual_seed(0)
    model = Sequential(Linear(5, 8), ReLU(), Dropout(0.5), Linear(8, 2)).eval()
    path = tmp_path / "m.safetensors"
    fn.io.save(model, path)
    loaded = fn.io.load(path)
    assert not any(m.training for m in loaded.modules())
    X = rng.standard_normal((7, 5)).astype(np.float32)
    np.testing.assert_array_equal(loaded(X), model(X))
    model.train()
    model[2].eval()
    fn.io.save(model, path)
    loaded = fn.io.load(path)
    assert [m.training for m in loaded.modules()] == [m.training for m in model.modules()]
    assert [m.training for m in loaded.modules()] == [True, True, True, False, True]
    # files without the flags (older fastnn) load in training mode
    meta = fn.io.load_metadata(path)
    assert meta["eval_modules"] == ["2"]
    del meta["eval_modules"]
    write_st(path, model.state_dict(), json.dumps(meta))
    assert all(m.training for m in fn.io.load(path).modules())
    meta["eval_modules"] = ["7"]
    write_st(path, model.state_dict(), json.dumps(meta))
    with pytest.raises(FileFormatError, match=r"eval_modules \['7'\] that its architecture "
                                              "does not have"):
        fn.io.load(path)


def test_load_restores_frozen_parameters(tmp_path):
    # requires_grad=False came back True: resuming trained the frozen layers
    model = Sequential(Linear(3, 4), ReLU(), Linear(4, 2))
    model[0].weight.requires_grad_(False)
    model[2].bias.requires_grad_(False)
    path = tmp_path / "m.safetensors"
    fn.save(model, path)
    assert fn.io.load_metadata(path)["frozen_parameters"] == ["0.weight", "2.bias"]
    loaded = fn.load(path)
    assert [p.requires_grad for p in loaded.parameters()] == [False, True, True, False]
    # into a given model, the flags stay the caller's (as load_state_dict)
    given = fn.load(path, model=Sequential(Linear(3, 4), ReLU(), Linear(4, 2)))
    assert all(p.requires_grad for p in given.parameters())
    meta = fn.io.load_metadata(path)
    meta["frozen_parameters"] = ["5.weight"]
    write_st(path, model.state_dict(), json.dumps(meta))
    with pytest.raises(FileFormatError, match=r"frozen_parameters \['5.weight'\] that its "
                                              "architecture does not have"):
        fn.load(path)
    del meta["frozen_parameters"]  # files of older fastnn: every parameter trains
    write_st(path, model.state_dict(), json.dumps(meta))
    assert all(p.requires_grad for p in fn.load(path).parameters())


def test_flatten_round_trips_with_its_dims(tmp_path, rng):
    """A Sequential that starts with Flatten (image-shaped input), as in PyTorch's quick start."""
    fn.manual_seed(0)
    model = Sequential(Flatten(), Linear(6, 4), ReLU(), Flatten(0, 0), Linear(4, 2))
    path = tmp_path / "m.safetensors"
    fn.save(model, path)
    loaded = fn.load(path)
    assert [type(m) for m in loaded] == [Flatten, Linear, ReLU, Flatten, Linear]
    assert (loaded[0].start_dim, loaded[0].end_dim, loaded[3].start_dim) == (1, -1, 0)
    X = rng.standard_normal((5, 2, 3)).astype(np.float32)
    np.testing.assert_array_equal(loaded(X), model(X))
    assert loaded(X).shape == (5, 2)


def test_load_into_given_model_and_str_path(tmp_path):
    fn.manual_seed(1)
    model = every_layer_model()
    path = str(tmp_path / "m.safetensors")
    fn.io.save(model, path)
    fn.manual_seed(2)
    other = every_layer_model()
    assert not same_weights(model, other)
    assert fn.io.load(path, other) is other
    assert same_weights(model, other)


def test_load_does_not_consume_the_global_random_state(tmp_path):
    fn.io.save(every_layer_model(), tmp_path / "m.safetensors")
    fn.manual_seed(3)
    fn.io.load(tmp_path / "m.safetensors")
    after = _random.next_seed()
    fn.manual_seed(3)
    assert _random.next_seed() == after


def test_metadata_round_trip(tmp_path):
    model = every_layer_model()
    meta = {"epoch": 12, "val_loss": np.float32(0.25), "best": [1, 2.5, None, "x"],
            "nested": {"a": {"b": True}}, "tuple": (1, 2)}
    fn.io.save(model, tmp_path / "m.safetensors", metadata=meta)
    info = fn.io.load_metadata(tmp_path / "m.safetensors")
    assert info["metadata"] == {"epoch": 12, "val_loss": 0.25, "best": [1, 2.5, None, "x"],
                                "nested": {"a": {"b": True}}, "tuple": [1, 2]}
    assert info["architecture"] == to_spec(model)
    assert info["format_version"] == fio.FORMAT_VERSION
    assert info["fastnn_version"] == fn.__version__
    assert info["optimizer"] is None
    fn.io.save(model, tmp_path / "n.safetensors")
    assert fn.io.load_metadata(tmp_path / "n.safetensors")["metadata"] == {}


def test_custom_module_is_saved_without_architecture(tmp_path, rng):
    model = TwoLayer()
    path = tmp_path / "custom.safetensors"
    fn.io.save(model, path)
    assert fn.io.load_metadata(path)["architecture"] is None
    with pytest.raises(FileFormatError, match=r"custom\.safetensors' holds no architecture"):
        fn.io.load(path)
    loaded = fn.io.load(path, model=TwoLayer())
    X = rng.standard_normal((4, 5)).astype(np.float32)
    np.testing.assert_array_equal(loaded(X), model(X))


def test_file_is_a_standard_safetensors_file(tmp_path):
    st = pytest.importorskip("safetensors.numpy")  # the reference library reads it
    model = Sequential(Linear(3, 4), ReLU(), Linear(4, 2))
    fn.io.save(model, tmp_path / "m.safetensors")
    tensors = st.load_file(str(tmp_path / "m.safetensors"))
    assert sorted(tensors) == ["0.bias", "0.weight", "2.bias", "2.weight"]
    assert all(t.dtype == np.float32 for t in tensors.values())


# -- architecture specs --------------------------------------------------------------------
def test_spec_layout():
    spec = to_spec(Sequential(Flatten(), Linear(64, 10, bias=False), LeakyReLU(0.1),
                              Dropout(0.25), GELU("tanh"), Softmax(dim=1)))
    assert spec == {"type": "Sequential", "layers": [
        {"type": "Flatten", "start_dim": 1, "end_dim": -1},
        {"type": "Linear", "in_features": 64, "out_features": 10, "bias": False},
        {"type": "LeakyReLU", "negative_slope": 0.1}, {"type": "Dropout", "p": 0.25},
        {"type": "GELU", "approximate": "tanh"}, {"type": "Softmax", "dim": 1}]}
    assert json.loads(json.dumps(spec)) == spec
    assert to_spec(from_spec(spec)) == spec


def test_to_spec_rejects_what_it_cannot_describe():
    class MyLinear(Linear):
        pass

    with pytest.raises(TypeError, match=r"cannot describe TwoLayer at model .*load\(path, model="):
        to_spec(TwoLayer())
    with pytest.raises(TypeError, match=r"cannot describe MyLinear at model\[1\]"):
        to_spec(Sequential(ReLU(), MyLinear(2, 2)))
    odd = Sequential(Linear(2, 2))
    odd.add_module("head", Linear(2, 2))  # described with its names
    assert to_spec(odd)["names"] == ["0", "head"] and "names" not in to_spec(Sequential(ReLU()))
    assert list(from_spec(to_spec(odd)).state_dict()) == list(odd.state_dict())
    own = Sequential(Linear(2, 2))
    own.scale = fn.nn.Parameter(np.ones(1))
    with pytest.raises(TypeError, match="parameters of its own"):
        to_spec(own)
    extra = Linear(2, 2)
    extra.scale = fn.nn.Parameter(np.ones(1))
    with pytest.raises(TypeError, match="extra parameters"):
        to_spec(extra)
    with pytest.raises(TypeError, match="must be a fastnn.nn.Module"):
        to_spec("model")


def nest(depth: int) -> dict:
    spec: dict = {"type": "ReLU"}
    for _ in range(depth):
        spec = {"type": "Sequential", "layers": [spec]}
    return spec


@pytest.mark.parametrize("spec, match", [
    ([1], r"spec: expected a dict with a 'type', got list"),
    ({"type": "Conv2d"}, r"spec: unknown layer type 'Conv2d'; known types: Sequential, Linear"),
    ({"layers": []}, "unknown layer type None"),
    ({"type": "Linear", "in_features": 2, "out_features": 3},
     r"spec \(Linear\): missing fields \['bias'\]"),
    ({"type": "ReLU", "inplace": True}, r"unknown fields \['inplace'\]"),
    ({"type": "Linear", "in_features": 2, "out_features": 3, "bias": 1},
     r"spec.bias: expected a bool, got 1"),
    ({"type": "Linear", "in_features": -2, "out_features": 3, "bias": True},
     r"spec.in_features: expected an int >= 0, got -2"),
    ({"type": "Linear", "in_features": 2.0, "out_features": 3, "bias": True},
     "expected an int >= 0"),
    ({"type": "Sequential", "layers": [{"type": "Dropout", "p": "0.5"}]},
     r"spec.layers\[0\].p: expected a number"),
    ({"type": "Sequential", "layers": [{"type": "Dropout", "p": 1.5}]},
     r"spec.layers\[0\] \(Dropout\): Dropout\(\): argument 'p' must be in \[0, 1\)"),
    ({"type": "GELU", "approximate": "fast"}, r"spec \(GELU\): GELU\(\): argument 'approximate'"),
    ({"type": "Sequential", "layers": {"0": {"type": "ReLU"}}}, "spec.layers: expected a list"),
    (nest(65), "nested deeper than 64"),
    ({"type": "Sequential", "layers": [{"type": "ReLU"}], "names": "a"}, r"spec.names: expected 1"),
    ({"type": "Sequential", "layers": [{"type": "ReLU"}] * 2, "names": ["a", "a"]},
     r"spec.names: expected 2 distinct"),
    ({"type": "Sequential", "layers": [{"type": "ReLU"}], "names": ["a.b"]}, "without '.'"),
    ({"type": "Sequential", "layers": [{"type": "ReLU"}], "names": ["forward"]},
     "not Sequential attributes"),
    ({"type": "Sequential", "layers": [{"type": "ReLU"}], "names": [""]}, r"spec.names"),
    ({"type": "Sequential", "layers": [], "names": [], "x": 1}, r"unknown fields \['x'\]"),
])
def test_from_spec_rejects_bad_specs(spec, match):
    with pytest.raises(ValueError, match=match):
        from_spec(spec)


def test_from_spec_accepts_deep_nesting_up_to_the_limit():
    assert to_spec(from_spec(nest(64))) == nest(64)


# -- optimizer state and exact resume -----------------------------------------------------
OPTIMIZERS = {
    "sgd_nesterov": lambda p: fn.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True,
                                           weight_decay=1e-3),
    "adam_amsgrad": lambda p: fn.optim.Adam(p, lr=0.01, amsgrad=True),
    "adamw": lambda p: fn.optim.AdamW(p, lr=0.01),
    "rmsprop": lambda p: fn.optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
    "adagrad": lambda p: fn.optim.Adagrad(p, lr=0.05, lr_decay=0.01),
}


def train_steps(model, opt, batches):
    loss = fn.nn.CrossEntropyLoss()
    for X, y in batches:
        opt.zero_grad()
        loss(model(X), y)
        model.backward(loss.backward())
        opt.step()


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_resume_is_bit_identical_to_uninterrupted_training(tmp_path, name):
    rng = np.random.default_rng(5)
    batches = [(rng.standard_normal((16, 6)).astype(np.float32), rng.integers(0, 3, 16))
               for _ in range(6)]
    fn.manual_seed(0)
    model = Sequential(Linear(6, 12), GELU(), Linear(12, 12, bias=False), Tanh(), Linear(12, 3))
    opt = OPTIMIZERS[name](model.parameters())
    train_steps(model, opt, batches[:3])
    opt.param_groups[0]["lr"] *= 0.5  # a scheduler's change must be restored too
    path = tmp_path / "ckpt.safetensors"
    fn.io.save(model, path, optimizer=opt, metadata={"step": 3})
    train_steps(model, opt, batches[3:])  # uninterrupted

    fn.manual_seed(99)
    resumed = fn.io.load(path)
    opt2 = OPTIMIZERS[name](resumed.parameters())
    assert fn.io.load(path, resumed, optimizer=opt2) is resumed
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    assert fn.io.load_metadata(path)["optimizer"]["class"] == type(opt).__name__
    train_steps(resumed, opt2, batches[3:])
    assert same_weights(resumed, model)
    s1, s2 = opt.state_dict(), opt2.state_dict()
    assert s1["param_groups"] == s2["param_groups"]
    for i in s1["state"]:
        for k, v in s1["state"][i].items():
            np.testing.assert_array_equal(s2["state"][i][k], v)


def test_optimizer_errors(tmp_path):
    model = Sequential(Linear(3, 2))
    opt = fn.optim.Adam(model.parameters())
    train_steps(model, opt, [(np.ones((2, 3), np.float32), np.array([0, 1]))])
    path = tmp_path / "m.safetensors"
    fn.io.save(model, path, optimizer=opt)
    other = Sequential(Linear(3, 2))
    with pytest.raises(ValueError, match=r"save\(\): the optimizer holds parameters that are not"):
        fn.io.save(other, path, optimizer=opt)
    with pytest.raises(ValueError, match=r"load\(\): optimizer= needs model="):
        fn.io.load(path, optimizer=opt)
    with pytest.raises(ValueError, match="not the model's"):
        fn.io.load(path, other, optimizer=opt)
    with pytest.raises(TypeError, match="'optimizer' must be a fastnn.optim.Optimizer"):
        fn.io.save(model, path, optimizer="adam")
    sgd = fn.optim.SGD(other.parameters(), lr=0.1)
    before = other.state_dict()
    with pytest.raises(FileFormatError, match="holds Adam state, the optimizer is SGD"):
        fn.io.load(path, other, optimizer=sgd)
    assert all(np.array_equal(before[k], v) for k, v in other.state_dict().items())
    assert sgd.param_groups[0]["lr"] == 0.1
    fn.io.save(model, tmp_path / "plain.safetensors")
    with pytest.raises(FileFormatError, match="holds no optimizer state"):
        fn.io.load(tmp_path / "plain.safetensors", other,
                   optimizer=fn.optim.Adam(other.parameters()))
    bigger = Sequential(Linear(3, 2), Linear(2, 2))
    fn.io.save(bigger, tmp_path / "big.safetensors", optimizer=fn.optim.Adam(bigger.parameters()))
    with pytest.raises(FileFormatError, match="does not match the model"):
        fn.io.load(tmp_path / "big.safetensors", other,
                   optimizer=fn.optim.Adam(other.parameters()))


def test_failed_load_changes_neither_model_nor_optimizer(tmp_path):
    model = Sequential(Linear(3, 2))
    opt = fn.optim.Adam(model.parameters())
    train_steps(model, opt, [(np.ones((2, 3), np.float32), np.array([0, 1]))])
    fn.io.save(model, tmp_path / "m.safetensors", optimizer=opt)
    target = Sequential(Linear(3, 2))
    opt2 = fn.optim.Adam([{"params": [target[0].weight]}, {"params": [target[0].bias]}])
    before = target.state_dict()
    with pytest.raises(FileFormatError, match="does not fit the optimizer.*parameter group"):
        fn.io.load(tmp_path / "m.safetensors", target, optimizer=opt2)
    assert all(np.array_equal(before[k], v) for k, v in target.state_dict().items())
    assert not opt2.state


# -- PyTorch interop ----------------------------------------------------------------------
def torch_pair():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.ReLU(),
                             torch.nn.Linear(16, 8, bias=False), torch.nn.LeakyReLU(0.1),
                             torch.nn.Dropout(0.2), torch.nn.Linear(8, 8), torch.nn.GELU(),
                             torch.nn.Linear(8, 3), torch.nn.Softmax(dim=1)).eval()
    fm = Sequential(Linear(6, 16), ReLU(), Linear(16, 8, bias=False), LeakyReLU(0.1),
                    Dropout(0.2), Linear(8, 8), GELU(), Linear(8, 3), Softmax(dim=1))
    return torch, tm, fm


@pytest.mark.parametrize("writer", ["torch", "numpy", "torch_float64"])
def test_load_a_pytorch_file_with_the_architecture_given(tmp_path, rng, writer):
    torch, tm, fm = torch_pair()
    path = str(tmp_path / "torch.safetensors")
    st = pytest.importorskip("safetensors.numpy")  # files written by the reference library
    if writer == "torch":
        from safetensors.torch import save_file
        save_file(tm.state_dict(), path)
    elif writer == "numpy":
        st.save_file({k: v.numpy() for k, v in tm.state_dict().items()}, path)
    else:
        st.save_file({k: v.double().numpy() for k, v in tm.state_dict().items()}, path)
    with pytest.raises(FileFormatError, match="holds no architecture"):
        fn.io.load(path)
    assert fn.io.load(path, model=fm) is fm
    X = rng.standard_normal((9, 6)).astype(np.float32)
    with torch.no_grad():
        expected = tm(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(fn.predict(fm, X), expected, rtol=1e-5, atol=1e-6)


def test_fastnn_file_loads_into_pytorch(tmp_path, rng):
    torch, tm, fm = torch_pair()
    pytest.importorskip("safetensors")
    from safetensors.torch import load_file
    fn.io.save(fm, tmp_path / "fastnn.safetensors")
    tm.load_state_dict(load_file(str(tmp_path / "fastnn.safetensors")))  # strict
    X = rng.standard_normal((9, 6)).astype(np.float32)
    with torch.no_grad():
        expected = tm(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(fn.predict(fm, X), expected, rtol=1e-5, atol=1e-6)


# -- bad arguments ------------------------------------------------------------------------
def test_bad_arguments(tmp_path):
    model = Sequential(Linear(2, 2))
    path = tmp_path / "m.safetensors"
    with pytest.raises(TypeError, match=r"save\(\): argument 'model' must be a fastnn.nn.Module"):
        fn.io.save({1, 2}, path)  # dicts, lists, Tensors, arrays are objects (tests below)
    with pytest.raises(TypeError, match=r"save\(\): argument 'path' must be a str or os.PathLike"):
        fn.io.save(model, 42)
    with pytest.raises(TypeError, match="argument 'path'"):
        fn.io.save(model, b"m.safetensors")
    with pytest.raises(TypeError, match="'metadata' must be a dict with str keys, got list"):
        fn.io.save(model, path, metadata=[1])
    with pytest.raises(TypeError, match="'metadata' must be a dict with str keys"):
        fn.io.save(model, path, metadata={1: "a"})
    with pytest.raises(TypeError, match="'metadata' must be JSON-serialisable: object"):
        fn.io.save(model, path, metadata={"a": object()})
    with pytest.raises(TypeError, match="JSON-serialisable: ndarray"):
        fn.io.save(model, path, metadata={"a": np.ones(3)})
    loop: dict = {}
    loop["self"] = loop
    with pytest.raises(TypeError, match="JSON-serialisable: Circular"):
        fn.io.save(model, path, metadata=loop)
    assert not path.exists()
    fn.io.save(model, path)
    with pytest.raises(TypeError, match=r"load\(\): argument 'model' must be a fastnn.nn.Module"):
        fn.io.load(path, model="Sequential")
    with pytest.raises(TypeError, match=r"load\(\): argument 'path'"):
        fn.io.load(None)
    with pytest.raises(TypeError, match=r"load_metadata\(\): argument 'path'"):
        fn.io.load_metadata(3.5)


def test_save_and_load_need_no_safetensors_package(tmp_path, monkeypatch, rng):
    """fastnn reads and writes the format itself (io/safetensors_format.py): with the
    safetensors package unimportable, a model, its optimizer and a state dict still make
    the round trip bit for bit."""
    monkeypatch.setitem(sys.modules, "safetensors", None)
    model = Sequential(Linear(5, 4), ReLU(), Dropout(0.3), Linear(4, 3))
    opt = fn.optim.Adam(model.parameters(), lr=0.01)
    X = rng.standard_normal((8, 5)).astype(np.float32)
    y = rng.integers(0, 3, 8)
    fn.fit(model, X, y, loss=fn.nn.CrossEntropyLoss(), optimizer=opt, epochs=2, verbose=0)
    fn.io.save(model, tmp_path / "m.safetensors", optimizer=opt, metadata={"epoch": 2})
    back = fn.io.load(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(fn.predict(back, X), fn.predict(model, X))
    assert fn.io.load_metadata(tmp_path / "m.safetensors")["metadata"] == {"epoch": 2}
    fn.save(model.state_dict(), tmp_path / "sd.safetensors")
    sd = fn.load(tmp_path / "sd.safetensors")
    assert sd.keys() == model.state_dict().keys()
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(sd[k], v)


# -- bad files ----------------------------------------------------------------------------
def write_st(path: Path, tensors: dict, fastnn_json=None) -> Path:
    meta = None if fastnn_json is None else {
        "fastnn": fastnn_json if isinstance(fastnn_json, str) else json.dumps(fastnn_json)}
    path.write_bytes(safetensors_format.dumps(tensors, meta))
    return path


def good_info(**changes) -> dict:
    info = {"format_version": 1, "fastnn_version": "0.1.0",
            "architecture": to_spec(Sequential(Linear(2, 3))), "optimizer": None,
            "metadata": {}}
    info.update(changes)
    return info


W = {"0.weight": np.ones((3, 2), np.float32), "0.bias": np.zeros(3, np.float32)}


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"load\(\): no such file: '.*nope.safetensors'"):
        fn.io.load(tmp_path / "nope.safetensors")
    with pytest.raises(FileNotFoundError, match="load_metadata"):
        fn.io.load_metadata(tmp_path / "nope.safetensors")
    with pytest.raises(IsADirectoryError):
        fn.io.load(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"save\(\): cannot write '.*no_dir"):
        fn.io.save(Linear(2, 2), tmp_path / "no_dir" / "m.safetensors")


def test_overwriting_keeps_the_files_permissions(tmp_path):
    path = tmp_path / "private.safetensors"
    fn.io.save(Linear(2, 2), path)
    os.chmod(path, 0o600)
    fn.io.save(Linear(2, 3), path)
    assert (os.stat(path).st_mode & 0o777) == 0o600
    assert fn.io.load(path).out_features == 3


@pytest.mark.parametrize("relative", [False, True])
def test_saving_to_a_symlink_writes_through_to_its_target(tmp_path, relative):
    """As torch.save and open(path, "wb"): the link stays, its target gets the new model."""
    (tmp_path / "runs").mkdir()
    target = tmp_path / "runs" / "best.safetensors"
    fn.io.save(Linear(2, 2), target)
    link = tmp_path / "latest.safetensors"
    link.symlink_to(Path("runs") / "best.safetensors" if relative else target)
    fn.io.save(Linear(2, 5), link)
    assert link.is_symlink()
    assert fn.io.load(target).out_features == 5
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["best.safetensors"]


def test_a_directory_path_is_refused_naming_it(tmp_path):
    """A trailing separator once gave 'Not a directory' for an existing directory."""
    (tmp_path / "adir").mkdir()
    for path in (tmp_path / "adir", f"{tmp_path / 'adir'}/", f"{tmp_path / 'new'}/"):
        with pytest.raises(IsADirectoryError, match="names a directory, not a file"):
            fn.io.save(Linear(2, 2), path)
    assert list((tmp_path / "adir").iterdir()) == []
    with pytest.raises(FileNotFoundError, match="cannot write to an empty path"):
        fn.io.save(Linear(2, 2), "")  # was "is a special file, not a regular file"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_or_a_link_to_one_is_refused_not_replaced(tmp_path):
    """The atomic rename replaced whatever stood at the path: a FIFO (or, as root, a
    device such as /dev/null) became a regular file. Now an OSError names what it is and
    the node stays."""
    fifo, link = tmp_path / "pipe", tmp_path / "link"
    os.mkfifo(fifo)
    link.symlink_to(fifo)
    for path in (fifo, link):
        with pytest.raises(OSError, match="it is a FIFO"):
            fn.io.save(Linear(2, 2), path)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and link.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "pipe"]  # no temp file


def foreign_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    good = tmp_path / "good.safetensors"
    fn.io.save(Sequential(Linear(2, 3)), good)
    data = good.read_bytes()
    header_len = int.from_bytes(data[:8], "little")
    files = {
        "empty": (b"", "too short to be a safetensors file"),
        "tiny": (b"\x01\x00", "too short"),
        "text": (b"hello, this is a text file\n" * 3, "not a safetensors file"),
        "random": (np.random.default_rng(0).bytes(4096), "not a safetensors file"),
        "truncated_header": (data[: 8 + header_len // 2], "not a safetensors file"),
        "truncated_data": (data[:-5], "not a valid safetensors file"),
        "huge_header_length": ((2**63).to_bytes(8, "little") + b"{}" + b" " * 64,
                               "header of 9223372036854775808 bytes"),
        "header_not_json": (len(b"{nope").to_bytes(8, "little") + b"{nope",
                            "not a valid safetensors file"),
        # a plausible length over a garbled header: once blamed on the size
        "header_overwritten": (data[:8] + b"x" * header_len + data[8 + header_len:],
                               "header starts with b'x', not the '{' of a JSON object"),
        "bad_offsets": (_raw_st({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 64]}},
                                16), "not a valid safetensors file"),
        "unknown_dtype": (_raw_st({"w": {"dtype": "Q7", "shape": [1], "data_offsets": [0, 4]}},
                                  4), "not a valid safetensors file"),
        "bf16": (_raw_st({"0.weight": {"dtype": "BF16", "shape": [3, 2],
                                       "data_offsets": [0, 12]}}, 12),
                 "has tensor '0.weight' of dtype BF16, which NumPy cannot hold"),
        "huge_shape": (_raw_st({"w": {"dtype": "F32", "shape": [2**40, 2**40],
                                      "data_offsets": [0, 4]}}, 4), "not a valid"),
    }
    out = {}
    for name, (blob, match) in files.items():
        p = tmp_path / f"{name}.bin"
        p.write_bytes(blob)
        out[name] = (p, match)
    np.savez(tmp_path / "arrays.npz", w=np.ones(3))
    out["npz"] = (tmp_path / "arrays.npz", "not a safetensors file")
    return out


def _raw_st(header: dict, nbytes: int) -> bytes:
    text = json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + b"\x00" * nbytes


@pytest.mark.parametrize("name", ["empty", "tiny", "text", "random", "truncated_header",
                                  "truncated_data", "huge_header_length", "header_not_json",
                                  "bad_offsets", "unknown_dtype", "bf16", "npz"])
def test_corrupt_and_foreign_files_raise_a_clear_error(tmp_path, name):
    path, match = foreign_files(tmp_path)[name]
    foreign = "|was not written by fastnn.save"  # load_metadata reads only the header
    for call, pattern in [(lambda: fn.io.load(path), match),
                          (lambda: fn.io.load(path, Sequential(Linear(2, 3))), match),
                          (lambda: fn.io.load_metadata(path), match + foreign)]:
        with pytest.raises(FileFormatError, match=pattern) as info:
            call()
        assert str(path) in str(info.value) and info.value.path == str(path)


def test_hostile_files_cannot_crash_the_process(tmp_path):
    """Every hostile file, and 300 random corruptions of a good one, in a child process:
    each load either succeeds or raises FileFormatError, and the child exits normally."""
    files = [str(p) for p, _ in foreign_files(tmp_path).values()]
    good = (tmp_path / "good.safetensors").read_bytes()
    rng = np.random.default_rng(0)
    for i in range(300):
        blob = bytearray(good)
        for pos in rng.integers(0, len(blob), rng.integers(1, 4)):
            blob[pos] = rng.integers(0, 256)
        if i % 3 == 0:
            blob = blob[: rng.integers(0, len(blob))]
        p = tmp_path / f"fuzz{i}.bin"
        p.write_bytes(bytes(blob))
        files.append(str(p))
    script = """
        import sys
        import fastnn.io as fio
        from fastnn.nn import Linear, Sequential
        outcomes = set()
        for path in sys.argv[1:]:
            for call in (lambda: fio.load(path), lambda: fio.load(path, Sequential(Linear(2, 3))),
                         lambda: fio.load_metadata(path)):
                try:
                    call()
                    outcomes.add("ok")
                except fio.FileFormatError:
                    outcomes.add("FileFormatError")
        print(sorted(outcomes))
    """
    proc = child(script, *files)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out.strip() == "['FileFormatError', 'ok']"


@pytest.mark.parametrize("info, match", [
    ("{not json", "has invalid fastnn metadata JSON"),
    pytest.param("[" * 100000 + "]" * 100000, "has invalid fastnn metadata JSON",
                 id="list_nested_100000"),
    ([1, 2], "fastnn metadata without the fields"),
    ({"format_version": 1}, "fastnn metadata without the fields"),
    (good_info(format_version="1"), "invalid format_version '1'"),
    (good_info(format_version=True), "invalid format_version True"),
    (good_info(format_version=2, fastnn_version="9.0"),
     "written by fastnn 9.0 in format 2; this fastnn .* reads format 1 or older: upgrade"),
    (good_info(architecture={"type": "Conv2d"}),
     "has an invalid architecture: spec: unknown layer type 'Conv2d'"),
    (good_info(architecture={"type": "Linear", "in_features": 2, "out_features": 3}),
     r"invalid architecture: spec \(Linear\): missing fields \['bias'\]"),
    pytest.param(json.dumps(good_info(architecture="@")).replace(
        '"@"', '{"type": "Sequential", "layers": [' * 100000 + "1" + "]}" * 100000),
        "has invalid fastnn metadata JSON", id="json_nested_100000"),
    pytest.param(good_info(architecture=nest(200)),
                 "invalid architecture: .*nested deeper than 64", id="spec_nested_200"),
    # a few MB of repeated layers: every one was built before anything was checked
    # (2.5 million in 55 MB: 4 GB and a minute)
    pytest.param(good_info(architecture={"type": "Sequential",
                                         "layers": [{"type": "ReLU"}] * 400_000}),
                 r"invalid architecture: spec.layers: more than 100,000 modules",
                 id="spec_400000_layers"),
    pytest.param(good_info(architecture={"type": "Sequential", "layers": [
        {"type": "Sequential", "layers": [{"type": "ReLU"}] * 50_000}] * 3}),
                 r"invalid architecture: spec.layers\[1\].layers: more than 100,000 modules",
                 id="spec_150000_nested_layers"),
    (good_info(metadata=[1]), "user metadata that is not a dict"),
    (good_info(eval_modules="0"), "eval_modules that is not a list of names"),
    (good_info(eval_modules=[0]), "eval_modules that is not a list of names"),
    (good_info(frozen_parameters="0.weight"), "frozen_parameters that is not a list of names"),
    (good_info(optimizer={"class": "Adam"}), "invalid optimizer metadata"),
])
def test_bad_fastnn_metadata(tmp_path, info, match):
    path = write_st(tmp_path / "bad.safetensors", W,
                    info if isinstance(info, str) else json.dumps(info))
    for call in (fn.io.load, fn.io.load_metadata):
        with pytest.raises(FileFormatError, match=match):
            call(path)


def test_a_model_at_the_module_cap_round_trips_and_one_above_saves_weights_only(tmp_path):
    # save wrote a spec of 100,000 layers that load then refused (the cap counted the
    # model's own Sequential; save did not apply it)
    at_cap = Sequential(*[ReLU() for _ in range(99_999)])  # 100,000 modules with the model
    fn.io.save(at_cap, tmp_path / "at.safetensors")
    assert len(fn.io.load(tmp_path / "at.safetensors")) == 99_999
    with pytest.warns(UserWarning, match="100,001 modules, more than the 100,000"):
        fn.io.save(Sequential(*[ReLU() for _ in range(100_000)]), tmp_path / "above.safetensors")
    assert fn.io.load_metadata(tmp_path / "above.safetensors")["architecture"] is None


def test_foreign_safetensors_file_has_no_fastnn_metadata(tmp_path):
    path = write_st(tmp_path / "plain.safetensors", W)
    with pytest.raises(FileFormatError, match="was not written by fastnn.save"):
        fn.io.load_metadata(path)
    model = fn.io.load(path, Sequential(Linear(2, 3)))
    np.testing.assert_array_equal(model[0].weight.data, W["0.weight"])


@pytest.mark.parametrize("tensors, match", [
    ({"0.weight": W["0.weight"]}, r"missing keys \['0.bias'\], unexpected keys \[\]"),
    (dict(W, extra=np.ones(1, np.float32)), r"missing keys \[\], unexpected keys \['extra'\]"),
    # a million names made a message of megabytes: the first 20, then a count
    (dict(W, **{f"x{i:02d}": np.ones(0, np.float32) for i in range(25)}),
     r"unexpected keys \['x00', .* 'x19', \.\.\. and 5 more\]$"),
    ({"0.weight": np.ones((2, 3), np.float32), "0.bias": W["0.bias"]},
     r"tensor '0.weight' of shape \(2, 3\); the model expects \(3, 2\)"),
    ({"0.weight": np.ones((3, 2), np.int32), "0.bias": W["0.bias"]},
     "tensor '0.weight' of dtype int32; expected a float dtype"),
    ({"0.weight": np.ones((3, 2), np.float32), "0.bias": np.ones(3, bool)}, "dtype bool"),
])
def test_tensors_that_do_not_match(tmp_path, tensors, match):
    path = write_st(tmp_path / "t.safetensors", tensors, good_info())
    with pytest.raises(FileFormatError, match=match):
        fn.io.load(path)  # checked against the spec, before building
    target = Sequential(Linear(2, 3))
    before = target.state_dict()
    with pytest.raises(FileFormatError, match=match):
        fn.io.load(path, target)
    assert all(np.array_equal(before[k], v) for k, v in target.state_dict().items())


def test_huge_spec_is_rejected_before_allocating(tmp_path):
    spec = to_spec(Sequential(Linear(2, 3)))
    spec["layers"][0].update(in_features=2**40, out_features=2**40)
    path = write_st(tmp_path / "t.safetensors", W, good_info(architecture=spec))
    with pytest.raises(FileFormatError, match="the model expects"):
        fn.io.load(path)


# -- atomic writes ------------------------------------------------------------------------
def temp_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_save_leaves_no_temp_file_and_respects_umask(tmp_path):
    path = tmp_path / "m.safetensors"
    fn.io.save(Linear(3, 3), path)
    fn.io.save(Linear(3, 3), path)  # overwrite
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.safetensors"]
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.parametrize("failing, error, message", [
    ("open", PermissionError, "Permission denied"),  # what a read-only directory gives
    ("write", OSError, "No space left on device"),
    ("fsync", OSError, "Input/output error"),
    ("replace", OSError, "Input/output error"),
])
def test_failed_save_keeps_old_file_and_removes_temp(tmp_path, monkeypatch, failing, error,
                                                     message):
    path = tmp_path / "m.safetensors"
    old = Linear(4, 4)
    fn.io.save(old, path)
    old_bytes = path.read_bytes()
    errnos = {"Permission denied": 13, "No space left on device": 28, "Input/output error": 5}

    def boom(*args, **kwargs):
        raise OSError(errnos[message], message)

    if failing == "write":  # the disk fills up while writing
        class FullDisk(io.FileIO):
            write = boom

        monkeypatch.setattr(fio.atomic.os, "fdopen", lambda fd, mode: FullDisk(fd, "wb"))
    else:
        monkeypatch.setattr(fio.atomic.os, failing, boom)
    with pytest.raises(error, match=rf"save\(\): cannot write '.*m.safetensors': {message}"):
        fn.io.save(Linear(4, 4), path)
    monkeypatch.undo()
    assert path.read_bytes() == old_bytes
    assert temp_files(tmp_path) == []
    assert same_weights(fn.io.load(path), old)


def test_read_only_directory(tmp_path):
    path = tmp_path / "m.safetensors"
    old = Linear(3, 3)
    fn.io.save(old, path)
    tmp_path.chmod(0o555)
    try:
        if os.access(tmp_path, os.W_OK):
            pytest.skip("running with permissions that ignore a read-only directory (root)")
        with pytest.raises(PermissionError, match=r"save\(\): cannot write '.*m.safetensors'"):
            fn.io.save(Linear(3, 3), path)
    finally:
        tmp_path.chmod(0o755)
    assert same_weights(fn.io.load(path), old)
    assert temp_files(tmp_path) == []


SAVE_FOREVER = """
    import os, sys, time
    import numpy as np
    import fastnn as fn
    import fastnn.io as fio
    path, mode = sys.argv[1], sys.argv[2]
    model = fn.nn.Sequential(fn.nn.Linear(1000, 1000), fn.nn.ReLU(), fn.nn.Linear(1000, 1000))
    if mode == "stall":  # stop inside the save, after the data is written, before the rename
        real_fsync = os.fsync
        def stall(fd):
            real_fsync(fd)
            print("stalled", flush=True)
            time.sleep(60)
        os.fsync = stall
        fio.save(model, path)
    else:  # save different weights over and over
        print("saving", flush=True)
        for i in range(1000):
            model[0].bias.data[:] = i
            fio.save(model, path)
"""


def test_kill_during_save_keeps_the_old_file(tmp_path):
    path = tmp_path / "m.safetensors"
    old = Sequential(Linear(1000, 1000), ReLU(), Linear(1000, 1000))
    fn.io.save(old, path)
    old_bytes = path.read_bytes()
    proc = child(SAVE_FOREVER, str(path), "stall")
    try:
        assert proc.stdout.readline().strip() == "stalled"
        assert len(temp_files(tmp_path)) == 1  # the new data is on disk, not yet renamed
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    assert path.read_bytes() == old_bytes
    assert same_weights(fn.io.load(path), old)


@pytest.mark.parametrize("delay", [0.02, 0.1, 0.25])
def test_kill_at_any_moment_leaves_a_complete_file(tmp_path, delay):
    path = tmp_path / "m.safetensors"
    first = Sequential(Linear(1000, 1000), ReLU(), Linear(1000, 1000))
    first[0].bias.data[:] = -1
    fn.io.save(first, path)
    proc = child(SAVE_FOREVER, str(path), "loop")
    try:
        assert proc.stdout.readline().strip() == "saving"
        time.sleep(delay)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    model = fn.io.load(path)  # the first file or the last complete save of the child
    bias = model[0].bias.data
    assert np.all(bias == bias[0])


# -- plain objects: save(model.state_dict(), path), checkpoint dicts (PyTorch's torch.save) --
def test_state_dict_round_trip_is_a_plain_safetensors_state_dict(tmp_path, rng):
    model = MODELS["nested"]()
    path = tmp_path / "weights.pth"
    fn.save(model.state_dict(), path)
    loaded = fn.load(path, weights_only=True, map_location="cpu")
    assert list(loaded) == list(model.state_dict())
    for key, value in model.state_dict().items():
        assert type(loaded[key]) is np.ndarray and loaded[key].dtype == np.float32
        np.testing.assert_array_equal(loaded[key], value)
    _, tensors = safetensors_format.read_file(path)  # an ordinary safetensors state dict
    assert sorted(tensors) == sorted(model.state_dict())
    other = MODELS["nested"]()
    other.load_state_dict(fn.load(path))
    X = rng.standard_normal((4, 5)).astype(np.float32)
    np.testing.assert_array_equal(other(X), model(X))
    with pytest.raises(FileFormatError, match=r"holds a saved object .*load_state_dict\(fastnn"):
        fn.load(path, model=other)


def test_checkpoint_dict_round_trip_resumes_training_exactly(tmp_path, rng):
    X = rng.standard_normal((8, 5)).astype(np.float32)
    g = rng.standard_normal((8, 2)).astype(np.float32)

    def step(model, opt):
        model(X)
        opt.zero_grad()
        model.backward(g)
        opt.step()

    fn.manual_seed(0)
    model = MODELS["nested"]()
    opt = fn.optim.Adam(model.parameters(), lr=0.01, betas=(0.8, 0.9))
    step(model, opt)
    ckpt = {"epoch": 3, "model": model.state_dict(), "optimizer": opt.state_dict(),
            "loss": 0.125, "best": float("inf"), "note": None, "tags": ["a", ("b", 2)],
            "labels": fn.tensor([1, 2]), "mask": fn.tensor([True, False]),
            "scale": np.float32(0.5), 7: "int key"}
    fn.save(ckpt, tmp_path / "ckpt.pt")
    back = fn.load(tmp_path / "ckpt.pt")
    assert list(back) == list(ckpt)
    assert (back["epoch"], back["loss"], back["best"], back["note"], back[7]) == (
        3, 0.125, float("inf"), None, "int key")
    assert back["tags"] == ["a", ("b", 2)] and back["scale"] == 0.5
    assert isinstance(back["labels"], fn.Tensor) and back["labels"].dtype == fn.int64
    assert back["labels"].tolist() == [1, 2] and back["mask"].dtype == fn.bool
    assert back["optimizer"]["param_groups"][0]["betas"] == (0.8, 0.9)
    resumed = MODELS["nested"]()
    resumed.load_state_dict(back["model"])
    resumed_opt = fn.optim.Adam(resumed.parameters())
    resumed_opt.load_state_dict(back["optimizer"])
    step(model, opt)
    step(resumed, resumed_opt)
    for a, b in zip(model.parameters(), resumed.parameters()):
        np.testing.assert_array_equal(np.asarray(a.data), np.asarray(b.data))


def test_object_save_errors(tmp_path):
    model = Sequential(Linear(2, 3))
    with pytest.raises(TypeError, match=r"cannot save object at obj\['a'\]\[0\]"):
        fn.save({"a": [object()]}, tmp_path / "x")
    with pytest.raises(TypeError, match="key of type tuple"):
        fn.save({(1, 2): 1}, tmp_path / "x")
    with pytest.raises(TypeError, match=r"obj\['s'\] has dtype <U1"):
        fn.save({"s": np.array(["a"])}, tmp_path / "x")
    with pytest.raises(TypeError, match="optimizer= goes with a Module"):
        fn.save(model.state_dict(), tmp_path / "x", optimizer=fn.optim.SGD(model.parameters(),
                                                                           lr=0.1))
    with pytest.raises(TypeError, match="must be a fastnn.nn.Module, a Tensor"):
        fn.save("model", tmp_path / "x")
    assert not (tmp_path / "x").exists()
    fn.save(model.state_dict(), tmp_path / "w")
    with pytest.raises(RuntimeError, match="CPU only"):
        fn.load(tmp_path / "w", map_location="cuda:0")


@pytest.mark.parametrize("tree, match", [
    ({"__tensor__": "missing", "kind": "ndarray"}, "names a tensor 'missing'"),
    ({"__tensor__": "0.weight", "kind": "pickle"}, "names a tensor"),
    ({"__dict__": [["a"]]}, "malformed dict entry"),
    ({"__dict__": [[True, 1]]}, "malformed dict entry"),
    ({"__what__": 1}, "malformed object node"),
    ({"__tensor__": "0.bias", "kind": "tensor", "requires_grad": 1}, "malformed tensor node"),
    ({"__tensor__": "0.bias", "kind": "tensor", "grad": True}, "malformed tensor node"),
    ([{"__tensor__": "0.bias", "kind": "ndarray"}] * 2, "uses tensor '0.bias' twice"),
    (json.loads("[" * 70 + "]" * 70), "nested deeper than 64"),
])
def test_malformed_saved_object_is_a_file_format_error(tmp_path, tree, match):
    path = write_st(tmp_path / "o.safetensors", W, good_info(architecture=None, object=tree))
    with pytest.raises(FileFormatError, match=match):
        fn.load(path)


def test_tensors_parameters_and_requires_grad_round_trip_as_torch(tmp_path):
    # torch.save / torch.load keep a Parameter's class and every leaf's requires_grad, and
    # save a lone Tensor as well as containers of them.
    w = fn.nn.Parameter(np.arange(6, dtype=np.float32).reshape(2, 3))
    frozen = fn.nn.Parameter(np.ones(2, np.float32), requires_grad=False)
    obj = {"w": w, "frozen": frozen, "t": fn.randn(2, requires_grad=True),
           "idx": fn.arange(4), "a": np.ones(3)}
    fn.save(obj, tmp_path / "o")
    back = fn.load(tmp_path / "o", weights_only=True)
    kinds = {k: (type(v).__name__, getattr(v, "requires_grad", None)) for k, v in back.items()}
    assert kinds == {"w": ("Parameter", True), "frozen": ("Parameter", False),
                     "t": ("Tensor", True), "idx": ("Tensor", False), "a": ("ndarray", None)}
    assert back["t"].is_leaf and back["idx"].dtype == fn.int64
    np.testing.assert_array_equal(back["w"].detach().numpy(), w.detach().numpy())
    fn.save(w, tmp_path / "p")
    p = fn.load(tmp_path / "p")
    assert isinstance(p, fn.nn.Parameter) and p.requires_grad
    np.testing.assert_array_equal(p.detach().numpy(), w.detach().numpy())
    fn.save(np.arange(3), tmp_path / "a")
    np.testing.assert_array_equal(fn.load(tmp_path / "a"), np.arange(3))


def test_object_round_trip_keeps_zero_d_shapes_and_reserved_names(tmp_path):
    class Scaled(fn.nn.Module):
        def __init__(self):
            super().__init__()
            self.temperature = fn.nn.Parameter(np.array(1.5, np.float32))

        def forward(self, x):
            return x * self.temperature

    m = Scaled()
    fn.save(m.state_dict(), tmp_path / "s")
    assert fn.load(tmp_path / "s")["temperature"].shape == ()
    m.load_state_dict(fn.load(tmp_path / "s"))
    fn.save({"t": fn.tensor(0.5), "__metadata__": np.arange(3)}, tmp_path / "o")
    back = fn.load(tmp_path / "o")
    assert back["t"].shape == () and back["t"].item() == 0.5
    assert back["__metadata__"].tolist() == [0, 1, 2]  # safetensors' reserved name, renamed


def test_a_sequential_it_cannot_describe_warns_at_save_and_load_names_the_layer(tmp_path):
    class Scaled(Linear):
        def forward(self, x):
            return super().forward(x) * 2

    model = Sequential(Linear(4, 4), Scaled(4, 2))
    with pytest.warns(UserWarning, match=r"no architecture, since cannot describe Scaled at "
                      r"model\[1\].*load\(path, model="):
        fn.save(model, tmp_path / "m.safetensors")
    # the load error named the Sequential only, as if Sequentials were never rebuilt
    with pytest.raises(FileFormatError, match=r"could not describe the fastnn\.nn\.container\."
                       r"Sequential it was given \(cannot describe Scaled at model\[1\]"):
        fn.load(tmp_path / "m.safetensors")
    shared = Linear(2, 2)
    with pytest.warns(UserWarning, match=r"shared weights"):
        fn.save(Sequential(shared, ReLU(), shared), tmp_path / "s.safetensors")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a custom model class: documented, no warning
        fn.save(TwoLayer(), tmp_path / "c.safetensors")


def test_a_file_name_near_the_limit_saves(tmp_path):
    # the temporary file was named after the whole target, 19 bytes longer: ENAMETOOLONG
    path = tmp_path / ("a" * 240 + ".safetensors")
    fn.save(Linear(2, 2), path)
    assert fn.load(path).weight.shape == (2, 2) and os.listdir(tmp_path) == [path.name]


def test_model_with_buffers_is_saved_without_architecture(tmp_path):
    model = Sequential(Linear(2, 2))
    model[0].register_buffer("mask", np.ones((2, 2), np.float32))
    with pytest.raises(TypeError, match="it has buffers"):
        to_spec(model)
    with pytest.warns(UserWarning, match="it has buffers"):
        fn.save(model, tmp_path / "m.safetensors")
    with pytest.raises(FileFormatError, match="holds no architecture"):
        fn.load(tmp_path / "m.safetensors")
    other = Sequential(Linear(2, 2))
    other[0].register_buffer("mask", np.zeros((2, 2), np.float32))
    fn.load(tmp_path / "m.safetensors", model=other)
    assert other[0].mask.tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_an_architecture_a_layer_refuses_is_a_file_format_error(tmp_path):
    # a tampered Dropout p (2.0) raised Dropout's own ValueError, without the file's name
    path = tmp_path / "m.safetensors"
    fn.save(Sequential(Linear(3, 4), fn.nn.Dropout(0.5), Linear(4, 2)), path)
    blob = path.read_bytes()
    n = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8:8 + n])
    meta = json.loads(header["__metadata__"]["fastnn"])
    meta["architecture"]["layers"][1]["p"] = 2.0
    header["__metadata__"]["fastnn"] = json.dumps(meta)
    text = json.dumps(header).encode()
    path.write_bytes(len(text).to_bytes(8, "little") + text + blob[8 + n:])
    with pytest.raises(FileFormatError, match=r"has an invalid architecture: .*'p'") as info:
        fn.load(path)
    assert info.value.path == str(path)


def test_loading_a_directory_names_the_function(tmp_path):
    for call in (fn.load, fn.io.load_metadata):
        with pytest.raises(IsADirectoryError, match="is a directory, not a file written by"):
            call(tmp_path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
@pytest.mark.parametrize("loader", [fn.load, fio.load_state_dict, fio.load_metadata])
def test_loading_a_fifo_raises_instead_of_waiting_for_a_writer(tmp_path, loader):
    # open() on a FIFO blocks until something writes to it: fn.load hung
    import threading

    path = tmp_path / "pipe.safetensors"
    os.mkfifo(path)
    result = {}

    def load():
        try:
            loader(path)
        except Exception as e:
            result["error"] = e

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    thread.join(10)
    if thread.is_alive():
        with open(path, "wb"):  # lets the blocked reader go
            pass
        thread.join(10)
        pytest.fail(f"{loader.__name__} waited on a FIFO")
    assert isinstance(result["error"], FileFormatError)
    assert "is not a regular file" in str(result["error"])
