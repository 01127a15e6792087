"""The ``fastnn`` command line: ``train``, ``evaluate``, ``bench`` and ``info``.

``fastnn train`` with no arguments trains an MLP on the bundled 8x8 digits:
a stratified train/test split, scaling with the training statistics, a
stratified validation split, ReLU + dropout + Adam on label-smoothed
cross-entropy, and early stopping on the validation loss that restores the best
weights. It prints one line per epoch and finally a line with the test accuracy.
Each data set has its own tuned defaults (``fastnn train --help`` lists them);
every option overrides them.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any

from ._cli_data import DATASETS, PRESETS, load_split, make_normalizer, split_errors_name

ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid", "gelu")
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop", "adagrad")


class CLIError(Exception):
    """A user error: printed as one line, exit status 2."""


def _hidden_sizes(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in text.replace(" ", "").split(",")]  # "4,,4": an error too
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None
    if not sizes or any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"hidden sizes must be integers >= 1, got {text!r}")
    if any(s > _MAX_WIDTH for s in sizes):  # NumPy's "Maximum allowed dimension exceeded"
        raise argparse.ArgumentTypeError(f"hidden sizes must be at most {_MAX_WIDTH:,}, "
                                         f"got {text!r}")
    return sizes


_MAX_WIDTH = 2**31 - 1  # a layer's width, as the kernels index it


def _positive(kind: type):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            expected = "an integer" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not 0 < value < math.inf:  # NaN and inf too (--lr inf trained to a NaN loss)
            expected = "an integer > 0" if kind is int else "a finite number > 0"
            raise argparse.ArgumentTypeError(f"must be {expected}, got {text}")
        return value

    return parse


def _path(text: str) -> str:
    if not text:  # `--save "$OUT"` with OUT unset would otherwise skip the save silently
        raise argparse.ArgumentTypeError("expected a file path, got an empty string")
    return text


def _readable(path: str, option: str) -> str:
    """``path`` when it is a file, else ``FileNotFoundError`` naming ``option`` (one line,
    exit status 1: ``main``), not the loader's function."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{option}: no such file: {path!r}" if not os.path.exists(path)
                                else f"{option}: not a file: {path!r}")
    return path


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if not 0 <= value <= 2**64 - 1:  # what manual_seed takes, less the negative seeds
        raise argparse.ArgumentTypeError(f"must be in [0, 2**64 - 1], got {text}")
    return value


def _thread_count(text: str) -> int:
    n = _positive(int)(text)
    if n > 2**31 - 1:  # what set_num_threads takes (a C int)
        raise argparse.ArgumentTypeError(f"must be <= {2**31 - 1}, got {text}")
    return n


def _can_create_in(directory: str) -> bool:
    """Whether a file can be created in ``directory`` (tried: permissions alone do not say,
    e.g. for root on a read-only file system)."""
    try:
        with tempfile.TemporaryFile(dir=directory):
            return True
    except OSError:
        return False


def _preset_table() -> str:
    lines = ["per-dataset defaults (used for options you do not give):"]
    for name, p in PRESETS.items():
        lines.append(
            f"  {name:14s} hidden {p['hidden']}, lr {p['lr']}, batch {p['batch_size']}, "
            f"epochs {p['epochs']}, dropout {p['dropout']}, label smoothing "
            f"{p['label_smoothing']}, patience {p['patience']}"
        )
    return "\n".join(lines)


