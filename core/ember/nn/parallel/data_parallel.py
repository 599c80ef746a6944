"""``nn.DataParallel`` on one device, and the functional pieces it is made of.

PyTorch's DataParallel splits each batch across GPUs, runs a replica of the module on each, and gathers
the outputs on ``output_device``. With a single device (the CPU, or one GPU) that reduces to running the
module itself, which is what ember does; the wrapper keeps PyTorch's interface (``.module``,
``device_ids``, ``output_device``, state_dict keys prefixed with ``module.``). Several GPUs are refused
with a clear error rather than silently using one: use ``DistributedDataParallel`` for that.
"""

from __future__ import annotations

from ..module import Module

__all__ = ["DataParallel", "data_parallel", "scatter", "gather", "replicate", "parallel_apply"]


def _device_ids(device_ids):
    if device_ids is None:
        from ... import cuda
        return list(range(cuda.device_count())) if cuda.is_available() else []
    return [d if isinstance(d, int) else d.index or 0 for d in device_ids]


def _check_one(device_ids, who):
    if len(device_ids) > 1:
        raise NotImplementedError(f"{who}: ember runs DataParallel on one device; got device_ids={device_ids}. "
                                  f"Use ember.nn.parallel.DistributedDataParallel for several GPUs")


class DataParallel(Module):
    """Wraps ``module`` for data parallelism (``torch.nn.DataParallel``); on one device, calls it directly."""

    def __init__(self, module, device_ids=None, output_device=None, dim: int = 0):
        super().__init__()
        self.module = module
        self.device_ids = _device_ids(device_ids)
        _check_one(self.device_ids, "DataParallel")
        self.output_device = output_device if output_device is not None else \
            (self.device_ids[0] if self.device_ids else None)
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


def data_parallel(module, inputs, device_ids=None, output_device=None, dim: int = 0, module_kwargs=None):
    """The functional DataParallel (``torch.nn.parallel.data_parallel``): ``module(*inputs, **module_kwargs)``."""
    _check_one(_device_ids(device_ids), "data_parallel")
    if not isinstance(inputs, tuple):
        inputs = (inputs,)
    return module(*inputs, **(module_kwargs or {}))


def scatter(inputs, target_gpus, dim: int = 0):
    """Split tensors in ``inputs`` into one chunk per target along ``dim`` (moved to each target)."""
    from ...tensor import Tensor

    def split(obj):
        if isinstance(obj, Tensor):
            chunks = obj.chunk(len(target_gpus), dim)
            return [c.to(f"cuda:{g}" if isinstance(g, int) else g) for c, g in zip(chunks, target_gpus)]
        if isinstance(obj, (tuple, list)) and obj:
            return [type(obj)(parts) for parts in zip(*[split(o) for o in obj])]
        if isinstance(obj, dict) and obj:
            return [type(obj)(zip(obj.keys(), parts)) for parts in zip(*[split(v) for v in obj.values()])]
        return [obj for _ in target_gpus]
    return split(inputs)


def gather(outputs, target_device, dim: int = 0):
    """Concatenate per-device outputs on ``target_device`` along ``dim`` (``torch.nn.parallel.gather``)."""
    from ... import cat
    from ...tensor import Tensor
    first = outputs[0]
    if isinstance(first, Tensor):
        device = "cpu" if target_device == -1 else (f"cuda:{target_device}" if isinstance(target_device, int)
                                                    else target_device)
        return cat([o.to(device) for o in outputs], dim)
    if isinstance(first, dict):
        return type(first)((k, gather([o[k] for o in outputs], target_device, dim)) for k in first)
    return type(first)(gather(list(parts), target_device, dim) for parts in zip(*outputs))


def replicate(network, devices, detach: bool = False) -> list:
    """One copy of ``network`` per device; on one device, the network itself."""
    _check_one(list(devices), "replicate")
    return [network for _ in devices]


def parallel_apply(modules, inputs, kwargs_tup=None, devices=None) -> list:
    """Apply ``modules[i]`` to ``inputs[i]`` (one after another in ember) and return the outputs."""
    kwargs_tup = kwargs_tup or [{}] * len(modules)
    return [m(*(i if isinstance(i, (tuple, list)) else (i,)), **k) for m, i, k in zip(modules, inputs, kwargs_tup)]
