"""``ember.functional``: the functions PyTorch keeps in ``torch.functional`` (``einsum``, ``meshgrid``,
``norm``, ``split``, ``tensordot``, ``cartesian_prod``, ``broadcast_tensors``, ...), which are the same
objects as ``ember.<name>``."""

_NAMES = ("atleast_1d", "atleast_2d", "atleast_3d", "block_diag", "broadcast_shapes", "broadcast_tensors",
          "cartesian_prod", "cdist", "chain_matmul", "einsum", "lu", "meshgrid", "norm", "split", "stft", "istft",
          "tensordot", "unique", "unique_consecutive", "unravel_index")


def __getattr__(name):
    import ember
    if name in _NAMES and hasattr(ember, name):
        return getattr(ember, name)
    raise AttributeError(f"module 'ember.functional' has no attribute {name!r}")
