"""``ember.nn.parallel``: data-parallel wrappers (``torch.nn.parallel``), imported on first use."""

from ...lazy import lazy_exports as _lazy_exports

_EXPORTS = {"DistributedDataParallel": ".distributed", "DataParallel": ".data_parallel",
            "data_parallel": ".data_parallel", "scatter": ".data_parallel", "gather": ".data_parallel",
            "replicate": ".data_parallel", "parallel_apply": ".data_parallel"}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = _lazy_exports(__name__, _EXPORTS)
