"""``ember evaluate CKPT``: a checkpoint's accuracy on its held-out set, with the confusion matrix."""

from __future__ import annotations

import json
import sys

from ..cli import UsageError


def add_parser(subparsers):
    p = subparsers.add_parser("evaluate", help="accuracy and confusion matrix of a checkpoint",
                              description="Evaluate a checkpoint written by `ember train --save` on the held-out "
                                          "set it was trained against (its data set's test files only; --root "
                                          "to read them from another folder).")
    p.add_argument("checkpoint", metavar="CKPT")
    p.add_argument("--root", default=None, metavar="DIR", help="folder of the test IDX files (mnist/fashion-mnist; default: where the "
                                                          "run found them, or $EMBER_DATA, /usr/share/datasets)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    return p


def run(args) -> int:
    from ..train.loaded import load_trained
    from ..train.loop import evaluate_model
    from ..train import TrainError
    try:
        trained = load_trained(args.checkpoint, device=args.device, root=args.root, need_data=True)
    except TrainError as exc:
        raise UsageError(str(exc)) from None
    loss, accuracy, confusion = evaluate_model(trained.model, trained.splits.test, device=trained.device,
                                               num_classes=len(trained.classes), progress=sys.stderr.isatty())
    if args.json:
        print(json.dumps({"checkpoint": args.checkpoint, "epoch": trained.epoch, "test_size": int(confusion.sum()),
                          "accuracy": accuracy, "loss": loss, "classes": trained.classes,
                          "confusion_matrix": confusion.tolist()}, indent=2))
        return 0
    print(f"{args.checkpoint}: {trained.config.model} on {trained.config.data}, epoch {trained.epoch}")
    print(f"held-out accuracy: {accuracy:.2%} ({int(confusion.sum())} images), loss {loss:.4f}")
    print("confusion matrix (rows: true class, columns: predicted):")
    print(_matrix(confusion, [str(i) for i in range(len(trained.classes))]))
    return 0


def _matrix(confusion, labels) -> str:
    width = max(len(str(int(confusion.max()))), max(len(label) for label in labels), 3)
    lines = [" " * (width + 2) + " ".join(label.rjust(width) for label in labels)]
    for label, row in zip(labels, confusion):
        lines.append(label.rjust(width) + "  " + " ".join(str(int(v)).rjust(width) for v in row))
    return "\n".join(lines)
