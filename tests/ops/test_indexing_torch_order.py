"""Indexing keys that mix ints (or 0-d tensors), slices, None, Ellipsis, index lists/tensors and
bool masks lay the result out as PyTorch does: values, the gradient and ``x[key] = v``.

NumPy counts an int as an advanced index, so ``x[0, :, [0, 2]]`` came out transposed ((2, 3)
for x (2, 3, 4), PyTorch (3, 2)), silently when the shape was square; an Ellipsis standing for no
dims between two index lists did the same. A seeded random sweep of keys, against PyTorch."""

from __future__ import annotations

import random

import numpy as np
import pytest

import glassgrad as gg


def _key_parts(rng: random.Random, shape: tuple) -> list:
    parts, left, ellipsis = [], list(shape), False
    while left and rng.random() < 0.85:
        n, c = left[0], rng.random()
        if c < 0.25:
            parts.append(("int", rng.randint(-n, n - 1)))
        elif c < 0.4:
            parts.append(("slice", slice(rng.randint(-n, n), rng.randint(-n, n), rng.choice([None, 1, 2]))))
        elif c < 0.5:
            parts.append(("none", None))
            continue
        elif c < 0.57 and not ellipsis:
            ellipsis = True
            parts.append(("ellipsis", Ellipsis))
            left = left[len(left) - rng.randint(0, len(left)) :]
            continue
        elif c < 0.85:
            idx = [rng.randint(-n, n - 1) for _ in range(2)]
            parts.append(rng.choice([("list", idx), ("tensor", idx), ("tensor0d", idx[0])]))
        else:
            parts.append(("mask", [rng.random() < 0.5 for _ in range(n)]))
        left.pop(0)
    return parts


def _key(lib, parts):
    out = []
    for kind, v in parts:
        if kind in ("tensor", "tensor0d", "mask"):
            out.append(lib.tensor(v))
        else:
            out.append(v)
    return tuple(out)


CASES = []
_rng = random.Random(7)
while len(CASES) < 300:
    _shape = tuple(_rng.randint(1, 4) for _ in range(_rng.randint(1, 4)))
    _parts = _key_parts(_rng, _shape)
    if any(kind == "int" for kind, _ in _parts) or any(kind == "ellipsis" for kind, _ in _parts):
        CASES.append((_shape, _parts))


def test_mixed_keys_match_torch(torch):
    checked = 0
    for shape, parts in CASES:
        data = np.arange(float(np.prod(shape))).reshape(shape)
        t = torch.tensor(data, requires_grad=True)
        try:
            ty = t[_key(torch, parts)]
        except (IndexError, RuntimeError, ValueError):
            continue  # PyTorch refuses the key (masks or lists that do not broadcast, say)
        x = gg.tensor(data, requires_grad=True)
        y = x[_key(gg, parts)]
        assert tuple(y.shape) == tuple(ty.shape), (shape, parts)
        np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy(), err_msg=str((shape, parts)))
        up = np.random.default_rng(0).standard_normal(tuple(ty.shape))
        (ty * torch.tensor(up)).sum().backward()
        (y * gg.tensor(up)).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), err_msg=str((shape, parts)))
        # x[key] = v writes where PyTorch writes
        tw, gw = torch.tensor(data), gg.tensor(data)
        tw[_key(torch, parts)] = torch.tensor(up)
        gw[_key(gg, parts)] = gg.tensor(up)
        np.testing.assert_array_equal(gw.numpy(), tw.numpy(), err_msg=str((shape, parts)))
        checked += 1
    assert checked > 150  # most keys are valid: the sweep did compare


@pytest.mark.parametrize(
    ("key", "shape"),
    [
        ((0, slice(None), [0, 2]), (3, 2)),
        ((0, Ellipsis, [1, 2]), (3, 2)),
        ((slice(None), [0, 1], Ellipsis, [0, 1]), (2, 2)),
    ],
)
def test_the_reported_keys(key, shape):
    assert (
        tuple(gg.zeros(2, 3, 4)[key].shape) == shape
    )  # x (2, 3, 4); NumPy's order gave (2, 3), (2, 3), (2, 2)
