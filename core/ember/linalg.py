"""``ember.linalg``: filled at load with every op registered with ``namespaces=("linalg", ...)``."""

from .ops import LinAlgError  # noqa: F401 - torch.linalg.LinAlgError


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None, out=None):
    """``torch.linalg.norm``: with ``ord`` None the 2-norm of all elements (or over ``dim``); otherwise a
    vector norm (``vector_norm``) over one dim or of 1-D input, a matrix norm (``matrix_norm``) over two
    dims or of 2-D input. Both are registered ops; this only chooses between them."""
    dims = None if dim is None else ((dim,) if isinstance(dim, int) else tuple(dim))
    if out is not None:
        raise TypeError("linalg.norm(): out= is not supported by ember")
    if ord is None:
        return vector_norm(A, 2, dims, keepdim, dtype=dtype)  # noqa: F821 - bound from the ops registry
    if (dims is not None and len(dims) == 2) or (dims is None and A.dim() == 2):
        return matrix_norm(A, ord, dims or (-2, -1), keepdim, dtype=dtype)  # noqa: F821
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.norm: ord={ord!r} needs a matrix (2-D input or two dims)")
    return vector_norm(A, ord, dims, keepdim, dtype=dtype)  # noqa: F821
