"""The train and held-out sets of a run: the bundled digits with a seeded split, or MNIST-style files."""

from __future__ import annotations

from dataclasses import dataclass

from .config import TrainConfig

__all__ = ["Splits", "load_splits", "digits_split_indices"]


@dataclass
class Splits:
    train: object          # a Dataset of (float image (1, H, W) in [0, 1], int class)
    test: object
    image_shape: tuple     # (1, H, W)
    classes: list


def digits_split_indices(seed: int, test_fraction: float = 0.2) -> tuple[list[int], list[int]]:
    """(train indices, test indices) of the bundled digits for ``seed``: what ``ember train`` holds out."""
    import ember
    from ember.datasets import Digits
    from ember.utils.data import random_split
    n = len(Digits())
    train, test = random_split(range(n), [1 - test_fraction, test_fraction],
                               generator=ember.Generator().manual_seed(seed))
    return train.indices, test.indices


def load_splits(config: TrainConfig) -> Splits:
    """The data of ``config``; missing or corrupt files raise FileNotFoundError / ValueError naming them."""
    from ember.utils.data import Subset
    if config.data == "digits":
        from ember.datasets import Digits
        digits = Digits()
        train_idx, test_idx = digits_split_indices(config.seed, config.test_fraction)
        return Splits(Subset(digits, train_idx), Subset(digits, test_idx), (1, 8, 8), Digits.classes)
    from ember import transforms
    from ember.datasets import MNIST, FashionMNIST
    kind = MNIST if config.data == "mnist" else FashionMNIST
    to_tensor = transforms.ToTensor()
    train = kind(config.root, train=True, transform=to_tensor)
    test = kind(config.root, train=False, transform=to_tensor)
    height, width = tuple(train.data.shape[1:])
    return Splits(train, test, (1, height, width), kind.classes)
