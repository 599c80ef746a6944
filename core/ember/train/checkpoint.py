"""Training checkpoints: model and optimizer state, epoch, RNG state, history and config in one file.

Everything a run needs to continue exactly where it stopped: resuming from the checkpoint of epoch k
and training to epoch n gives the same weights, bit for bit, as training to n without stopping.

A checkpoint is checked whole before anything is built from it: every field's type, the RNG states,
and the shapes the config implies against the stored weights, so that a crafted or damaged file is
one TrainError naming the file and the field (a 10 KB file claiming ``hidden=10**9`` never makes
ember allocate a 238 GiB layer).
"""

from __future__ import annotations

import os
from dataclasses import fields

from .config import TrainConfig, TrainError

__all__ = ["save_checkpoint", "load_checkpoint", "restore_model", "expected_state_shapes"]

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
    """The checkpoint at ``path``, checked (see the module docstring); TrainError when it is missing, a
    directory, unreadable, not a training checkpoint, or inconsistent."""
    import ember
    from ember.serialization import CheckpointError
    if os.path.isdir(path):
        raise TrainError(f"checkpoint {path} is a directory; give the checkpoint file (the path passed to --save)")
    if not os.path.isfile(path):
        raise TrainError(f"checkpoint {path!r} does not exist")
    try:
        checkpoint = ember.load(path)
    except CheckpointError as exc:
        raise TrainError(str(exc)) from None
    if not isinstance(checkpoint, dict) or checkpoint.get("kind") != KIND:
        raise TrainError(f"{path} is not a checkpoint written by `ember train --save` (no training state in it)")
    _check_fields(checkpoint, path)
    _check_rng(checkpoint["rng"], path)
    _check_shapes(checkpoint, path)
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


# -- checks --------------------------------------------------------------------------------------

def _bad(path: str, field: str, expected: str, value) -> TrainError:
    text = repr(value)
    shown = text if len(text) <= 40 else text[:40] + "..."
    return TrainError(f"checkpoint {path}: field {field!r} should be {expected}, got {type(value).__name__} {shown}")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_fields(checkpoint: dict, path: str) -> None:
    from ember import Tensor
    for key, kind, expected in (("config", dict, "a dict"), ("model", dict, "a dict of tensors"),
                                ("optimizer", dict, "a dict"), ("rng", dict, "a dict"),
                                ("history", list, "a list"), ("image_shape", list, "a list of 3 ints"),
                                ("classes", list, "a list")):
        if not isinstance(checkpoint.get(key), kind):
            raise _bad(path, key, expected, checkpoint.get(key))
    if not _is_int(checkpoint.get("epoch")) or checkpoint["epoch"] < 0:
        raise _bad(path, "epoch", "an int >= 0", checkpoint.get("epoch"))
    _check_config(checkpoint["config"], path)
    for name, value in checkpoint["model"].items():
        if not isinstance(name, str) or not isinstance(value, Tensor):
            raise _bad(path, f"model[{name!r}]", "a tensor under a string name", value)
    shape = checkpoint["image_shape"]
    if len(shape) != 3 or not all(_is_int(d) and d > 0 for d in shape):
        raise _bad(path, "image_shape", "a list of 3 positive ints", shape)
    if not checkpoint["classes"]:
        raise _bad(path, "classes", "a non-empty list", checkpoint["classes"])
    _check_optimizer(checkpoint["optimizer"], path)
    _check_history(checkpoint["history"], path)


_TYPE_CHECKS = {"int": _is_int, "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
                "str": lambda v: isinstance(v, str), "bool": lambda v: isinstance(v, bool),
                "None": lambda v: v is None}


def _check_config(config: dict, path: str) -> None:
    """Each known field has a type its annotation allows (``int``, ``float | None``...)."""
    for f in fields(TrainConfig):
        if f.name not in config:
            continue
        names = [n.strip() for n in str(getattr(f.type, "__name__", f.type)).split("|")]
        checks = [_TYPE_CHECKS[n] for n in names if n in _TYPE_CHECKS]
        if checks and not any(check(config[f.name]) for check in checks):
            expected = " or ".join("a number" if n == "float" else "None" if n == "None" else f"a {n}" for n in names)
            raise _bad(path, f"config.{f.name}", expected, config[f.name])
    try:
        TrainConfig.from_dict(config).check()
    except (TrainError, ValueError, TypeError) as exc:
        raise TrainError(f"checkpoint {path}: its config is invalid: {exc}") from None


