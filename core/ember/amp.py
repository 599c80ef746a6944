"""``ember.amp``: automatic mixed precision with ``torch.amp``'s interface (``autocast``, ``GradScaler``).

``autocast("cpu")`` does what PyTorch's CPU autocast does: inside the region, the ops on PyTorch's CPU
lower-precision list (matmul, linear, conv, bmm, addmm, baddbmm, prelu, scaled dot-product attention)
take their floating inputs in the autocast dtype (bfloat16 by default, from ``ml_dtypes``) and return
that dtype, and the ops on its float32 list (the losses, cdist, the fft and linalg families) take
float32 inputs. Everything else runs in whatever dtype it is given. Casting is recorded by autograd,
so gradients come back in each parameter's own dtype, as in PyTorch.

It is done by swapping the bound ops for casting wrappers on entry and back on exit (no cost outside an
autocast region). ``autocast("cuda")`` without a CUDA device warns and disables itself, as PyTorch's
does; with ember's CuPy backend it casts to float16 by the same lists.

``GradScaler`` is PyTorch's loss scaler: ``scale(loss)`` multiplies by the scale, ``step`` unscales the
gradients and skips the step when any is inf/NaN, ``update`` grows or backs off the scale. Like
PyTorch's, a ``GradScaler("cuda")`` without CUDA is disabled (a pass-through, with a warning).
"""

from __future__ import annotations

import functools
import sys
import threading
import types
import warnings

__all__ = ["autocast", "GradScaler", "is_autocast_available", "custom_fwd", "custom_bwd"]

# PyTorch's CPU autocast lists (aten/src/ATen/autocast_mode.cpp), by ember's public names.
LOWER_PRECISION = ("matmul", "mm", "bmm", "addmm", "baddbmm", "addbmm", "linear", "conv1d", "conv2d", "conv3d",
                   "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "prelu",
                   "scaled_dot_product_attention", "__matmul__", "__rmatmul__")
FLOAT32 = ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "nll_loss", "cross_entropy", "kl_div",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "poisson_nll_loss", "ctc_loss",
           "cosine_embedding_loss", "hinge_embedding_loss", "margin_ranking_loss", "soft_margin_loss",
           "multi_margin_loss", "multilabel_margin_loss", "triplet_margin_loss", "cdist", "prod", "stft",
           "avg_pool3d", "max_pool3d", "adaptive_avg_pool3d", "grid_sample", "inverse", "cholesky", "pinverse")

_DEVICE_TYPES = ("cpu", "cuda")


class _ThreadModes(threading.local):
    """Autocast is per thread, as in PyTorch: device type -> [enabled, dtype], off in a new thread."""

    def __init__(self):
        self.modes = {device_type: [False, None] for device_type in _DEVICE_TYPES}
        self.counted = False  # whether this thread is among _threads_on


_thread = _ThreadModes()
# The casting wrappers are shared by all threads (each reads its own modes): installed while at least one
# thread has autocast on somewhere.
_threads_on = [0]
_threads_lock = threading.Lock()
_installed: list = []


def _sync_installed() -> None:
    """After this thread's modes changed: count it in or out, and install or remove the wrappers."""
    on = any(enabled for enabled, _ in _thread.modes.values())
    if on == _thread.counted:
        return
    _thread.counted = on
    with _threads_lock:
        _threads_on[0] += 1 if on else -1
        if on and _threads_on[0] == 1:
            _install()
        elif not on and _threads_on[0] == 0:
            _uninstall()


def _default_dtype(device_type):
    from . import dtypes
    return dtypes.bfloat16 if device_type == "cpu" else dtypes.float16


def is_autocast_available(device_type: str) -> bool:
    """Whether autocast can run on ``device_type`` ('cpu' or 'cuda') (``torch.amp.is_autocast_available``)."""
    return device_type in _DEVICE_TYPES


def is_autocast_enabled(device_type: str = "cuda") -> bool:
    """Whether autocast is on for ``device_type`` in this thread (``torch.is_autocast_enabled``; PyTorch's
    default argument is "cuda")."""
    return _thread.modes.get(device_type, [False])[0]


def get_autocast_dtype(device_type: str):
    """The lower-precision dtype autocast uses on ``device_type``: bfloat16 on "cpu", float16 elsewhere,
    unless ``autocast(dtype=...)`` set another (``torch.get_autocast_dtype``). KeyError for a device type
    autocast does not know."""
    return _thread.modes[device_type][1] or _default_dtype(device_type)


def _cast_args(args, kwargs, target):
    from .tensor import Tensor

    def cast(a):
        if isinstance(a, Tensor) and a._dtype.is_floating_point and a._dtype is not target:
            return a.to(target)
        if isinstance(a, (list, tuple)) and any(isinstance(b, Tensor) for b in a):
            return type(a)(cast(b) for b in a)
        return a
    return [cast(a) for a in args], {k: cast(v) for k, v in kwargs.items()}


def _device_of(args, kwargs):
    from .tensor import Tensor
    for a in list(args) + list(kwargs.values()):
        if isinstance(a, Tensor):
            return a._device.type
    return None


