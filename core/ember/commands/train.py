"""``ember train``: train a model on the bundled digits (or MNIST-style files) and report held-out accuracy.

With no options it is the main job: the seed MLP (flatten -> Linear -> ReLU -> Linear) on the 8x8
digits, a seeded 20% held-out split, per-epoch loss and accuracy, a progress bar when stdout is a
terminal.
"""

from __future__ import annotations

import json
import sys

from ..cli import UsageError


def add_parser(subparsers):
    from ..train.config import DEFAULTS
    p = subparsers.add_parser(
        "train", help="train a model (default: an MLP on the bundled 8x8 digits)",
        description="Train a classifier and report held-out accuracy. With no options: the seed MLP on the "
                    "bundled UCI digits, 20%% of them held out (seeded).")
    p.add_argument("--model", choices=("mlp", "cnn"), default=None, help=f"architecture (default {DEFAULTS.model})")
    p.add_argument("--data", choices=("digits", "mnist", "fashion-mnist"), default=None,
                   help=f"data set (default {DEFAULTS.data}, bundled; mnist/fashion-mnist read IDX files from --root)")
    p.add_argument("--root", default=None, metavar="DIR", help="folder holding the MNIST/Fashion-MNIST IDX files")
    p.add_argument("--epochs", type=int, default=None, help=f"number of epochs (default {DEFAULTS.epochs})")
    p.add_argument("--batch-size", type=int, default=None, help=f"mini-batch size (default {DEFAULTS.batch_size})")
    p.add_argument("--optimizer", default=None, metavar="NAME",
                   help=f"any registered optimizer, e.g. sgd, adam, adamw (default {DEFAULTS.optimizer} with "
                        f"momentum {DEFAULTS.momentum})")
    p.add_argument("--lr", type=float, default=None, help=f"learning rate (default {DEFAULTS.lr})")
    p.add_argument("--hidden", type=int, default=None, help=f"MLP hidden width (default {DEFAULTS.hidden})")
    p.add_argument("--seed", type=int, default=None, help=f"seed for split, init and shuffling (default {DEFAULTS.seed})")
    p.add_argument("--device", default="cpu", help="device to train on (default cpu)")
    p.add_argument("--save", metavar="CKPT", help="write a checkpoint here after every epoch (atomically)")
    p.add_argument("--resume", metavar="CKPT", help="continue the run saved in CKPT up to --epochs")
    p.add_argument("--plot", metavar="PNG", help="save loss/accuracy curves (needs matplotlib)")
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
    from ..train import TrainConfig, TrainError, run_training
    from ..train.checkpoint import load_checkpoint
    from ..train.loop import resolve_device
    given = {name: getattr(args, name) for name in _CONFIG_OPTIONS if getattr(args, name) is not None}
    if args.plot:
        _check_plotting()
    try:
        if args.resume:
            saved = load_checkpoint(args.resume)["config"]
            clashes = [f"--{k.replace('_', '-')} {v} (checkpoint has {saved.get(k)})" for k, v in given.items()
                       if k != "epochs" and saved.get(k) != v]
            if clashes:
                raise TrainError(f"--resume {args.resume}: the checkpoint was trained with other settings: "
                                 f"{', '.join(clashes)}")
        config = TrainConfig(**given).check()
        resolve_device(args.device)
        report = None if args.json else _print_epoch
        if not args.json:
            print(_header(config, args))
        result = run_training(config, device=args.device, save=args.save, resume=args.resume, report=report,
                              parallel=parallel)
    except TrainError as exc:
        raise UsageError(str(exc)) from None
    if args.plot:
        _plot(result, args.plot)
    final = result.final
    if args.json:
        summary = result.as_dict()
        summary.update({"device": args.device, "checkpoint": args.save, "plot": args.plot,
                        "test_accuracy": final.test_accuracy if final else None,
                        "test_loss": final.test_loss if final else None})
        print(json.dumps(summary, indent=2))
    elif final is not None:
        print(f"held-out accuracy: {final.test_accuracy:.2%} ({result.test_size} test images), "
              f"trained in {result.seconds:.1f}s" + (f"; checkpoint: {args.save}" if args.save else ""))
    return 0


def _header(config, args) -> str:
    source = "bundled UCI digits" if config.data == "digits" else f"{config.data} from {config.root}"
    return (f"training {config.model} on {source}: {config.epochs} epochs, batch {config.batch_size}, "
            f"{config.optimizer} lr {config.lr}, seed {config.seed}, device {args.device}"
            + (f" (resuming {args.resume})" if args.resume else ""))


def _print_epoch(e) -> None:
    from tqdm import tqdm
    tqdm.write(f"epoch {e.epoch:3d}  loss {e.train_loss:.4f}  train acc {e.train_accuracy:.2%}  "
               f"test loss {e.test_loss:.4f}  test acc {e.test_accuracy:.2%}  ({e.seconds:.2f}s)", file=sys.stdout)


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
    fig.savefig(path)
    plt.close(fig)
