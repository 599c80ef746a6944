"""``ember train``: train a model on the bundled digits (or MNIST-style files) and report held-out accuracy.

With no options it is the main job: the seed MLP (flatten -> Linear -> ReLU -> Linear) on the 8x8
digits, a seeded 20% held-out split, per-epoch loss and accuracy. On a terminal each epoch shows
progress bars (batches/s, ETA, running loss); piped, one line per epoch, flushed as it finishes.
Every option, data file and output path is checked before the first batch.
"""

from __future__ import annotations

import json
import sys

from ..cli import UsageError

PLOT_TYPES = ("png", "pdf", "svg", "jpg", "jpeg", "eps", "ps", "tif", "tiff", "webp")


def add_parser(subparsers):
    from ..train.config import DEFAULT_EPOCHS, DEFAULTS
    epochs = ", ".join(f"{k} {v}" for k, v in DEFAULT_EPOCHS.items())
    p = subparsers.add_parser(
        "train", help="train a model (default: an MLP on the bundled 8x8 digits)",
        description="Train a classifier and report held-out accuracy. With no options: the seed MLP on the "
                    "bundled UCI digits, 20% of them held out (seeded). --data fashion-mnist reads the IDX "
                    "files from --root, $EMBER_DATA/fashion-mnist, or where `apt-get install "
                    "dataset-fashion-mnist` puts them.")
    p.add_argument("--model", choices=("mlp", "cnn"), default=None, help=f"architecture (default {DEFAULTS.model})")
    p.add_argument("--data", choices=("digits", "mnist", "fashion-mnist"), default=None,
                   help=f"data set (default {DEFAULTS.data}, bundled; mnist/fashion-mnist read IDX files)")
    p.add_argument("--root", default=None, metavar="DIR",
                   help="folder holding the MNIST/Fashion-MNIST IDX files (default: $EMBER_DATA/<data>, "
                        "$EMBER_DATA, then /usr/share/datasets/<data>)")
    p.add_argument("--epochs", type=int, default=None,
                   help=f"number of epochs (default per data set: {epochs}; with --resume, the run's own)")
    p.add_argument("--batch-size", type=int, default=None, help=f"mini-batch size (default {DEFAULTS.batch_size})")
    p.add_argument("--optimizer", default=None, metavar="NAME",
                   help=f"any registered optimizer, e.g. sgd, adam, adamw, rmsprop, lbfgs (default "
                        f"{DEFAULTS.optimizer})")
    p.add_argument("--lr", type=float, default=None,
                   help="learning rate (default: the optimizer's usual one: SGD 0.01 with momentum 0.9, "
                        "Adam/AdamW 0.001, RMSprop 0.01, Adagrad 0.01, ...)")
    p.add_argument("--hidden", type=int, default=None, help=f"MLP hidden width (default {DEFAULTS.hidden})")
    p.add_argument("--seed", type=int, default=None, help=f"seed for split, init and shuffling (default {DEFAULTS.seed})")
    p.add_argument("--device", default="cpu", help="device to train on (default cpu)")
    p.add_argument("--save", metavar="CKPT", help="write a checkpoint here after every epoch (atomically)")
    p.add_argument("--resume", metavar="CKPT",
                   help="continue the run saved in CKPT, up to --epochs (default: the epochs it was started with)")
    p.add_argument("--plot", metavar="FILE", help="save loss/accuracy curves, e.g. curves.png (needs matplotlib)")
    p.add_argument("--tensorboard", metavar="DIR",
                   help="write TensorBoard event files (losses, accuracies, weight histograms) to DIR "
                        "(needs tensorboardX: pip install 'ember[tensorboard]')")
    p.add_argument("--json", action="store_true", help="print one machine-readable JSON summary instead of text")
    p.add_argument("--distributed", action="store_true",
                   help="data-parallel over the MPI ranks of `mpirun -n N ember train --distributed` "
                        "(--batch-size is per rank; rank 0 prints and saves)")
    return p


_CONFIG_OPTIONS = ("model", "data", "root", "epochs", "batch_size", "optimizer", "lr", "hidden", "seed")


def run(args) -> int:
    if getattr(args, "distributed", False):
        from ..train.distributed import run_on_every_rank
        return run_on_every_rank(_run, args)
    return _run(args)


