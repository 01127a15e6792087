"""ProbabilityCrossEntropyLoss (Keras's categorical cross-entropy on probabilities) and
fit's Keras loss names, which stand for it.

The reference is Keras's formula in float64: rows divided by their sums, clipped to
[1e-7, 1 - 1e-7], minus the log at the label (or the target-weighted sum of logs).
"""

from __future__ import annotations

import numpy as np
import pytest

import fastnn as fn
import reference as ref
from fastnn import nn

EPS = 1e-7


def keras_reference(p, target, reduction="mean"):
    """Keras's categorical cross-entropy in float64: the value (per sample for "none")."""
    p = np.asarray(p, np.float64)
    q = np.clip(p / p.sum(axis=-1, keepdims=True), EPS, 1.0 - EPS)
    t = np.asarray(target)
    if t.ndim == 1:
        per = -np.log(q[np.arange(len(t)), t])
    else:
        per = -(t * np.log(q)).sum(axis=-1)
    return {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]


def probabilities(rng, n, c):
    """Rows of a softmax: every entry well inside (EPS, 1 - EPS), so no clip is active."""
    z = rng.standard_normal((n, c))
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("soft", [False, True])
@pytest.mark.parametrize("shape", [(1, 1), (1, 2), (7, 3), (13, 10)])
def test_value_and_gradient_match_keras_formula_and_finite_differences(rng, shape, soft,
                                                                      reduction):
    n, c = shape
    # unnormalised rows (Keras divides by the sum): the gradient has the sum's term
    p = rng.uniform(0.05, 0.95, shape).astype(np.float32)
    labels = rng.integers(0, c, n)
    target = np.eye(c, dtype=np.float32)[labels] * 0.8 + 0.2 / c if soft else labels
    loss = nn.ProbabilityCrossEntropyLoss(reduction=reduction)
    value = loss(p, target)
    grad = loss.backward()
    assert grad.dtype == np.float32 and grad.shape == p.shape
    assert value == pytest.approx(keras_reference(p, target, reduction), rel=1e-6, abs=1e-7)
    fd = ref.numerical_grad(lambda v: keras_reference(v, target, reduction), p, 1e-6)
    np.testing.assert_allclose(grad, fd, rtol=1e-4, atol=1e-6)
    # backward(grad_out) scales
    np.testing.assert_allclose(loss.backward(2.5), 2.5 * grad, rtol=1e-5, atol=1e-9)


def test_reduction_none_and_tensor_path(rng):
    p, y = probabilities(rng, 6, 4), rng.integers(0, 4, 6)
    per = nn.ProbabilityCrossEntropyLoss(reduction="none")(p, y)
    np.testing.assert_allclose(per, keras_reference(p, y, "none"), rtol=1e-6)
    # on Tensors: a 0-d Tensor on the graph, the same value and gradient as the NumPy path
    loss = nn.ProbabilityCrossEntropyLoss()
    value = loss(p, y)
    grad = loss.backward()
    x = fn.tensor(p, requires_grad=True)
    t = loss(x, fn.tensor(y))
    assert isinstance(t, fn.Tensor) and t.ndim == 0
    t.backward()
    assert float(t) == pytest.approx(value, rel=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), grad, rtol=1e-6, atol=1e-9)


def test_clipping_follows_keras(rng):
    # a probability of 0 at the label costs -log(1e-7), not inf, and passes no gradient
    p = np.array([[0.0, 1.0], [0.5, 0.5]], np.float32)
    loss = nn.ProbabilityCrossEntropyLoss(reduction="none")
    per = loss(p, np.array([0, 1]))
    assert per[0] == pytest.approx(-np.log(np.float32(EPS)), rel=1e-6)
    assert per[1] == pytest.approx(np.log(2.0), rel=1e-6)
    assert np.isfinite(loss.backward(np.ones(2))).all()


def test_bad_input_raises_naming_the_argument():
    loss = nn.ProbabilityCrossEntropyLoss()
    logits = np.array([[2.0, -1.0], [0.5, 0.3]], np.float32)
    with pytest.raises(ValueError, match=r"argument 'pred' must hold probabilities.*got 2\.0.*"
                                         r"nn\.Softmax\(\).*CrossEntropyLoss"):
        loss(logits, np.array([0, 1]))
    with pytest.raises(ValueError, match="probabilities"):
        loss(np.array([[np.nan, 0.5]], np.float32), np.array([0]))
    p = np.full((2, 3), 1 / 3, np.float32)
    with pytest.raises(IndexError, match="target 3 is out of bounds for 3 classes"):
        loss(p, np.array([0, 3]))
    with pytest.raises(ValueError, match=r"'target' shape \(3,\).*'pred' shape \(2, 3\)"):
        loss(p, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"argument 'pred' must have shape \(N, C\).*\(3,\)"):
        loss(np.full(3, 1 / 3), np.array([0]))
    with pytest.raises(TypeError, match="'target'"):
        loss(p, np.array([["a"] * 3] * 2))
    with pytest.raises(ValueError, match="'reduction'"):
        nn.ProbabilityCrossEntropyLoss(reduction="avg")


