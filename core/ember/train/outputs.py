"""Checking, before a run starts, that the files it will write (``--save``, ``--plot``) can be written."""

from __future__ import annotations

import os

from .config import TrainError

__all__ = ["check_output_path"]


def check_output_path(path: str, option: str, suffixes: tuple[str, ...] | None = None) -> str:
    """``path`` if a file can be written there: its folder exists and is writable, it is not a folder,
    and (when ``suffixes`` is given) it ends in one of them. TrainError naming ``option`` and ``path``
    otherwise, so that a typo fails at once rather than after hours of training."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise TrainError(f"{option} {path}: is a folder; give a file name")
    if not os.path.isdir(folder):
        what = "is not a folder" if os.path.exists(folder) else "does not exist"
        raise TrainError(f"{option} {path}: cannot write there: {folder} {what}")
    if not os.access(folder, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise TrainError(f"{option} {path}: cannot write there: permission denied")
    if suffixes is not None:
        suffix = os.path.splitext(path)[1].lower().lstrip(".")
        if suffix not in suffixes:
            raise TrainError(f"{option} {path}: unsupported file type {('.' + suffix) if suffix else '(none)'}; "
                             f"use one of {', '.join('.' + s for s in suffixes)}")
    return path
