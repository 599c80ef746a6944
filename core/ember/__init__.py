"""ember: a small deep-learning framework with PyTorch's interface, where everything is a plugin.

``import ember as torch`` is meant to run PyTorch scripts. The core (tensors, autograd, devices,
plugin manager) lives here; ops, layers, optimizers and device backends are plugins discovered through
the ``ember.plugins`` entry-point group and bound onto this module, ``Tensor``, ``ember.nn`` and
``ember.optim`` once, at import.
"""

from .lazy import lazy_exports as _lazy_exports


from .dtypes import (  # noqa: F401
    bool, double, dtype, float, float16, float32, float64, get_default_dtype, half, int, int8, int16,
    int32, int64, long, promote_types, result_type, set_default_dtype, short, uint8,
)
from .device import Backend, DeviceError, device  # noqa: F401
from .tensor import Size, Tensor, is_tensor, numel  # noqa: F401
from .storage import (  # noqa: F401
    UntypedStorage, channels_last, channels_last_3d, contiguous_format, memory_format, preserve_format,
)
from . import autograd  # noqa: F401
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
from .autograd.grad_mode import is_inference_mode_enabled  # noqa: F401
from . import primitive, conversion, views  # noqa: F401
from .creation import (  # noqa: F401
    arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like, linspace, logspace, ones, ones_like,
    rand, rand_like, randint, randint_like, randn, randn_like, randperm, tensor, tril_indices, triu_indices, zeros,
    zeros_like,
)
from . import ops  # noqa: F401
from .errors import DTypeError, ShapeError  # noqa: F401
from .autograd import SavedTensorError  # noqa: F401
from .random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state  # noqa: F401
from . import linalg, nn, optim  # noqa: F401
from . import plugins  # noqa: F401
from .plugins import PluginError  # noqa: F401
from .registry import PluginConflictError  # noqa: F401
from .hookspecs import hookimpl  # noqa: F401

__version__ = "0.1.0"


def is_floating_point(input) -> bool:
    """Whether ``input``'s dtype is a floating point one (``torch.is_floating_point``)."""
    return input.is_floating_point()


from .settings import (  # noqa: F401,E402
    are_deterministic_algorithms_enabled, get_default_device, get_float32_matmul_precision, get_num_interop_threads,
    get_num_threads, set_default_device, set_float32_matmul_precision, set_num_interop_threads, set_num_threads,
    set_printoptions, use_deterministic_algorithms,
)
from .dtypes import finfo, iinfo  # noqa: F401,E402
from .legacy import (  # noqa: F401,E402
    BFloat16Tensor, BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor, HalfTensor, IntTensor, LongTensor,
    ShortTensor,
)
from . import foreach as _foreach  # noqa: E402
globals().update({_n: getattr(_foreach, _n) for _n in _foreach.__all__})
import math as _math  # noqa: E402

pi, e, inf, nan, newaxis = _math.pi, _math.e, _math.inf, _math.nan, None


def is_complex(input) -> bool:
    """False for every ember tensor: ember has no complex dtypes (``torch.is_complex``)."""
    return False


def compile(model=None, **options):  # noqa: A001 - PyTorch's name
    """``torch.compile``'s place: ember has no compiler, so the model (or function) comes back unchanged
    and scripts that call it run as they are. Usable as ``compile(fn)`` and as ``@compile(mode=...)``."""
    if model is None:
        return lambda fn: fn
    return model


# Modules and names imported on first use, so that ``import ember`` stays fast.
_LAZY_MODULES = {name: f"ember.{name}" for name in (
    "backends", "utils", "testing", "datasets", "transforms", "cuda", "serialization", "distributed", "hub", "jit",
    "accelerator", "onnx", "profiler", "amp", "distributions", "fft", "multiprocessing", "compiler", "_dynamo",
    "_inductor", "version", "func", "fx", "futures", "functional")}
_LAZY_NAMES = {"save": "ember.serialization", "load": "ember.serialization", "bfloat16": "ember.dtypes",
               "vmap": "ember.func"}
_LAZY_NAMES.update(dict.fromkeys(["autocast", "is_autocast_enabled", "get_autocast_dtype", "is_autocast_cpu_enabled",
                                  "get_autocast_cpu_dtype", "get_autocast_gpu_dtype", "set_autocast_enabled"],
                                 "ember.amp"))
__getattr__, _ = _lazy_exports(__name__, _LAZY_NAMES, _LAZY_MODULES,
                               hint="; if it comes from a plugin, `ember plugins` shows what is loaded and what failed")


plugins.load_entry_points()
