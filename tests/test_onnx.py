"""fastnn.onnx.export: the exported graph, run in onnxruntime, matches fn.predict."""

from __future__ import annotations

import sys
from collections import OrderedDict

import numpy as np
import pytest

import fastnn as fn
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

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
fonnx = pytest.importorskip("fastnn.onnx")

MODELS = {
    "every_layer": lambda: Sequential(
        Linear(5, 8), ReLU(), Linear(8, 8, bias=False), LeakyReLU(0.2), Sigmoid(),
        Linear(8, 6), Tanh(), Dropout(0.3), Identity(),
        Sequential(Linear(6, 4), Sequential(Softmax(dim=-1)))),
    "gelu_erf": lambda: Sequential(Linear(5, 16), GELU(), Linear(16, 3)),
    "gelu_tanh": lambda: Sequential(Linear(5, 16), GELU("tanh"), Linear(16, 3)),
    "single_linear": lambda: Linear(5, 3),
    "named": lambda: Sequential(OrderedDict([
        ("fc1", Linear(5, 4)), ("act", ReLU()),
        ("head", Sequential(OrderedDict([("fc", Linear(4, 3))])))])),
    "no_bias": lambda: Linear(5, 3, bias=False),
    "softmax_dim1": lambda: Sequential(Linear(5, 4), Softmax(dim=1)),
    "log_softmax": lambda: Sequential(Linear(5, 4), LogSoftmax(dim=1)),
    "silu_elu_softplus": lambda: Sequential(Linear(5, 8), SiLU(), Linear(8, 8), ELU(0.5),
                                            Linear(8, 4), Softplus()),
    "softmax_over_batch": lambda: Sequential(Linear(5, 4), Softmax(dim=0)),
    "flatten": lambda: Sequential(Flatten(), Linear(5, 4), Flatten(-1, 1), ReLU()),
}


def run_onnx(path, X: np.ndarray) -> np.ndarray:
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(None, {"input": X})[0]


@pytest.mark.parametrize("opset", [17, 20])
@pytest.mark.parametrize("name", list(MODELS))
def test_export_matches_predict(tmp_path, name, opset):
    fn.manual_seed(0)
    model = MODELS[name]()
    path = tmp_path / "m.onnx"
    fonnx.export(model, path, opset=opset)
    rng = np.random.default_rng(1)
    for batch in (1, 7):
        X = (3 * rng.standard_normal((batch, 5))).astype(np.float32)
        np.testing.assert_allclose(run_onnx(path, X), fn.predict(model, X), rtol=1e-5, atol=1e-6)


def test_graph_layout(tmp_path):
    model = Sequential(Linear(5, 8), ReLU(), Sequential(Linear(8, 3, bias=False)))
    path = tmp_path / "m.onnx"
    fonnx.export(model, str(path))
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    assert [n.op_type for n in proto.graph.node] == ["Gemm", "Relu", "Gemm"]
    assert all(a.i == 1 for n in proto.graph.node if n.op_type == "Gemm"
               for a in n.attribute if a.name == "transB")
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer}
    assert sorted(inits) == ["0.bias", "0.weight", "2.0.weight"]
    for key, value in model.state_dict().items():
        assert inits[key].dtype == np.float32
        np.testing.assert_array_equal(inits[key], value)
    (inp,), (out,) = proto.graph.input, proto.graph.output
    assert inp.name == "input" and out.name == "output"
    dims = [(d.dim_param, d.dim_value) for d in inp.type.tensor_type.shape.dim]
    assert dims == [("batch", 0), ("", 5)]
    assert [d.dim_value for d in out.type.tensor_type.shape.dim][1] == 3
    assert proto.opset_import[0].version == 17
    assert {n.op_type for n in _gelu_nodes(tmp_path, 17)} == {"Div", "Erf", "Add", "Mul"}
    assert [n.op_type for n in _gelu_nodes(tmp_path, 20)] == ["Gemm", "Gelu"]


def _gelu_nodes(tmp_path, opset):
    fonnx.export(Sequential(Linear(2, 2), GELU()), tmp_path / "g.onnx", opset=opset)
    nodes = onnx.load(str(tmp_path / "g.onnx")).graph.node
    return nodes[1:] if opset < 20 else nodes


