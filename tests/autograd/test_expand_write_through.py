"""Writes into a stretched ``expand`` (rows that share memory), as PyTorch 2.13 does them.

PyTorch refuses an in-place op whose destination has two places on one element ("more than one
element of the written-to tensor refers to a single memory location"), except ``fill_``/``zero_``
with a number, which put the same value everywhere; and a view of such a tensor with no shared
places (``x.expand(2, 3)[0]``) is written like ``x`` itself. Each case runs in both libraries on
a fresh ``x``: both refuse it, or both leave the same values in ``x``."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


def _cases(lib):
    return {
        "fill_": lambda x, e: e.fill_(2.0),
        "zero_": lambda x, e: (x.add_(1.0), e.zero_()),
        "fill_ of a column (stride 0)": lambda x, e: e.select(1, 0).fill_(4.0),
        "fill_ with a tensor value": lambda x, e: e.fill_(lib.tensor(2.0)),
        "add_": lambda x, e: e.add_(1.0),
        "mul_ of a stride-0 column": lambda x, e: e.t()[1].mul_(3.0),
        "one element set": lambda x, e: e.__setitem__((0, 1), 3.0),
        "one row set to a tensor": lambda x, e: e.__setitem__(0, lib.arange(3.0)),
        "a row set to a number": lambda x, e: e.__setitem__(1, 3.0),
        "a column set": lambda x, e: e.__setitem__((slice(None), 0), 1.0),
        "everything set": lambda x, e: e.__setitem__(Ellipsis, 1.0),
        "add_ of a row": lambda x, e: e[0].add_(1.0),
        "copy_ into a row": lambda x, e: e[1].copy_(lib.arange(3.0)),
        "sub_ of a reshaped row": lambda x, e: e[1].unsqueeze(0).sub_(2.0),
        "add_ of a view of a row": lambda x, e: e[1].view(3, 1)[2].add_(4.0),
        "index put into a row": lambda x, e: e[0].__setitem__([1], 2.0),
        "a row of a new expand of a row": lambda x, e: e[0].expand(4, 3)[1].add_(1.0),
        "a row of broadcast_tensors": lambda x, e: lib.broadcast_tensors(x, lib.ones(2, 3))[0][1].add_(1.0),
        "a column of expand(3, 4) filled": lambda x, e: x.unsqueeze(1).expand(3, 4)[1].fill_(3.0),
    }


def _outcome(lib, name):
    x = lib.zeros(3)
    try:
        _cases(lib)[name](x, x.expand(2, 3))
    except (RuntimeError, ValueError):  # glassgrad's ShapeError is a ValueError
        return "refused"
    return x.tolist()


@pytest.mark.parametrize("name", list(_cases(gg)))
def test_writes_into_an_expand_match_torch(torch, name):
    assert _outcome(gg, name) == _outcome(torch, name)


def test_fill_through_an_expand_of_a_read_only_array_is_refused(monkeypatch):
    import glassgrad.factories

    monkeypatch.setattr(glassgrad.factories, "_read_only_warned", [False])  # once a process: not yet
    a = np.zeros(3)
    a.flags.writeable = False
    with pytest.warns(UserWarning, match="not writable"):
        t = gg.from_numpy(a)
    e = t.expand(2, 3)
    for write in (lambda: e.fill_(1.0), lambda: e[0].add_(1.0), lambda: e.__setitem__((0, 1), 2.0)):
        with pytest.raises(ValueError, match="read-only"):
            write()
    assert a.tolist() == [0.0, 0.0, 0.0]


def test_a_recorded_write_into_a_row_of_an_expand_matches_torch(torch):
    def run(lib):
        w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        u = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        h = w * 1.5
        h.expand(2, 3)[1].mul_(u)  # the row is h's own memory: recorded, h's graph rebased
        (h * h).sum().backward()
        return h.tolist(), w.grad.tolist(), u.grad.tolist()

    for a, b in zip(run(gg), run(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-12)
