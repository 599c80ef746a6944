"""Training checkpoints: model and optimizer state, epoch, RNG state, history and config in one file.

Everything a run needs to continue exactly where it stopped: resuming from the checkpoint of epoch k
and training to epoch n gives the same weights, bit for bit, as training to n without stopping.
"""

from __future__ import annotations

import os

from .config import TrainConfig, TrainError

__all__ = ["save_checkpoint", "load_checkpoint", "restore_model"]

KIND = "ember.train checkpoint"


def save_checkpoint(path: str, *, config: TrainConfig, model, optimizer, epoch: int, loader_generator,
                    history: list, image_shape, classes) -> None:
    """Write the run's state atomically (an earlier checkpoint at ``path`` survives a crash mid-write)."""
    import ember
    ember.save({"kind": KIND, "config": config.as_dict(), "epoch": epoch, "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "rng": {"default": ember.get_rng_state(), "loader": loader_generator.get_state()},
                "history": history, "image_shape": list(image_shape), "classes": list(classes)}, path)


def load_checkpoint(path: str) -> dict:
    """The checkpoint at ``path``; TrainError when it is missing, unreadable, or not a training checkpoint."""
    import ember
    from ember.serialization import CheckpointError
    if not os.path.isfile(path):
        raise TrainError(f"checkpoint {path!r} does not exist")
    try:
        checkpoint = ember.load(path)
    except CheckpointError as exc:
        raise TrainError(str(exc)) from None
    if not isinstance(checkpoint, dict) or checkpoint.get("kind") != KIND:
        raise TrainError(f"{path} is not a checkpoint written by `ember train --save` (no training state in it)")
    return checkpoint


def restore_model(checkpoint: dict, path: str, model) -> None:
    """Load the checkpoint's weights into ``model``; a checkpoint of another architecture is a TrainError."""
    try:
        model.load_state_dict(checkpoint["model"])
    except RuntimeError as exc:
        detail = "; ".join(line.strip() for line in str(exc).splitlines()[1:]) or str(exc)
        if len(detail) > 300:
            detail = detail[:300] + "..."
        raise TrainError(f"checkpoint {path} does not fit the {checkpoint['config'].get('model')} model being "
                         f"built (another architecture?): {detail}") from None
