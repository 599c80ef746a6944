"""``MNIST`` and ``FashionMNIST`` read from the standard IDX files in a directory the user gives."""

from __future__ import annotations

import os

from ..utils.data import Dataset
from .idx import IDXFormatError, read_idx
from .locate import check_root

__all__ = ["MNIST", "FashionMNIST"]


class MNIST(Dataset):
    """MNIST from ``root`` (``torchvision.datasets.MNIST`` without downloading).

    Looks for ``train-images-idx3-ubyte`` / ``train-labels-idx1-ubyte`` (``train=True``) or the ``t10k-``
    pair, raw or ``.gz``, in ``root`` itself or in torchvision's layout ``root/<ClassName>/raw``. With
    ``download=True`` and no files there, a copy already on this machine is used instead (from
    ``$EMBER_DATA`` or a system package: ``apt-get install dataset-fashion-mnist``); nothing is downloaded. Sample
    ``i`` is ``(image, target)``: the image a uint8 numpy array (H, W), standing in for torchvision's PIL
    image (``transforms.ToTensor()`` turns it into a float tensor in [0, 1]), the target an int.
    """

    resources_url = "http://yann.lecun.com/exdb/mnist/ or a mirror"
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]

    data_name = "mnist"  # its folder under $EMBER_DATA and /usr/share/datasets (ember.datasets.locate)

    def __init__(self, root, train: bool = True, transform=None, target_transform=None, download: bool = False):
        if download and not (os.path.isdir(root) and self.files_present(root, train)):
            root = self._installed_copy(root, train)
        self.root, self.train = check_root(root, f"{type(self).__name__}: root"), train
        self.transform, self.target_transform = transform, target_transform
        images_path, labels_path = (self._find(name) for name in self.file_names(train))
        images, labels = read_idx(images_path), read_idx(labels_path)
        if images.ndim != 3 or labels.ndim != 1:
            raise IDXFormatError(f"{type(self).__name__}: expected images of shape (N, H, W) and labels of shape "
                                 f"(N,), got {images.shape} in {images_path} and {labels.shape} in {labels_path}")
        if len(images) != len(labels):
            raise IDXFormatError(f"{type(self).__name__}: {images_path} holds {len(images)} images but "
                                 f"{labels_path} holds {len(labels)} labels")
        from ..creation import from_numpy
        self.data = from_numpy(images.astype("uint8", copy=False))
        self.targets = from_numpy(labels.astype("int64"))
        self._images, self._labels = images, labels.astype("int64")

    @classmethod
    def _installed_copy(cls, root, train: bool) -> str:
        """For ``download=True`` without the files in ``root``: ember downloads nothing, but a copy in
        $EMBER_DATA or a system package's folder will do; ValueError saying how to get one otherwise."""
        from .locate import SYSTEM_PACKAGES, find_data_dir
        try:
            return find_data_dir(cls.data_name, cls, train=train)
        except FileNotFoundError:
            package = SYSTEM_PACKAGES.get(cls.data_name)
            get = f"install it with `sudo apt-get install {package}`, or " if package else ""
            raise ValueError(f"{cls.__name__}(download=True): ember does not download data sets; {get}put the "
                             f"IDX files ({', '.join(cls.file_names(train))}) in {os.fspath(root)!r} or "
                             f"$EMBER_DATA/{cls.data_name}") from None

    @staticmethod
    def file_names(train: bool) -> tuple[str, str]:
        prefix = "train" if train else "t10k"
        return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"

    def search_dirs(self) -> list[str]:
        return self._search_dirs(self.root)

    @classmethod
    def _search_dirs(cls, root: str) -> list[str]:
        return [root, os.path.join(root, cls.__name__, "raw")]

    @classmethod
    def _path_in(cls, root: str, name: str) -> str | None:
        for folder in cls._search_dirs(root):
            for candidate in (name, name + ".gz"):
                path = os.path.join(folder, candidate)
                if os.path.isfile(path):
                    return path
        return None

    @classmethod
    def files_present(cls, root, train: bool = True) -> bool:
        """Whether ``root`` holds the images and labels of the training (or test) split."""
        return all(cls._path_in(os.fspath(root), name) for name in cls.file_names(train))

    def _find(self, name: str) -> str:
        path = self._path_in(self.root, name)
        if path is not None:
            return path
        wanted = ", ".join(f"{n}[.gz]" for n in self.file_names(self.train))
        raise FileNotFoundError(
            f"{type(self).__name__}: {name}[.gz] not found in {self.root!r} (nor in "
            f"{self.search_dirs()[1]!r}); put the {'training' if self.train else 'test'} files {wanted} "
            f"in {self.root!r} (get them from {self.resources_url})")

    def __len__(self) -> int:
        return len(self._labels)

    def __getitem__(self, index):
        image, target = self._images[index], int(self._labels[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target


class FashionMNIST(MNIST):
    """Fashion-MNIST: MNIST's file names and format, Zalando's clothing images."""

    resources_url = "https://github.com/zalandoresearch/fashion-mnist"
    data_name = "fashion-mnist"
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]