def softmax_mlp():
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3), nn.Softmax(dim=-1))


def blobs(n=90, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    X = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.5]])[y] + rng.normal(0, 0.6, (n, 2))
    return X.astype(np.float32), y


def test_keras_loss_names_take_probabilities():
    # fit and evaluate read "sparse_categorical_crossentropy" as PyTorch's cross-entropy on
    # logits: a Keras model ending in Softmax got a second softmax (0.650 for Keras's 0.614
    # on make_moons) and weaker gradients, silently
    X, y = blobs()
    fn.manual_seed(0)
    model = softmax_mlp()
    p = fn.predict(model, X)
    for name, target in [("sparse_categorical_crossentropy", y),
                         ("categorical_crossentropy", np.eye(3)[y])]:
        r = fn.evaluate(model, X, target, loss=name, metrics=["accuracy"])
        assert r["loss"] == pytest.approx(keras_reference(p, y), rel=1e-5)
        assert r["accuracy"] == pytest.approx(np.mean(p.argmax(1) == y))
    histories = []
    for name, target in [("sparse_categorical_crossentropy", y),
                         ("categorical_crossentropy", np.eye(3)[y]),
                         (nn.ProbabilityCrossEntropyLoss(), y)]:
        fn.manual_seed(0)
        model = softmax_mlp()
        h = fn.fit(model, X, target, loss=name, optimizer="adam", epochs=40, batch_size=16,
                   metrics=["accuracy"], seed=0, verbose=0)
        histories.append(h.history)
    for key in ("loss", "accuracy"):
        np.testing.assert_allclose(histories[1][key], histories[0][key], rtol=1e-5)
        np.testing.assert_allclose(histories[2][key], histories[0][key], rtol=1e-5)
    assert histories[0]["loss"][-1] < 0.5 * histories[0]["loss"][0]
    assert histories[0]["accuracy"][-1] > 0.9


def test_keras_loss_name_on_logits_raises_clearly():
    X, y = blobs()
    model = nn.Sequential(nn.Linear(2, 3))
    with pytest.raises(ValueError, match="probabilities.*loss='cross_entropy'"):
        fn.fit(model, X, y, loss="sparse_categorical_crossentropy", optimizer="adam",
               verbose=0)
    with pytest.raises(ValueError, match="probabilities"):
        fn.evaluate(model, X, y, loss="categorical_crossentropy")

    class Logits(nn.Module):  # a forward-only model: trained through autograd
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 3)

        def forward(self, x):
            return self.fc(x)

    with pytest.raises(ValueError, match="probabilities.*loss='cross_entropy'"):
        fn.fit(Logits(), X, y, loss="sparse_categorical_crossentropy", optimizer="adam",
               verbose=0)


def test_keras_loss_name_with_an_autograd_module():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 3)

        def forward(self, x):
            return fn.softmax(self.fc(x), dim=-1)

    X, y = blobs()
    fn.manual_seed(0)
    h = fn.fit(Net(), X, y, loss="sparse_categorical_crossentropy", optimizer="adam",
               epochs=10, batch_size=16, seed=0, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]


def test_tensor_path_checks_as_the_array_path():
    # on Tensors nothing was checked: logits trained silently, label -1 picked the last
    # column, a 3-D pred gave a number, an array pred with a Tensor target raised a TypeError
    loss = nn.ProbabilityCrossEntropyLoss()
    with pytest.raises(ValueError, match="must hold probabilities"):
        loss(fn.tensor([[2.0, -1.0]], requires_grad=True), fn.tensor([0]))
    p = fn.tensor([[0.2, 0.8], [0.5, 0.5]])
    with pytest.raises(IndexError, match="target -1 is out of bounds for 2 classes"):
        loss(p, fn.tensor([0, -1]))
    with pytest.raises(IndexError, match="target 2 is out of bounds"):
        loss(p, fn.tensor([0, 2]))
    with pytest.raises(ValueError, match=r"must have shape \(N, C\).*\(1, 2, 2\)"):
        loss(p[None], fn.tensor([0]))
    value = loss(np.array([[0.2, 0.8], [0.5, 0.5]], np.float32), fn.tensor([1, 0]))
    assert float(value) == pytest.approx(-(np.log(0.8) + np.log(0.5)) / 2, rel=1e-6)
    # soft targets on Tensors
    soft = fn.tensor([[0.0, 1.0], [1.0, 0.0]])
    assert float(loss(p, soft)) == pytest.approx(float(value), rel=1e-6)


def test_a_clipped_label_probability_passes_no_gradient():
    # below 1e-7 the clip is flat: the sample adds -log(1e-7) and nothing to the gradient;
    # just above it, a gradient of -1 / (N q) at the label
    p = np.array([[1e-9, 1.0 - 1e-9], [0.25, 0.75]], np.float32)
    loss = nn.ProbabilityCrossEntropyLoss()
    loss(p, np.array([0, 0]))
    grad = loss.backward()
    np.testing.assert_array_equal(grad[0], [0.0, 0.0])
    q = np.float32(0.25)
    np.testing.assert_allclose(grad[1], [-(1 - q) / (2 * q), q / (2 * q)], rtol=1e-6)
