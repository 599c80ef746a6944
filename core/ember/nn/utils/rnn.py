"""``ember.nn.utils.rnn``: variable-length sequences (``torch.nn.utils.rnn``).

A :class:`PackedSequence` holds a batch of sequences of different lengths time-major without padding:
``data`` is every step's rows of the sequences still running (longest first), ``batch_sizes`` how many
rows each step has. Packing and unpacking are gathers of ember ops, so gradients flow through them;
RNN, LSTM and GRU accept a PackedSequence and return one.
"""

from __future__ import annotations

from collections import namedtuple

from ... import dtypes as _dt
from ...tensor import Tensor

__all__ = ["PackedSequence", "pad_sequence", "unpad_sequence", "pack_padded_sequence", "pad_packed_sequence",
           "pack_sequence", "unpack_sequence"]


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """``(data, batch_sizes, sorted_indices, unsorted_indices)`` as ``torch.nn.utils.rnn.PackedSequence``."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = _invert(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else type(self)(data, self.batch_sizes, self.sorted_indices,
                                                        self.unsorted_indices)

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda

    def lengths(self) -> list:
        """Each sequence's length, in the original batch order."""
        sizes = [int(b) for b in self.batch_sizes.tolist()]
        lengths = [sum(1 for b in sizes if b > i) for i in range(sizes[0])] if sizes else []
        if self.unsorted_indices is not None:
            lengths = [lengths[int(i)] for i in self.unsorted_indices.tolist()]
        return lengths


def _invert(perm: Tensor) -> Tensor:
    from ... import empty_like, arange
    out = empty_like(perm)
    out[perm] = arange(perm.shape[0], device=perm.device)
    return out


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0, padding_side: str = "right"):
    """Stack tensors of shape (L_i, *) into (max L, B, *) (or (B, max L, *) with ``batch_first``),
    filling with ``padding_value`` on ``padding_side`` ("right" or "left")."""
    from ... import cat, full, stack
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    if not sequences:
        raise RuntimeError("pad_sequence: received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise ValueError(f"pad_sequence: padding_side must be 'left' or 'right', got {padding_side!r}")
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        missing = longest - s.shape[0]
        if missing:
            pad = full((missing,) + tuple(s.shape[1:]), padding_value, dtype=s.dtype, device=s.device)
            s = cat([s, pad] if padding_side == "right" else [pad, s], 0)
        padded.append(s)
    return stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first: bool = False) -> list:
    """The inverse of :func:`pad_sequence` for right padding: a list of (L_i, *) tensors."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [seq[:int(n)] for seq, n in zip(padded_sequences, _as_list(lengths))]


def _as_list(lengths) -> list:
    return [int(n) for n in (lengths.tolist() if isinstance(lengths, Tensor) else lengths)]


def pack_padded_sequence(input, lengths, batch_first: bool = False, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (T, B, *) (or (B, T, *)) of sequences with the given ``lengths``. With
    ``enforce_sorted`` the lengths must be decreasing; otherwise the batch is sorted and the order kept in
    ``sorted_indices``/``unsorted_indices``."""
    from ... import cat, tensor
    lengths = _as_list(lengths)
    if batch_first:
        input = input.transpose(0, 1)
    if len(lengths) != input.shape[1]:
        raise ValueError(f"pack_padded_sequence: expected {input.shape[1]} lengths (the batch size), got {len(lengths)}")
    if any(n <= 0 for n in lengths):
        raise RuntimeError("pack_padded_sequence: length of all samples has to be greater than 0")
    if enforce_sorted:
        if any(a < b for a, b in zip(lengths, lengths[1:])):
            raise RuntimeError("pack_padded_sequence: `lengths` array must be sorted in decreasing order when "
                               "`enforce_sorted` is True. You can pass `enforce_sorted=False` to "
                               "pack_padded_sequence and/or pack_sequence to sidestep this requirement if you do "
                               "not need ONNX exportability.")
        order = None
    else:
        order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
        input = input.index_select(1, tensor(order, device=input.device))
        lengths = [lengths[i] for i in order]
    if lengths[0] > input.shape[0]:
        raise RuntimeError(f"pack_padded_sequence: a length of {lengths[0]} exceeds the {input.shape[0]} padded steps")
    batch_sizes = [sum(1 for n in lengths if n > t) for t in range(lengths[0])]
    data = cat([input[t, :b] for t, b in enumerate(batch_sizes)], 0)
    sorted_indices = None if order is None else tensor(order, dtype=_dt.int64)
    return PackedSequence(data, tensor(batch_sizes, dtype=_dt.int64), sorted_indices)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None):
    """Unpack to a padded (T, B, *) (or (B, T, *)) tensor and the lengths (an int64 tensor), in the original
    batch order."""
    from ... import full, stack, tensor
    data, sizes = sequence.data, [int(b) for b in sequence.batch_sizes.tolist()]
    steps = len(sizes)
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"pad_packed_sequence: expected total_length to be at least {steps}, got {total_length}")
        steps = total_length
    batch = sizes[0]
    rows, start = [], 0
    for b in sizes:
        rows.append((start, b))
        start += b
    tail = tuple(data.shape[1:])
    per_step = []
    for t in range(steps):
        if t < len(sizes):
            begin, b = rows[t]
            step = data[begin:begin + b]
            if b < batch:
                from ... import cat
                step = cat([step, full((batch - b,) + tail, padding_value, dtype=data.dtype, device=data.device)], 0)
        else:
            step = full((batch,) + tail, padding_value, dtype=data.dtype, device=data.device)
        per_step.append(step)
    padded = stack(per_step, 0)
    lengths = [sum(1 for b in sizes if b > i) for i in range(batch)]
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(1, sequence.unsorted_indices.to(data.device))
        lengths = [lengths[int(i)] for i in sequence.unsorted_indices.tolist()]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, tensor(lengths, dtype=_dt.int64)


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of (L_i, *) tensors (``pad_sequence`` then ``pack_padded_sequence``)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """The list of (L_i, *) tensors a PackedSequence holds, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
