"""``check_layer``: a registered layer checked from its declared samples, on every available device.

For each ``LayerSample(args, kwargs, inputs)`` the layer ``Layer(*args, **kwargs)`` is built, moved to
the device and dtype (a lazy layer is shaped by one eval-mode call), and called on the inputs:

- parameters, buffers and outputs keep the device and dtype; outputs are finite;
- backward gives every parameter and every input that requires grad a gradient of its own shape,
  dtype and device; one without a gradient fails, unless the sample names it in ``no_grad_for``;
- in float64, gradients match finite differences (unless the class lists the sample's name in
  ``gradcheck_exempt``, saying why in its docstring);
- ``train()``/``eval()`` reach every submodule, eval mode is deterministic, and a layer with dropout
  differs between seeds in training mode and repeats itself under one seed;
- ``state_dict`` (perturbed, then as numpy arrays through pickle) loads into a fresh instance with no
  missing or unexpected keys and gives the same values and outputs.

Where PyTorch has a layer of the same name (and the sample does not hold ember modules): the
``state_dict`` keys, shapes and dtypes and the ``repr`` are PyTorch's, default initialisation follows
its distribution, and from the same weights the outputs, input and parameter gradients (their presence
too) and buffers after a forward agree, in training mode (unless random) and eval mode.

Every failing sample is reported, not only the first (see :class:`ember.testing.cases.Failures`).
"""

from __future__ import annotations

import copy
import pickle

import numpy as np

from .. import dtypes as _dt
from ..autograd import engine
from ..creation import tensor
from ..tensor import Tensor
from .cases import Failures
from .comparison import assert_close
from .conformance import _torch, to_torch
from .devices import resolve_devices
from .gradcheck import gradcheck
from .oracle import not_compared, reports_missing_oracle
from .samples import SampleMaker

__all__ = ["check_layer", "layer_dtypes"]

DTYPES = (_dt.float32, _dt.float64)
FULL_JACOBIAN_LIMIT = 64  # more parameter and input elements than this: gradcheck's fast mode
# Against PyTorch, from identical weights: float32 results differ by summation order.
TORCH_TOL = {"float64": dict(rtol=1e-7, atol=1e-9), "float32": dict(rtol=2e-4, atol=2e-5)}
CONTAINERS = ("ModuleList", "ModuleDict", "ParameterList", "ParameterDict")


def registered_layer(name):
    from ..plugins import registries
    return registries["layers"][name]


def layer_dtypes(cls) -> tuple:
    """The dtypes the kit checks a layer in: its ``sample_dtypes`` if it declares them, else float32
    and float64. A container without ``forward`` (ModuleList) has none: there is nothing to call."""
    if not _has_forward(cls):
        return ()
    return tuple(_dt.as_dtype(d) for d in getattr(cls, "sample_dtypes", DTYPES))


@reports_missing_oracle
def check_layer(name_or_cls, devices=None, dtypes=None, oracle: bool = True,
                finite_differences: bool = True) -> int:
    """Run every layer check from the class's ``samples(make)`` on each device and dtype (default:
    every available device, :func:`layer_dtypes`); raises one AssertionError naming the layer, device,
    dtype and sample of every failing case. Returns the number of (device, dtype, sample) cases checked."""
    cls = registered_layer(name_or_cls) if isinstance(name_or_cls, str) else name_or_cls
    samples_fn = getattr(cls, "samples", None)
    if samples_fn is None:
        if not _has_forward(cls):
            return 0
        raise AssertionError(f"layer {cls.__name__}: declares no samples(make); the conformance kit cannot "
                             f"check it")
    torch_cls = _torch_layer(cls) if oracle else None
    if oracle and _torch() is None:
        not_compared(f"layer {cls.__name__} against torch.nn.{cls.__name__} (if PyTorch has it)")
    failures = Failures(f"layer {cls.__name__}")
    for dev in resolve_devices(devices):
        for dtype in (dtypes or layer_dtypes(cls)):
            dtype = _dt.as_dtype(dtype)
            samples = []
            with failures.case(f"layer {cls.__name__} on {dev}, {dtype}, making its samples", counted=False):
                samples = list(samples_fn(SampleMaker(dev, dtype)))
            for sample in samples:
                label = f"layer {cls.__name__} on {dev}, {dtype}, sample {sample.name or sample.args!r}"
                with failures.case(label):
                    _check_sample(cls, sample, dev, dtype, torch_cls, finite_differences)
    failures.raise_if_any()
    if not failures.cases and _has_forward(cls):
        raise AssertionError(f"layer {cls.__name__}: samples(make) yielded nothing to check")
    return failures.cases


