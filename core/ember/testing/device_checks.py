"""``check_device``: the device contract of a registered backend, checked on this machine.

Transfers to and from the CPU round-trip every dtype and copy (no memory shared with the host);
gradients flow back across a transfer; a seeded generator repeats itself and its state can be saved
and restored; tensors of two devices in one op raise ``ember.DeviceError``; every registered op's
samples give the same results on the device as on the CPU, gradients included; ``Module.to`` moves
parameters and an optimizer steps them in place.
"""

from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..autograd import engine
from ..device import DeviceError, resolve
from ..creation import tensor
from ..tensor import Tensor
from .comparison import assert_close
from .devices import available_devices
from .samples import SampleMaker

ROUND_TRIP_DTYPES = (_dt.float32, _dt.float64, _dt.float16, _dt.int64, _dt.int32, _dt.uint8, _dt.bool)


def registered_backend(name):
    from ..plugins import registries
    return registries["devices"][name.partition(":")[0]]


def check_device(name: str, ops: bool = True) -> int:
    """Run the device checks on ``name`` (a device type); raises AssertionError naming the device and
    the failed promise, DeviceError when the device is not available here. Returns the number of checks."""
    backend = registered_backend(name)
    if not backend.is_available():
        raise DeviceError(f"check_device: device {name!r} is registered but not available on this machine")
    checks = [_check_identity, _check_transfers, _check_gradient_transfer, _check_generator,
              _check_mixed_devices, _check_module_and_optimizer, _check_runtime_queries]
    if ops:
        checks.append(_check_ops_match_cpu)
    for check in checks:
        try:
            check(name, backend)
        except AssertionError as exc:
            raise AssertionError(f"device {name!r}, {check.__doc__.strip().splitlines()[0]} {exc}") from None
    return len(checks)


def _check_identity(name, backend):
    """device objects:"""
    dev = resolve(name)
    if dev.type != backend.type or resolve(str(dev)) is not dev:
        raise AssertionError(f"ember.device({name!r}) gave {dev!r}, which does not round-trip through str()")
    if backend.device_count() < 1:
        raise AssertionError(f"device_count() is {backend.device_count()} for an available device")


def _check_transfers(name, backend):
    """transfers to and from the CPU:"""
    rng = np.random.default_rng(0)
    for dtype in ROUND_TRIP_DTYPES:
        host = rng.uniform(-3, 3, (2, 3))
        host = host > 0 if dtype is _dt.bool else host.astype(dtype.numpy)
        cpu = tensor(host)
        on_device = cpu.to(name)
        if on_device.device.type != backend.type or on_device.dtype is not cpu.dtype:
            raise AssertionError(f"{dtype}: .to({name!r}) gave a {on_device.dtype} tensor on {on_device.device}")
        back = on_device.cpu()
        if back.device.type != "cpu" or back.dtype is not cpu.dtype:
            raise AssertionError(f"{dtype}: .cpu() gave a {back.dtype} tensor on {back.device}")
        assert_close(back, cpu, rtol=0, atol=0, msg=f"{dtype} values after cpu -> {name} -> cpu")
        if backend.type != "cpu":
            cpu.numpy()[...] = 0  # a device copy must not share the host's memory
            assert_close(on_device.cpu(), host, rtol=0, atol=0, msg=f"{dtype}: writing to the CPU source changed "
                                                                   f"the {name} copy (memory shared)")
    made = tensor([[1.5, -2.0], [0.0, 4.25]], device=name)
    if made.device.type != backend.type:
        raise AssertionError(f"ember.tensor(..., device={name!r}) is on {made.device}")
    assert_close(made.cpu(), [[1.5, -2.0], [0.0, 4.25]], rtol=0, atol=0, msg="ember.tensor(..., device=)")
    zeros = tensor(np.zeros((0, 3)), device=name)
    if tuple(zeros.cpu().shape) != (0, 3):
        raise AssertionError(f"an empty (0, 3) tensor came back as {tuple(zeros.cpu().shape)}")


def _check_gradient_transfer(name, backend):
    """gradients across a transfer:"""
    x = tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.to(name)
    (y * y).sum().backward()
    if x.grad is None or x.grad.device.type != "cpu":
        raise AssertionError(f"the gradient of a CPU leaf used on {name} is {x.grad!r}")
    assert_close(x.grad, [2.0, 4.0, 6.0], msg="d/dx sum(x.to(device)**2)")
    leaf = tensor([1.0, -1.0], device=name, requires_grad=True)
    (leaf.cpu() * 3).sum().backward()
    if leaf.grad is None or leaf.grad.device is not leaf.device:
        raise AssertionError(f"the gradient of a {name} leaf used on the CPU is {leaf.grad!r}")


