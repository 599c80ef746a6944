"""``ember.nn.Parameter``: a tensor that a Module registers as a learnable parameter."""

from __future__ import annotations

from ..creation import empty
from ..tensor import Tensor, _version_cell


class Parameter(Tensor):
    """A leaf tensor that requires grad by default and is found by ``Module.parameters()``.

    ``Parameter(t)`` shares ``t``'s memory, as in PyTorch.
    """

    def __new__(cls, data=None, requires_grad: bool = True):
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter: expected a Tensor, got {type(data).__name__}")
        param = object.__new__(cls)
        param._data, param._dtype, param._device = data._data, data._dtype, data._device
        param._requires_grad, param._node = False, None
        param._version_counter = _version_cell(data)
        if requires_grad:
            param.requires_grad_(True)
        return param

    def __init__(self, data=None, requires_grad: bool = True):
        pass

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        return (Parameter, (Tensor.detach(self), self._requires_grad))


class UninitializedTensorMixin:
    """A tensor whose shape is not yet known (``torch.nn.parameter.UninitializedTensorMixin``).

    It holds only a dtype, a device and ``requires_grad``; ``.to()`` moves it and keeps it uninitialized.
    ``materialize(shape)`` gives it memory of that shape *in place* and turns the object into
    ``cls_to_become``, so that anything that held it (an optimizer built before the first forward) holds
    the materialized tensor. Its shape cannot be read before that: RuntimeError, as in PyTorch.
    """

    __slots__ = ()
    cls_to_become = Tensor

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Allocate ``shape`` (uninitialized memory, as ``torch.empty``) on ``device`` in ``dtype``
        (default: the ones this tensor was made or moved with), then become ``cls_to_become``."""
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        data = empty(*shape, device=self._device if device is None else device,
                     dtype=self._dtype if dtype is None else dtype)
        self._data, self._dtype, self._device = data._data, data._dtype, data._device
        self.__class__ = self.cls_to_become

    def _uninitialized(self, what):
        raise RuntimeError(f"Can't access the {what} of an uninitialized parameter or buffer. This error usually "
                           f"happens in `load_state_dict` when trying to load an uninitialized parameter into an "
                           f"initialized one. Call `forward` to initialize the parameters before accessing their "
                           f"attributes.")

    @property
    def shape(self):
        self._uninitialized("shape")

    # size() is Tensor's: the 0-element placeholder's (0,), as PyTorch's size() answers torch.Size([0])

    def numel(self):
        self._no_data("numel")

    def dim(self):
        self._no_data("dim")

    def _no_data(self, method):
        raise ValueError(f"Attempted to use an uninitialized parameter in {method}(). This error happens when you "
                           f"are using a `LazyModule` or explicitly manipulating "
                           f"`ember.nn.parameter.{type(self).__name__}` objects. When using LazyModules Call "
                           f"`forward` with a dummy batch to initialize the parameters before calling ember functions")

    def numpy(self, *args, **kwargs):
        self._no_data("numpy")

    def tolist(self):
        self._no_data("tolist")

    def item(self):
        self._no_data("item")

    def __array__(self, *args, **kwargs):
        self._no_data("__array__")

    def _like(self, dtype, device):
        return type(self)(requires_grad=self._requires_grad, device=device, dtype=dtype)

    def to(self, *args, **kwargs):
        """Another uninitialized tensor of the requested dtype and/or device (never a copy of data)."""
        from ..tensor import _parse_to
        device, dtype, _ = _parse_to(args, dict(kwargs))
        return self._like(self._dtype if dtype is None else dtype, self._device if device is None else device)

    def detach(self):
        return type(self)(requires_grad=False, device=self._device, dtype=self._dtype)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    def __reduce_ex__(self, protocol):
        return (type(self), (self._requires_grad, str(self._device), self._dtype))


def _placeholder(cls, requires_grad, device, dtype):
    holder = object.__new__(cls)
    data = empty(0, device=device, dtype=dtype)  # no memory of the final shape yet: a 0-element stand-in
    holder._data, holder._dtype, holder._device = data._data, data._dtype, data._device
    holder._requires_grad, holder._node = False, None
    holder._version_counter = _version_cell(data)
    if requires_grad:
        holder.requires_grad_(True)
    return holder


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A Parameter whose shape is set on the first forward of a lazy module
    (``torch.nn.parameter.UninitializedParameter``); becomes a ``Parameter`` in place on ``materialize``."""

    cls_to_become = Parameter

    def __new__(cls, requires_grad: bool = True, device=None, dtype=None):
        return _placeholder(cls, requires_grad, device, dtype)

    def __init__(self, requires_grad: bool = True, device=None, dtype=None):
        pass


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer whose shape is set on the first forward of a lazy module
    (``torch.nn.parameter.UninitializedBuffer``); becomes a plain ``Tensor`` in place on ``materialize``."""

    cls_to_become = Tensor

    def __new__(cls, requires_grad: bool = False, device=None, dtype=None):
        return _placeholder(cls, requires_grad, device, dtype)

    def __init__(self, requires_grad: bool = False, device=None, dtype=None):
        pass


def is_lazy(param) -> bool:
    """Whether ``param`` is an uninitialized parameter or buffer (``torch.nn.parameter.is_lazy``)."""
    return isinstance(param, UninitializedTensorMixin)
