"""The models ``ember train`` builds: the seed MLP and a small CNN, by name."""

from __future__ import annotations

from .config import TrainError

__all__ = ["build_model"]


def build_model(name: str, image_shape: tuple, num_classes: int, hidden: int = 256):
    """``mlp``: flatten -> Linear -> ReLU -> Linear. ``cnn``: two 3x3 conv + ReLU + 2x2 max-pool blocks,
    then a linear classifier. Layers are looked up in ``ember.nn`` so plugins can provide them."""
    from ember import nn
    channels, height, width = image_shape
    if name == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(channels * height * width, hidden), nn.ReLU(),
                             nn.Linear(hidden, num_classes))
    if name == "cnn":
        missing = [layer for layer in ("Conv2d", "MaxPool2d") if not hasattr(nn, layer)]
        if missing:
            raise TrainError(f"--model cnn needs ember.nn.{' and ember.nn.'.join(missing)}, which no loaded plugin "
                             f"provides (`ember plugins` lists what is loaded)")
        pooled_h, pooled_w = height // 4, width // 4
        return nn.Sequential(
            nn.Conv2d(channels, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * pooled_h * pooled_w, num_classes))
    raise TrainError(f"unknown model {name!r}; choose mlp or cnn")
