"""Training under ``ember.autocast("cpu")`` as PyTorch users write it: forward in the region, backward
outside. The bfloat16 products must return bfloat16 (numpy's matmul returns float32 for ml_dtypes'
bfloat16), or backward meets a float32 gradient and a bfloat16 weight and fails."""

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import nn

BF16_TOL = dict(rtol=2e-2, atol=2e-2)  # a few bfloat16 roundings of O(1) values


def _mlp_pair(torch):
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 4))
    t_model = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4))
    t_model.load_state_dict({k: torch.as_tensor(v.numpy()) for k, v in model.state_dict().items()})
    return model, t_model


def test_one_training_step_under_autocast_matches_torch(torch):
    model, t_model = _mlp_pair(torch)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 6)).astype(np.float32), rng.integers(0, 4, 8)
    opt = ember.optim.SGD(model.parameters(), lr=0.1)
    t_opt = torch.optim.SGD(t_model.parameters(), lr=0.1)

    with ember.autocast("cpu"):
        logits = model(ember.tensor(x))
        loss = F.cross_entropy(logits, ember.tensor(y))
    with torch.autocast("cpu"):
        t_logits = t_model(torch.as_tensor(x))
        t_loss = torch.nn.functional.cross_entropy(t_logits, torch.as_tensor(y))
    assert logits.dtype.name == str(t_logits.dtype).split(".")[1] == "bfloat16"
    assert loss.dtype.name == str(t_loss.dtype).split(".")[1] == "float32"
    np.testing.assert_allclose(loss.item(), t_loss.item(), **BF16_TOL)

    loss.backward()  # outside the region, as PyTorch code does
    t_loss.backward()
    for (name, p), t_p in zip(model.named_parameters(), t_model.parameters()):
        assert p.grad.dtype.name == str(t_p.grad.dtype).split(".")[1] == "float32", name
        np.testing.assert_allclose(p.grad.numpy(), t_p.grad.numpy(), err_msg=name, **BF16_TOL)
    opt.step()
    t_opt.step()
    for (name, p), t_p in zip(model.named_parameters(), t_model.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), t_p.detach().numpy(), err_msg=name, **BF16_TOL)


@pytest.mark.parametrize("op", ["matmul", "linear", "conv1d", "conv_transpose1d", "bmm", "einsum"])
def test_bfloat16_products_keep_bfloat16_forward_and_backward(torch, op):
    """Outside autocast too: bfloat16 inputs give a bfloat16 result and bfloat16 gradients, as in PyTorch."""
    rng = np.random.default_rng(1)
    shapes = {"matmul": ((3, 4), (4, 5)), "linear": ((3, 4), (5, 4)), "conv1d": ((2, 3, 6), (4, 3, 3)),
              "conv_transpose1d": ((2, 3, 6), (3, 4, 3)), "bmm": ((2, 3, 4), (2, 4, 5)),
              "einsum": ((3, 4), (4, 5))}[op]
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]

    def run(lib, fn_space):
        xs = [lib.tensor(a).to(lib.bfloat16).requires_grad_() for a in arrays]
        fn = (lambda a, b: lib.einsum("ij,jk->ik", a, b)) if op == "einsum" else getattr(fn_space, op)
        out = fn(*xs)
        out.float().sum().backward()
        return out, [x.grad for x in xs]

    out, grads = run(ember, F if op in ("linear", "conv1d", "conv_transpose1d") else ember)
    t_out, t_grads = run(torch, torch.nn.functional if op in ("linear", "conv1d", "conv_transpose1d") else torch)
    assert out.dtype is ember.bfloat16 and t_out.dtype is torch.bfloat16
    np.testing.assert_allclose(out.float().detach().numpy(), t_out.float().detach().numpy(), **BF16_TOL)
    for g, t_g in zip(grads, t_grads):
        assert g.dtype is ember.bfloat16 and t_g.dtype is torch.bfloat16
        np.testing.assert_allclose(g.float().numpy(), t_g.float().numpy(), **BF16_TOL)


@pytest.mark.parametrize("expr", ["x * 2.5", "2.5 * x", "x + 1.0", "1.0 - x", "x / 3.0", "x ** 2.0",
                                  "x.clamp(min=0.5)", "x.clamp(max=0.0)", "x.clone().mul_(0.5)",
                                  "F.prelu(x, w)"])
def test_bfloat16_with_python_floats_stays_bfloat16(torch, expr):
    """numpy takes ml_dtypes' bfloat16 with a Python float to float32; PyTorch keeps bfloat16."""
    data = np.random.default_rng(2).standard_normal((2, 3)).astype(np.float32)
    x, w = ember.tensor(data).to(ember.bfloat16), ember.tensor([0.25, 0.5, 0.75]).to(ember.bfloat16)
    out = eval(expr, {"x": x, "w": w, "F": F})
    t_x, t_w = torch.as_tensor(data).to(torch.bfloat16), torch.tensor([0.25, 0.5, 0.75]).to(torch.bfloat16)
    t_out = eval(expr, {"x": t_x, "w": t_w, "F": torch.nn.functional})
    assert out.dtype is ember.bfloat16 and t_out.dtype is torch.bfloat16
    np.testing.assert_allclose(out.float().numpy(), t_out.float().numpy(), rtol=1e-2, atol=1e-2)
