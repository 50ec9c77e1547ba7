"""torch.hsplit / vsplit / dsplit and the Tensor methods (ops/split_directions.py) against PyTorch:
the pieces, their node names and gradients, and PyTorch's refusals."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

CASES = [
    ("hsplit", (5,), 5),
    ("hsplit", (5,), [1, 3]),
    ("hsplit", (3, 4), 2),
    ("hsplit", (3, 4, 2), (1, 9)),
    ("vsplit", (6, 2), 3),
    ("vsplit", (6, 2), [2, 9]),
    ("dsplit", (2, 1, 6), 2),
    ("dsplit", (2, 1, 6, 2), [4]),
]


def _run(lib, op, shape, ios, method):
    x = lib.arange(float(np.prod(shape)), dtype=lib.float64).reshape(shape).requires_grad_()
    pieces = getattr(x, op)(ios) if method else getattr(lib, op)(x, ios)
    assert isinstance(pieces, tuple)
    sum((p * (i + 1)).sum() for i, p in enumerate(pieces)).backward()
    return [p.detach().numpy() for p in pieces], [p.grad_fn.name() for p in pieces], x.grad.numpy()


@pytest.mark.parametrize("method", [False, True])
@pytest.mark.parametrize("op, shape, ios", CASES)
def test_splits_match_torch(torch, op, shape, ios, method):
    ours, theirs = _run(gg, op, shape, ios, method), _run(torch, op, shape, ios, method)
    assert len(ours[0]) == len(theirs[0])
    for a, b in zip(ours[0], theirs[0]):
        np.testing.assert_array_equal(a, b)
    assert ours[1] == theirs[1]
    np.testing.assert_array_equal(ours[2], theirs[2])


@pytest.mark.parametrize(
    "op, shape, ios, match",
    [
        ("hsplit", (), 2, "at least 1 dimension"),
        (
            "hsplit",
            (4, 3),
            2,
            "dimension 1, but the size of the dimension 3 is not divisible by the split_size 2",
        ),
        ("hsplit", (4, 4), 0, "not divisible by the split_size 0"),
        ("vsplit", (4,), 2, "at least 2 dimension"),
        ("dsplit", (4, 4), 2, "at least 3 dimension"),
    ],
)
def test_refusals_match_torch(torch, op, shape, ios, match):
    for lib in (gg, torch):
        with pytest.raises(RuntimeError, match=match):
            getattr(lib, op)(lib.ones(shape), ios)


def test_a_float_number_of_sections_is_a_type_error(torch):
    for lib in (gg, torch):
        with pytest.raises(TypeError):
            lib.hsplit(lib.ones(4, 4), 2.0)