def _wrapper(fn, lower: bool):
    from . import dtypes

    @functools.wraps(fn)
    def autocast_op(*args, **kwargs):
        device_type = _device_of(args, kwargs)
        modes = _thread.modes
        if device_type not in modes or not modes[device_type][0]:
            return fn(*args, **kwargs)
        target = get_autocast_dtype(device_type) if lower else dtypes.float32
        args, kwargs = _cast_args(args, kwargs, target)
        return fn(*args, **kwargs)  # the kernels return their inputs' dtype (bfloat16 products included)
    autocast_op.__ember_autocast__ = fn
    return autocast_op


def _install() -> None:
    from .plugins import _bound, load_all
    load_all()  # every op bound for real first: a placeholder would be wrapped, then replaced
    for namespace, attr, _previous in _bound:
        lower = attr in LOWER_PRECISION
        if not lower and attr not in FLOAT32:
            continue
        current = namespace.__dict__.get(attr) if isinstance(namespace, type) else getattr(namespace, attr, None)
        if not callable(current) or isinstance(current, type) or hasattr(current, "__ember_autocast__"):
            continue
        _installed.append((namespace, attr, current))
        setattr(namespace, attr, _wrapper(current, lower))


def _uninstall() -> None:
    while _installed:
        namespace, attr, original = _installed.pop()
        setattr(namespace, attr, original)


class autocast:  # noqa: N801 - PyTorch's name
    """Run the region in mixed precision on ``device_type`` (``torch.autocast``). Also a decorator.

    ``dtype`` defaults to bfloat16 on the CPU and float16 on CUDA; on the CPU only bfloat16 and float16 are
    accepted (PyTorch warns and disables otherwise, and so does ember)."""

    def __init__(self, device_type: str = "cuda", dtype=None, enabled: bool = True, cache_enabled=None):
        from . import dtypes
        if not isinstance(device_type, str):
            raise ValueError(f"autocast: expected device_type of type str, got {type(device_type).__name__}")
        self.device_type = device_type
        self.fast_dtype = dtypes.as_dtype(dtype) if dtype is not None else None
        self._enabled = enabled
        if device_type not in _DEVICE_TYPES:
            raise RuntimeError(f"autocast: device_type must be 'cpu' or 'cuda' in ember, got {device_type!r}")
        if enabled and device_type == "cuda":
            from . import cuda
            if not cuda.is_available():
                warnings.warn("CUDA is not available; disabling autocast", UserWarning, stacklevel=2)
                self._enabled = False
        if self._enabled and device_type == "cpu" and self.fast_dtype is not None and \
                self.fast_dtype.name not in ("bfloat16", "float16"):
            warnings.warn(f"In CPU autocast, but the target dtype is not supported. Disabling autocast.\n"
                          f"CPU Autocast only supports dtype of bfloat16, float16 currently, got {self.fast_dtype}",
                          UserWarning, stacklevel=2)
            self._enabled = False

    def __enter__(self):
        mode = _thread.modes[self.device_type]
        self._previous = list(mode)
        mode[:] = [self._enabled, self.fast_dtype or self._previous[1]]
        _sync_installed()
        return self

    def __exit__(self, *exc):
        _thread.modes[self.device_type][:] = self._previous
        _sync_installed()
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with autocast(self.device_type, self.fast_dtype, self._enabled):
                return fn(*args, **kwargs)
        return wrapped


def custom_fwd(fwd=None, *, device_type: str = "cuda", cast_inputs=None):
    """``torch.amp.custom_fwd``: runs ``fwd`` with autocast off and, with ``cast_inputs``, its floating
    inputs cast to that dtype."""
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def wrapped(*args, **kwargs):
        if cast_inputs is not None and is_autocast_enabled(device_type):
            args, kwargs = _cast_args(args, kwargs, cast_inputs)
            with autocast(device_type, enabled=False):
                return fwd(*args, **kwargs)
        return fwd(*args, **kwargs)
    return wrapped


def custom_bwd(bwd=None, *, device_type: str = "cuda"):
    """``torch.amp.custom_bwd``: returns ``bwd`` (backward runs outside autocast in ember)."""
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)
    return bwd