def _run(args, parallel=None) -> int:
    from ..train import TrainConfig, TrainError, TrainingDiverged
    from ..train.loop import prepare_run, train_run
    from ..train.outputs import check_output_path
    given = {name: getattr(args, name) for name in _CONFIG_OPTIONS if getattr(args, name) is not None}
    try:
        if args.plot:
            _check_plotting()
            check_output_path(args.plot, "--plot", PLOT_TYPES)
        if args.resume:
            given = _resumed_options(args.resume, given)
        prepared = prepare_run(TrainConfig.from_dict(given), device=args.device, save=args.save, resume=args.resume,
                               parallel=parallel)
        writer = _tensorboard(args.tensorboard) if args.tensorboard else None
    except TrainError as exc:
        raise UsageError(str(exc)) from None
    if not args.json:
        print(_header(prepared, args), flush=True)
    try:
        result = train_run(prepared, report=None if args.json else _print_epoch, tensorboard=writer)
    except TrainingDiverged as exc:
        print(f"ember train: error: {exc}" + (f"; the last finished epoch is saved in {args.save}"
                                              if args.save and prepared.result.history else ""), file=sys.stderr)
        return 1
    finally:
        if writer is not None:
            writer.close()
    final = result.final
    if args.json:
        summary = result.as_dict()
        summary.update({"device": args.device, "checkpoint": args.save, "plot": args.plot,
                        "tensorboard": args.tensorboard, "data_root": prepared.splits.root,
                        "test_accuracy": final.test_accuracy if final else None,
                        "test_loss": final.test_loss if final else None})
        print(json.dumps(summary, indent=2))
    elif final is not None:
        print(f"held-out accuracy: {final.test_accuracy:.2%} ({result.test_size} test images), "
              f"trained in {result.seconds:.1f}s" + (f"; checkpoint: {args.save}" if args.save else ""), flush=True)
    if args.plot:
        _plot(result, args.plot)
    return 0


def _resumed_options(path: str, given: dict) -> dict:
    """The options of a resumed run: the checkpoint's, with --epochs (if given) on top; a clash with any
    other given option is an error (the checkpoint's model and data decide them)."""
    from ..train import TrainError
    from ..train.checkpoint import load_checkpoint
    saved = load_checkpoint(path)["config"]
    clashes = [f"--{k.replace('_', '-')} {v} (checkpoint has {saved.get(k)})" for k, v in given.items()
               if k != "epochs" and saved.get(k) != v]
    if clashes:
        raise TrainError(f"--resume {path}: the checkpoint was trained with other settings: {', '.join(clashes)}")
    return {**saved, **given}


def _tensorboard(log_dir: str):
    """A SummaryWriter for ``--tensorboard DIR``; TrainError when tensorboardX is missing or DIR unusable."""
    import os
    from ..train import TrainError
    from ..utils.tensorboard import SummaryWriter
    if os.path.exists(log_dir) and not os.path.isdir(log_dir):
        raise TrainError(f"--tensorboard {log_dir}: is a file; give a folder for the event files")
    try:
        return SummaryWriter(log_dir)
    except ImportError as exc:
        raise TrainError(f"--tensorboard: {exc}") from None
    except OSError as exc:
        raise TrainError(f"--tensorboard {log_dir}: cannot write there: {exc.strerror or exc}") from None


def _header(prepared, args) -> str:
    config = prepared.config
    source = "bundled UCI digits" if config.data == "digits" else f"{config.data} from {prepared.splits.root}"
    momentum = f" momentum {config.momentum:g}" if config.momentum and "momentum" in _option_names(prepared) else ""
    return (f"training {config.model} on {source}: {config.epochs} epochs, batch {config.batch_size}, "
            f"{config.optimizer} lr {config.lr:g}{momentum}, seed {config.seed}, device {args.device}"
            + (f" (resuming {args.resume} at epoch {prepared.first_epoch})" if args.resume else ""))


def _option_names(prepared) -> set:
    return set(prepared.optimizer.defaults) if hasattr(prepared.optimizer, "defaults") else set()


def _print_epoch(e) -> None:
    from tqdm import tqdm
    tqdm.write(f"epoch {e.epoch:3d}  loss {e.train_loss:.4f}  train acc {e.train_accuracy:.2%}  "
               f"test loss {e.test_loss:.4f}  test acc {e.test_accuracy:.2%}  ({e.seconds:.2f}s)", file=sys.stdout)
    sys.stdout.flush()  # piped output is block-buffered: show each epoch as it ends


def _check_plotting() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise UsageError("--plot needs matplotlib, which is not installed here (pip install matplotlib); "
                         "run without --plot, or use --json and plot the history yourself") from None


def _plot(result, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    epochs = [h.epoch for h in result.history]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(epochs, [h.train_loss for h in result.history], label="train")
    left.plot(epochs, [h.test_loss for h in result.history], label="held-out")
    left.set(xlabel="epoch", ylabel="cross-entropy loss", title="loss")
    right.plot(epochs, [h.train_accuracy for h in result.history], label="train")
    right.plot(epochs, [h.test_accuracy for h in result.history], label="held-out")
    right.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in (left, right):
        ax.legend()
    fig.tight_layout()
    try:
        fig.savefig(path)
    except OSError as exc:
        raise UsageError(f"--plot {path}: cannot write the curves: {exc.strerror or exc}") from None
    finally:
        plt.close(fig)
