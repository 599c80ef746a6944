"""``ember.nn.parallel``: data-parallel wrappers (``torch.nn.parallel``), imported on first use."""

from importlib import import_module as _import_module

_EXPORTS = {"DistributedDataParallel": "distributed", "DataParallel": "data_parallel",
            "data_parallel": "data_parallel", "scatter": "data_parallel", "gather": "data_parallel",
            "replicate": "data_parallel", "parallel_apply": "data_parallel"}
__all__ = sorted(_EXPORTS)


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ember.nn.parallel' has no attribute {name!r}")
    value = getattr(_import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