def _has_forward(cls) -> bool:
    """Containers without a forward (ModuleList, ParameterDict) may declare no samples."""
    from ..nn.module import Module
    return getattr(cls, "forward", Module.forward) is not Module.forward


def _torch_layer(cls):
    torch = _torch()
    if torch is None:
        return None
    return getattr(torch.nn, cls.__name__, None)


# -- building and calling ---------------------------------------------------------------------------

def _build(cls, sample, dev, dtype):
    """A fresh layer from the sample (its arguments deep-copied: a sample that holds modules must not
    share them between instances), on ``dev`` in ``dtype``, shaped by its inputs if lazy."""
    layer = cls(*copy.deepcopy(sample.args), **sample.kwargs).to(device=dev, dtype=dtype)
    return _materialize(layer, sample.inputs)


def _materialize(layer, inputs, lib=None):
    """A lazy layer (``LazyLinear``) takes its parameters' shapes from its first input, in ember as in
    PyTorch: run it once (eval mode, no grad, so that no state changes). Other layers as they are."""
    if not (hasattr(layer, "has_uninitialized_params") and layer.has_uninitialized_params()):
        return layer
    if lib is None:
        import ember as lib
    training = layer.training
    with lib.no_grad():
        layer.eval()(*inputs)
    return layer.train(training)


def _seeded_call(layer, inputs):
    """Call the layer with the random streams reset, so that dropout-like layers repeat themselves."""
    from ..random import manual_seed
    manual_seed(0)
    return layer(*inputs)


def _flatten(value) -> list:
    """Tensors of a nested output or input, in order (None and non-tensors left out)."""
    if isinstance(value, (tuple, list)):
        return [t for item in value for t in _flatten(item)]
    return [value] if isinstance(value, Tensor) or hasattr(value, "requires_grad") else []


def _fresh_leaves(value):
    """Sample inputs as leaves of their own (nesting kept), so that every check can backward through them."""
    if isinstance(value, Tensor):
        return value.detach().clone().requires_grad_(value.requires_grad)
    if isinstance(value, (tuple, list)):
        return type(value)(_fresh_leaves(v) for v in value)
    return value


def _holds_modules(sample) -> bool:
    """Whether the sample builds the layer from ember modules (Sequential): PyTorch can't take those."""
    from ..nn.module import Module
    return any(isinstance(v, Module) for v in list(sample.args) + list(sample.kwargs.values()))


def _stochastic(layer) -> bool:
    """Whether training mode draws random numbers (a dropout anywhere inside)."""
    for m in layer.modules():
        p = getattr(m, "p", None) if type(m).__name__.startswith("Dropout") else getattr(m, "dropout", None)
        if isinstance(p, float) and p > 0:
            return True
    return False


def _device_of(dev):
    from ..device import resolve
    return resolve(dev)


# -- the checks of one sample -----------------------------------------------------------------------

def _check_sample(cls, sample, dev, dtype, torch_cls, finite_differences):
    layer = _build(cls, sample, dev, dtype)
    _check_placement(layer, dev, dtype)
    inputs = _fresh_leaves(tuple(sample.inputs))
    outs = _flatten(_seeded_call(layer, inputs))
    if not outs:
        raise AssertionError("forward returned no tensor")
    _check_outputs(outs, dev, dtype)
    _check_backward(layer, inputs, outs, getattr(sample, "no_grad_for", ()))
    if dtype is _dt.float64 and finite_differences and sample.name not in getattr(cls, "gradcheck_exempt", ()):
        _check_gradients(layer, inputs)
    _check_modes(layer, inputs)
    _check_state_dict(cls, sample, layer, dev, dtype)
    if torch_cls is not None and not _holds_modules(sample):
        _compare_with_torch(torch_cls, cls, sample, dev, dtype)


def _check_placement(layer, dev, dtype):
    for where, t in list(layer.named_parameters()) + list(layer.named_buffers()):
        if str(t.device) != str(_device_of(dev)):
            raise AssertionError(f"after .to({dev!r}), {where} is on {t.device}")
        if t.is_floating_point() and t.dtype is not dtype:
            raise AssertionError(f"after .to({dtype}), {where} is {t.dtype}")


