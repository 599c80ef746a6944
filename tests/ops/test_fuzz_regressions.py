"""Dtype and exception-class cases the op fuzzer found (seed 0), each checked against torch directly."""

from __future__ import annotations

import numpy as np
import pytest

import ember


def _both(torch, build):
    """Run ``build(module)`` with ember and torch; return (ember result or exception, torch's)."""
    out = []
    for m in (ember, torch):
        try:
            out.append(build(m))
        except Exception as error:  # noqa: BLE001 - the class is what is compared
            out.append(error)
    return out


CASES = {
    "square bool": lambda m: m.square(m.tensor([True, False])),
    "clamp_min bool by float tensor": lambda m: m.clamp_min(m.tensor([True, False]), m.tensor([0.5, 2.0])),
    "clamp bool by bool number": lambda m: m.clamp(m.tensor([True, False]), True),
    "clamp bool by two bool tensors": lambda m: m.clamp(m.tensor([True]), m.tensor([False]), m.tensor([True])),
    "cdist int": lambda m: m.cdist(m.ones(2, 3, dtype=m.int64), m.ones(2, 3, dtype=m.int64)),
    "hinge int, truncated margin": lambda m: m.nn.functional.hinge_embedding_loss(
        m.tensor([1, 0, 2, -3]).int(), m.tensor([1, -1, -1, -1]), margin=2.7, reduction="none"),
    "pairwise_distance uint8": lambda m: m.nn.functional.pairwise_distance(
        m.tensor([[1, 0, 2]], dtype=m.uint8), m.tensor([[3, 1, 0]], dtype=m.uint8)),
    "multi_margin_loss int": lambda m: m.nn.functional.multi_margin_loss(m.ones(2, 3, dtype=m.int32), m.tensor([0, 1])),
    "multilabel_margin_loss target -100": lambda m: m.nn.functional.multilabel_margin_loss(
        m.ones(1, 4), m.tensor([[0, -1, -100, 1]])),
    "gaussian_nll_loss int var": lambda m: m.nn.functional.gaussian_nll_loss(m.ones(2), m.ones(2), m.ones(2).long()),
    "affine_grid int theta": lambda m: m.nn.functional.affine_grid(m.ones(1, 2, 3, dtype=m.int8), (1, 1, 2, 2), align_corners=False),
    "affine_grid wrong shape": lambda m: m.nn.functional.affine_grid(m.ones(()), (1, 1, 2, 2), align_corners=False),
    "searchsorted 0-d boundaries": lambda m: m.searchsorted(m.tensor(1.0), m.ones(3)),
    "searchsorted scalar into 2-d": lambda m: m.searchsorted(m.ones(2, 3), m.tensor(1.0)),
    "unflatten 0-d": lambda m: m.unflatten(m.tensor(1.0), 0, (1,)),
    "histc nan range": lambda m: m.histc(m.tensor([float("nan"), 1.0]), bins=3),
    "index_fill out of range": lambda m: m.index_fill(m.zeros(2, 0), 1, m.tensor([3]), -2.0),
    "dropout int p=1": lambda m: m.nn.functional.dropout(m.tensor([1, 2, 3]), 1.0),
    "dropout int p=0.5": lambda m: m.nn.functional.dropout(m.tensor([1, 2, 3]), 0.5),
    "interpolate uint8 nearest": lambda m: m.nn.functional.interpolate(
        m.arange(10).reshape(1, 2, 5).to(m.uint8), scale_factor=2.5, mode="nearest"),
    "poisson 0-d": lambda m: m.poisson(m.tensor(0.0)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch(torch, name):
    mine, theirs = _both(torch, CASES[name])
    if isinstance(theirs, Exception):
        assert isinstance(mine, type(theirs)), f"{name}: ember gave {mine!r}, torch raised {theirs!r}"
        return
    assert not isinstance(mine, Exception), f"{name}: ember raised {mine!r}, torch gave {theirs}"
    assert str(mine.dtype).rsplit(".", 1)[-1] == str(theirs.dtype).rsplit(".", 1)[-1]
    np.testing.assert_allclose(mine.numpy().astype(float), theirs.numpy().astype(float), rtol=1e-6)
