"""``Digits``: the UCI optical-recognition handwritten digits (1,797 8x8 images, 10 classes), bundled."""

from __future__ import annotations

from importlib import resources

import numpy as np

from ..utils.data import Dataset

__all__ = ["Digits"]

LICENSE_FILE = "digits-LICENSE.txt"


class Digits(Dataset):
    """The 8x8 digits scikit-learn also ships, read from the file bundled with ember.

    Sample ``i`` is ``(image, target)``: a float32 tensor of shape (1, 8, 8) with the pixel counts 0..16
    scaled to [0, 1], and the class as an int, each passed through ``transform`` / ``target_transform``
    when given. ``data`` (uint8, N x 8 x 8, values 0..16) and ``targets`` (int64) hold the whole set, for
    code that wants it at once. There is no train/test split in the file: use ``random_split``.
    """

    classes = [str(i) for i in range(10)]

    def __init__(self, transform=None, target_transform=None):
        from ..creation import from_numpy
        with resources.files(__package__).joinpath("data", "digits.npz").open("rb") as f:
            archive = np.load(f)
            images, targets = archive["images"], archive["targets"]
        self.data = from_numpy(np.ascontiguousarray(images, dtype=np.uint8))
        self.targets = from_numpy(targets.astype(np.int64))
        self._scaled = (images.astype(np.float32) / 16.0)[:, None]  # N x 1 x 8 x 8 in [0, 1]
        self._targets = targets.astype(np.int64)
        self.transform, self.target_transform = transform, target_transform

    def __len__(self) -> int:
        return len(self._targets)

    def __getitem__(self, index):
        from ..creation import from_numpy
        image, target = from_numpy(self._scaled[index]), int(self._targets[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    @staticmethod
    def license() -> str:
        """The attribution and licence (CC BY 4.0) of the bundled data."""
        return resources.files(__package__).joinpath("data", LICENSE_FILE).read_text()
