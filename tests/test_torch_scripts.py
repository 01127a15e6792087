"""PyTorch-style scripts run with the imports swapped, compared with torch.

Each script is written once, as a user would write it for torch, as a function of
the library (``L`` is ``torch`` or ``fastnn``; ``L.nn``, ``L.nn.functional``,
``L.optim`` and ``L.utils.data`` are the usual modules). Both runs start from the
same weights (torch's initial ``state_dict`` loaded into fastnn) and data; losses
and final weights must agree to float32 rounding.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import fastnn
import fastnn.nn.functional
import fastnn.utils.data

torch = pytest.importorskip("torch")
pytest.importorskip("torch.utils.data")


def _close(a, b, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64),
                               rtol=rtol, atol=atol)


# -- (1) tensor basics ---------------------------------------------------------------------------


def tensor_basics(L):
    out = {}
    data = [[1, 2], [3, 4]]
    x_data = L.tensor(data)
    x_ones = L.ones_like(x_data)
    x_rand = L.rand_like(x_data, dtype=L.float) * 0 + 0.5
    out["ones"] = x_ones
    out["rand"] = x_rand
    shape = (2, 3)
    out["zeros"] = L.zeros(shape)
    tensor = L.ones(4, 4)
    out["first_row"] = tensor[0]
    out["first_col"] = tensor[:, 0]
    out["last_col"] = tensor[..., -1]
    tensor[:, 1] = 0
    out["tensor"] = tensor
    t1 = L.cat([tensor, tensor, tensor], dim=1)
    out["cat"] = t1
    y1 = tensor @ tensor.T
    y2 = tensor.matmul(tensor.T)
    y3 = L.rand_like(y1) * 0
    L.matmul(tensor, tensor.T, out=y3)
    out["y1"], out["y2"], out["y3"] = y1, y2, y3
    z1 = tensor * tensor
    z2 = tensor.mul(tensor)
    out["z1"], out["z2"] = z1, z2
    agg = tensor.sum()
    out["agg_item"] = agg.item()
    tensor.add_(5)
    out["add_"] = tensor
    a = L.arange(12, dtype=L.float32).reshape(3, 4)
    out["view"] = a.view(4, 3)
    out["permute"] = a.unsqueeze(0).permute(2, 0, 1)
    out["squeeze"] = a[None].squeeze(0)
    out["flatten"] = L.flatten(a)
    out["mask"] = a[a > 5]
    out["fancy"] = a[[0, 2, 2], [1, 1, 3]]
    out["where"] = L.where(a > 4, a, L.zeros_like(a))
    out["argmax"] = a.argmax(dim=1)
    out["max"] = a.max(dim=0).values
    out["mean"] = a.mean(dim=1, keepdim=True)
    out["std"] = a.std()
    out["stack"] = L.stack([a, a * 2], dim=2)
    out["softmax"] = L.softmax(a, dim=1)
    out["exp_log"] = L.log(L.exp(a / 10) + 1)
    out["clamp"] = a.clamp(min=2, max=8)
    out["long"] = (a / 3).long()
    out["bool"] = ((a > 2) & (a < 9)) | ~(a != 0)
    out["eye"] = L.eye(3)
    out["linspace"] = L.linspace(0, 1, steps=5)
    out["full"] = L.full((2, 2), 7.0)
    out["tolist"] = a.tolist()
    n = np.ones(5, np.float32)
    t = L.from_numpy(n)
    np.add(n, 1, out=n)
    out["from_numpy"] = t
    t = L.ones(5)
    n = t.numpy()
    t.add_(1)
    out["numpy"] = n
    return out


def test_tensor_basics():
    ours, theirs = tensor_basics(fastnn), tensor_basics(torch)
    assert ours.keys() == theirs.keys()
    for k in theirs:
        a, b = ours[k], theirs[k]
        if isinstance(b, torch.Tensor):
            assert isinstance(a, fastnn.Tensor), k
            assert tuple(a.shape) == tuple(b.shape), k
            assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1], k
            b = b.numpy()
            a = a.numpy()
        assert np.array_equal(np.asarray(a), np.asarray(b)) or np.allclose(a, b, rtol=1e-6), k


# -- (2) polynomial fitting with manual updates -----------------------------------------------


def polynomial_fit(L, init, steps=300):
    dtype = L.float
    x = L.linspace(-math.pi, math.pi, 2000, dtype=dtype)
    y = L.sin(x)
    a = L.tensor(init[0], dtype=dtype, requires_grad=True)
    b = L.tensor(init[1], dtype=dtype, requires_grad=True)
    c = L.tensor(init[2], dtype=dtype, requires_grad=True)
    d = L.tensor(init[3], dtype=dtype, requires_grad=True)
    learning_rate = 1e-6
    losses = []
    for t in range(steps):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum()
        if t % 50 == 49:
            losses.append(loss.item())
        loss.backward()
        with L.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
    return losses, [a.item(), b.item(), c.item(), d.item()]


def test_polynomial_fitting():
    init = np.random.default_rng(0).standard_normal(4)
    (l1, w1), (l2, w2) = polynomial_fit(fastnn, init), polynomial_fit(torch, init)
    _close(l1, l2, rtol=1e-4)
    _close(w1, w2, rtol=1e-4, atol=1e-5)
    assert l1[-1] < l1[0]


def polynomial_module_fit(L, state, steps=100):
    class Polynomial3(L.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = L.nn.Parameter(L.randn(()))
            self.b = L.nn.Parameter(L.randn(()))
            self.c = L.nn.Parameter(L.randn(()))
            self.d = L.nn.Parameter(L.randn(()))

        def forward(self, x):
            return self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3

    x = L.linspace(-math.pi, math.pi, 2000)
    y = L.sin(x)
    model = Polynomial3()
    model.load_state_dict({k: L.tensor(v) for k, v in state.items()})
    criterion = L.nn.MSELoss(reduction="sum")
    optimizer = L.optim.SGD(model.parameters(), lr=1e-6)
    losses = []
    for _ in range(steps):
        y_pred = model(x)
        loss = criterion(y_pred, y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses, [p.item() for p in model.parameters()]


def test_polynomial_module_with_optimizer():
    rng = np.random.default_rng(1)
    state = {k: np.float32(rng.standard_normal()) for k in "abcd"}
    (l1, w1), (l2, w2) = polynomial_module_fit(fastnn, state), polynomial_module_fit(torch, state)
    _close(l1, l2, rtol=1e-4)
    _close(w1, w2, rtol=1e-4, atol=1e-5)


# -- (3) a custom Module with only forward, trained with an optimizer -----------------------------


def residual_mlp(L, state, X, Y, opt_name):
    nn, F = L.nn, L.nn.functional

    class ResidualMLP(nn.Module):
        def __init__(self, d_in, width, n_out, depth=2):
            super().__init__()
            self.inp = nn.Linear(d_in, width)
            self.blocks = nn.ModuleList([nn.Linear(width, width) for _ in range(depth)])
            self.drop = nn.Dropout(0.0)
            self.head = nn.Linear(width, n_out)

        def forward(self, x):
            h = F.relu(self.inp(x))
            for block in self.blocks:
                h = h + F.gelu(block(self.drop(h)))
            return self.head(h)

    model = ResidualMLP(6, 16, 3)
    if state is None:
        state = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    else:
        model.load_state_dict(state)
    model.train()
    if opt_name == "adam":
        optimizer = L.optim.Adam(model.parameters(), lr=1e-2)
    else:
        optimizer = L.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    X, Y = L.tensor(X), L.tensor(Y)
    losses = []
    for _ in range(15):
        optimizer.zero_grad()
        loss = loss_fn(model(X), Y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    with L.no_grad():
        acc = (model(X).argmax(1) == Y).float().mean().item()
    weights = {k: np.asarray(v.detach().numpy() if hasattr(v, "detach") else v).copy()
               for k, v in model.state_dict().items()}
    return state, losses, weights, acc


@pytest.mark.parametrize("opt_name", ["adam", "sgd"])
def test_custom_module_trained_with_optimizer(opt_name):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((32, 6)).astype(np.float32)
    Y = rng.integers(0, 3, 32)
    torch.manual_seed(0)
    state, l2, w2, acc2 = residual_mlp(torch, None, X, Y, opt_name)
    _, l1, w1, acc1 = residual_mlp(fastnn, state, X, Y, opt_name)
    _close(l1, l2, rtol=2e-4, atol=1e-5)
    assert w1.keys() == w2.keys()
    for k in w2:
        _close(w1[k], w2[k], rtol=1e-3, atol=2e-5)
    assert acc1 == acc2
    assert l1[-1] < l1[0]


# -- (4) the Quickstart: DataLoader over a TensorDataset, Flatten, CrossEntropyLoss, SGD ----------


def quickstart(L, state, train, test, path, batch_size=16, epochs=4):
    nn = L.nn
    DataLoader, TensorDataset = L.utils.data.DataLoader, L.utils.data.TensorDataset
    training_data = TensorDataset(L.tensor(train[0]), L.tensor(train[1]))
    test_data = TensorDataset(L.tensor(test[0]), L.tensor(test[1]))
    train_dataloader = DataLoader(training_data, batch_size=batch_size)
    test_dataloader = DataLoader(test_data, batch_size=batch_size)
    for X, y in test_dataloader:
        assert tuple(X.shape) == (batch_size, 1, 6, 6) and y.dtype == L.int64
        break

    class NeuralNetwork(nn.Module):
        def __init__(self):
            super().__init__()
            self.flatten = nn.Flatten()
            self.linear_relu_stack = nn.Sequential(
                nn.Linear(6 * 6, 32),
                nn.ReLU(),
                nn.Linear(32, 32),
                nn.ReLU(),
                nn.Linear(32, 4),
            )

        def forward(self, x):
            x = self.flatten(x)
            logits = self.linear_relu_stack(x)
            return logits

    device = "cpu"
    model = NeuralNetwork().to(device)
    if state is None:
        state = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    else:
        model.load_state_dict(state)
    text = str(model)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = L.optim.SGD(model.parameters(), lr=1e-1)
    log = []

    def train_loop(dataloader, model, loss_fn, optimizer):
        size = len(dataloader.dataset)
        model.train()
        for batch, (X, y) in enumerate(dataloader):
            X, y = X.to(device), y.to(device)
            pred = model(X)
            loss = loss_fn(pred, y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            if batch % 2 == 0:
                log.append((loss.item(), (batch + 1) * len(X), size))

    def test_loop(dataloader, model, loss_fn):
        model.eval()
        size = len(dataloader.dataset)
        num_batches = len(dataloader)
        test_loss, correct = 0, 0
        with L.no_grad():
            for X, y in dataloader:
                pred = model(X)
                test_loss += loss_fn(pred, y).item()
                correct += (pred.argmax(1) == y).type(L.float).sum().item()
        test_loss /= num_batches
        correct /= size
        log.append((test_loss, correct))

    for _ in range(epochs):
        train_loop(train_dataloader, model, loss_fn, optimizer)
        test_loop(test_dataloader, model, loss_fn)
    weights = {k: np.asarray(v.detach().numpy() if hasattr(v, "detach") else v).copy()
               for k, v in model.state_dict().items()}
    # Saving and loading the model, as the tutorial ends
    L.save(model.state_dict(), path)
    model = NeuralNetwork().to(device)
    model.load_state_dict(L.load(path, weights_only=True))
    model.eval()
    x = test_data[0][0]
    with L.no_grad():
        x = x.to(device)
        pred = model(x)
        log.append(("predicted", pred[0].argmax(0).item(), pred.detach().numpy().tolist()))
    return state, log, weights, text


def _images(rng, n):
    y = rng.integers(0, 4, n)
    X = rng.standard_normal((n, 1, 6, 6)).astype(np.float32) * 0.5
    X[np.arange(n), 0, y, y] += 4.0  # learnable: the class lights one pixel
    return X, y


def test_quickstart(tmp_path):
    rng = np.random.default_rng(3)
    train, test = _images(rng, 100), _images(rng, 48)
    torch.manual_seed(0)
    state, log2, w2, text2 = quickstart(torch, None, train, test, tmp_path / "torch.pth")
    _, log1, w1, text1 = quickstart(fastnn, state, train, test, tmp_path / "fastnn.pth")
    assert len(log1) == len(log2)
    (_, class1, pred1), (_, class2, pred2) = log1.pop(), log2.pop()  # after save and load
    assert class1 == class2
    _close(pred1, pred2, rtol=1e-3, atol=1e-4)
    for a, b in zip(log1, log2):
        _close(a, b, rtol=1e-4, atol=1e-5)
    for k in w2:
        _close(w1[k], w2[k], rtol=1e-3, atol=1e-5)
    assert text1 == text2
    assert log1[-1][1] > 0.5  # it learned


def test_quickstart_shuffled_runs_and_learns():
    rng = np.random.default_rng(4)
    train, test = _images(rng, 96), _images(rng, 32)
    fastnn.manual_seed(0)
    X, y = fastnn.tensor(train[0]), fastnn.tensor(train[1])
    loader = fastnn.utils.data.DataLoader(fastnn.utils.data.TensorDataset(X, y), batch_size=10,
                                          shuffle=True, drop_last=True)
    assert len(loader) == 9
    model = fastnn.nn.Sequential(fastnn.nn.Flatten(), fastnn.nn.Linear(36, 4))
    opt = fastnn.optim.SGD(model.parameters(), lr=0.2)
    loss_fn = fastnn.nn.CrossEntropyLoss()
    for _ in range(5):
        for xb, yb in loader:
            assert xb.shape == (10, 1, 6, 6)
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
    with fastnn.no_grad():
        acc = (model(fastnn.tensor(test[0])).argmax(1) == fastnn.tensor(test[1])).float().mean()
    assert acc.item() > 0.6
