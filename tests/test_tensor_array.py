"""``Parameter.data`` / ``.grad``: float32 C-contiguous ndarrays (API.md, Modules) that are
also Tensors outside the graph (API.md, PyTorch subset), with PyTorch's meaning where
the two APIs share a name. torch, where installed, is the oracle for the Tensor side.
"""

from __future__ import annotations

import copy
import io
import pickle

import numpy as np
import pytest

import fastnn as fn
import fastnn.nn as nn
import fastnn.nn.functional as F
from fastnn.autograd import TensorArray

try:
    import torch
except ImportError:  # pragma: no cover - torch is optional
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


def _linear(seed: int = 0) -> nn.Linear:
    fn.manual_seed(seed)
    return nn.Linear(3, 2)


def _memory(a) -> int:
    return np.asarray(a).__array_interface__["data"][0]


@pytest.mark.parametrize("attr", ["data", "grad"])
def test_data_and_grad_are_float32_c_contiguous_ndarrays_on_the_parameters_memory(attr):
    m = _linear()
    for p in m.parameters():
        a = getattr(p, attr)
        assert isinstance(a, np.ndarray) and isinstance(a, fn.Tensor)
        assert a.dtype == np.float32 and a.flags.c_contiguous and a.flags.writeable
        own = p._data if attr == "data" else p._grad._data
        assert np.shares_memory(a, own) and a.shape == own.shape
        assert not a.requires_grad and a.grad_fn is None and a.is_leaf and a.grad is None


def test_numpy_writes_reach_the_parameter_and_the_layer():
    m = _linear()
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.copyto(m.weight.data, np.ones((2, 3), np.float32))
    m.bias.data[...] = [1.0, -1.0]
    np.testing.assert_array_equal(m(x), x @ np.ones((3, 2), np.float32) + [1.0, -1.0])
    m.backward(np.ones((2, 2), np.float32))
    np.testing.assert_array_equal(m.weight.grad, np.ones((2, 2)).T @ x)
    np.asarray(m.weight.grad)[0] = 7.0
    assert float(m.weight.grad[0, 2]) == 7.0


def test_numpy_style_sgd_updates_in_place_without_copies():
    """``p.data -= lr * p.grad`` rebinds ``p.data`` to itself: the values change, the
    memory stays, and the setter does not copy the array onto itself."""
    m = _linear()
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    m(x)
    m.backward(np.ones((4, 2), np.float32))
    for p in m.parameters():
        before, g, where = p.data.copy(), p.grad.copy(), _memory(p.data)
        p.data -= 0.1 * p.grad
        np.testing.assert_array_equal(p.data, before - np.float32(0.1) * g)
        assert _memory(p.data) == where


def test_grad_in_place_update_keeps_the_flat_buffers():
    """``p.grad += x`` goes through the setter with the gradient's own memory: the flat
    buffers of ``flatten_parameters`` stay (the next call returns the same arrays)."""
    m = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    data, grad = m.flatten_parameters()
    for p in m.parameters():
        p.grad += 1.0
        p.data *= 2.0
    assert np.all(grad == 1.0)
    data2, grad2 = m.flatten_parameters()
    assert data2 is data and grad2 is grad


def test_tensor_meaning_wins_where_the_names_clash():
    m = _linear()
    d = m.weight.data
    assert d.size() == fn.Size([2, 3]) and d.size(1) == 3 and d.size == 6
    assert isinstance(d.shape, fn.Size) and d.dim() == 2 and d.numel() == 6
    v = d.view(-1)
    assert type(v) is fn.Tensor and v.shape == (6,) and np.shares_memory(v.numpy(), d)
    values, indices = d.max(0)
    np.testing.assert_array_equal(values.numpy(), np.asarray(d).max(0))
    np.testing.assert_array_equal(indices.numpy(), np.asarray(d).argmax(0))
    np.testing.assert_array_equal(d.repeat(2, 1).numpy(), np.tile(np.asarray(d), (2, 1)))
    np.testing.assert_array_equal(d.sum(dim=1).numpy(), np.asarray(d).sum(1))
    np.testing.assert_array_equal(d.sum(axis=1).numpy(), np.asarray(d).sum(1))
    assert repr(d).startswith("tensor([[") and str(d) == repr(d)
    assert d.data is d
    n = d.numpy()
    assert type(n) is np.ndarray and np.shares_memory(n, d)


def test_operators_give_tensors_and_in_place_methods_give_the_array_itself():
    m = _linear()
    d = m.weight.data
    w0 = d.copy()
    for result in (d + 1, 2 * d, d @ d.T, -d, d.exp(), F.relu(d)):
        assert type(result) is fn.Tensor
    assert d.add_(1.0) is d and d.mul_(2.0) is d
    np.testing.assert_allclose(m.weight.detach().numpy(), (w0 + 1) * 2)
    assert d.zero_() is d and not np.any(m.weight.detach().numpy())
    d += 3.0
    assert type(d) is TensorArray and np.all(m.weight.detach().numpy() == 3.0)
    assert m.weight.grad.fill_(5.0) is not None and np.all(m.weight.grad == 5.0)


