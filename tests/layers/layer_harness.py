"""Shared helpers of the layer tests: build a registered layer and its PyTorch twin from one sample,
move values between the frameworks, and compare nested outputs."""

from __future__ import annotations

import numpy as np
import torch

import ember
from ember.nn import Module
from ember.plugins import registries
from ember.testing import SampleMaker, suite_names

DTYPES = {"float32": ember.float32, "float64": ember.float64}
TORCH_DTYPES = {ember.float32: torch.float32, ember.float64: torch.float64}
TOL = {ember.float64: dict(rtol=1e-7, atol=1e-9), ember.float32: dict(rtol=2e-4, atol=2e-5)}


def layer_names():
    return suite_names("layers")  # ember's own plugins (--ember-all-plugins: every installed one)


def samples_of(name, dtype=ember.float64, seed=0):
    return list(registries["layers"][name].samples(SampleMaker(dtype=dtype, seed=seed)))


def all_cases():
    cases = []
    for name in layer_names():
        for i, sample in enumerate(samples_of(name)):
            cases.append((name, i, f"{name}-{i}" + (f"-{sample.name}" if sample.name else "")))
    return cases


def leaf(x):
    """A fresh leaf copy of an ember input, keeping whether it requires grad."""
    if isinstance(x, ember.Tensor):
        return x.detach().clone().requires_grad_(x.requires_grad)
    if isinstance(x, tuple):
        return tuple(leaf(v) for v in x)
    return x


def to_torch(x):
    if isinstance(x, ember.Tensor):
        t = torch.from_numpy(np.array(x.detach().numpy()))
        return t.requires_grad_(x.requires_grad)
    if isinstance(x, tuple):
        return tuple(to_torch(v) for v in x)
    if isinstance(x, list):
        return [to_torch(v) for v in x]
    if isinstance(x, dict):
        return {k: to_torch(v) for k, v in x.items()}
    return x


def has_module_args(sample) -> bool:
    return any(isinstance(a, Module) for a in list(sample.args) + list(sample.kwargs.values()))


def materialize(layer, sample):
    """A lazy layer (``LazyLinear``...) takes its parameters' shapes from its first input, in ember as in
    PyTorch: run it once on the sample (eval mode, no grad, so that no state changes) for the checks to
    see the layer that code trains. Other layers are returned as they are."""
    if not (hasattr(layer, "has_uninitialized_params") and layer.has_uninitialized_params()):
        return layer
    lib, inputs = (torch, to_torch(leaf(sample.inputs))) if isinstance(layer, torch.nn.Module) else \
        (ember, leaf(sample.inputs))
    training = layer.training
    with lib.no_grad():
        layer.eval()(*inputs)
    return layer.train(training)


def build_pair(name, sample, dtype):
    """The ember layer and (when PyTorch has the class and the args convert) its PyTorch twin, with
    ember's weights loaded from the twin's state_dict (as numpy arrays)."""
    ours = materialize(registries["layers"][name](*sample.args, **sample.kwargs).to(dtype), sample)
    theirs = None
    if hasattr(torch.nn, name) and not has_module_args(sample):
        theirs = getattr(torch.nn, name)(*to_torch(sample.args), **to_torch(sample.kwargs)).to(TORCH_DTYPES[dtype])
        theirs = materialize(theirs, sample)
        ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def flatten(out):
    """Tensors of a nested output, in order (None kept out)."""
    if isinstance(out, (tuple, list)):
        return [t for item in out for t in flatten(item)]
    return [] if out is None else [out]


def tensors_in(inputs):
    return [t for t in flatten(list(inputs)) if isinstance(t, (ember.Tensor, torch.Tensor))]


def stochastic(module) -> bool:
    """Whether training mode draws random numbers (dropout anywhere inside)."""
    for m in module.modules():
        p = getattr(m, "p", None) if type(m).__name__.startswith("Dropout") else getattr(m, "dropout", None)
        if isinstance(p, float) and p > 0:
            return True
    return False


def call_or_skip_missing_op(layer, inputs):
    """Call the layer; skip (naming the op) only when a functional op it needs is not registered yet."""
    import pytest
    try:
        return layer(*inputs)
    except AttributeError as exc:
        if "module 'ember.nn.functional' has no attribute" in str(exc):
            pytest.skip(f"{type(layer).__name__} needs ember.nn.functional.{exc.name}, which no ops plugin registers "
                        f"yet")
        raise