def _check_generator(name, backend):
    """seeded random numbers:"""
    from ..random import Generator, manual_seed
    from ..creation import rand, randint, randn, randperm
    gen = Generator(name)
    first = randn(4, 3, generator=gen.manual_seed(7), device=name)
    again = randn(4, 3, generator=gen.manual_seed(7), device=name)
    other = randn(4, 3, generator=gen.manual_seed(8), device=name)
    if first.device.type != backend.type:
        raise AssertionError(f"randn(device={name!r}) is on {first.device}")
    assert_close(again, first, rtol=0, atol=0, msg="randn with the same seed")
    if np.array_equal(first.cpu().numpy(), other.cpu().numpy()):
        raise AssertionError("randn with seeds 7 and 8 gave the same numbers")
    uniform = rand(1000, generator=gen, device=name).cpu().numpy()
    if not (uniform.min() >= 0 and uniform.max() < 1):
        raise AssertionError(f"rand gave values outside [0, 1): min {uniform.min()}, max {uniform.max()}")
    ints = randint(0, 5, (100,), generator=gen, device=name).cpu().numpy()
    if ints.min() < 0 or ints.max() >= 5:
        raise AssertionError(f"randint(0, 5) gave values outside [0, 5): {ints.min()}..{ints.max()}")
    perm = randperm(10, generator=gen, device=name).cpu().numpy()
    if sorted(perm.tolist()) != list(range(10)):
        raise AssertionError(f"randperm(10) is not a permutation: {perm.tolist()}")
    manual_seed(3)
    a = randn(5, device=name)
    manual_seed(3)
    b = randn(5, device=name)
    assert_close(b, a, rtol=0, atol=0, msg="ember.manual_seed must seed this device's default generator")
    try:
        state = gen.get_state()
    except NotImplementedError:
        return  # saving generator state is optional for a backend
    expected = randn(6, generator=gen, device=name)
    gen.set_state(state)
    assert_close(randn(6, generator=gen, device=name), expected, rtol=0, atol=0,
                 msg="randn after set_state(get_state())")


def _check_mixed_devices(name, backend):
    """mixed devices:"""
    others = ["cpu"] if backend.type != "cpu" else [d for d in available_devices() if d != "cpu"][:1]
    if backend.device_count() > 1:
        others.append(f"{backend.type}:1")
    a = tensor([[1.0, 2.0], [3.0, 4.0]], device=name)
    for other in others:
        b = tensor([[1.0, 2.0], [3.0, 4.0]], device=other)
        if b.device is a.device:
            continue
        for label, call in (("a + b", lambda: a + b), ("a * b", lambda: a * b), ("a @ b", lambda: a.matmul(b))):
            try:
                call()
            except DeviceError as exc:
                if str(a.device) not in str(exc) or str(b.device) not in str(exc):
                    raise AssertionError(f"{label} with b on {other}: the DeviceError does not name both "
                                         f"devices: {exc}") from None
            except Exception as exc:
                raise AssertionError(f"{label} with b on {other} raised {type(exc).__name__}: {exc}; expected "
                                     f"ember.DeviceError") from None
            else:
                raise AssertionError(f"{label} with a on {a.device} and b on {b.device} gave no error; expected "
                                     f"ember.DeviceError")


