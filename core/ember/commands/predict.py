"""``ember predict CKPT FILES...``: classify images given as .npy arrays or .png files."""

from __future__ import annotations

import json

from ..cli import UsageError


def add_parser(subparsers):
    p = subparsers.add_parser("predict", help="classify .npy/.png images with a checkpoint",
                              description="Classify images with a checkpoint written by `ember train --save`. "
                                          ".png: 8- or 16-bit grayscale/RGB(A), scaled to [0, 1]. .npy: one image "
                                          "(H, W) or a stack (N, H, W); integer arrays are raw pixels of the "
                                          "training data's scale (0..16 for digits, 0..255 for MNIST), float "
                                          "arrays already in [0, 1].")
    p.add_argument("checkpoint", metavar="CKPT")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--device", default="cpu")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    return p


def run(args) -> int:
    import numpy as np
    import ember
    from ..train import TrainError
    from ..train.images import read_images
    from ..train.loaded import load_trained
    try:
        trained = load_trained(args.checkpoint, device=args.device, need_data=False)
        pixel_max = 16.0 if trained.config.data == "digits" else 255.0
        rows = []
        for path in args.files:
            images = read_images(path, trained.image_shape[1:], pixel_max)
            with ember.no_grad():
                trained.model.eval()
                logits = trained.model(ember.from_numpy(images).to(trained.device))
                probs = np.asarray(ember.nn.functional.softmax(logits, dim=1))
            for i, p in enumerate(probs):
                name = path if len(probs) == 1 else f"{path}[{i}]"
                k = int(p.argmax())
                rows.append({"file": name, "class": k, "label": trained.classes[k], "probability": float(p[k])})
    except TrainError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for r in rows:
            print(f"{r['file']}: {r['label']} (p={r['probability']:.3f})")
    return 0
