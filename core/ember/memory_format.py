"""Memory formats (``torch.channels_last`` ...). ember stores every tensor in row-major (contiguous)
order, so a requested format is accepted and the data stays contiguous: values are identical, only
the stride layout that PyTorch would pick differs."""

from __future__ import annotations

__all__ = ["memory_format", "contiguous_format", "channels_last", "channels_last_3d", "preserve_format"]


class memory_format:  # noqa: N801 - PyTorch's name
    """A memory layout request, as ``torch.memory_format``."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"ember.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")


def _by_name(name: str) -> memory_format:
    return globals()[name]