def _check_optimizer(state: dict, path: str) -> None:
    if not isinstance(state.get("state"), dict):
        raise _bad(path, "optimizer.state", "a dict", state.get("state"))
    groups = state.get("param_groups")
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        raise _bad(path, "optimizer.param_groups", "a list of dicts", groups)
    for i, group in enumerate(groups):
        params = group.get("params")
        if not isinstance(params, list) or not all(_is_int(p) for p in params):
            raise _bad(path, f"optimizer.param_groups[{i}].params", "a list of ints", params)


def _check_history(history: list, path: str) -> None:
    from .loop import EpochResult
    names = {f.name for f in fields(EpochResult)}
    for i, entry in enumerate(history):
        if not isinstance(entry, dict) or set(entry) != names:
            raise _bad(path, f"history[{i}]", f"a dict with {', '.join(sorted(names))}", entry)
        for key, value in entry.items():
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise _bad(path, f"history[{i}].{key}", "a number", value)


def _check_rng(rng: dict, path: str) -> None:
    import ember
    for key in ("default", "loader"):
        state = rng.get(key)
        if not isinstance(state, ember.Tensor) or state.dtype != ember.uint8 or state.dim() != 1:
            raise _bad(path, f"rng.{key}", "a 1-D uint8 tensor (a generator state)", state)
        try:
            seed = ember.Generator().set_state(state).initial_seed()
            if not _is_int(seed):
                raise TypeError(f"its seed is {type(seed).__name__} {seed!r:.40}")
        except Exception as exc:  # whatever the backend's generator says about a damaged state
            raise TrainError(f"checkpoint {path}: field 'rng.{key}' is not a generator state "
                             f"({type(exc).__name__}: {str(exc)[:80]})") from None


def expected_state_shapes(model: str, image_shape, num_classes: int, hidden: int) -> dict | None:
    """The state-dict shapes :func:`~ember.train.models.build_model` gives, computed without building it
    (None for a model this table does not know). Kept in step with ``build_model`` by a test."""
    channels, height, width = image_shape
    if model == "mlp":
        return {"1.weight": (hidden, channels * height * width), "1.bias": (hidden,),
                "3.weight": (num_classes, hidden), "3.bias": (num_classes,)}
    if model == "cnn":
        return {"0.weight": (16, channels, 3, 3), "0.bias": (16,), "3.weight": (32, 16, 3, 3), "3.bias": (32,),
                "7.weight": (num_classes, 32 * (height // 4) * (width // 4)), "7.bias": (num_classes,)}
    return None


def _check_shapes(checkpoint: dict, path: str) -> None:
    """The model the config describes must have exactly the stored weights' shapes."""
    config = checkpoint["config"]
    name, hidden = config.get("model", "mlp"), config.get("hidden", 256)
    expected = expected_state_shapes(name, checkpoint["image_shape"], len(checkpoint["classes"]), hidden)
    stored = {key: tuple(t.shape) for key, t in checkpoint["model"].items()}
    if expected is None:
        return
    problems = [f"size mismatch for {key}: the config gives {shape}, the file stores {stored.get(key)}"
                for key, shape in expected.items() if key in stored and stored[key] != shape]
    missing, unexpected = sorted(set(expected) - set(stored)), sorted(set(stored) - set(expected))
    if missing:
        problems.append(f"missing weights {', '.join(missing)}")
    if unexpected:
        problems.append(f"unexpected weights {', '.join(unexpected)}")
    if problems:
        detail = "; ".join(problems)
        raise TrainError(f"checkpoint {path} does not fit the {name} model its config describes (config "
                         f"hidden={hidden}, image_shape={tuple(checkpoint['image_shape'])}, "
                         f"{len(checkpoint['classes'])} classes): {detail[:300]}")
