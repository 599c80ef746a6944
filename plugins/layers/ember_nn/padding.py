"""Padding layers: ZeroPad, ConstantPad, ReflectionPad, ReplicationPad, CircularPad in 1, 2 and 3 dims
(``torch.nn.ZeroPad2d`` ...), each ``F.pad`` with its mode. ``padding`` is an int (every side) or a
tuple ordered (left, right[, top, bottom[, front, back]]), as in PyTorch."""

from __future__ import annotations

from ember.nn import LayerSample, Module
from ember.nn import functional as F

from ._checks import expect_tensor

__all__ = [f"{kind}Pad{n}d" for kind in ("Zero", "Constant", "Reflection", "Replication", "Circular") for n in (1, 2, 3)]


class _PadNd(Module):
    mode = "constant"
    dims = 1

    def __init__(self, padding, value: float = 0.0):
        super().__init__()
        self.padding = (padding,) * (2 * self.dims) if isinstance(padding, int) else tuple(padding)
        if len(self.padding) != 2 * self.dims:
            raise ValueError(f"{type(self).__name__}: expected padding of {2 * self.dims} values, got {padding!r}")
        self.value = value

    def forward(self, input):
        expect_tensor(self, input)
        if self.mode == "constant":
            return F.pad(input, self.padding, "constant", self.value)
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        if type(self).__name__.startswith("Constant"):  # PyTorch's reprs differ by kind
            return f"padding={self.padding}, value={self.value}"
        return f"{self.padding}"


def _samples(dims, constant):
    def samples(make):
        shape = (2, 3) + (4,) * dims
        args = (1, 1.5) if constant else (1,)
        yield LayerSample(args, inputs=(make(*shape),), name="int padding")
        pads = tuple(range(1, 2 * dims + 1)) if constant else (1, 2) * dims
        yield LayerSample((pads,) + args[1:], inputs=(make(*shape[1:]),), name="tuple padding, unbatched")
    return samples


def _doc(name, mode, dims):
    """The docstring of one padding layer: what PyTorch's says, with ``F.pad``'s errors for its mode."""
    sides = ("(left, right)", "(left, right, top, bottom)", "(left, right, top, bottom, front, back)")[dims - 1]
    spatial = ("W", "H, W", "D, H, W")[dims - 1]
    if mode == "constant":
        shape = f"``(*, {spatial})``, any number of leading dims, any dtype"
        raises = ("ArgumentError: ``input`` has fewer than {n} dims.").format(n=dims)
    else:
        shape = f"``(N, C, {spatial})`` or ``(C, {spatial})``, any dtype"
        raises = f"DimensionError: ``input`` is not {dims + 1}-D or {dims + 2}-D."
        if mode != "replicate":
            too_big = "is not less than the size of its dim" if mode == "reflect" else "wraps around its dim more than once"
            raises += f"\n        ArgumentError: a padding {too_big}."
    return (f"Pads the last {dims} dim(s) in {mode!r} mode (``torch.nn.{name}``); ``padding`` is an int (every "
            f"side) or {sides}.\n\n"
            f"    Shape:\n        - input: {shape}.\n"
            f"        - output: each padded dim grows by the padding on its two sides (negative padding crops); "
            f"the dtype of ``input``.\n\n"
            f"    Raises:\n        ValueError: ``padding`` is a tuple of another length (at construction).\n"
            f"        TypeError: ``input`` is not a Tensor.\n"
            f"        {raises}\n\n    PyTorch: ``torch.nn.{name}``.")


def _layer(kind, dims):
    mode = {"Zero": "constant", "Constant": "constant", "Reflection": "reflect", "Replication": "replicate",
            "Circular": "circular"}[kind]
    name = f"{kind}Pad{dims}d"
    body = {"mode": mode, "dims": dims, "samples": staticmethod(_samples(dims, kind == "Constant")),
            "__doc__": _doc(name, mode, dims),
            "__module__": __name__}
    if kind == "Zero":
        body["__init__"] = lambda self, padding: _PadNd.__init__(self, padding, 0.0)
        body["samples"] = staticmethod(_samples(dims, False))
    elif kind != "Constant":
        body["__init__"] = lambda self, padding: _PadNd.__init__(self, padding)
    return type(name, (_PadNd,), body)


for _kind in ("Zero", "Constant", "Reflection", "Replication", "Circular"):
    for _dims in (1, 2, 3):
        globals()[f"{_kind}Pad{_dims}d"] = _layer(_kind, _dims)
