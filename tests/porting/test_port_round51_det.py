"""What round 51's detection/segmentation programs showed (docs/porting.md): ssd.pytorch's original
``MultiBoxLoss`` indexes a ``(8732, 1)`` loss with a ``(1, 8732)`` mask. PyTorch refuses it with an
IndexError that names both shapes; glassgrad refused it too, but with NumPy's message about one axis.
A bool mask whose shape differs from the dims it indexes is now refused as PyTorch refuses it: same
error class, same shapes, the same dims (ints of the key select first, None and 0-d bools count as
size-1 dims), for reading and for writing, and every key PyTorch accepts is still accepted."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

import glassgrad as gg

X = np.arange(24.0).reshape(2, 3, 4)

# parts of a key: ("mask", shape) is an all-True bool mask of that shape, a list an integer index
PARTS = [slice(None), 0, None, Ellipsis, True, [0, 1]] + [
    ("mask", s) for s in [(), (2,), (3,), (4,), (2, 3), (3, 4), (3, 5)]
]


def _key(lib, parts):
    def one(p):
        if isinstance(p, tuple):
            return lib.ones(p[1], dtype=lib.bool)
        return lib.tensor(p) if isinstance(p, list) else p

    return tuple(one(p) for p in parts)


def _outcome(lib, parts, write):
    t = lib.tensor(X)
    try:
        if write:
            t[_key(lib, parts)] = -1.0
            return "ok", t.numpy().tolist()
        return "ok", t[_key(lib, parts)].numpy().tolist()
    except IndexError as e:
        m = re.search(
            r"mask \[?\(?([\d, ]*)\]?\)? at index (\d+) does not match .* tensor \[?\(?([\d, ]*)\]?\)? at index (\d+)",
            str(e),
        )
        if m is None:
            return "IndexError", None
        nums = [tuple(int(v) for v in g.replace(" ", "").split(",") if v) for g in m.groups()]
        return "IndexError", nums
    except (TypeError, ValueError, RuntimeError):
        return "other", None


@pytest.mark.parametrize("write", [False, True])
def test_mask_shapes_refused_as_pytorch(torch, write):
    keys = [
        c for r in (1, 2, 3) for c in itertools.product(PARTS, repeat=r) if sum(p is Ellipsis for p in c) < 2
    ]
    refused = 0
    for parts in keys:
        want, got = _outcome(torch, parts, write), _outcome(gg, parts, write)
        if want[0] == "IndexError" and want[1] is not None:
            refused += 1
            assert got == want, parts  # same shapes and dims in the message
        elif want[0] == "ok":
            assert got == want, parts
        else:
            assert got[0] != "ok", parts  # PyTorch refuses it for another reason: so does glassgrad
    assert refused > 300  # the sweep does reach the mask check


def test_ssd_multibox_mask_message():
    loss_c = gg.zeros(8732, 1)
    pos = gg.zeros(1, 8732, dtype=gg.bool)
    msg = (
        "__setitem__: expected a bool mask of the shape of the dims it indexes: the shape of the mask "
        "(1, 8732) at index 0 does not match the shape of the indexed tensor (8732, 1) at index 0"
    )
    with pytest.raises(IndexError, match=re.escape(msg)):
        loss_c[pos] = 0
    with pytest.raises(IndexError, match=re.escape("getitem: expected a bool mask")):
        loss_c[pos]
    assert not loss_c.any()
    loss_c.view(1, -1)[pos] = 1.0  # the program's fix: the mask now fits
    x = gg.tensor(X, requires_grad=True)
    y = x[0, :, gg.tensor([True, False, True, True])]  # an int first, then a mask of the remaining dims
    y.sum().backward()
    assert y.shape == (3, 3)
    assert x.grad.numpy()[0, :, 1].sum() == 0 and x.grad.numpy()[0].sum() == 9
