"""Each op declaration says what it is, and says it truly: an op declared ``primitive=P`` (primitive or
fused) runs P (or an overload of it), and a differentiable op declared composite does not just run one
primitive. Which primitives ran is seen through a tracing CPU kernel put on every Primitive."""

import pytest

import ember
from ember import dtypes
from ember.primitive import Primitive
from ember.testing import SampleMaker


def _primitive_classes(base=Primitive):
    for sub in base.__subclasses__():
        yield sub
        yield from _primitive_classes(sub)


@pytest.fixture(scope="module")
def run_traced():
    """``run_traced(fn, sample)`` -> the Primitive classes ``fn`` ran (None when the sample raised)."""
    ran = []
    saved = {cls: (cls.__dict__.get("kernels"), cls.__dict__.get("kernels_from_numel"))
             for cls in set(_primitive_classes())}
    for cls in saved:
        cls.kernels_from_numel = 0  # the tracer declares no floor: every call goes through it
        def tracer(xp, *args, _cls=cls, **attrs):
            ran.append(_cls)
            return _cls.forward(xp, *args, **attrs)
        cls.kernels = {"cpu": tracer}

    def run(fn, sample):
        ran.clear()
        try:
            fn(*sample.args, **sample.kwargs)
        except Exception:  # the kit reports failing samples; this test is about declarations
            return None
        return list(ran)
    yield run
    for cls, (kernels, floor) in saved.items():
        cls.kernels = kernels if kernels is not None else {}
        cls.kernels_from_numel = floor if floor is not None else 0


def _ops():
    return sorted(ember.plugins.registries["ops"].entries.items())


def _runs(op, run_traced):
    samples = list(op.samples(SampleMaker("cpu", dtypes.float64)))[:3] if op.samples else []
    return [r for r in (run_traced(op.fn, s) for s in samples) if r is not None]


def test_declared_primitive_runs(run_traced):
    wrong = []
    for name, entry in _ops():
        op = entry.obj
        if op.primitive is None:
            continue
        runs = _runs(op, run_traced)
        if runs and not any(issubclass(cls, op.primitive) for ran in runs for cls in ran):
            wrong.append(f"{name} ({op.declared_at}): declares {op.primitive.__name__}, ran "
                         f"{[[cls.__name__ for cls in ran] for ran in runs]}")
    assert not wrong, "\n".join(wrong)


def test_differentiable_composite_is_more_than_one_primitive(run_traced):
    single = []
    for name, entry in _ops():
        op = entry.obj
        if op.kind != "composite" or not op.differentiable:
            continue
        runs = _runs(op, run_traced)
        if runs and all(len(ran) == 1 for ran in runs):
            single.append(f"{name} ({op.declared_at}) runs only {runs[0][0].__name__}: declare primitive=")
    assert not single, "\n".join(single)


def test_kinds_are_the_three_named():
    kinds = {entry.obj.kind for _, entry in _ops()}
    assert kinds == {"primitive", "fused", "composite"}


def test_fused_ops_declare_their_composite():
    for name in ("softmax", "log_softmax", "linear", "mean", "nll_loss", "mse_loss", "logsumexp", "var", "embedding"):
        op = ember.plugins.registries["ops"].entries[name].obj
        assert op.kind == "fused" and op.reference is not None, name