def _check_outputs(outs, dev, dtype):
    for i, o in enumerate(outs):
        if o.device is not _device_of(dev):
            raise AssertionError(f"output {i} is on {o.device}, expected {dev}")
        if o.is_floating_point():
            if o.dtype is not dtype:
                raise AssertionError(f"output {i} is {o.dtype}, the layer and its inputs are {dtype}")
            if not np.isfinite(np.asarray(o.detach()._host())).all():
                raise AssertionError(f"output {i} has non-finite values on the sample inputs")


def _check_backward(layer, inputs, outs, no_grad_for):
    """Every parameter and input that requires grad gets a gradient of its own shape, dtype and device;
    a missing one fails unless the sample declares it in ``no_grad_for`` (parameter names, or ``"input i"``)."""
    diff_outs = [o for o in outs if o.requires_grad and o.is_floating_point()]
    params = [(f"parameter {n!r}", n, p) for n, p in layer.named_parameters() if p.requires_grad]
    diff_inputs = [(f"input {i} of shape {tuple(x.shape)}", f"input {i}", x)
                   for i, x in enumerate(_flatten(inputs)) if x.requires_grad]
    leaves = params + diff_inputs
    if not leaves:
        return
    if not diff_outs:
        raise AssertionError(f"no output requires grad, though {leaves[0][0]} does")
    rng = np.random.default_rng(2)
    cotangents = [tensor(rng.standard_normal(tuple(o.shape)), dtype=o.dtype, device=o.device) for o in diff_outs]
    grads = engine.grad(diff_outs, [leaf for *_, leaf in leaves], cotangents, allow_unused=True)
    for (what, key, leaf), g in zip(leaves, grads):
        if g is None:
            if key in no_grad_for:
                continue
            raise AssertionError(f"backward gave {what} no gradient (a sample whose outputs do not depend on "
                                 f"it declares LayerSample(no_grad_for=({key!r},)))")
        if tuple(g.shape) != tuple(leaf.shape) or g.dtype is not leaf.dtype or g.device is not leaf.device:
            raise AssertionError(f"gradient of {what} is {tuple(g.shape)} {g.dtype} on {g.device}; expected "
                                 f"{tuple(leaf.shape)} {leaf.dtype} on {leaf.device}")


def _check_gradients(layer, inputs):
    params = [p for p in layer.parameters() if p.requires_grad]
    flat = _flatten(inputs)
    diff_inputs = [x for x in flat if x.requires_grad]
    if not params and not diff_inputs:
        return
    n_params = len(params)

    def substitute(value, it):
        if isinstance(value, Tensor):
            return next(it) if value.requires_grad else value
        if isinstance(value, (tuple, list)):
            return type(value)(substitute(v, it) for v in value)
        return value

    def fn(*xs):  # parameters are perturbed in place by gradcheck; inputs are substituted
        call = substitute(inputs, iter(xs[n_params:]))
        return [o for o in _flatten(_seeded_call(layer, call)) if o.is_floating_point()]

    try:
        size = sum(t.numel() for t in params + diff_inputs)
        gradcheck(fn, params + diff_inputs, fast_mode=size > FULL_JACOBIAN_LIMIT)
    except AssertionError as exc:
        names = [n for n, p in layer.named_parameters() if p.requires_grad]
        raise AssertionError(f"{exc} (inputs 0..{n_params - 1} are the parameters {names}, then the "
                             f"layer's inputs)") from None


def _same(a, b, what):
    assert_close(a.detach(), b.detach(), rtol=0, atol=0, msg=what)


def _check_modes(layer, inputs):
    from ..random import manual_seed
    if not all(m.training for m in layer.modules()):
        raise AssertionError("a new layer must be in training mode, with every submodule")
    if layer.eval() is not layer or any(m.training for m in layer.modules()):
        raise AssertionError("eval() must return the module and clear training on every submodule")
    first, second = _flatten(layer(*inputs)), _flatten(layer(*inputs))
    for a, b in zip(first, second):
        _same(a, b, "eval mode is not deterministic")
    if layer.train() is not layer or not all(m.training for m in layer.modules()):
        raise AssertionError("train() must return the module and set training on every submodule")
    if not _stochastic(layer):
        return
    manual_seed(1)
    a = _flatten(layer(*inputs))
    manual_seed(2)
    b = _flatten(layer(*inputs))
    if all(bool((x.detach() == y.detach()).all()) for x, y in zip(a, b)):
        raise AssertionError("training mode with dropout gave identical outputs for two different seeds")
    manual_seed(1)
    for x, y in zip(a, _flatten(layer(*inputs))):
        _same(x, y, "training mode with dropout is not reproducible under the same seed")


