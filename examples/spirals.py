"""Spirals: an MLP learns three interleaved spiral arms; we plot its decision regions.

Trains a 2 -> 64 -> 64 -> 3 ReLU network on fn.datasets.make_spirals with Adam,
then colours every point of a fine grid by the class the network predicts there
and draws the data on top. Needs matplotlib (pip install 'fastnn[plot]').

    python examples/spirals.py --epochs 300 --out-dir .
"""

import argparse
import sys
from pathlib import Path

import numpy as np

import fastnn as fn
from fastnn import nn

try:
    # The Figure class directly: no pyplot window, works without a display.
    from matplotlib.figure import Figure
except ImportError:
    sys.exit("spirals.py needs matplotlib: pip install 'fastnn[plot]'")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=600, help="number of points")
    parser.add_argument("--epochs", type=int, default=300, help="training epochs")
    parser.add_argument("--hidden", type=int, default=64, help="units per hidden layer")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--out-dir", type=Path, default=Path("."), help="where to save the PNG")
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)  # before training, not after

    fn.manual_seed(args.seed)
    X, y = fn.datasets.make_spirals(args.n_samples, n_classes=3, noise=0.1, seed=args.seed)

    model = nn.Sequential(
        nn.Linear(2, args.hidden), nn.ReLU(),
        nn.Linear(args.hidden, args.hidden), nn.ReLU(),
        nn.Linear(args.hidden, 3),  # one logit per arm
    )
    fn.fit(model, X, y, loss=nn.CrossEntropyLoss(),
           optimizer=fn.optim.Adam(model.parameters(), lr=0.01),
           epochs=args.epochs, batch_size=64, verbose=0, seed=args.seed)
    accuracy = fn.evaluate(model, X, y, loss=nn.CrossEntropyLoss(), metrics=["accuracy"])[
        "accuracy"]
    print(f"training accuracy: {accuracy:.4f}")

    # Decision regions: predict the class at each point of a 300 x 300 grid.
    lo, hi = X.min(axis=0) - 0.2, X.max(axis=0) + 0.2
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 300), np.linspace(lo[1], hi[1], 300))
    grid = np.column_stack([gx.ravel(), gy.ravel()])  # (90000, 2)
    regions = fn.predict(model, grid).argmax(axis=1).reshape(gx.shape)

    fig = Figure(figsize=(5.5, 5), layout="constrained")
    ax = fig.add_subplot()
    ax.contourf(gx, gy, regions, levels=[-0.5, 0.5, 1.5, 2.5], colors=["C0", "C1", "C2"],
                alpha=0.3)
    for k in range(3):
        ax.scatter(X[y == k, 0], X[y == k, 1], s=12, color=f"C{k}", edgecolors="k",
                   linewidths=0.3, label=f"class {k}")
    ax.set_title(f"MLP decision regions (training accuracy {accuracy:.1%})")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_aspect("equal")
    ax.legend(loc="upper right")
    path = args.out_dir / "spirals.png"
    fig.savefig(path)
    print(f"decision boundary saved to {path}")


if __name__ == "__main__":
    main()
