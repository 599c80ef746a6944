"""``check_layer``: a registered layer checked from its declared samples, on every available device.

For each ``LayerSample(args, kwargs, inputs)`` the layer ``Layer(*args, **kwargs)`` is built, moved to
the device and dtype, and called on the inputs: outputs keep device and dtype, backward gives every
parameter and input a gradient of its own shape, dtype and device, gradients match finite differences
(float64), ``state_dict`` round-trips into a fresh instance, ``train()``/``eval()`` reach every
submodule, and eval mode is deterministic. Where PyTorch has a layer of the same name, the
``state_dict`` keys and the eval-mode output must match it.
"""

from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..autograd import engine
from ..tensor import Tensor, tensor
from .comparison import assert_close
from .conformance import ORACLE_TOL, _torch, to_torch
from .oracle import not_compared, reports_missing_oracle
from .devices import resolve_devices
from .gradcheck import gradcheck
from .samples import SampleMaker


FULL_JACOBIAN_LIMIT = 64  # more parameter and input elements than this: gradcheck's fast mode


def registered_layer(name):
    from ..plugins import registries
    return registries["layers"][name]


def _outputs(out) -> list:
    if isinstance(out, Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [o for o in out if isinstance(o, Tensor)]
    return []


def _seeded_call(layer, inputs):
    """Call the layer with the random streams reset, so that dropout-like layers repeat themselves."""
    from ..random import manual_seed
    manual_seed(0)
    return layer(*inputs)


@reports_missing_oracle
def check_layer(name_or_cls, devices=None, dtypes=(_dt.float32, _dt.float64), oracle: bool = True,
                finite_differences: bool = True) -> int:
    """Run every layer check from the class's ``samples(make)``; raises AssertionError naming the layer,
    device, dtype and sample. Returns the number of (device, dtype, sample) cases checked."""
    cls = registered_layer(name_or_cls) if isinstance(name_or_cls, str) else name_or_cls
    samples_fn = getattr(cls, "samples", None)
    if samples_fn is None:
        raise AssertionError(f"layer {cls.__name__}: declares no samples(make); the conformance kit cannot "
                             f"check it")
    torch_cls = _torch_layer(cls) if oracle else None
    if oracle and _torch() is None:
        not_compared(f"layer {cls.__name__} against torch.nn.{cls.__name__} (if PyTorch has it)")
    checked = 0
    for dev in resolve_devices(devices):
        for dtype in dtypes:
            for sample in samples_fn(SampleMaker(dev, dtype)):
                label = f"layer {cls.__name__} on {dev}, {dtype}, sample {sample.name or sample.args!r}"
                try:
                    _check_sample(cls, sample, dev, dtype, torch_cls, finite_differences)
                except AssertionError as exc:
                    raise AssertionError(f"{label}: {exc}") from None
                except Exception as exc:  # raised by the layer's forward or backward: keep the label
                    raise AssertionError(f"{label}: {type(exc).__name__}: {exc}") from exc
                checked += 1
    if not checked and _has_forward(cls):
        raise AssertionError(f"layer {cls.__name__}: samples(make) yielded nothing to check")
    return checked


def _has_forward(cls) -> bool:
    """Containers without a forward (ModuleList, ParameterDict) may declare no samples."""
    from ..nn.module import Module
    return cls.forward is not Module.forward


def _torch_layer(cls):
    torch = _torch()
    if torch is None:
        return None
    return getattr(torch.nn, cls.__name__, None)


def _build(cls, sample, dev, dtype):
    layer = cls(*sample.args, **sample.kwargs)
    return layer.to(device=dev, dtype=dtype)


def _check_sample(cls, sample, dev, dtype, torch_cls, finite_differences):
    layer = _build(cls, sample, dev, dtype)
    for where, t in list(layer.named_parameters()) + list(layer.named_buffers()):
        if str(t.device) != str(_device_of(dev)):
            raise AssertionError(f"after .to({dev!r}), {where} is on {t.device}")
        if t.is_floating_point() and t.dtype is not dtype:
            raise AssertionError(f"after .to({dtype}), {where} is {t.dtype}")
    inputs = tuple(_fresh_leaf(x) for x in sample.inputs)
    outs = _outputs(_seeded_call(layer, inputs))
    if not outs:
        raise AssertionError("forward returned no tensor")
    for i, o in enumerate(outs):
        if o.device is not _device_of(dev):
            raise AssertionError(f"output {i} is on {o.device}, expected {dev}")
        if o.is_floating_point() and o.dtype is not dtype:
            raise AssertionError(f"output {i} is {o.dtype}, the layer and its inputs are {dtype}")
    _check_backward(layer, inputs, outs)
    if dtype is _dt.float64 and finite_differences and sample.name not in getattr(cls, "gradcheck_exempt", ()):
        _check_gradients(layer, inputs)
    _check_modes(layer, inputs)
    _check_state_dict(cls, sample, layer, inputs, dev, dtype)
    if torch_cls is not None and not _holds_modules(sample):
        _compare_with_torch(torch_cls, sample, layer, inputs, dtype)


def _fresh_leaf(x):
    """A sample input as a leaf of its own, so that every check can backward through it."""
    if not isinstance(x, Tensor):
        return x
    return x.detach().clone().requires_grad_(x.requires_grad)


def _holds_modules(sample) -> bool:
    """Whether the sample builds the layer from ember modules (Sequential): PyTorch can't take those."""
    from ..nn.module import Module
    return any(isinstance(v, Module) for v in list(sample.args) + list(sample.kwargs.values()))


def _device_of(dev):
    from ..device import resolve
    return resolve(dev)


def _check_backward(layer, inputs, outs):
    diff_outs = [o for o in outs if o.requires_grad]
    leaves = [p for p in layer.parameters() if p.requires_grad] + \
             [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    if not diff_outs or not leaves:
        return
    rng = np.random.default_rng(2)
    cotangents = [tensor(rng.standard_normal(tuple(o.shape)), dtype=o.dtype, device=o.device) for o in diff_outs]
    grads = engine.grad(diff_outs, leaves, cotangents, allow_unused=True)
    names = {id(p): n for n, p in layer.named_parameters()}
    for leaf, g in zip(leaves, grads):
        what = f"parameter {names[id(leaf)]!r}" if id(leaf) in names else f"input of shape {tuple(leaf.shape)}"
        if g is None:
            continue  # unused (e.g. a parameter outside the sample's path): PyTorch gives None too
        if tuple(g.shape) != tuple(leaf.shape) or g.dtype is not leaf.dtype or g.device is not leaf.device:
            raise AssertionError(f"gradient of {what} is {tuple(g.shape)} {g.dtype} on {g.device}; expected "
                                 f"{tuple(leaf.shape)} {leaf.dtype} on {leaf.device}")


def _check_gradients(layer, inputs):
    params = [p for p in layer.parameters() if p.requires_grad]
    diff_inputs = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    if not params and not diff_inputs:
        return
    n_params = len(params)

    def fn(*xs):  # parameters are perturbed in place by gradcheck; inputs are substituted
        it = iter(xs[n_params:])
        call = [next(it) if isinstance(x, Tensor) and x.requires_grad else x for x in inputs]
        return [o for o in _outputs(_seeded_call(layer, call)) if o.is_floating_point()]

    try:
        size = sum(t.numel() for t in params + diff_inputs)
        gradcheck(fn, params + diff_inputs, fast_mode=size > FULL_JACOBIAN_LIMIT)
    except AssertionError as exc:
        names = [n for n, p in layer.named_parameters() if p.requires_grad]
        raise AssertionError(f"{exc} (inputs 0..{n_params - 1} are the parameters {names}, then the "
                             f"layer's inputs)") from None


def _check_modes(layer, inputs):
    if layer.eval() is not layer or any(m.training for m in layer.modules()):
        raise AssertionError("eval() must return the module and clear training on every submodule")
    first = [o.detach() for o in _outputs(layer(*inputs))]
    second = [o.detach() for o in _outputs(layer(*inputs))]
    for a, b in zip(first, second):
        assert_close(a, b, rtol=0, atol=0, msg="eval mode is not deterministic")
    if layer.train() is not layer or not all(m.training for m in layer.modules()):
        raise AssertionError("train() must return the module and set training on every submodule")


def _check_state_dict(cls, sample, layer, inputs, dev, dtype):
    saved = layer.state_dict()
    fresh = _build(cls, sample, dev, dtype)
    if list(fresh.state_dict()) != list(saved):
        raise AssertionError(f"a second instance has state_dict keys {list(fresh.state_dict())}, the first "
                             f"{list(saved)}")
    fresh.load_state_dict(saved)
    for key, value in fresh.state_dict().items():
        if value.device is not saved[key].device:
            raise AssertionError(f"state_dict entry {key!r} moved from {saved[key].device} to {value.device}")
        assert_close(value, saved[key], rtol=0, atol=0, msg=f"state_dict entry {key!r} after the round trip")
    layer.eval()
    fresh.eval()
    for a, b in zip(_outputs(layer(*inputs)), _outputs(fresh(*inputs))):
        assert_close(b, a, msg="output after loading the state_dict into a fresh instance")
    layer.train()


def _compare_with_torch(torch_cls, sample, layer, inputs, dtype):
    torch = _torch()
    t_layer = torch_cls(*to_torch(sample.args), **to_torch(sample.kwargs)).to(getattr(torch, dtype.name))
    keys, t_keys = list(layer.state_dict()), list(t_layer.state_dict())
    if keys != t_keys:
        raise AssertionError(f"state_dict keys {keys} differ from PyTorch's {t_keys}")
    layer.eval()
    t_layer.eval()
    if getattr(t_layer, "has_uninitialized_params", lambda: False)():  # a lazy twin: shaped by its first input
        with torch.no_grad():
            t_layer(*to_torch(inputs))
    t_layer.load_state_dict({k: to_torch(v) for k, v in layer.state_dict().items()})
    outs = _outputs(layer(*inputs))
    try:
        t_out = t_layer(*to_torch(inputs))
    except Exception as exc:
        raise AssertionError(f"torch.nn.{torch_cls.__name__} refuses this sample ({type(exc).__name__}: {exc}); "
                             f"ember accepted it") from None
    t_outs = [t_out] if hasattr(t_out, "detach") else [t for t in t_out if hasattr(t, "detach")]
    rtol, atol = ORACLE_TOL.get(dtype.name, (0, 0))
    for i, (o, t) in enumerate(zip(outs, t_outs)):
        assert_close(o, t, rtol=rtol, atol=atol, msg=f"eval-mode output {i} differs from torch.nn.{torch_cls.__name__}")
    _compare_gradients_with_torch(layer, t_layer, outs, t_outs, rtol, atol)
    layer.train()


def _compare_gradients_with_torch(layer, t_layer, outs, t_outs, rtol, atol):
    pairs = [(o, t) for o, t in zip(outs, t_outs) if o.requires_grad and t.requires_grad]
    params = [(n, p) for n, p in layer.named_parameters() if p.requires_grad]
    t_params = dict(t_layer.named_parameters())
    if not pairs or not params or any(n not in t_params for n, _ in params):
        return
    rng = np.random.default_rng(4)
    seeds = [rng.standard_normal(tuple(o.shape)) for o, _ in pairs]
    grads = engine.grad([o for o, _ in pairs], [p for _, p in params],
                        [tensor(w, dtype=o.dtype, device=o.device) for w, (o, _) in zip(seeds, pairs)],
                        allow_unused=True)
    torch = _torch()
    t_grads = torch.autograd.grad([t for _, t in pairs], [t_params[n] for n, _ in params],
                                  [torch.as_tensor(w, dtype=t.dtype) for w, (_, t) in zip(seeds, pairs)],
                                  allow_unused=True)
    for (name, p), g, tg in zip(params, grads, t_grads):
        if g is None and tg is None:
            continue
        expected = torch.zeros_like(t_params[name]) if tg is None else tg
        actual = g if g is not None else p.detach() * 0
        assert_close(actual, expected, rtol=rtol * 10, atol=atol * 10,
                     msg=f"gradient of parameter {name!r} differs from torch.nn.{type(t_layer).__name__}'s")