def _add_data_options(parser: argparse.ArgumentParser, dataset_default: str) -> None:
    parser.add_argument("--dataset", choices=DATASETS,
                        help=f"the data set (default: {dataset_default})")
    parser.add_argument(
        "--data-dir",
        default="data",
        help="folder of the IDX files for mnist (DATA_DIR/mnist) and fashion-mnist "
        "(DATA_DIR/fashion-mnist)",
    )
    parser.add_argument(
        "--download", action="store_true", help="download missing MNIST/Fashion-MNIST files"
    )


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fastnn",
        description="fastnn: a small, fast neural-network library. "
        "Start with `fastnn train`; `fastnn COMMAND --help` explains each command.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = sub.add_parser(
        "train",
        help="train an MLP (default: on the bundled handwritten digits)",
        description="Train an MLP with mini-batch gradient descent, dropout, a validation "
        "split and early stopping, then report the test accuracy.",
        epilog=_preset_table(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_data_options(train, "digits; with --resume: the one the file records")
    train.add_argument("--hidden", type=_hidden_sizes, metavar="SIZES",
                       help="hidden layer sizes, comma-separated, e.g. 256,128")
    train.add_argument("--activation", choices=ACTIVATIONS,
                       help="hidden-layer activation (default: relu)")
    train.add_argument("--optimizer", choices=OPTIMIZERS,
                       help="optimizer with PyTorch's defaults but lr (default: adam; with "
                       "--resume, the saved run's)")
    train.add_argument("--lr", type=_positive(float), help="learning rate")
    train.add_argument("--batch-size", type=_positive(int), help="samples per optimizer step")
    train.add_argument("--epochs", type=_positive(int),
                       help="maximum number of epochs (with --resume: of more epochs)")
    train.add_argument("--dropout", type=float, help="dropout probability in [0, 1)")
    train.add_argument("--label-smoothing", type=float, help="cross-entropy label smoothing")
    train.add_argument("--patience", type=int,
                       help="early stopping: epochs without val_loss improvement")
    train.add_argument("--test-size", type=float,
                       help="held-out test fraction where the data set has no test split "
                       "(default: 0.2; with --resume: the saved run's)")
    train.add_argument("--val-split", type=float, default=0.1,
                       help="fraction of the training data used for validation (default: 0.1)")
    train.add_argument("--seed", type=_seed,
                       help="random seed: init, dropout, shuffling, splits (default: 0; "
                       "with --resume: the saved run's, so the splits stay the same)")
    train.add_argument("--threads", type=_thread_count,
                       help="OpenMP threads (default: OMP_NUM_THREADS or all cores)")
    train.add_argument("--verbose", type=int, choices=(0, 1, 2), default=2,
                       help="0 silent, 1 progress bar, 2 one line per epoch (default: 2)")
    train.add_argument("--plot", type=_path, metavar="PNG",
                       help="save the training curves to this PNG")
    train.add_argument("--save", type=_path, metavar="PATH",
                       help="save the trained model (.safetensors) with its optimizer state")
    train.add_argument("--resume", type=_path, metavar="PATH",
                       help="continue training from a file written by --save")
    train.add_argument("--distributed", action="store_true",
                       help="data-parallel training over MPI, run under `mpiexec -n N`: "
                       "--batch-size is per process; rank 0 alone prints, plots and saves "
                       "(needs pip install 'fastnn[dist]')")

    evaluate = sub.add_parser(
        "evaluate",
        help="evaluate a saved model on a data set's test split",
        description="Load a model saved by `fastnn train --save` and report its test loss "
        "and accuracy, with the data set and preprocessing recorded in the file.",
    )
    evaluate.add_argument("--model", required=True, type=_path, metavar="PATH",
                          help="the saved model")
    _add_data_options(evaluate, "the one the model file records")
    evaluate.set_defaults(dataset=None)
    evaluate.add_argument("--threads", type=_thread_count, help="OpenMP threads")

    bench = sub.add_parser(
        "bench",
        help="time fastnn against NumPy (kernels) or NumPy and PyTorch (training steps)",
        description="--suite kernels (default): check, then time, matmul, Linear, "
        "activations, softmax cross-entropy, dropout, the Adam step and a whole training step "
        "with fastnn and with hand-written NumPy at the same thread count, and print a table "
        "with ratios. --suite train-step: samples/s of a whole MLP training step (forward, "
        "cross-entropy, backward, Adam) with fastnn, a hand-written NumPy MLP and PyTorch (when "
        "installed), each library in its own process, rounds interleaved, threads pinned for "
        "all; configurations A 784-512-256-10 batch 128, B 64-64-10 batch 32, C "
        "784-1024-1024-10 batch 512. For a fair NumPy baseline on machines that set them: "
        "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE fastnn bench",
    )
    bench.add_argument("--suite", choices=("kernels", "train-step"), default="kernels",
                       help="what to time (default: kernels)")
    bench.add_argument("--quick", action="store_true",
                       help="one call per timed loop: a ~1 s smoke test, not a measurement")
    bench.add_argument("--threads", type=_thread_count, nargs="+",
                       help="thread count(s) for every library (default: fastnn's count)")
    bench.add_argument("--repeat", type=_positive(int), default=5,
                       help="timed loops (train-step: interleaved rounds) per library; the "
                       "median is kept (default: 5)")
    bench.add_argument("--case", action="append", metavar="NAME",
                       help="kernels: a case or group (matmul, linear, activation, "
                       "cross_entropy, adam, dropout, train_step); train-step: a configuration "
                       "(A, B, C); repeatable (default: all)")
    bench.add_argument("--lib", action="append", metavar="NAME",
                       help="train-step: a library (fastnn, fastnn-fused, numpy, torch, "
                       "torch-fused); repeatable (default: all that are available)")

    sub.add_parser("info", help="print build and runtime facts (fastnn.info())")
    return parser


def _resume_defaults(args: argparse.Namespace) -> None:
    """Fills --dataset, --seed, --test-size and --optimizer where not given: with --resume
    from the saved run (the same data and splits: another seed or test size would move
    test samples into training; its optimizer, whose state the file holds), else digits,
    0, 0.2 and adam."""
    saved: dict[str, Any] = {}
    optimizer = "adam"
    if args.resume:
        import fastnn as fn

        info = fn.io.load_metadata(_readable(args.resume, "--resume"))
        saved = info["metadata"]
        recorded = (info["optimizer"] or {}).get("class", "Adam")
        optimizer = recorded.lower()
        if optimizer not in OPTIMIZERS and args.optimizer is None:
            raise CLIError(f"--resume: {args.resume} holds {recorded} state, an optimizer "
                           f"fastnn train does not offer ({', '.join(OPTIMIZERS)})")
    if args.optimizer is None:
        args.optimizer = optimizer
    if args.dataset is None:
        args.dataset = saved.get("dataset", "digits")
        if args.dataset not in DATASETS:
            raise CLIError(f"--resume: {args.resume} records the data set {args.dataset!r}, "
                           f"not one of {', '.join(DATASETS)}: pass --dataset")
    for flag, key, index in (("--seed", "seed", 0), ("--test-size", "test_size", 1)):
        if getattr(args, key) is None:
            try:
                value = _recorded_split({key: saved[key]} if key in saved else {},
                                        args.resume)[index]
            except CLIError as err:
                raise CLIError(f"--resume: {err}; pass {flag}") from None
            setattr(args, key, value)


def _resolve(args: argparse.Namespace) -> dict[str, Any]:
    """The training settings: the data set's preset, overridden by the options given."""
    if args.resume:
        given = [f"--{k}" for k in ("hidden", "activation", "dropout")
                 if getattr(args, k) is not None]
        if given:
            raise CLIError(f"{', '.join(given)} describe a new model, but --resume continues "
                           "the saved one: leave them out")
    _resume_defaults(args)
    settings = dict(PRESETS[args.dataset])
    for key in ("hidden", "lr", "batch_size", "epochs", "dropout", "label_smoothing", "patience"):
        value = getattr(args, key)
        if value is not None:
            settings[key] = value
    for flag, path in (("--save", args.save), ("--plot", args.plot)):
        directory = os.path.dirname(os.path.abspath(path)) if path else ""
        if path and (os.path.isdir(path) or path.endswith(("/", os.sep))):
            raise CLIError(f"{flag}: {path!r} is a directory; give a file name (checked "
                           "before training, so a run is not lost at the end)")
        if flag == "--save" and path:
            from .io.atomic import writable_target
            try:  # a device or FIFO, which a save (an atomic replace) refuses
                writable_target(path, flag)
            except OSError as err:
                raise CLIError(f"{err.strerror} (checked before training, so a run is not "
                               "lost at the end)") from None
        if path and not os.path.isdir(directory):
            raise CLIError(f"{flag}: directory of {path!r} does not exist (checked before "
                           "training, so a run is not lost at the end)")
        if path and not _can_create_in(directory):
            raise CLIError(f"{flag}: cannot create files in {directory!r} (checked before "
                           "training, so a run is not lost at the end)")
    # the optional package --plot needs, before training too
    from ._optional import require
    if args.plot:
        require("matplotlib", "fastnn train --plot", "plot")
    if isinstance(settings["hidden"], str):
        settings["hidden"] = _hidden_sizes(settings["hidden"])
    if not 0.0 <= settings["dropout"] < 1.0:
        raise CLIError(f"--dropout must be in [0, 1), got {settings['dropout']}")
    if not 0.0 <= settings["label_smoothing"] <= 1.0:
        raise CLIError(f"--label-smoothing must be in [0, 1], got {settings['label_smoothing']}")
    if settings["patience"] < 0:
        raise CLIError(f"--patience must be >= 0, got {settings['patience']}")
    if not 0.0 < args.test_size < 1.0:
        raise CLIError(f"--test-size must be in (0, 1), got {args.test_size}")
    if not 0.0 < args.val_split < 1.0:
        raise CLIError(f"--val-split must be in (0, 1), got {args.val_split}")
    return settings


def _build_mlp(n_in: int, hidden: Sequence[int], n_out: int, activation: str, dropout: float):
    from . import nn

    act = {
        "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "tanh": nn.Tanh,
        "sigmoid": nn.Sigmoid, "gelu": nn.GELU,
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

    settings = _resolve(args)
    if not args.distributed:
        return _train(args, settings, 0, 1)
    from .distributed._mpi import abort

    rank, world_size = fn.distributed.init()
    try:
        if rank == 0:
            return _train(args, settings, rank, world_size)
        with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
            return _train(args, settings, rank, world_size)
    except Exception as err:  # the other ranks may be waiting for this one: end them all
        if world_size == 1:
            raise
        print(f"fastnn train: error on rank {rank}: {err}", file=sys.stderr)
        abort(1)


def _load_model(path: str, use: str, prefix: str = "") -> Any:
    """The model saved at ``path``; ``CLIError`` where the file holds another object
    (``fn.save(model.state_dict(), path)``, a Tensor, a dict)."""
    import fastnn as fn

    model = fn.load(path)
    if not isinstance(model, fn.nn.Module):
        raise CLIError(f"{prefix}{path} holds a saved {type(model).__name__}, not a model: to "
                       f"{use}, give a file written by fastnn train --save or "
                       "fn.save(model, path)")
    return model


def _check_model_fits(model: Any, path: str, dataset: str, n_features: int,
                      max_label: int | None, meta: dict[str, Any], use: str,
                      prefix: str = "") -> None:
    """``CLIError`` unless the saved MLP at ``path`` takes ``dataset``'s ``n_features`` and
    has an output for each label up to ``max_label``, before anything runs or prints."""
    import fastnn as fn

    linears = [m for m in model.modules() if isinstance(m, fn.nn.Linear)]
    trained_on = f"{use} on the data set it was trained on ({meta.get('dataset', 'not recorded')})"
    if linears and n_features != linears[0].in_features:
        raise CLIError(f"{prefix}{path} takes {linears[0].in_features} input features, but "
                       f"{dataset} has {n_features}: {trained_on}")
    if linears and max_label is not None and max_label >= linears[-1].out_features:
        raise CLIError(f"{prefix}{path} outputs {linears[-1].out_features} classes, but "
                       f"{dataset} has labels up to {max_label}: {trained_on}")


def _train(args: argparse.Namespace, settings: dict[str, Any], rank: int, world_size: int) -> int:
    """``fastnn train`` on one rank of ``world_size`` (1 without --distributed)."""
    import fastnn as fn

    if args.threads is not None:
        fn.set_num_threads(args.threads)
    fn.manual_seed(args.seed)

    X_train, X_test, y_train, y_test = load_split(args.dataset, args.data_dir, args.download,
                                                  args.test_size, args.seed)
    normalizer = make_normalizer(args.dataset, X_train)
    X_train, X_test = normalizer.apply(X_train), normalizer.apply(X_test)
    with split_errors_name("--val-split"):
        X_fit, X_val, y_fit, y_val = fn.data.train_test_split(
            X_train, y_train, test_size=args.val_split, seed=args.seed + 1, stratify=True
        )

    n_classes = int(max(y_train.max(), y_test.max())) + 1
    initial_epoch, resume_meta = 0, None
    if args.resume:
        resume_meta = fn.io.load_metadata(args.resume)
        model = _load_model(args.resume, "resume it", prefix="--resume: ")
        _check_model_fits(model, args.resume, args.dataset, X_train.shape[1], n_classes - 1,
                          resume_meta["metadata"], "resume it", prefix="--resume: ")
        initial_epoch = _recorded_epoch(resume_meta["metadata"], args.resume)
    else:
        model = _build_mlp(X_train.shape[1], settings["hidden"], n_classes,
                           args.activation or "relu",
                           settings["dropout"])
    optimizer_cls = {
        "adam": fn.optim.Adam, "adamw": fn.optim.AdamW, "sgd": fn.optim.SGD,
        "rmsprop": fn.optim.RMSprop, "adagrad": fn.optim.Adagrad,
    }[args.optimizer]
    optimizer = optimizer_cls(model.parameters(), lr=settings["lr"])
    if resume_meta is not None and resume_meta["optimizer"] is not None:
        saved_cls = resume_meta["optimizer"]["class"]
        if saved_cls != type(optimizer).__name__:
            raise CLIError(f"--optimizer {args.optimizer}: {args.resume} holds {saved_cls} "
                           "state; leave --optimizer out to continue with it")
        fn.load(args.resume, model, optimizer=optimizer)
        if args.lr is not None:  # the saved state carries the old rate; --lr overrides it
            for group in optimizer.param_groups:
                group["lr"] = args.lr
    stop = fn.callbacks.EarlyStopping(monitor="val_loss", patience=settings["patience"],
                                      restore_best_weights=True)

    hidden = "-".join(str(m.out_features) for m in model.modules()
                      if isinstance(m, fn.nn.Linear))
    print(
        f"fastnn {fn.__version__}: {args.dataset} ({len(X_fit)} train / {len(X_val)} validation "
        f"/ {len(X_test)} test samples), MLP {X_train.shape[1]}-{hidden}, "
        f"{args.optimizer} lr {optimizer.param_groups[0]['lr']:g}, batch {settings['batch_size']}"
        + (f" per rank x {world_size} MPI rank(s)" if args.distributed else "")
        + (f", label smoothing {settings['label_smoothing']:g} (in the epochs' losses)"
           if settings["label_smoothing"] else "")
        + f", {fn.get_num_threads()} thread(s), {fn.info()['simd']}"
        + (f", resuming after epoch {initial_epoch} for {settings['epochs']} more"
           if args.resume else "")
    )
    start = time.perf_counter()
    history = fn.fit(
        model, X_fit, y_fit,
        loss=fn.nn.CrossEntropyLoss(label_smoothing=settings["label_smoothing"]),
        optimizer=optimizer, epochs=settings["epochs"],
        batch_size=settings["batch_size"], validation_data=(X_val, y_val),
        metrics=["accuracy"], callbacks=[stop], verbose=args.verbose, seed=args.seed,
        distributed=args.distributed,
    )
    elapsed = time.perf_counter() - start
    result = fn.evaluate(model, X_test, y_test, loss=fn.nn.CrossEntropyLoss(),
                         metrics=["accuracy"])
    if history.stopped_epoch is not None:
        print(f"early stopping at epoch {history.stopped_epoch + 1}; "
              f"restored the weights of epoch {history.best_epoch + 1}")
    print(f"trained {len(history.epoch)} epochs in {elapsed:.2f}s")
    correct = round(result["accuracy"] * len(y_test))
    print(f"test accuracy: {result['accuracy']:.4f} ({correct}/{len(y_test)})  "
          f"test loss: {result['loss']:.4f} (plain cross-entropy)")
    if args.plot and rank == 0:
        fn.plot_history(history, args.plot)
        print(f"curves saved to {args.plot}")
    if args.save and rank == 0:
        model.eval()  # saved for inference (dropout off); --resume and fit train it again
        fn.save(model, args.save, optimizer=optimizer, metadata={
            "epoch": initial_epoch + len(history.epoch), "dataset": args.dataset, "seed": args.seed,
            "test_size": args.test_size, "normalizer": normalizer.to_json(),
        })
        print(f"model saved to {args.save}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    import fastnn as fn

    from ._cli_data import Normalizer

    if args.threads is not None:
        fn.set_num_threads(args.threads)
    meta = fn.io.load_metadata(_readable(args.model, "--model"))["metadata"]
    dataset = args.dataset or meta.get("dataset")
    if dataset is None:
        raise CLIError(f"{args.model} does not record its data set: pass --dataset")
    if dataset not in DATASETS:
        raise CLIError(f"{args.model} records the data set {dataset!r}, not one of "
                       f"{', '.join(DATASETS)}: pass --dataset")
    seed, test_size = _recorded_split(meta, args.model)
    model = _load_model(args.model, "evaluate it")
    _, X_test, _, y_test = load_split(dataset, args.data_dir, args.download, test_size, seed)
    _check_model_fits(model, args.model, dataset, X_test.shape[1],
                      int(y_test.max()) if len(y_test) else None, meta, "evaluate it")
    normalizer = make_normalizer(dataset, X_test)
    if "normalizer" in meta:
        try:
            normalizer = Normalizer.from_json(meta["normalizer"])
            normalizer.apply(X_test[:1])
        except (KeyError, TypeError, ValueError):
            raise CLIError(f"{args.model} records an invalid normalizer "
                           f"{str(meta['normalizer'])[:80]!r}") from None
    result = fn.evaluate(model, normalizer.apply(X_test), y_test,
                         loss=fn.nn.CrossEntropyLoss(), metrics=["accuracy"])
    correct = round(result["accuracy"] * len(y_test))
    print(f"{args.model} on {dataset} test split: test accuracy: {result['accuracy']:.4f} "
          f"({correct}/{len(y_test)})  test loss: {result['loss']:.4f}")
    return 0


def _recorded_epoch(meta: dict[str, Any], path: str) -> int:
    """The epochs a model file records it was trained for (0 where it records none);
    anything but a count raises :class:`CLIError`."""
    epoch = meta.get("epoch", 0)
    if isinstance(epoch, str) and epoch.strip().isascii() and epoch.strip().isdigit():
        epoch = int(epoch)  # ("²".isdigit() holds, but int() refuses it)
    elif isinstance(epoch, float) and epoch.is_integer():
        epoch = int(epoch)
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise CLIError(f"--resume: {path} records the epoch {epoch!r}, not an int >= 0")
    return epoch


def _recorded_split(meta: dict[str, Any], path: str) -> tuple[int, float]:
    """The seed and test size a model file records for its test split (``fastnn train``'s
    defaults where it records none); anything else raises :class:`CLIError`."""
    seed, test_size = meta.get("seed", 0), meta.get("test_size", 0.2)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise CLIError(f"{path} records the seed {seed!r}, not an int >= 0: the test split "
                       "cannot be rebuilt")
    if isinstance(test_size, bool) or not isinstance(test_size, (int, float)) \
            or not 0.0 < test_size < 1.0:
        raise CLIError(f"{path} records the test size {test_size!r}, not a number in (0, 1): "
                       "the test split cannot be rebuilt")
    return seed, float(test_size)


def cmd_bench(args: argparse.Namespace) -> int:
    from . import _bench_train, bench, get_num_threads

    threads = args.threads or [get_num_threads()]
    if args.lib is not None and args.suite != "train-step":
        raise CLIError("--lib applies to --suite train-step only")
    # names checked before anything runs
    checks = [("--case", lambda: bench.select_cases(args.case))]
    if args.suite == "train-step":
        checks = [("--case", lambda: _bench_train.check_names(args.case, None)),
                  ("--lib", lambda: _bench_train.check_names(None, args.lib))]
    for flag, check in checks:
        try:
            check()
        except ValueError as err:
            raise CLIError(f"argument {flag}: {str(err).removeprefix('bench: ')}") from None
    try:
        if args.suite == "train-step":
            rows, skipped = _bench_train.run(configs=args.case, libs=args.lib, threads=threads,
                                             rounds=args.repeat, quick=args.quick,
                                             stream=sys.stderr)
            print(_bench_train.describe(skipped, args.repeat, args.quick))
            print(_bench_train.format_table(rows))
            return 0
        rows = [row for n in threads
                for row in bench.run(quick=args.quick, threads=n, repeat=args.repeat,
                                     cases=args.case, stream=sys.stderr)]
    except RuntimeError as err:  # disagreeing results (never time different work), a dead worker
        raise CLIError(str(err)) from None
    print(bench.format_table(rows, quick=args.quick))
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
        if args.command == "evaluate":
            return cmd_evaluate(args)
        if args.command == "bench":
            return cmd_bench(args)
        return cmd_info()
    except CLIError as err:
        print(f"fastnn {args.command}: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `fastnn train | head`: the reader left; end quietly, as Unix
        # tools do (128 + SIGPIPE), with stdout sent nowhere so that the exit flush is quiet
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except (OSError, ImportError, ValueError) as err:  # missing files/extras, bad files
        text = str(err)
        if isinstance(err, OSError) and err.errno is not None:  # "[Errno 2] ...": the text
            text = text.removeprefix(f"[Errno {err.errno}] ")
        print(f"fastnn {args.command}: error: {text}", file=sys.stderr)
        return 1
    except MemoryError as err:  # e.g. --hidden 100000,100000: NumPy names the size
        print(f"fastnn {args.command}: error: out of memory: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