class GradScaler:
    """Dynamic loss scaling (``torch.amp.GradScaler``), so small float16 gradients do not flush to zero.

    ``scale(outputs)`` multiplies by the current scale; ``unscale_(optimizer)`` divides that optimizer's
    gradients by it and notes whether any is inf/NaN; ``step(optimizer)`` unscales if not yet done and
    calls ``optimizer.step()`` only when all gradients are finite; ``update()`` multiplies the scale by
    ``backoff_factor`` after a skipped step, or by ``growth_factor`` after ``growth_interval`` finite ones.
    Disabled (every method a pass-through), as PyTorch's, for "cuda" when CUDA is unavailable or with
    ``enabled=False``."""

    def __init__(self, device: str = "cuda", init_scale: float = 2.0 ** 16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000, enabled: bool = True):
        self._device = device
        self._enabled = enabled
        if enabled and device == "cuda":
            from . import cuda
            if not cuda.is_available():
                warnings.warn("GradScaler is enabled, but CUDA is not available. Disabling.", UserWarning,
                              stacklevel=2)
                self._enabled = False
        if growth_factor <= 1.0:
            raise ValueError(f"GradScaler: growth_factor must be > 1.0, got {growth_factor}")
        if not 0.0 < backoff_factor < 1.0:
            raise ValueError(f"GradScaler: backoff_factor must be in (0, 1), got {backoff_factor}")
        self._scale = float(init_scale)
        self._growth_factor, self._backoff_factor = float(growth_factor), float(backoff_factor)
        self._growth_interval = int(growth_interval)
        self._growth_tracker = 0
        self._per_optimizer: dict = {}  # id(optimizer) -> {"unscaled": bool, "found_inf": bool}

    def is_enabled(self) -> bool:
        return self._enabled

    def get_scale(self) -> float:
        return self._scale if self._enabled else 1.0

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def scale(self, outputs):
        """``outputs * scale`` for a tensor or a (nested) list/tuple of tensors."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        return outputs * self._scale

    def _record(self, optimizer) -> dict:
        return self._per_optimizer.setdefault(id(optimizer), {"unscaled": False, "found_inf": False})

    def unscale_(self, optimizer) -> None:
        """Divide ``optimizer``'s gradients by the scale in place (once per step)."""
        if not self._enabled:
            return
        record = self._record(optimizer)
        if record["unscaled"]:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        from .autograd.grad_mode import no_grad
        inv = 1.0 / self._scale
        found = False
        with no_grad():
            for group in optimizer.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    p.grad.mul_(inv)
                    if not bool(p.grad.isfinite().all()):
                        found = True
        record["unscaled"], record["found_inf"] = True, found

    def step(self, optimizer, *args, **kwargs):
        """Unscale (unless done) and step ``optimizer`` unless a gradient is inf/NaN; returns step's value."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        record = self._record(optimizer)
        if not record["unscaled"]:
            self.unscale_(optimizer)
        if record["found_inf"]:
            return None
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale=None) -> None:
        """Adjust the scale from this step's inf/NaN findings (or set it to ``new_scale``)."""
        if not self._enabled:
            return
        if new_scale is not None:
            self._scale = float(new_scale)
        elif any(r["found_inf"] for r in self._per_optimizer.values()):
            self._scale *= self._backoff_factor
            self._growth_tracker = 0
        else:
            self._growth_tracker += 1
            if self._growth_tracker == self._growth_interval:
                self._scale *= self._growth_factor
                self._growth_tracker = 0
        self._per_optimizer.clear()

    def state_dict(self) -> dict:
        if not self._enabled:
            return {}
        return {"scale": self._scale, "growth_factor": self._growth_factor, "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval, "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict: dict) -> None:
        if not self._enabled:
            return
        self._scale = float(state_dict["scale"])
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict["_growth_tracker"])


def cuda_namespace() -> types.ModuleType:
    """``torch.cuda.amp``: ``autocast`` and ``GradScaler`` with "cuda" as their device."""
    name = "ember.cuda.amp"
    module = sys.modules.get(name)
    if module is None:
        module = types.ModuleType(name, "torch.cuda.amp's names: autocast and GradScaler for the 'cuda' device.")

        class CudaAutocast(autocast):
            def __init__(self, enabled=True, dtype=None, cache_enabled=None):
                super().__init__("cuda", dtype=dtype, enabled=enabled)

        class CudaGradScaler(GradScaler):
            def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000,
                         enabled=True):
                super().__init__("cuda", init_scale, growth_factor, backoff_factor, growth_interval, enabled)

        CudaAutocast.__name__ = CudaAutocast.__qualname__ = "autocast"
        CudaGradScaler.__name__ = CudaGradScaler.__qualname__ = "GradScaler"
        module.autocast, module.GradScaler = CudaAutocast, CudaGradScaler
        module.custom_fwd, module.custom_bwd = custom_fwd, custom_bwd
        sys.modules[name] = module
    return module


def set_autocast_enabled(device_type, enabled=None) -> None:
    """``torch.set_autocast_enabled(device_type, enabled)`` (or the old one-argument CUDA form)."""
    if enabled is None:
        device_type, enabled = "cuda", device_type
    _thread.modes[device_type][0] = bool(enabled)
    _sync_installed()


def is_autocast_cpu_enabled() -> bool:
    """Deprecated spelling of ``is_autocast_enabled("cpu")`` (``torch.is_autocast_cpu_enabled``)."""
    return is_autocast_enabled("cpu")


def get_autocast_cpu_dtype():
    """Deprecated spelling of ``get_autocast_dtype("cpu")`` (``torch.get_autocast_cpu_dtype``)."""
    return get_autocast_dtype("cpu")


def get_autocast_gpu_dtype():
    """Deprecated spelling of ``get_autocast_dtype("cuda")`` (``torch.get_autocast_gpu_dtype``)."""
    return get_autocast_dtype("cuda")