def _check_state_dict(cls, sample, layer, dev, dtype):
    """Perturbed parameters and floating buffers, saved as numpy arrays through pickle, load into a
    fresh instance: no missing or unexpected keys, the same values, devices and eval-mode outputs."""
    from ..autograd.grad_mode import no_grad
    layer.eval()
    rng = np.random.default_rng(0)
    with no_grad():
        for t in list(layer.parameters()) + [b for b in layer.buffers() if b.is_floating_point()]:
            t.add_(tensor(rng.uniform(0.1, 0.2, tuple(t.shape)), dtype=t.dtype, device=t.device))
    saved = layer.state_dict()
    as_numpy = pickle.loads(pickle.dumps({k: np.array(v.detach()._host()) for k, v in saved.items()}))
    fresh = _build(cls, sample, dev, dtype).eval()
    if list(fresh.state_dict()) != list(saved):
        raise AssertionError(f"a second instance has state_dict keys {list(fresh.state_dict())}, the first "
                             f"{list(saved)}")
    result = fresh.load_state_dict(as_numpy)
    if result.missing_keys or result.unexpected_keys:
        raise AssertionError(f"load_state_dict of its own state_dict reported {result}")
    for key, value in fresh.state_dict().items():
        if value.device is not saved[key].device:
            raise AssertionError(f"state_dict entry {key!r} moved from {saved[key].device} to {value.device}")
        _same(value, saved[key], f"state_dict entry {key!r} after the round trip")
    inputs = _fresh_leaves(tuple(sample.inputs))
    for a, b in zip(_flatten(layer(*inputs)), _flatten(fresh(*inputs))):
        _same(b, a, "output after loading the state_dict into a fresh instance")
    layer.train()


# -- against PyTorch --------------------------------------------------------------------------------

def _compare_with_torch(torch_cls, cls, sample, dev, dtype):
    torch = _torch()
    t_dtype = getattr(torch, dtype.name)
    try:
        t_layer = torch_cls(*to_torch(sample.args), **to_torch(sample.kwargs)).to(t_dtype)
        t_layer = _materialize(t_layer, to_torch(_fresh_leaves(tuple(sample.inputs))), torch)
    except Exception as exc:
        raise AssertionError(f"torch.nn.{torch_cls.__name__} refuses this sample ({type(exc).__name__}: {exc}); "
                             f"ember accepted it") from None
    layer = _build(cls, sample, dev, dtype)
    _compare_state_dict_layout(layer, t_layer, torch_cls)
    if dtype is _dt.float32:  # initialisation is the same in every dtype: check it once per device
        _compare_initialisation(cls, torch_cls, sample, dev)
    layer.load_state_dict({k: np.array(v.detach().numpy()) for k, v in t_layer.state_dict().items()})
    modes = ("eval",) if _stochastic(layer) else ("train", "eval")  # random training mode: eval only
    for mode in modes:
        for p in list(layer.parameters()) + list(t_layer.parameters()):
            p.grad = None
        layer.train(mode == "train")
        t_layer.train(mode == "train")
        _compare_call(layer, t_layer, sample, dtype, mode)
    layer.train()


def _compare_state_dict_layout(layer, t_layer, torch_cls):
    mine, theirs = layer.state_dict(), t_layer.state_dict()
    if list(mine) != list(theirs):
        raise AssertionError(f"state_dict keys {list(mine)} differ from PyTorch's {list(theirs)}")
    for key, t in theirs.items():
        ours = mine[key]
        if tuple(ours.shape) != tuple(t.shape) or ours.dtype.name != str(t.dtype).replace("torch.", ""):
            raise AssertionError(f"state_dict entry {key!r} is {tuple(ours.shape)} {ours.dtype}, PyTorch's "
                                 f"{tuple(t.shape)} {t.dtype}")
    ours, theirs = repr(layer).replace("ember.", "torch."), repr(t_layer)
    if ours != theirs:
        raise AssertionError(f"repr differs from torch.nn.{torch_cls.__name__}'s:\n{ours}\nPyTorch:\n{theirs}")


