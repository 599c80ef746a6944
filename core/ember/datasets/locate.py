"""Where ``ember train --data mnist|fashion-mnist`` finds its IDX files when no ``--root`` is given.

In order: ``$EMBER_DATA/<name>``, ``$EMBER_DATA`` itself (also in torchvision's ``<ClassName>/raw``
layout), then the folder a system package installs (Debian's ``dataset-fashion-mnist`` puts
Fashion-MNIST in ``/usr/share/datasets/fashion-mnist``). Nothing is downloaded.
"""

from __future__ import annotations

import os

__all__ = ["SYSTEM_DATA_DIR", "SYSTEM_PACKAGES", "candidate_dirs", "find_data_dir", "check_root"]

SYSTEM_DATA_DIR = "/usr/share/datasets"
SYSTEM_PACKAGES = {"fashion-mnist": "dataset-fashion-mnist"}  # data set -> the Debian/Ubuntu package holding it


def candidate_dirs(name: str) -> list[str]:
    """The folders searched for data set ``name`` (``"mnist"``, ``"fashion-mnist"``), in order."""
    dirs = []
    env = os.environ.get("EMBER_DATA")
    if env:
        dirs += [os.path.join(env, name), env]
    dirs.append(os.path.join(SYSTEM_DATA_DIR, name))
    return dirs


def check_root(root, what: str = "--root") -> str:
    """``root`` as a string, or FileNotFoundError / NotADirectoryError saying what is wrong with it."""
    root = os.fspath(root)
    if not os.path.exists(root):
        raise FileNotFoundError(f"{what} {root!r} does not exist; give the folder that holds the IDX files")
    if not os.path.isdir(root):
        raise NotADirectoryError(f"{what} {root!r} is a file, not a folder; give the folder that holds the IDX "
                                 f"files (train-images-idx3-ubyte[.gz] and the others)")
    return root


def find_data_dir(name: str, dataset_cls, train: bool = True) -> str:
    """The first of :func:`candidate_dirs` holding ``dataset_cls``'s test files (and training files when
    ``train``); FileNotFoundError listing where it looked and how to get the data otherwise."""
    splits = (True, False) if train else (False,)
    for folder in candidate_dirs(name):
        if os.path.isdir(folder) and all(dataset_cls.files_present(folder, s) for s in splits):
            return folder
    looked = ", ".join(candidate_dirs(name))
    package = SYSTEM_PACKAGES.get(name)
    get = (f"install it with `sudo apt-get install {package}`" if package else
           f"get the IDX files from {dataset_cls.resources_url} and put them in $EMBER_DATA/{name}")
    raise FileNotFoundError(f"--data {name}: no {dataset_cls.__name__} IDX files found (looked in {looked}); "
                            f"{get}, or give their folder with --root DIR")
