"""The lecture's dense layer from scratch, trained by autograd (PyTorch style, on fastnn).

MIT 6.S191's first lecture writes a dense layer as a Module with two Parameters and
a forward pass, and nothing else:

    z = inputs @ W + b          W (input_dim, output_dim), b (1, output_dim)
    output = sigmoid(z)

There is no backward here: autograd records the forward and loss.backward()
computes dL/dW and dL/db, as in PyTorch (swap `import fastnn as torch` and this
runs unchanged). Two such layers, 2 -> hidden -> 1, learn the two-moons set with
binary cross-entropy and SGD with momentum in a hand-written loop; the script checks one
autograd gradient against a finite difference, then prints the training curve
and the accuracy.

    python examples/dense_from_scratch.py --epochs 100
"""

import argparse

import fastnn as fn
import fastnn.nn.functional as F
from fastnn import nn


class MyDenseLayer(nn.Module):
    """A dense layer with a sigmoid: ``sigmoid(inputs @ W + b)``."""

    def __init__(self, input_dim: int, output_dim: int) -> None:
        super().__init__()
        # Parameters: Tensors that require grad, registered by assignment
        self.W = nn.Parameter(fn.randn(input_dim, output_dim))
        self.b = nn.Parameter(fn.randn(1, output_dim))

    def forward(self, inputs: fn.Tensor) -> fn.Tensor:
        z = fn.matmul(inputs, self.W) + self.b
        return fn.sigmoid(z)


class TwoLayerNet(nn.Module):
    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.hidden = MyDenseLayer(2, hidden)
        self.out = MyDenseLayer(hidden, 1)

    def forward(self, x: fn.Tensor) -> fn.Tensor:
        return self.out(self.hidden(x)).squeeze(1)  # (N,): the probability of class 1


def check_gradient(model: nn.Module, x: fn.Tensor, y: fn.Tensor) -> float:
    """Relative difference between autograd's dL/dW[0, 0] and a central finite difference."""
    model.zero_grad()
    F.binary_cross_entropy(model(x), y).backward()
    W = model.hidden.W
    analytic = W.grad[0, 0].item()
    eps = 1e-2
    with fn.no_grad():
        W[0, 0] += eps
        up = F.binary_cross_entropy(model(x), y).item()
        W[0, 0] -= 2 * eps
        down = F.binary_cross_entropy(model(x), y).item()
        W[0, 0] += eps
    numeric = (up - down) / (2 * eps)
    return abs(analytic - numeric) / max(abs(numeric), 1e-8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=400, help="points in the moons set")
    parser.add_argument("--epochs", type=int, default=100, help="passes over the data")
    parser.add_argument("--hidden", type=int, default=16, help="units in the hidden layer")
    parser.add_argument("--lr", type=float, default=1.0, help="SGD learning rate")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    args = parser.parse_args()

    fn.manual_seed(args.seed)
    X, y = fn.datasets.make_moons(n_samples=args.n_samples, noise=0.1, seed=args.seed)
    x, target = fn.tensor(X), fn.tensor(y, dtype=fn.float32)
    model = TwoLayerNet(args.hidden)
    print(f"gradient check (autograd vs finite difference): relative difference "
          f"{check_gradient(model, x, target):.1e}")

    loader = fn.utils.data.DataLoader(fn.utils.data.TensorDataset(x, target), batch_size=32,
                                      shuffle=True)
    optimizer = fn.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    for epoch in range(args.epochs):
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = F.binary_cross_entropy(model(xb), yb)
            loss.backward()  # dL/dW and dL/db of both layers, into .grad
            optimizer.step()
        if (epoch + 1) % max(args.epochs // 5, 1) == 0:
            with fn.no_grad():
                full = F.binary_cross_entropy(model(x), target).item()
            print(f"epoch {epoch + 1:4d}  loss {full:.4f}")

    with fn.no_grad():
        accuracy = ((model(x) > 0.5).float() == target).float().mean().item()
    print(f"training accuracy: {accuracy:.4f}")


if __name__ == "__main__":
    main()
