"""MNIST-1D with a residual MLP written as a Module subclass (forward only, trained by autograd).

The model is the MNIST-1D paper's MLPBase shape, 40 -> hidden -> hidden -> 10 with a
skip connection around the second hidden layer, h2 = h1 + ReLU(W2 h1 + b2), which an
nn.Sequential cannot express. It is a fastnn.nn.Module with a forward written in
Tensor ops and no backward: fn.fit trains it through autograd (traced into one
replayed program by nn.TrainStep). The training settings are the paper's
(fn.training.mnist1d_recipe: Adam, lr 1e-2, batches of 100 in order, 6,000 steps).
The script trains one model per seed and prints each test accuracy and the mean.

Measured (fn.manual_seed 0-4, 1 thread): hidden=256 (the default here) reaches 67.6%
mean test accuracy; the paper's width, hidden=100, reaches 65.0% (PyTorch, same model
and recipe: 63.6%). Needs the mnist1d package (pip install 'fastnn[mnist1d]');
nothing is downloaded.

    python examples/mnist1d_residual.py --seeds 0 1 2 3 4
"""

import argparse
import sys
import time

import fastnn as fn
from fastnn import nn


class ResidualMLP(nn.Module):
    """Two hidden ReLU layers of ``hidden`` units, the second one with a skip connection."""

    def __init__(self, n_in: int = 40, hidden: int = 100, n_out: int = 10) -> None:
        super().__init__()
        self.linear1 = nn.Linear(n_in, hidden)
        self.linear2 = nn.Linear(hidden, hidden)
        self.linear3 = nn.Linear(hidden, n_out)

    def forward(self, x: fn.Tensor) -> fn.Tensor:
        h = self.linear1(x).relu()
        h = h + self.linear2(h).relu()  # the residual connection
        return self.linear3(h)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4],
                        help="one training run per seed (fn.manual_seed)")
    parser.add_argument("--epochs", type=int, default=150,
                        help="passes over the 4,000 training samples (150: the paper's 6,000 "
                             "steps)")
    parser.add_argument("--hidden", type=int, default=256,
                        help="units per hidden layer (the paper's MLPBase has 100)")
    parser.add_argument("--n-samples", type=int, default=5000,
                        help="samples generated (80%% train, 20%% test; 5000 is the paper's)")
    args = parser.parse_args()

    try:
        X_train, X_test, y_train, y_test = fn.datasets.load_mnist1d(n_samples=args.n_samples)
    except ImportError as err:
        sys.exit(str(err))
    print(f"MNIST-1D: {len(X_train)} training and {len(X_test)} test signals of "
          f"{X_train.shape[1]} samples")

    accuracies = []
    for seed in args.seeds:
        fn.manual_seed(seed)
        model, fit_kwargs = fn.training.mnist1d_recipe(ResidualMLP(hidden=args.hidden))
        fit_kwargs["epochs"] = args.epochs
        start = time.perf_counter()
        fn.fit(model, X_train, y_train, verbose=0, **fit_kwargs)
        seconds = time.perf_counter() - start
        accuracy = float((fn.predict(model, X_test).argmax(axis=1) == y_test).mean())
        accuracies.append(accuracy)
        print(f"seed {seed}: test accuracy {accuracy:.4f} ({seconds:.1f} s)")
    mean = sum(accuracies) / len(accuracies)
    print(f"mean test accuracy over {len(accuracies)} seeds: {mean:.4f}")


if __name__ == "__main__":
    main()
