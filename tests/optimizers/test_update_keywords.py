"""SGD, Adam and AdamW take PyTorch's implementation keywords (foreach, fused, differentiable,
capturable): the same trajectory whichever is given, and PyTorch's error for fused with foreach."""

import numpy as np
import pytest

import ember

KEYWORDS = [dict(foreach=True), dict(foreach=False), dict(fused=True), dict(fused=False), dict(differentiable=False)]
OPTIONS = {"SGD": dict(lr=0.1, momentum=0.9), "Adam": dict(lr=0.05), "AdamW": dict(lr=0.05, amsgrad=True)}


def _trajectory(name, **keywords):
    p = ember.nn.Parameter(ember.tensor(np.linspace(-1.0, 1.0, 6)))
    opt = getattr(ember.optim, name)([p], **OPTIONS[name], **keywords)
    for _ in range(5):
        p.grad = ember.tensor(np.sin(p.detach().numpy() * 3.0))
        opt.step()
    return p.detach().numpy()


@pytest.mark.parametrize("name", sorted(OPTIONS))
@pytest.mark.parametrize("keywords", KEYWORDS, ids=lambda k: ",".join(f"{n}={v}" for n, v in k.items()))
def test_implementation_keywords_leave_the_update_alone(torch, name, keywords):
    theirs = torch.nn.Parameter(torch.tensor(np.linspace(-1.0, 1.0, 6)))
    opt = getattr(torch.optim, name)([theirs], **OPTIONS[name], **keywords)
    for _ in range(5):
        theirs.grad = torch.tensor(np.sin(theirs.detach().numpy() * 3.0))
        opt.step()
    np.testing.assert_allclose(_trajectory(name, **keywords), _trajectory(name), rtol=0, atol=0)
    np.testing.assert_allclose(_trajectory(name, **keywords), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_fused_with_foreach_is_an_error_as_in_torch(torch, name):
    with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True` together"):
        getattr(torch.optim, name)([torch.nn.Parameter(torch.ones(2))], lr=0.1, fused=True, foreach=True)
    with pytest.raises(RuntimeError, match=f"{name}: `fused` and `foreach` cannot be `True` together"):
        getattr(ember.optim, name)([ember.nn.Parameter(ember.ones(2))], lr=0.1, fused=True, foreach=True)


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_a_tensor_learning_rate_works_as_in_torch(torch, name):
    """PyTorch takes ``lr`` (and SGD's ``weight_decay``) as a 0-dim Tensor; the update is the float's.
    Large enough (70,000 elements) that ember_fast's SGD kernel, where installed, takes it too."""
    start = np.linspace(-1.0, 1.0, 70_000)
    extra = {"weight_decay": 0.01} if name == "SGD" else {}
    finals = []
    for lib in (ember, torch):
        p = lib.nn.Parameter(lib.tensor(start.copy()))
        options = dict(OPTIONS[name], lr=lib.tensor(OPTIONS[name]["lr"]),
                       **{key: lib.tensor(value) for key, value in extra.items()})
        opt = getattr(lib.optim, name)([p], **options)
        for _ in range(3):
            p.grad = lib.tensor(np.sin(p.detach().numpy() * 3.0))
            opt.step()
        finals.append(p.detach().numpy())
    np.testing.assert_allclose(finals[0], finals[1], rtol=1e-10, atol=1e-12)
