"""XOR needs a hidden layer: a linear model cannot learn it, a one-hidden-layer MLP can.

make_xor puts points around the four corners (+-1, +-1); the label is 1 when the
two coordinates have different signs. No straight line separates the classes, so
a linear model (logits = X W^T + b) can at best cut off one corner (75% accuracy);
in practice its cross-entropy is lowest near zero weights, where its loss is
ln 2 = 0.693 (a coin flip) and its accuracy anywhere from 25% to 75%, depending on
which way the nearly flat line happens to tilt. One hidden layer of tanh units
bends the boundary: loss near 0, accuracy ~100%.

    python examples/xor.py --epochs 100
"""

import argparse

import fastnn as fn
from fastnn import nn


def train(model: nn.Module, X, y, epochs: int, seed: int) -> dict:
    """Fits `model` with Adam on cross-entropy; returns its training loss and accuracy."""
    fn.fit(model, X, y, loss=nn.CrossEntropyLoss(),
           optimizer=fn.optim.Adam(model.parameters(), lr=0.05),
           epochs=epochs, batch_size=32, verbose=0, seed=seed)
    return fn.evaluate(model, X, y, loss=nn.CrossEntropyLoss(), metrics=["accuracy"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=400, help="number of points")
    parser.add_argument("--epochs", type=int, default=100, help="training epochs")
    parser.add_argument("--hidden", type=int, default=8, help="hidden units of the MLP")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    args = parser.parse_args()

    fn.manual_seed(args.seed)  # same weights, shuffling and data on every run
    X, y = fn.datasets.make_xor(args.n_samples, noise=0.1, seed=args.seed)

    # 1. Linear model: 2 inputs straight to 2 class logits. No hidden layer.
    linear = nn.Sequential(nn.Linear(2, 2))
    lin = train(linear, X, y, args.epochs, args.seed)

    # 2. MLP: 2 -> hidden (tanh) -> 2. The hidden layer makes the problem separable.
    mlp = nn.Sequential(nn.Linear(2, args.hidden), nn.Tanh(), nn.Linear(args.hidden, 2))
    hid = train(mlp, X, y, args.epochs, args.seed)

    print(f"linear model (no hidden layer): loss {lin['loss']:.4f}  "
          f"training accuracy {lin['accuracy']:.4f}")
    print(f"MLP ({args.hidden} hidden tanh units):      "
          f"loss {hid['loss']:.4f}  training accuracy {hid['accuracy']:.4f}")


if __name__ == "__main__":
    main()
