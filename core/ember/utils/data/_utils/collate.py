"""``torch.utils.data._utils.collate``: the same functions as :mod:`ember.utils.data.collate`."""

from ..collate import (  # noqa: F401
    collate, collate_float_fn, collate_int_fn, collate_numpy_array_fn, collate_numpy_scalar_fn, collate_str_fn,
    collate_tensor_fn, default_collate, default_collate_fn_map, default_convert,
)
from ..collate import __all__  # noqa: F401