def _compare_initialisation(cls, torch_cls, sample, dev):
    """Default initialisation draws from PyTorch's distribution: constants exactly, random values with
    the same spread (checked where there are enough values to say so)."""
    from ..random import manual_seed
    torch = _torch()
    manual_seed(0)
    torch.manual_seed(0)
    layer = _materialize(cls(*copy.deepcopy(sample.args), **sample.kwargs), _host_inputs(sample, dev))
    t_layer = _materialize(torch_cls(*to_torch(sample.args), **to_torch(sample.kwargs)),
                           to_torch(_host_inputs(sample, dev)), torch)
    reference = dict(t_layer.named_parameters())
    for name, p in layer.named_parameters():
        a, b = np.asarray(p.detach()._host(), dtype=np.float64).ravel(), \
            reference[name].detach().double().numpy().ravel()
        if b.std() == 0:  # constant initialisation (ones, zeros, 0.25): exactly the same values
            np.testing.assert_array_equal(a, b, err_msg=f"initial value of parameter {name!r} differs from PyTorch's")
        elif a.size >= 24:  # small draws say too little about a distribution
            if np.abs(a).max() > 1.25 * np.abs(b).max() + 1e-6:
                raise AssertionError(f"initial values of parameter {name!r} exceed PyTorch's range "
                                     f"({np.abs(a).max():.4g} vs {np.abs(b).max():.4g})")
            if not 0.6 < a.std() / b.std() < 1.6:
                raise AssertionError(f"initial values of parameter {name!r}: std {a.std():.4f} vs PyTorch's "
                                     f"{b.std():.4f}")


def _host_inputs(sample, dev):
    """The sample's inputs on the CPU in float32 (the default dtype a freshly built layer has)."""
    def host(v):
        if isinstance(v, Tensor):
            return v.detach().to("cpu", dtype=_dt.float32 if v.is_floating_point() else v.dtype)
        if isinstance(v, (tuple, list)):
            return type(v)(host(x) for x in v)
        return v
    return host(tuple(sample.inputs))


def _compare_call(layer, t_layer, sample, dtype, mode):
    """From the same weights and inputs: outputs, then input and parameter gradients (presence and
    values) for the same cotangents, then buffers."""
    torch = _torch()
    tol = TORCH_TOL.get(dtype.name, dict(rtol=1e-2, atol=1e-3))
    inputs = _fresh_leaves(tuple(sample.inputs))
    t_inputs = to_torch(inputs)
    outs, t_outs = _flatten(_seeded_call(layer, inputs)), _flatten(t_layer(*t_inputs))
    if len(outs) != len(t_outs):
        raise AssertionError(f"{mode} mode: {len(outs)} output tensors, PyTorch {len(t_outs)}")
    for i, (o, t) in enumerate(zip(outs, t_outs)):
        _compare_tensor(o, t, f"{mode}-mode output {i}", tol)
    rng = np.random.default_rng(7)
    pairs = [(o, t) for o, t in zip(outs, t_outs) if t.requires_grad and t.is_floating_point()]
    if pairs:
        seeds = [rng.standard_normal(tuple(t.shape)) for _, t in pairs]
        loss = sum((o * tensor(s, dtype=o.dtype, device=o.device)).sum() for (o, _), s in zip(pairs, seeds))
        t_loss = sum((t * torch.as_tensor(s, dtype=t.dtype)).sum() for (_, t), s in zip(pairs, seeds))
        loss.backward()
        t_loss.backward()
        for i, (x, tx) in enumerate(zip(_flatten(inputs), _flatten(t_inputs))):
            if tx.requires_grad:
                _compare_grad(x.grad, tx.grad, f"{mode} mode: gradient of input {i}", tol)
        t_params = dict(t_layer.named_parameters())
        for name, p in layer.named_parameters():
            _compare_grad(p.grad, t_params[name].grad, f"{mode} mode: gradient of parameter {name!r}", tol)
    t_buffers = dict(t_layer.named_buffers())
    for name, b in layer.named_buffers():
        _compare_tensor(b, t_buffers[name], f"{mode} mode: buffer {name!r} after a forward", tol)


def _compare_grad(g, tg, what, tol):
    if (g is None) != (tg is None):
        raise AssertionError(f"{what}: ember gave {'none' if g is None else 'one'}, PyTorch "
                             f"{'none' if tg is None else 'one'}")
    if g is not None:
        _compare_tensor(g, tg, what, tol)


def _compare_tensor(ours, theirs, what, tol):
    if tuple(ours.shape) != tuple(theirs.shape):
        raise AssertionError(f"{what}: shape {tuple(ours.shape)}, PyTorch's {tuple(theirs.shape)}")
    if ours.dtype.name != str(theirs.dtype).replace("torch.", ""):
        raise AssertionError(f"{what}: dtype {ours.dtype}, PyTorch's {theirs.dtype}")
    assert_close(ours.detach(), theirs.detach(), **tol, msg=f"{what} differs from PyTorch")