def test_dropout_in_training_mode_is_exported_as_identity(tmp_path):
    model = Sequential(Linear(4, 4), Dropout(0.5))
    assert model.training
    fonnx.export(model, tmp_path / "m.onnx")
    X = np.ones((3, 4), np.float32)
    np.testing.assert_array_equal(run_onnx(tmp_path / "m.onnx", X), fn.predict(model, X))


def test_model_without_linear_needs_input_dim(tmp_path):
    model = Sequential(Tanh(), Softmax())
    with pytest.raises(ValueError, match=r"export\(\): the model has no Linear layer, so pass"):
        fonnx.export(model, tmp_path / "m.onnx")
    fonnx.export(model, tmp_path / "m.onnx", input_dim=6)
    X = np.random.default_rng(0).standard_normal((7, 6)).astype(np.float32)
    np.testing.assert_allclose(run_onnx(tmp_path / "m.onnx", X), fn.predict(model, X),
                               rtol=1e-5, atol=1e-6)
    fonnx.export(Sequential(), tmp_path / "e.onnx", input_dim=2)
    np.testing.assert_array_equal(run_onnx(tmp_path / "e.onnx", X[:, :2]), X[:, :2])


class Custom(Module):
    """A forward the trace cannot export, chosen by ``kind``."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.fc = Linear(4, 3)

    def forward(self, x):
        h = self.fc(x)
        if self.kind == "control_flow":
            return h if float(h.sum()) > 0 else -h
        if self.kind == "constant":
            return fn.cat([h, fn.ones(h.shape[0], 1)], dim=1)
        if self.kind == "reduction":
            return h - h.mean(dim=0)
        if self.kind == "mask":
            return h * (x[:, :3] > 0).float()
        if self.kind == "detached":
            return h + x[:, :3].detach()
        if self.kind == "unknown_op":
            return h / h.var(dim=1, keepdim=True)
        if self.kind == "batch_reshape":
            return h.reshape(1, -1).reshape(-1, 3)
        if self.kind == "shape0":  # the batch size as a number: exported as a constant 7
            return h / x.shape[0]
        if self.kind == "len":
            return h * len(x)
        if self.kind == "size0":
            return h - x.size(0)
        if self.kind == "branch_on_len":  # the same graph at 7 and 11 rows, not at 1
            return h * 0.5 if len(x) > 1 else h
        if self.kind == "fixed_rows":  # runs at 7 rows only
            return h.view(7, -1)
        return h.detach()  # "cut": the output is not computed from the input on the graph


class ModuleOps(Module):
    """Every op the trace translates, in one forward (a residual, a concat, a permute)."""

    def __init__(self) -> None:
        super().__init__()
        self.W = fn.nn.Parameter(fn.randn(5, 6) * 0.3)
        self.b = fn.nn.Parameter(fn.zeros(6))
        self.fc = Linear(6, 6)
        self.head = Linear(12, 3)

    def forward(self, x):
        h = (x @ self.W + self.b).tanh()
        h = h + fn.relu(self.fc(h)) * 0.5 - fn.sigmoid(h) / 4.0
        h = fn.nn.functional.leaky_relu(-h, 0.1).abs() + (h * h).sqrt() + h.exp() * 0.01
        g = fn.nn.functional.gelu(h.reshape(-1, 2, 3).permute(0, 2, 1).flatten(1))
        z = self.head(fn.cat([h, fn.nn.functional.dropout(g, 0.0, training=False)], dim=1))
        z = z - z.mean(dim=1, keepdim=True) + (z ** 2).sum(1, keepdim=True) * 0.01
        return fn.log_softmax(z, dim=1) + (fn.softmax(z, dim=-1) + 1).log() + 2 ** z * 0.1


@pytest.mark.parametrize("opset", [17, 20])
def test_export_of_a_traced_module_matches_predict(tmp_path, opset):
    fn.manual_seed(0)
    model = ModuleOps()
    fonnx.export(model, tmp_path / "m.onnx", input_dim=5, opset=opset)
    rng = np.random.default_rng(1)
    for batch in (1, 6, 50):
        X = rng.standard_normal((batch, 5)).astype(np.float32)
        np.testing.assert_allclose(run_onnx(tmp_path / "m.onnx", X), fn.predict(model, X),
                                   rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind, error, match", [
    ("control_flow", TypeError, r"Custom.forward used .*may depend on the data"),
    ("constant", TypeError, "a cat reads a constant the autograd graph keeps no copy of"),
    ("reduction", TypeError, r"a ReduceMean over the batch dimension .* is not exported"),
    ("unknown_op", TypeError, r"the op VarBackward0 has no ONNX translation"),
    ("batch_reshape", TypeError, r"changes the batch dimension"),
    ("cut", TypeError, "does not return a Tensor computed from its input"),
    ("mask", TypeError, r"an Mul reads a \(7, 3\) array that is not on the graph"),
    ("detached", TypeError, r"an Add reads a \(7, 3\) array that is not on the graph"),
    # these exported a graph right only at 7 rows (batch 3 gave 3/7 of the output)
    ("shape0", TypeError, r"builds a different graph for 11 rows than for 7: it computes "
                          r"with the batch size"),
    ("len", TypeError, "builds a different graph for 11 rows than for 7"),
    ("size0", TypeError, "builds a different graph for 11 rows than for 7"),
    ("branch_on_len", TypeError, "builds a different graph for 1 rows than for 7"),
    # it was blamed on input_dim ("pass input_dim")
    ("fixed_rows", TypeError, r"Custom.forward runs on 7 rows but not on 11 \(shape"),
])
def test_traced_export_refuses_what_its_graph_cannot_show(tmp_path, kind, error, match):
    path = tmp_path / "m.onnx"
    with pytest.raises(error, match=match):
        fonnx.export(Custom(kind), path)
    assert not path.exists()


class BatchAware(Module):
    """Reads the batch size where the graph does not depend on it (a flatten written as
    in PyTorch tutorials), and divides a number by a value."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = Linear(6, 4)

    def forward(self, x):
        h = self.fc(x.view(x.size(0), 2, 3).view(x.shape[0], -1))
        return 1.0 / (h.abs() + 1.0) + 2.0 / (h * h + 0.5)


