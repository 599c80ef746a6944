"""Padding layers: ZeroPad, ConstantPad, ReflectionPad, ReplicationPad, CircularPad in 1, 2 and 3 dims
(``torch.nn.ZeroPad2d`` ...), each ``F.pad`` with its mode. ``padding`` is an int (every side) or a
tuple ordered (left, right[, top, bottom[, front, back]]), as in PyTorch."""

from __future__ import annotations

from ember.nn import LayerSample, Module
from ember.nn import functional as F

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


def _layer(kind, dims):
    mode = {"Zero": "constant", "Constant": "constant", "Reflection": "reflect", "Replication": "replicate",
            "Circular": "circular"}[kind]
    name = f"{kind}Pad{dims}d"
    body = {"mode": mode, "dims": dims, "samples": staticmethod(_samples(dims, kind == "Constant")),
            "__doc__": f"Pads the last {dims} dim(s) in {mode!r} mode (``torch.nn.{name}``).",
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
