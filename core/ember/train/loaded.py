"""A trained model back from its checkpoint, with its config, classes and (optionally) its data."""

from __future__ import annotations

from dataclasses import dataclass

from .checkpoint import load_checkpoint, restore_model
from .config import TrainConfig
from .data import load_splits
from .loop import resolve_device
from .models import build_model

__all__ = ["Trained", "load_trained"]


@dataclass
class Trained:
    config: TrainConfig
    model: object
    epoch: int
    classes: list
    image_shape: tuple
    device: object
    splits: object = None


def load_trained(path: str, device="cpu", root: str | None = None, need_data: bool = False) -> Trained:
    """Rebuild the model of the checkpoint at ``path`` on ``device``; its data too when ``need_data``
    (``root`` overrides where MNIST-style files are read from)."""
    checkpoint = load_checkpoint(path)
    config = TrainConfig.from_dict(checkpoint["config"])
    if root is not None:
        config.root = root
    device = resolve_device(device)
    image_shape = tuple(checkpoint["image_shape"])
    classes = list(checkpoint["classes"])
    model = build_model(config.model, image_shape, len(classes), config.hidden)
    restore_model(checkpoint, path, model)
    model.to(device)
    splits = load_splits(config) if need_data else None
    return Trained(config, model, int(checkpoint["epoch"]), classes, image_shape, device, splits)