def test_traced_export_of_a_flatten_by_batch_size_and_a_number_over_a_value(tmp_path):
    # 1.0 / h raised "the op NumberDivBackward0 has no ONNX translation"
    fn.manual_seed(0)
    model = BatchAware()
    fonnx.export(model, tmp_path / "m.onnx")
    rng = np.random.default_rng(2)
    for batch in (1, 3, 40):
        X = rng.standard_normal((batch, 6)).astype(np.float32)
        np.testing.assert_allclose(run_onnx(tmp_path / "m.onnx", X), fn.predict(model, X),
                                   rtol=1e-5, atol=1e-6)


class Wrapped(Module):
    """Built-in layers inside a Module subclass, with a Tensor buffer read as an operand
    and an array buffer in a product (they traced as constants and were refused)."""

    def __init__(self, features: int = 4) -> None:
        super().__init__()
        self.fc = Linear(features, 6)
        self.acts = Sequential(SiLU(), ELU(0.5), Softplus())
        self.register_buffer("shift", fn.full((1, features), 0.25))
        self.register_buffer("proj", np.arange(12, dtype=np.float32).reshape(6, 2) / 10)

    def forward(self, x):
        return self.acts(self.fc(x - self.shift)) @ self.proj


def test_traced_export_takes_silu_elu_softplus_and_buffers(tmp_path):
    """SiLU, ELU and Softplus exported in a Sequential but not inside a Module subclass
    ("the op EluBackward0 has no ONNX translation"); buffers were refused as constants
    spanning the batch."""
    fn.manual_seed(0)
    model = Wrapped()
    fonnx.export(model, tmp_path / "m.onnx")
    X = np.random.default_rng(1).standard_normal((9, 4)).astype(np.float32)
    np.testing.assert_allclose(run_onnx(tmp_path / "m.onnx", X), fn.predict(model, X),
                               rtol=1e-5, atol=1e-6)
    names = {i.name for i in onnx.load(str(tmp_path / "m.onnx")).graph.initializer}
    assert {"shift", "proj"} <= names
    with pytest.raises(TypeError, match=r"softplus\(beta=2.0, threshold=20.0\) is not exported"):
        fonnx.export(_Lambda(lambda x: fn.nn.functional.softplus(x, beta=2.0)),
                     tmp_path / "s.onnx")