def _check_module_and_optimizer(name, backend):
    """Module.to and an optimizer step:"""
    from ..nn import Module, Parameter
    from ..optim import Optimizer

    class Affine(Module):
        def __init__(self):
            super().__init__()
            self.weight = Parameter(tensor([[1.0, -1.0], [0.5, 2.0]]))
            self.register_buffer("offset", tensor([0.25, -0.25]))

        def forward(self, x):
            return x.matmul(self.weight) + self.offset

    class Descent(Optimizer):  # the smallest optimizer: p -= lr * grad, on the backend arrays
        def __init__(self, params, lr=0.1):
            super().__init__(params, {"lr": lr})

        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p._data -= group["lr"] * p.grad._data
            return None

    model = Affine()
    weight = model.weight
    if model.to(name) is not model or model.weight is not weight:
        raise AssertionError("Module.to must move parameters in place and return the module")
    for where, t in list(model.named_parameters()) + list(model.named_buffers()):
        if t.device.type != backend.type:
            raise AssertionError(f"after Module.to({name!r}), {where} is on {t.device}")
    x = tensor([[1.0, 2.0]], device=name)
    optimizer = Descent(model.parameters())
    model(x).sum().backward()
    if model.weight.grad is None or model.weight.grad.device is not model.weight.device:
        raise AssertionError(f"weight.grad after backward on {name}: {model.weight.grad!r}")
    optimizer.step()
    expected = np.array([[1.0, -1.0], [0.5, 2.0]]) - 0.1 * np.array([[1.0, 1.0], [2.0, 2.0]])
    assert_close(model.weight.cpu(), expected.astype(np.float32), msg="weight after one step on the device")
    model.cpu()
    if model.weight.device.type != "cpu":
        raise AssertionError(f"after Module.cpu() the weight is on {model.weight.device}")


def _check_runtime_queries(name, backend):
    """synchronize and memory figures:"""
    dev = resolve(name)
    backend.synchronize(dev.ordinal)
    used = backend.memory_allocated(dev.ordinal)
    if not isinstance(used, int) or used < 0:
        raise AssertionError(f"memory_allocated() returned {used!r}; expected a non-negative int")


def _check_ops_match_cpu(name, backend):
    """the ops give the CPU's results:"""
    if backend.type == "cpu":
        return
    from ..plugins import registries
    for op_name, entry in sorted(registries["ops"].entries.items()):
        op = entry.obj
        if op.samples is None:
            continue
        dtype = op.dtypes[0]
        cpu_samples = list(op.samples(SampleMaker("cpu", dtype, seed=5)))
        dev_samples = list(op.samples(SampleMaker(name, dtype, seed=5)))
        for cpu_sample, dev_sample in zip(cpu_samples, dev_samples):
            try:
                _compare_sample(op, cpu_sample, dev_sample)
            except AssertionError as exc:
                raise AssertionError(f"op {op_name!r}, {dtype}, sample {cpu_sample!r}: {exc}") from None
            except Exception as exc:
                raise AssertionError(f"op {op_name!r}, {dtype}, sample {dev_sample!r} raised on {name} "
                                     f"{type(exc).__name__}: {exc}") from None


def _run(op, sample):
    from ..random import manual_seed
    args = sample.args
    manual_seed(0)  # random ops draw the same numbers on every device from the same seed
    outs = op.fn(*args, **sample.kwargs)
    if isinstance(outs, Tensor):
        outs = [outs]
    elif isinstance(outs, (bool, int, float)):  # a Python value (allclose, equal, ...): as a 0-d tensor
        outs = [tensor(outs)]
    else:
        outs = [o for o in (outs or ()) if isinstance(o, Tensor)]
    leaves = [a for a in _flat(args) if isinstance(a, Tensor) and a.requires_grad]
    diff = [o for o in outs if o.requires_grad]
    grads = []
    if op.differentiable and leaves and diff:
        seeds = [tensor(np.linspace(-1, 1, o.numel()).reshape(tuple(o.shape)), dtype=o.dtype, device=o.device)
                 for o in diff]
        grads = engine.grad(diff, leaves, seeds, allow_unused=True)
    return outs, grads


def _flat(values):
    for v in values:
        if isinstance(v, (tuple, list)):
            yield from _flat(v)
        else:
            yield v


def _compare_sample(op, cpu_sample, dev_sample):
    cpu_outs, cpu_grads = _run(op, cpu_sample)
    dev_outs, dev_grads = _run(op, dev_sample)
    for i, (c, d) in enumerate(zip(cpu_outs, dev_outs)):
        if not isinstance(c, Tensor):
            if d != c:
                raise AssertionError(f"output {i} is {d!r} on the device, {c!r} on the CPU")
            continue
        if d.dtype is not c.dtype:
            raise AssertionError(f"output {i} is {d.dtype} on the device, {c.dtype} on the CPU")
        assert_close(d, c, rtol=1e-5, atol=1e-6, msg=f"output {i}, device vs CPU")
    for i, (c, d) in enumerate(zip(cpu_grads, dev_grads)):
        if (c is None) != (d is None):
            raise AssertionError(f"gradient {i} is {'missing' if d is None else 'present'} on the device only")
        if c is not None:
            assert_close(d, c, rtol=1e-5, atol=1e-6, msg=f"gradient {i}, device vs CPU")
