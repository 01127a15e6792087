"""Handwritten digits with dropout and early stopping; the training curves saved as a PNG.

The bundled 8x8 digits (1,797 images, no download): a stratified train/test split,
pixels scaled to [0, 1], an MLP 64 -> 128 -> 10 with dropout, Adam, and fn.fit
holding out the last 10% of the training data for validation. EarlyStopping
watches the validation loss, stops when it has not improved for `--patience`
epochs and puts back the weights of the best epoch. fn.plot_history draws the
loss and accuracy curves with that epoch marked. Needs matplotlib
(pip install 'fastnn[plot]').

    python examples/digits.py --epochs 100 --out-dir .
"""

import argparse
import sys
from pathlib import Path

import fastnn as fn
from fastnn import nn

try:
    import matplotlib  # noqa: F401  (plot_history needs it: check before training, not after)
except ImportError:
    sys.exit("digits.py needs matplotlib: pip install 'fastnn[plot]'")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100, help="maximum training epochs")
    parser.add_argument("--patience", type=int, default=10, help="early stopping patience")
    parser.add_argument("--hidden", type=int, default=128, help="hidden units")
    parser.add_argument("--dropout", type=float, default=0.2, help="dropout probability")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--verbose", type=int, default=0, choices=(0, 1, 2),
                        help="fit's progress: 0 silent, 1 progress bar, 2 one line per epoch")
    parser.add_argument("--out-dir", type=Path, default=Path("."), help="where to save the PNG")
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)  # before training, not after

    fn.manual_seed(args.seed)
    X, y = fn.datasets.load_digits()  # X (1797, 64) with pixel values 0..16, y (1797,)
    X_train, X_test, y_train, y_test = fn.data.train_test_split(
        X, y, test_size=0.2, seed=args.seed, stratify=True)
    X_train, X_test = X_train / 16.0, X_test / 16.0

    model = nn.Sequential(
        nn.Linear(64, args.hidden), nn.ReLU(),
        nn.Dropout(args.dropout),  # active in fit's training passes, off in evaluate/predict
        nn.Linear(args.hidden, 10),
    )
    stop = fn.callbacks.EarlyStopping(monitor="val_loss", patience=args.patience,
                                      restore_best_weights=True)
    history = fn.fit(model, X_train, y_train, loss=nn.CrossEntropyLoss(),
                     optimizer=fn.optim.Adam(model.parameters(), lr=1e-3),
                     epochs=args.epochs, batch_size=32, validation_split=0.1,
                     metrics=["accuracy"], callbacks=[stop], verbose=args.verbose,
                     seed=args.seed)

    if history.stopped_epoch is not None:
        print(f"early stopping at epoch {history.stopped_epoch + 1}, "
              f"best epoch {history.best_epoch + 1} restored")
    else:
        print(f"ran all {len(history.epoch)} epochs")
    result = fn.evaluate(model, X_test, y_test, loss=nn.CrossEntropyLoss(), metrics=["accuracy"])
    print(f"test accuracy: {result['accuracy']:.4f}")

    path = args.out_dir / "digits_curves.png"
    fn.plot_history(history, path, title="digits: MLP with dropout and early stopping")
    print(f"training curves saved to {path}")


if __name__ == "__main__":
    main()