class _Lambda(Module):
    def __init__(self, f) -> None:
        super().__init__()
        self.f = f
        self.fc = Linear(3, 3)

    def forward(self, x):
        return self.f(self.fc(x))


def test_a_transposed_batch_is_refused_whatever_the_feature_count(tmp_path):
    """The trace ran 7 rows: with 7 features a forward returning (features, batch) passed
    as (batch, 7), and onnxruntime returned (7, N) where the graph promised (N, 7)."""
    for features in (3, 7, 11):
        with pytest.raises(TypeError, match=r"returns shape \(\d+, \d+\) for an input"):
            fonnx.export(_Square(features), tmp_path / "t.onnx")


class _Square(Module):
    def __init__(self, n: int) -> None:
        super().__init__()
        self.fc = Linear(n, n)

    def forward(self, x):
        return self.fc(x).t()


def test_a_loss_inside_the_model_names_the_forward(tmp_path):
    with pytest.raises(TypeError, match=r"Sequential.forward failed on an input of shape "
                       r"\(7, 6\): .*missing 1 required positional argument: 'target'"):
        fonnx.export(Sequential(Linear(6, 3), fn.nn.MSELoss()), tmp_path / "l.onnx")


def test_bad_arguments(tmp_path, monkeypatch):
    path = tmp_path / "m.onnx"
    path.write_bytes(b"old")
    model = Sequential(Linear(4, 3))
    cases = [
        (TypeError, r"export\(\): argument 'model' must be a fastnn.nn.Module, got str",
         lambda: fonnx.export("model", path)),
        (ValueError, r"ModuleOps.forward failed on an input of 6 features .*pass input_dim",
         lambda: fonnx.export(ModuleOps(), path)),
        (TypeError, "argument 'path' must be a str or os.PathLike",
         lambda: fonnx.export(model, 7)),
        (ValueError, r"argument 'opset' must be in \[13, \d+\], got 12",
         lambda: fonnx.export(model, path, opset=12)),
        (ValueError, r"argument 'opset' must be in \[13, \d+\], got 999",
         lambda: fonnx.export(model, path, opset=999)),
        (TypeError, "argument 'opset' must be an int",
         lambda: fonnx.export(model, path, opset="17")),
        (ValueError, "'input_dim' must be >= 1", lambda: fonnx.export(model, path, input_dim=0)),
        (ValueError, "'input_dim' is 5 but the first Linear has in_features=4",
         lambda: fonnx.export(model, path, input_dim=5)),
        (ValueError, r"layer '1' \(Linear\) expects 5 features but receives 3",
         lambda: fonnx.export(Sequential(Linear(4, 3), Linear(5, 2)), path)),
        (ValueError, r"layer '1' is Softmax\(dim=2\), but the exported input is 2-D",
         lambda: fonnx.export(Sequential(Linear(4, 3), Softmax(dim=2)), path)),
        (ValueError, r"layer '1' is Flatten\(start_dim=0, end_dim=-1\), but the exported input",
         lambda: fonnx.export(Sequential(Linear(4, 3), Flatten(0)), path)),
        (ValueError, r"layer '0' is Flatten\(start_dim=2, end_dim=-1\)",
         lambda: fonnx.export(Sequential(Flatten(2), Linear(4, 3)), path)),
    ]
    for error, match, call in cases:
        with pytest.raises(error, match=match):
            call()
    assert path.read_bytes() == b"old"  # no failed export touched the file
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r"needs the onnx package: pip install 'fastnn\[onnx\]'"):
        fonnx.export(model, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]


def test_softplus_exports_only_where_onnx_computes_the_same(tmp_path):
    for layer in (Softplus(beta=2.0), Softplus(threshold=1.0)):
        with pytest.raises(ValueError, match="ONNX's Softplus matches only beta 1"):
            fonnx.export(Sequential(Linear(5, 3), layer), tmp_path / "m.onnx")
