"""The train and held-out sets of a run: the bundled digits with a seeded split, or MNIST-style files."""

from __future__ import annotations

from .config import TrainConfig, TrainError

__all__ = ["Splits", "load_splits", "data_root", "digits_split_indices"]


class Splits:
    """``train`` and ``test`` Datasets of (float image (1, H, W) in [0, 1], int class), the image shape
    and class names. The training files are read on first use of ``train``, so scoring a checkpoint on
    the test set (``ember evaluate``) needs only the test files."""

    def __init__(self, train, test, image_shape: tuple, classes: list, root: str | None = None,
                 make_train=None):
        self._train, self._make_train = train, make_train  # the Dataset, or (lazily) a function making it
        self.test = test
        self.image_shape = image_shape  # (1, H, W)
        self.classes = classes
        self.root = root               # where the IDX files were read from (None for the bundled digits)

    @property
    def train(self):
        if self._train is None and self._make_train is not None:
            self._train = self._make_train()
        return self._train


def digits_split_indices(seed: int, test_fraction: float = 0.2) -> tuple[list[int], list[int]]:
    """(train indices, test indices) of the bundled digits for ``seed``: what ``ember train`` holds out."""
    import ember
    from ember.datasets import Digits
    from ember.utils.data import random_split
    n = len(Digits())
    train, test = random_split(range(n), [1 - test_fraction, test_fraction],
                               generator=ember.Generator().manual_seed(seed))
    return train.indices, test.indices


def data_root(config: TrainConfig, need_train: bool = True) -> str:
    """The folder of ``config``'s IDX files: ``config.root`` when given (checked to be a folder), else the
    first of ``ember.datasets.locate.candidate_dirs`` holding them; TrainError saying how to get them."""
    from ember.datasets import MNIST, FashionMNIST
    from ember.datasets.locate import check_root, find_data_dir
    try:
        if config.root:
            return check_root(config.root)
        return find_data_dir(config.data, MNIST if config.data == "mnist" else FashionMNIST, train=need_train)
    except OSError as exc:
        raise TrainError(str(exc)) from None


def load_splits(config: TrainConfig, need_train: bool = False) -> Splits:
    """The data of ``config``; missing or corrupt files raise TrainError / FileNotFoundError / ValueError
    naming them. The training files are read now when ``need_train``, else on first use of ``Splits.train``
    (so scoring the test set needs only the test files)."""
    from ember.utils.data import Subset
    if config.data == "digits":
        from ember.datasets import Digits
        digits = Digits()
        train_idx, test_idx = digits_split_indices(config.seed, config.test_fraction)
        return Splits(Subset(digits, train_idx), Subset(digits, test_idx), (1, 8, 8), Digits.classes)
    from ember import transforms
    from ember.datasets import MNIST, FashionMNIST
    kind = MNIST if config.data == "mnist" else FashionMNIST
    root = data_root(config, need_train)
    to_tensor = transforms.ToTensor()

    def make_train():
        return kind(root, train=True, transform=to_tensor)
    train = make_train() if need_train else None
    test = kind(root, train=False, transform=to_tensor)
    height, width = tuple(test.data.shape[1:])
    return Splits(train, test, (1, height, width), kind.classes, root, make_train)
