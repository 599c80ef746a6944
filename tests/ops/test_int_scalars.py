"""Python integer scalars with integer tensors behave as in PyTorch.

Arithmetic and comparisons wrap the scalar into the tensor's dtype (``uint8 + 256`` adds 0, ``uint8 < 300``
compares with 44); fills, ``x[i] = v``, ``full``, ``clamp`` bounds and ``alpha`` use PyTorch's checked
conversion (RuntimeError past the dtype's range; negative ints down to -max wrap into unsigned dtypes).
Each case runs the same lambda on ember and on torch and compares values, dtypes and exception classes.
"""

import numpy as np
import pytest

import ember


def _setitem(t, index, value):
    t[index] = value
    return t


CASES = {
    "u8 + 256": lambda T, u8, i8, i32, m: u8 + 256,
    "u8 * 300": lambda T, u8, i8, i32, m: u8 * 300,
    "(-1) * u8": lambda T, u8, i8, i32, m: (-1) * u8,
    "1 + (-1) * u8": lambda T, u8, i8, i32, m: 1 + (-1) * u8,
    "-1 - u8": lambda T, u8, i8, i32, m: -1 - u8,
    "u8 - 300": lambda T, u8, i8, i32, m: u8 - 300,
    "u8 // -1": lambda T, u8, i8, i32, m: u8 // -1,
    "u8 % -3": lambda T, u8, i8, i32, m: u8 % -3,
    "fmod(u8, -3)": lambda T, u8, i8, i32, m: T.fmod(u8, -3),
    "u8.div(-1, floor)": lambda T, u8, i8, i32, m: u8.div(-1, rounding_mode="floor"),
    "u8.div(-1, trunc)": lambda T, u8, i8, i32, m: u8.div(-1, rounding_mode="trunc"),
    "u8 & -1": lambda T, u8, i8, i32, m: u8 & -1,
    "i8 + 200": lambda T, u8, i8, i32, m: i8 + 200,
    "i8.add_(-129)": lambda T, u8, i8, i32, m: i8.clone().add_(-129),
    "u8.mul_(-1)": lambda T, u8, i8, i32, m: u8.clone().mul_(-1),
    "i32 + 2**33": lambda T, u8, i8, i32, m: i32 + 2 ** 33,
    "u8 + 2**63": lambda T, u8, i8, i32, m: u8 + 2 ** 63,
    "u8 + 2**70": lambda T, u8, i8, i32, m: u8 + 2 ** 70,
    "bool + 300": lambda T, u8, i8, i32, m: m + 300,
    "u8 / 300": lambda T, u8, i8, i32, m: u8 / 300,
    "u8 * 2.5": lambda T, u8, i8, i32, m: u8 * 2.5,
    "u8 < 300": lambda T, u8, i8, i32, m: u8 < 300,
    "i8 < 200": lambda T, u8, i8, i32, m: i8 < 200,
    "u8 == -1": lambda T, u8, i8, i32, m: u8 == -1,
    "u8 >= 256": lambda T, u8, i8, i32, m: u8 >= 256,
    "i32 < 2**33": lambda T, u8, i8, i32, m: i32 < 2 ** 33,
    "u8.fill_(-1)": lambda T, u8, i8, i32, m: u8.clone().fill_(-1),
    "u8.fill_(300)": lambda T, u8, i8, i32, m: u8.clone().fill_(300),
    "u8.fill_(3.7)": lambda T, u8, i8, i32, m: u8.clone().fill_(3.7),
    "u8.fill_(-1.0)": lambda T, u8, i8, i32, m: u8.clone().fill_(-1.0),
    "u8.fill_(nan)": lambda T, u8, i8, i32, m: u8.clone().fill_(float("nan")),
    "u8.fill_(2**70)": lambda T, u8, i8, i32, m: u8.clone().fill_(2 ** 70),
    "f16.fill_(1e6)": lambda T, u8, i8, i32, m: T.zeros(2, dtype=T.float16).fill_(1e6),
    "f16.fill_(inf)": lambda T, u8, i8, i32, m: T.zeros(2, dtype=T.float16).fill_(float("inf")),
    "bool.fill_(5)": lambda T, u8, i8, i32, m: m.clone().fill_(5),
    "u8.masked_fill(m, -1)": lambda T, u8, i8, i32, m: u8.masked_fill(m, -1),
    "u8.masked_fill(m, 300)": lambda T, u8, i8, i32, m: u8.masked_fill(m, 300),
    "i8.masked_fill(m, 200)": lambda T, u8, i8, i32, m: i8.masked_fill(m, 200),
    "u8[0] = -1": lambda T, u8, i8, i32, m: _setitem(u8.clone(), 0, -1),
    "u8[0] = 300": lambda T, u8, i8, i32, m: _setitem(u8.clone(), 0, 300),
    "u8[m] = -2": lambda T, u8, i8, i32, m: _setitem(u8.clone(), m, -2),
    "u8.clamp(min=-5)": lambda T, u8, i8, i32, m: u8.clamp(min=-5),
    "u8.clamp(max=300)": lambda T, u8, i8, i32, m: u8.clamp(max=300),
    "u8.clamp(min=-5.5)": lambda T, u8, i8, i32, m: u8.clamp(min=-5.5),
    "where(m, u8, -1)": lambda T, u8, i8, i32, m: T.where(m, u8, -1),
    "where(m, u8, 300)": lambda T, u8, i8, i32, m: T.where(m, u8, 300),
    "where(m, -1, u8)": lambda T, u8, i8, i32, m: T.where(m, -1, u8),
    "full_like(u8, 300)": lambda T, u8, i8, i32, m: T.full_like(u8, 300),
    "full_like(u8, -1)": lambda T, u8, i8, i32, m: T.full_like(u8, -1),
    "u8 += 300": lambda T, u8, i8, i32, m: u8.clone().__iadd__(300),
    "u8.sub_(300)": lambda T, u8, i8, i32, m: u8.clone().sub_(300),
    "u8.clamp_(max=-1)": lambda T, u8, i8, i32, m: u8.clone().clamp_(max=-1),
    "u8 != 256": lambda T, u8, i8, i32, m: u8 != 256,
    "u8 ^ 300": lambda T, u8, i8, i32, m: u8 ^ 300,
    "u8 | -1": lambda T, u8, i8, i32, m: u8 | -1,
    "int16 + 2**20": lambda T, u8, i8, i32, m: u8.to(T.int16) + 2 ** 20,
    "rsub(u8, 300)": lambda T, u8, i8, i32, m: T.rsub(u8, 300),
    "u8.masked_fill_(m, -1)": lambda T, u8, i8, i32, m: u8.clone().masked_fill_(m, -1),
    "u8.index_put with an int64 value": lambda T, u8, i8, i32, m: u8.index_put((T.tensor([0]),), T.tensor(-1)),
    "u8.sub(1, alpha=300)": lambda T, u8, i8, i32, m: u8.sub(1, alpha=300),
    "u8.add(1, alpha=2.5)": lambda T, u8, i8, i32, m: u8.add(1, alpha=2.5),
    "full 300 uint8": lambda T, u8, i8, i32, m: T.full((2,), 300, dtype=T.uint8),
    "full -1 uint8": lambda T, u8, i8, i32, m: T.full((2,), -1, dtype=T.uint8),
    "full -129 int8": lambda T, u8, i8, i32, m: T.full((2,), -129, dtype=T.int8),
    "new_full -1": lambda T, u8, i8, i32, m: u8.new_full((2,), -1),
    "tensor 300 uint8": lambda T, u8, i8, i32, m: T.tensor([300], dtype=T.uint8),
    "tensor -1 uint8": lambda T, u8, i8, i32, m: T.tensor(-1, dtype=T.uint8),
    "tensor -3.7 uint8": lambda T, u8, i8, i32, m: T.tensor([2.5, -3.7], dtype=T.uint8),
}


def _run(T, case):
    u8 = T.tensor([0, 5, 255], dtype=T.uint8)
    i8 = T.tensor([100, -100, 3], dtype=T.int8)
    i32 = T.tensor([1, 2, 3], dtype=T.int32)
    m = T.tensor([True, False, True])
    try:
        return CASES[case](T, u8, i8, i32, m)
    except Exception as exc:  # noqa: BLE001 - the exception is the result compared
        return exc


@pytest.mark.parametrize("case", list(CASES))
def test_int_scalar_matches_torch(torch, case):
    expected = _run(torch, case)
    got = _run(ember, case)
    if isinstance(expected, Exception):
        assert isinstance(got, type(expected)), f"{case}: torch raised {expected!r}, ember gave {got!r}"
        return
    assert not isinstance(got, Exception), f"{case}: torch gave {expected}, ember raised {got!r}"
    assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    np.testing.assert_array_equal(got.numpy(), expected.numpy())
