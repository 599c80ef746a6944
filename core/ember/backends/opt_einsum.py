"""``ember.backends.opt_einsum``: einsum contraction-order switches. ember's einsum asks numpy to
optimise the order (``optimize=True``) whatever these say; they are plain flags."""

enabled = True
strategy = "auto"


def is_available() -> bool:
    """Whether the opt_einsum package is importable (PyTorch's meaning)."""
    import importlib.util
    return importlib.util.find_spec("opt_einsum") is not None
