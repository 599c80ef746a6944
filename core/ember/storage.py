"""Where a tensor's elements live: strides, storage offset, data pointer, the storage itself, and the
memory formats ``contiguous``/``is_contiguous`` speak of.

A tensor's ``_data`` is a backend array; views share memory through the backend's own view mechanism
(numpy's and CuPy's ``.base``). The *storage* of a tensor is the array at the end of that ``.base``
chain: every view of one tensor finds the same one, so ``data_ptr`` arithmetic and
``untyped_storage()`` agree with PyTorch's. A device backend's arrays must offer what numpy's and
CuPy's do: ``.strides`` in bytes, ``.base``, ``.nbytes``, ``.view(dtype)``, and the data address
through ``__array_interface__`` (host memory) or ``__cuda_array_interface__`` (device memory); strided
views (``as_strided``, ``unfold``) use ``xp.lib.stride_tricks.as_strided`` where the array is not a
NumPy one.
"""

from __future__ import annotations

__all__ = ["UntypedStorage", "memory_format", "contiguous_format", "channels_last", "channels_last_3d",
           "preserve_format", "strides_of", "storage_root", "address", "storage_offset", "row_major_alias",
           "is_contiguous_as", "is_dense"]


class memory_format:
    """A memory layout name (``torch.memory_format``): ``contiguous_format``, ``channels_last``
    (NHWC order for 4-d), ``channels_last_3d`` (NDHWC for 5-d) and ``preserve_format``."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"ember.{self.name}"

    def __reduce__(self):
        return self.name


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")


def strides_of(array) -> tuple:
    """Strides in elements (PyTorch's unit), from the backend's strides in bytes."""
    size = array.itemsize
    return tuple(s // size for s in array.strides)


def storage_root(array):
    """The array that owns the memory ``array`` views (itself when it owns its memory)."""
    while True:
        base = getattr(array, "base", None)
        if base is None or not hasattr(base, "strides"):
            return array
        array = base


def address(array) -> int:
    """The address of ``array``'s first element, in host or device memory."""
    face = getattr(array, "__array_interface__", None) or array.__cuda_array_interface__
    return face["data"][0]


def row_major_alias(array):
    """``array`` itself when row-major, else a transposed view of it that is (a dense array laid out in
    another order of dims, as ``clone`` of a transposed tensor gives), else None. Same first address;
    NumPy builds arrays over a buffer only from a row-major one."""
    if array.flags.c_contiguous:
        return array
    order = sorted(range(array.ndim), key=lambda d: -array.strides[d])
    alias = array.transpose(order)
    return alias if alias.flags.c_contiguous else None


def storage_offset(array) -> int:
    """How many elements into its storage ``array`` starts (``Tensor.storage_offset``)."""
    root = storage_root(array)
    if root is array:
        return 0
    return (address(array) - _storage_start(root)) // array.itemsize


def _storage_start(root) -> int:
    """The lowest address ``root`` covers (a storage read backwards starts at its last element)."""
    low = address(root)
    for size, stride in zip(root.shape, root.strides):
        if stride < 0 and size:
            low += (size - 1) * stride
    return low


def is_dense(shape, strides) -> bool:
    """Whether the elements fill a block of memory exactly once, in some order of dims (PyTorch's
    "non-overlapping and dense")."""
    expected = 1
    for size, stride in sorted(((s, st) for s, st in zip(shape, strides) if s != 1), key=lambda p: p[1]):
        if stride != expected:
            return False
        expected *= size
    return True


def is_contiguous_as(shape, strides, fmt) -> bool:
    """PyTorch's ``is_contiguous(memory_format)``: strides (in elements) are those of a fresh tensor in
    that layout, ignoring dims of size one; an empty tensor is contiguous in every format."""
    if 0 in shape:
        return True
    if fmt is contiguous_format or fmt is preserve_format:
        order = range(len(shape) - 1, -1, -1)
    elif fmt is channels_last and len(shape) == 4:
        order = (1, 3, 2, 0)
    elif fmt is channels_last_3d and len(shape) == 5:
        order = (1, 4, 3, 2, 0)
    elif fmt in (channels_last, channels_last_3d):
        return False
    else:
        raise TypeError(f"is_contiguous(): memory_format must be an ember.memory_format, got {fmt!r}")
    expected = 1
    for d in order:
        if shape[d] != 1:
            if strides[d] != expected:
                return False
            expected *= shape[d]
    return True


class UntypedStorage:
    """The memory under a tensor and all its views, as bytes (``torch.UntypedStorage``): enough to
    compare ``data_ptr()`` of storages, read ``nbytes()`` and see the device. Reading or resizing a
    storage directly is not supported: go through a tensor (``as_strided``, views)."""

    __slots__ = ("_root", "_device")

    def __init__(self, root, device):
        self._root, self._device = root, device

    def data_ptr(self) -> int:
        return _storage_start(self._root)

    def nbytes(self) -> int:
        return int(self._root.nbytes)

    def size(self) -> int:
        return int(self._root.nbytes)

    __len__ = size

    def element_size(self) -> int:
        return 1

    @property
    def device(self):
        return self._device

    def __repr__(self) -> str:
        return f"ember.UntypedStorage(nbytes={self.nbytes()}, device='{self._device}')"
