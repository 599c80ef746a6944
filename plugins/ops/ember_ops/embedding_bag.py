"""``embedding_bag``: sums, means or maxima of bags of embedding rows without building the (N, D)
intermediate per bag (``torch.nn.functional.embedding_bag``). Bags are the rows of 2-D ``input`` or the
segments of 1-D ``input`` that ``offsets`` start. Written as a composite: rows are gathered with
``embedding`` and combined by a (bags x indices) weight matrix (sum, mean) or a per-bag max, so
gradients flow to ``weight`` and ``per_sample_weights``. ``padding_idx`` rows are left out of every bag."""

from __future__ import annotations

import numpy as np

from ember.ops import ArgumentError, DimensionError, OpTable, Sample, check_tensor, float_input

ops = OpTable()


def _bags(input, offsets, include_last_offset):
    """(flat indices as numpy, bag id of each index, number of bags)."""
    idx = np.asarray(input).astype(np.int64)
    if idx.ndim == 2:
        b, n = idx.shape
        return idx.reshape(-1), np.repeat(np.arange(b), n), b
    if idx.ndim != 1:
        raise ValueError(f"embedding_bag: input has to be 1D or 2D Tensor, but got Tensor of dimension {idx.ndim}")
    if offsets is None:
        raise ValueError("embedding_bag: offsets has to be a 1D Tensor but got None")
    starts = np.asarray(offsets).astype(np.int64).reshape(-1)
    if starts.size and starts[0] != 0:
        raise ValueError(f"embedding_bag: offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to "
                         f"start from position 0. However, got {starts[0]}")
    if include_last_offset:
        starts = starts[:-1]
    bags = len(starts)
    bag_of = np.searchsorted(starts, np.arange(idx.size), side="right") - 1
    return idx, bag_of, bags


def _samples(make):
    w = make(10, 3)
    yield Sample((make.index([1, 2, 4, 5, 4, 3, 2, 9]), w, make.index([0, 4])), name="mean, offsets")
    yield Sample((make.index([[1, 2], [4, 4]]), make(10, 3)), {"mode": "sum"}, name="2-D, sum")
    yield Sample((make.index([1, 2, 4, 5, 4]), make(10, 3), make.index([0, 2, 2])), {"mode": "max"},
                 name="max, empty bag")
    yield Sample((make.index([1, 2, 4, 5]), make(10, 3), make.index([0, 1])),
                 {"mode": "sum", "per_sample_weights": make(4)}, name="per-sample weights")
    yield Sample((make.index([1, 0, 4, 0]), make(10, 3), make.index([0, 2, 4])),
                 {"padding_idx": 0, "include_last_offset": True}, name="padding_idx, last offset")


@ops.op(namespaces=("functional",), samples=_samples)
def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """(bags, D): each bag's rows of ``weight`` combined by ``mode`` ("sum", "mean", "max"); empty bags give zeros.
    ``per_sample_weights`` scale rows (mode "sum" only).

    Shape:
        - input: ``(B, L)`` bags of equal length, or ``(S,)`` concatenated bags with ``offsets``; int64 indices.
        - weight: ``(num_embeddings, embedding_dim)``, floating point.
        - offsets: ``(B,)`` starts of the bags in 1-D ``input`` (``(B + 1,)`` with ``include_last_offset``).
        - per_sample_weights: the shape of ``input`` ('sum' mode only).
        - output: ``(B, embedding_dim)``, the dtype of ``weight``.

    Raises:
        ValueError: ``mode`` is not 'sum', 'mean' or 'max', ``input`` is not 1-D or 2-D, 1-D ``input`` comes
            without 1-D ``offsets``, or ``offsets[0]`` is not 0.
        DimensionError: ``weight`` is not 2-D.
        ArgumentError: ``per_sample_weights`` is not ``input``'s shape.
        NotImplementedError: ``per_sample_weights`` with a mode other than 'sum', or ``max_norm``.
        OutOfRangeError: an index is outside [0, num_embeddings).
        DTypeError: ``weight`` is not floating point.
        TypeError: ``input`` is not a Tensor.
        DeviceError: a tensor is not on ``weight``'s device.

    PyTorch: ``torch.nn.functional.embedding_bag``."""
    check_tensor("embedding_bag", "input", input)
    float_input("embedding_bag", weight, "weight")
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"embedding_bag: mode has to be one of sum, mean or max, got {mode!r}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
                                  f"GitHub.")
    for name, t in (("input", input), ("offsets", offsets), ("per_sample_weights", per_sample_weights)):
        if t is not None and t.device != weight.device:
            from ember.device import DeviceError
            raise DeviceError(f"embedding_bag: expected {name} on {weight.device} (weight's device), got {t.device}")
    if max_norm is not None:
        raise NotImplementedError("embedding_bag: max_norm is not supported by ember")
    if weight.dim() != 2:
        raise DimensionError(f"embedding_bag: weight has to be a 2D Tensor, got shape {tuple(weight.shape)}")
    if per_sample_weights is not None and tuple(per_sample_weights.shape) != tuple(input.shape):
        raise ArgumentError(f"embedding_bag: If per_sample_weights ({tuple(per_sample_weights.shape)}) is not None, "
                            f"then it must have the same shape as the input ({tuple(input.shape)})")
    import ember
    idx, bag_of, bags = _bags(input, offsets, include_last_offset)
    keep = np.ones(idx.size, bool) if padding_idx is None else idx != (padding_idx % weight.shape[0])
    rows = weight.index_select(0, ember.tensor(idx, device=weight.device)) if idx.size else \
        weight.new_zeros((0, weight.shape[1]))
    if mode == "max":
        out = []
        for b in range(bags):
            members = np.nonzero((bag_of == b) & keep)[0]
            out.append(rows[ember.tensor(members, device=weight.device)].amax(0) if members.size else
                       weight.new_zeros((weight.shape[1],)))
        return ember.stack(out, 0) if out else weight.new_zeros((0, weight.shape[1]))
    matrix = np.zeros((bags, idx.size), dtype=weight.dtype.numpy)
    matrix[bag_of[keep], np.nonzero(keep)[0]] = 1.0
    if mode == "mean":
        counts = matrix.sum(1, keepdims=True)
        matrix = matrix / np.maximum(counts, 1)
    m = ember.tensor(matrix, device=weight.device)
    if per_sample_weights is not None:
        m = m * per_sample_weights.reshape(1, -1)
    return m @ rows