def test_fastnn_functions_take_them_as_tensors():
    m = _linear()
    x = fn.randn(4, 3)
    np.testing.assert_allclose(F.linear(x, m.weight.data, m.bias.data).numpy(),
                               m(x).detach().numpy(), rtol=1e-6)
    flat = fn.cat([p.data.view(-1) for p in m.parameters()])
    assert flat.shape == (8,)
    assert fn.stack([m.weight.data, m.weight.data]).shape == (2, 2, 3)
    assert fn.is_tensor(m.weight.grad)
    nn.init.constant_(m.weight.data, 0.5)
    assert np.all(m.weight.detach().numpy() == 0.5)


def test_copies_and_pickles_are_arrays_with_the_values():
    m = _linear()
    d = m.weight.data
    for c in (copy.copy(d), copy.deepcopy(d), pickle.loads(pickle.dumps(d))):
        assert isinstance(c, np.ndarray) and isinstance(c, fn.Tensor)
        assert not np.shares_memory(c, d)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(d)), d)
    a = np.asarray(d)
    assert type(a) is np.ndarray and np.shares_memory(a, d)


def test_the_values_cannot_be_resized_or_given_other_storage():
    m = _linear()
    with pytest.raises(RuntimeError, match=r"assign the parameter's p.data = \.\.\."):
        m.weight.data.data = np.zeros((2, 3))
    with pytest.raises(RuntimeError, match="cannot be resized"), pytest.warns(UserWarning):
        fn.add(fn.ones(4), 1.0, out=m.weight.grad)
    assert np.all(m.weight.grad == 0.0)


def test_zero_grad_set_to_none_and_plain_tensors():
    m = _linear()
    m.zero_grad(set_to_none=True)
    assert m.weight.grad is None
    (m(fn.randn(2, 3)).sum()).backward()
    assert isinstance(m.weight.grad, TensorArray)
    x = fn.randn(3, requires_grad=True)
    (x * 2).sum().backward()
    assert type(x.grad) is fn.Tensor and type(x.data) is fn.Tensor  # only parameters'


def test_changes_through_data_stay_untracked():
    """As in PyTorch, an in-place update of ``w.data`` between forward and backward
    is not an in-place change the graph objects to, and the backward uses the new
    values (x's gradient is the weight it reads at backward time)."""
    m = _linear()
    x = fn.randn(2, 3, requires_grad=True)
    loss = m(x).sum()
    m.weight.data.add_(1.0)
    m.weight.data -= 0.5
    m.weight.data[0, 0] = 7.0
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.tile(m.weight.data.sum(0), (2, 1)))


@needs_torch
def test_torch_style_manual_sgd_matches_torch():
    """An old-style loop on ``.data`` / ``.grad`` (``add_(alpha=)``, ``grad.data.zero_()``,
    ``clamp_``) gives torch's parameters."""
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((8, 3)).astype(np.float32), rng.standard_normal((8, 2))
    ours, theirs = _linear(), torch.nn.Linear(3, 2)
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(ours.weight.detach().numpy()))
        theirs.bias.copy_(torch.from_numpy(ours.bias.detach().numpy()))
    for lib, model in ((fn, ours), (torch, theirs)):
        xt, yt = lib.from_numpy(x), lib.from_numpy(y.astype(np.float32))
        for _ in range(5):
            loss = ((model(xt) - yt) ** 2).mean()
            loss.backward()
            for p in model.parameters():
                p.data.add_(p.grad.data, alpha=-0.1)
                p.data.clamp_(-0.4, 0.4)
                p.grad.data.zero_()
    for a, b in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_numpy_functions_and_ufuncs_see_a_plain_array():
    """NumPy's functions call array methods internally (``a.sort()``, ``a.max(axis)``,
    ``a.shape`` in a saved header): they run on the plain array, with NumPy's meanings,
    and give plain arrays."""
    p = nn.Parameter(np.array([[3.0, 1.0], [3.0, 2.0]]))
    d, plain = p.data, np.array([[3.0, 1.0], [3.0, 2.0]], np.float32)
    buf = io.BytesIO()
    np.save(buf, d)
    buf.seek(0)
    np.testing.assert_array_equal(np.load(buf), plain)
    for f in (np.unique, np.sort, np.median, np.std, np.ravel, np.nonzero,
              lambda a: np.max(a, axis=0), lambda a: np.var(a, ddof=1),
              lambda a: np.intersect1d(a, [1.0, 3.0]), lambda a: np.tile(a, 2),
              np.exp, np.abs, lambda a: np.clip(a, 1.5, 2.5), np.zeros_like):
        ours, theirs = f(d), f(plain)
        assert type(ours) is type(theirs)
        np.testing.assert_array_equal(ours, theirs)
    np.multiply(p.grad, 0.0, out=p.grad)
    assert np.add(p.grad, 2.0, out=p.grad) is p.grad
    np.testing.assert_array_equal(p.grad, np.full((2, 2), 2.0))
    assert np.clip(d, 1.5, 2.5, out=d) is d
    np.testing.assert_array_equal(p.data, np.clip(plain, 1.5, 2.5))
    buf = np.empty((2, 2), np.float32)
    fractions, whole = np.modf(p.data * 1.5, out=(buf, None))  # one of two outputs given
    assert fractions is buf and type(whole) is np.ndarray
    np.testing.assert_array_equal(whole + fractions, np.clip(plain, 1.5, 2.5) * 1.5)


