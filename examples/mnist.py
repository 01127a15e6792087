"""MNIST (70,000 28x28 handwritten digits) with an MLP, when the data files are present.

fn.datasets.load_mnist reads the four standard IDX files (plain or .gz) from
--data-dir. Without them the script says where to put them and exits; with
--download it fetches them (about 11 MB, checksums verified). Then an MLP
784 -> 256 -> 128 -> 10 with dropout trains with Adam for a few epochs and
the script prints its test accuracy.

    python examples/mnist.py --data-dir ~/data/mnist --download
"""

import argparse
import sys
from pathlib import Path

import fastnn as fn
from fastnn import nn

FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("data/mnist"),
                        help="directory holding the MNIST IDX files")
    parser.add_argument("--download", action="store_true",
                        help="download missing files (from $FASTNN_MNIST_MIRROR if set)")
    parser.add_argument("--epochs", type=int, default=5, help="training epochs")
    parser.add_argument("--batch-size", type=int, default=128, help="samples per step")
    parser.add_argument("--limit", type=int, default=None,
                        help="train on the first LIMIT training images only (quick runs)")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--verbose", type=int, default=2, choices=(0, 1, 2),
                        help="fit's progress: 0 silent, 1 progress bar, 2 one line per epoch")
    args = parser.parse_args()

    try:
        X_train, y_train = fn.datasets.load_mnist(args.data_dir, train=True,
                                                  download=args.download)
        X_test, y_test = fn.datasets.load_mnist(args.data_dir, train=False,
                                                download=args.download)
    except FileNotFoundError:
        # Not an error for an example: say what to do and stop.
        print(f"MNIST not found in '{args.data_dir}': put {', '.join(FILES)} (or their .gz) "
              f"there, or rerun with --download to fetch them")
        return
    except (OSError, ValueError) as err:  # a failed download, a corrupt file
        sys.exit(f"mnist.py: {err}")
    if args.limit is not None:
        X_train, y_train = X_train[:args.limit], y_train[:args.limit]
    print(f"MNIST: {len(X_train)} training and {len(X_test)} test images from '{args.data_dir}'")

    fn.manual_seed(args.seed)
    # X rows are the 784 pixels of an image, already scaled to [0, 1] by load_mnist.
    model = nn.Sequential(
        nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(256, 128), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(128, 10),
    )
    fn.fit(model, X_train, y_train, loss=nn.CrossEntropyLoss(),
           optimizer=fn.optim.Adam(model.parameters(), lr=1e-3),
           epochs=args.epochs, batch_size=args.batch_size, validation_split=0.1,
           metrics=["accuracy"], verbose=args.verbose, seed=args.seed)
    result = fn.evaluate(model, X_test, y_test, loss=nn.CrossEntropyLoss(), metrics=["accuracy"])
    print(f"test accuracy: {result['accuracy']:.4f}")


if __name__ == "__main__":
    main()
