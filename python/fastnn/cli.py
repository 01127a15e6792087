"""The ``fastnn`` command line: ``fastnn train`` and ``fastnn info``.

``fastnn train`` with no arguments trains an MLP on the bundled 8x8 digits:
a stratified train/test split, scaling with the training statistics, a
stratified validation split, ReLU + dropout + Adam on label-smoothed
cross-entropy, and early stopping on the validation loss that restores the best
weights. It prints one line per epoch
and finally a line with the test accuracy.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

import numpy as np

DATASETS = ("digits", "spirals", "moons", "xor")
ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid", "gelu")
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop", "adagrad")


def _hidden_sizes(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in text.replace(" ", "").split(",") if s]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"hidden sizes must be >= 1, got {text!r}")
    return sizes


def _positive(kind: type):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {kind.__name__}, got {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value

    return parse


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fastnn", description="fastnn: a small, fast neural-network library."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = sub.add_parser(
        "train",
        help="train an MLP (default: on the bundled handwritten digits)",
        description="Train an MLP with mini-batch gradient descent, dropout, a validation "
        "split and early stopping, then report the test accuracy.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    train.add_argument("--dataset", choices=DATASETS, default="digits", help="training data")
    train.add_argument(
        "--hidden",
        type=_hidden_sizes,
        default="256,128",
        metavar="SIZES",
        help="hidden layer sizes, comma-separated",
    )
    train.add_argument(
        "--activation", choices=ACTIVATIONS, default="relu", help="hidden-layer activation"
    )
    train.add_argument(
        "--optimizer", choices=OPTIMIZERS, default="adam", help="PyTorch-default settings but lr"
    )
    train.add_argument("--lr", type=_positive(float), default=1e-3, help="learning rate")
    train.add_argument(
        "--batch-size", type=_positive(int), default=32, help="samples per optimizer step"
    )
    train.add_argument("--epochs", type=_positive(int), default=100, help="maximum epochs")
    train.add_argument("--dropout", type=float, default=0.2, help="dropout probability in [0, 1)")
    train.add_argument(
        "--patience",
        type=int,
        default=10,
        help="early stopping: epochs without val_loss improvement",
    )
    train.add_argument(
        "--label-smoothing", type=float, default=0.1, help="cross-entropy label smoothing in [0, 1]"
    )
    train.add_argument("--test-size", type=float, default=0.2, help="held-out test fraction")
    train.add_argument(
        "--val-split",
        type=float,
        default=0.1,
        help="fraction of the training data used for validation",
    )
    train.add_argument("--seed", type=int, default=0, help="random seed (init, dropout, shuffling)")
    train.add_argument(
        "--threads",
        type=_positive(int),
        default=None,
        help="OpenMP threads; unset means OMP_NUM_THREADS or all cores",
    )
    train.add_argument(
        "--verbose",
        type=int,
        choices=(0, 1, 2),
        default=2,
        help="0 silent, 1 progress bar, 2 one line per epoch",
    )

    sub.add_parser("info", help="print build and runtime facts (fastnn.info())")
    return parser


def _load(dataset: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from . import datasets

    if dataset == "digits":
        return datasets.load_digits()
    make = {
        "spirals": datasets.make_spirals,
        "moons": datasets.make_moons,
        "xor": datasets.make_xor,
    }
    return make[dataset](n_samples=1000, seed=seed)


def _normalize(dataset: str, X_train: np.ndarray, X_test: np.ndarray):
    """Scales inputs with statistics of the training split only.

    Digits: pixel intensities 0..16 divided by the training maximum, to [0, 1]
    (better than per-pixel standardisation here: it does not blow up the noise of
    the nearly constant border pixels). Other sets: per-feature standardisation.
    """
    if dataset == "digits":
        scale = float(X_train.max()) or 1.0
        return X_train / scale, X_test / scale
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    std[std == 0] = 1.0
    return (X_train - mean) / std, (X_test - mean) / std


def _build_mlp(n_in: int, hidden: Sequence[int], n_out: int, activation: str, dropout: float):
    from . import nn

    act = {
        "relu": nn.ReLU,
        "leaky_relu": nn.LeakyReLU,
        "tanh": nn.Tanh,
        "sigmoid": nn.Sigmoid,
        "gelu": nn.GELU,
    }[activation]
    layers: list[nn.Module] = []
    for width in hidden:
        layers += [nn.Linear(n_in, width), act()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        n_in = width
    layers.append(nn.Linear(n_in, n_out))
    return nn.Sequential(*layers)


def cmd_train(args: argparse.Namespace) -> int:
    import fastnn as fn

    if not 0.0 <= args.dropout < 1.0:
        raise ValueError(f"--dropout must be in [0, 1), got {args.dropout}")
    if not 0.0 <= args.label_smoothing <= 1.0:
        raise ValueError(f"--label-smoothing must be in [0, 1], got {args.label_smoothing}")
    if args.patience < 0:
        raise ValueError(f"--patience must be >= 0, got {args.patience}")
    if args.threads is not None:
        fn.set_num_threads(args.threads)
    fn.manual_seed(args.seed)

    X, y = _load(args.dataset, args.seed)
    X_train, X_test, y_train, y_test = fn.data.train_test_split(
        X, y, test_size=args.test_size, seed=args.seed, stratify=True
    )
    X_train, X_test = _normalize(args.dataset, X_train, X_test)
    X_fit, X_val, y_fit, y_val = fn.data.train_test_split(
        X_train, y_train, test_size=args.val_split, seed=args.seed + 1, stratify=True
    )

    n_classes = int(y.max()) + 1
    model = _build_mlp(X.shape[1], args.hidden, n_classes, args.activation, args.dropout)
    optimizer = {
        "adam": fn.optim.Adam,
        "adamw": fn.optim.AdamW,
        "sgd": fn.optim.SGD,
        "rmsprop": fn.optim.RMSprop,
        "adagrad": fn.optim.Adagrad,
    }[args.optimizer](model.parameters(), lr=args.lr)
    stop = fn.callbacks.EarlyStopping(
        monitor="val_loss", patience=args.patience, restore_best_weights=True
    )

    print(
        f"fastnn {fn.__version__}: {args.dataset} ({len(X_fit)} train / {len(X_val)} validation "
        f"/ {len(X_test)} test samples), MLP {X.shape[1]}-"
        f"{'-'.join(map(str, args.hidden))}-{n_classes} {args.activation}, dropout "
        f"{args.dropout}, {args.optimizer} lr {args.lr}, batch {args.batch_size}, "
        f"{fn.get_num_threads()} thread(s), {fn.info()['simd']}"
    )
    start = time.perf_counter()
    history = fn.fit(
        model,
        X_fit,
        y_fit,
        loss=fn.nn.CrossEntropyLoss(label_smoothing=args.label_smoothing),
        optimizer=optimizer,
        epochs=args.epochs,
        batch_size=args.batch_size,
        validation_data=(X_val, y_val),
        metrics=["accuracy"],
        callbacks=[stop],
        verbose=args.verbose,
        seed=args.seed,
    )
    elapsed = time.perf_counter() - start
    result = fn.evaluate(model, X_test, y_test, loss=fn.nn.CrossEntropyLoss(), metrics=["accuracy"])
    ran = len(history.epoch)
    if history.stopped_epoch is not None:
        print(
            f"early stopping at epoch {history.stopped_epoch + 1}; "
            f"restored the weights of epoch {history.best_epoch + 1}"
        )
    print(f"trained {ran} epochs in {elapsed:.2f}s")
    correct = round(result["accuracy"] * len(y_test))
    print(
        f"test accuracy: {result['accuracy']:.4f} ({correct}/{len(y_test)})  "
        f"test loss: {result['loss']:.4f}"
    )
    return 0


def cmd_info() -> int:
    import fastnn as fn

    for key, value in fn.info().items():
        print(f"{key}: {value}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fastnn`` command; returns the exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        if args.command == "train":
            return cmd_train(args)
        return cmd_info()
    except (ValueError, TypeError) as err:
        print(f"fastnn {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