def test_indexing_is_numpys_so_a_finite_difference_check_works():
    """``old = p.data[i, j]`` is a scalar copy as in NumPy (the textbook gradient check
    below would silently restore the wrong value with a 0-d view); a slice is a view."""
    fn.manual_seed(0)
    m = nn.Linear(3, 2)
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    m(x)
    m.backward(np.ones((5, 2), np.float32))
    eps = 1e-2
    for p in m.parameters():
        numeric = np.zeros(p.data.shape)
        for idx in np.ndindex(*p.data.shape):
            old = p.data[idx]
            p.data[idx] = old + eps
            up = float(m(x).sum())
            p.data[idx] = old - eps
            down = float(m(x).sum())
            p.data[idx] = old
            numeric[idx] = (up - down) / (2 * eps)
        np.testing.assert_allclose(numeric, p.grad, rtol=1e-3, atol=1e-3)
    row = m.weight.data[0]
    row[...] = 9.0
    assert np.all(m.weight.detach().numpy()[0] == 9.0) and isinstance(row, fn.Tensor)


def test_tensors_made_from_them_work_as_any_tensor():
    m = _linear()
    m.weight.grad[...] = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = fn.from_numpy(m.weight.grad)
    assert type(t.numpy()) is np.ndarray and np.shares_memory(t.numpy(), m.weight.grad)
    np.testing.assert_allclose(t.log_softmax(1).numpy().shape, (2, 3))
    np.testing.assert_allclose(t.std().item(), np.arange(6).std(ddof=1), rtol=1e-6)
    x = fn.randn(2, 3, requires_grad=True)
    x.grad = m.weight.grad  # shares the parameter's gradient memory, as in torch
    (x * 2).sum().backward()
    np.testing.assert_array_equal(m.weight.grad, np.arange(6).reshape(2, 3) + 2.0)


def test_grad_is_one_object_and_data_a_new_one_as_in_torch():
    m = _linear()
    g = m.weight.grad
    assert m.weight.grad is g and m.weight.data is not m.weight.data
    m.weight.grad = np.ones((2, 3), np.float32)
    assert m.weight.grad is not g and np.all(m.weight.grad == 1.0)


@needs_torch
def test_assigning_data_between_forward_and_backward_is_untracked_as_in_torch():
    """``p.data += 3`` / ``p.data = p.data * 0.5`` after a forward that saved ``p``: torch
    leaves the version alone and the backward uses the new values."""
    grads = []
    for lib in (fn, torch):
        p = lib.nn.Parameter(lib.ones(3))
        x = lib.ones(3, requires_grad=True)
        y = (x * p).sum()
        p.data = p.data * 0.5
        y.backward()
        y = (x * p).sum()
        p.data += 3
        y.backward()
        grads.append(x.grad.numpy().copy())
    np.testing.assert_array_equal(grads[0], grads[1])


def test_reading_data_inside_a_traced_forward_keeps_it_eager():
    """A forward that reads a parameter's values through NumPy (``np.asarray`` of an
    ndarray subclass calls no hook) must not be traced with the first step's value
    frozen in: fit warns, runs it eagerly and matches a hand-written loop."""

    class MaxNorm(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(3, 1)

        def forward(self, x):
            norm = float(np.linalg.norm(np.asarray(self.fc.weight.data)))
            return self.fc(x) * (1.0 / norm if norm > 1.0 else 1.0)

    rng = np.random.default_rng(0)
    X = rng.standard_normal((32, 3)).astype(np.float32)
    y = rng.standard_normal((32, 1)).astype(np.float32)
    losses = []
    for use_fit in (True, False):
        fn.manual_seed(0)
        model = MaxNorm()
        model.fc.weight.data = [[2.0, 3.0, 1.0]]
        opt = fn.optim.SGD(model.parameters(), lr=0.5)
        if use_fit:
            with pytest.warns(RuntimeWarning, match="cannot be traced"):
                hist = fn.fit(model, X, y, loss=nn.MSELoss(), optimizer=opt, epochs=4,
                              batch_size=32, shuffle=False, verbose=0)
            losses.append(hist.history["loss"])
        else:
            run = []
            for _ in range(4):
                opt.zero_grad()
                loss = F.mse_loss(model(fn.from_numpy(X)), fn.from_numpy(y))
                loss.backward()
                opt.step()
                run.append(loss.item())
            losses.append(run)
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)
