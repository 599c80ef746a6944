"""How a tensor prints: the body of ``repr(tensor)`` laid out by PyTorch's rules (``torch/_tensor_str.py``).

Scripts print losses, weights and predictions, and tutorials show the output; ``import ember as torch``
should print what PyTorch prints. The rules: one number format for the whole tensor, chosen from its
nonzero finite values (whole numbers as ``1.``, fixed ``precision`` digits, or scientific when the
values span more than 1000x, exceed 1e8 or fall below 1e-4); every entry padded to the widest; rows
wrapped at ``linewidth``; tensors over ``threshold`` elements summarised to ``edgeitems`` per edge.
"""

import math

import numpy as np


class _Formatter:
    """One number format for every element of ``values`` (a NumPy array), as ``torch._tensor_str._Formatter``."""

    def __init__(self, values: np.ndarray, opts: dict):
        self.precision = opts["precision"]
        self.floating = values.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.max_width = True, False, 1
        flat = values.reshape(-1)
        if not self.floating:
            self.max_width = max([len(str(v)) for v in flat.tolist()], default=1)
        else:
            finite = flat[np.isfinite(flat) & (flat != 0)].astype(np.float64)
            if finite.size:  # all zero or non-finite: whole-number layout
                self._measure(finite, opts["sci_mode"])

    def _measure(self, finite: np.ndarray, sci_mode):
        magnitude = np.abs(finite)
        low, high = magnitude.min(), magnitude.max()
        self.int_mode = bool(np.all(finite == np.ceil(finite)))
        self.sci_mode = bool(high / low > 1000.0 or high > 1.0e8 or low < 1.0e-4) if sci_mode is None else sci_mode
        if self.sci_mode:
            shown, extra = [f"{v:.{self.precision}e}" for v in finite.tolist()], 0
        elif self.int_mode:
            shown, extra = [f"{v:.0f}" for v in finite.tolist()], 1  # room for the trailing "."
        else:
            shown, extra = [f"{v:.{self.precision}f}" for v in finite.tolist()], 0
        self.max_width = max(self.max_width, max(len(s) for s in shown) + extra)

    def format(self, value) -> str:
        if not self.floating:
            text = str(value)
        elif self.sci_mode:
            text = f"{value:{self.max_width}.{self.precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
        else:
            text = f"{value:.{self.precision}f}"
        return text.rjust(self.max_width)


def _summarized(values: np.ndarray, edge: int) -> np.ndarray:
    """Only the elements a summarised print shows (``edge`` at each end of every dimension)."""
    for dim in range(values.ndim):
        if values.shape[dim] > 2 * edge:
            keep = list(range(edge)) + list(range(values.shape[dim] - edge, values.shape[dim]))
            values = np.take(values, keep, axis=dim)
    return values


def _vector(values: np.ndarray, indent: int, summarize: bool, fmt: _Formatter, opts: dict) -> str:
    per_line = max(1, int(math.floor((opts["linewidth"] - indent) / (fmt.max_width + 2))))
    edge = opts["edgeitems"]
    if summarize and values.shape[0] > 2 * edge:
        items = [fmt.format(v) for v in values[:edge].tolist()] + [" ..."] + \
                [fmt.format(v) for v in values[values.shape[0] - edge:].tolist()]
    else:
        items = [fmt.format(v) for v in values.tolist()]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(values: np.ndarray, indent: int, summarize: bool, fmt: _Formatter, opts: dict) -> str:
    if values.ndim == 0:
        return fmt.format(values.item())
    if values.ndim == 1:
        return _vector(values, indent, summarize, fmt, opts)
    edge, size = opts["edgeitems"], values.shape[0]
    if summarize and size > 2 * edge:
        rows = [_nested(values[i], indent + 1, summarize, fmt, opts) for i in range(edge)] + ["..."] + \
               [_nested(values[i], indent + 1, summarize, fmt, opts) for i in range(size - edge, size)]
    else:
        rows = [_nested(values[i], indent + 1, summarize, fmt, opts) for i in range(size)]
    return "[" + ("," + "\n" * (values.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def format_values(values: np.ndarray, indent: int, opts: dict) -> str:
    """The body of a tensor's repr (``[[1., 2.], ...]``) for a non-empty host array, starting at column ``indent``."""
    if values.dtype == np.float16 or values.dtype.kind == "V" or values.dtype.name == "bfloat16":
        values = values.astype(np.float32)
    summarize = values.size > opts["threshold"]
    fmt = _Formatter(_summarized(values, opts["edgeitems"]) if summarize else values, opts)
    return _nested(values, indent, summarize, fmt, opts)


def add_suffixes(body: str, suffixes: list, indent: int, linewidth: int) -> str:
    """``body`` followed by ``, dtype=...`` and the like, each moved to a new line where it would pass ``linewidth``."""
    parts = [body]
    last_line = len(body) - body.rfind("\n") + 1
    for suffix in suffixes:
        if last_line + len(suffix) + 2 > linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line += len(suffix) + 2
    return "".join(parts) + ")"
