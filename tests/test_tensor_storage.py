"""``Tensor.storage()`` / ``untyped_storage()`` against PyTorch (Deep Learning with PyTorch, ch. 3)."""

from __future__ import annotations

import warnings

import pytest

import glassgrad as gg
from glassgrad import tensor_storage

POINTS = [[4.0, 1.0], [5.0, 3.0], [2.0, 1.0]]


def _both(torch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.tensor(POINTS), gg.tensor(POINTS)


def test_views_share_the_storage(torch):
    t, g = _both(torch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for f in (lambda x: x, lambda x: x.t(), lambda x: x[1], lambda x: x.t().contiguous()):
            ts, gs = f(t).storage(), f(g).storage()
            assert gs.tolist() == ts.tolist()
            assert (len(gs), gs.size(), gs.element_size(), gs.nbytes()) == (
                len(ts),
                ts.size(),
                ts.element_size(),
                ts.nbytes(),
            )
            assert [gs[i] for i in range(-len(gs), len(gs))] == [ts[i] for i in range(-len(ts), len(ts))]
            assert isinstance(gs[0], type(ts[0]))
        assert g.t().storage().data_ptr() == g.data_ptr()


def test_writes_reach_the_tensor(torch):
    t, g = _both(torch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for x in (t, g):
            s = x.t().storage()
            s[0] = 2.0
            s[-1] = 7
        assert g.tolist() == t.tolist()
        t.storage().fill_(3.5)
        g.storage().fill_(3.5)
    assert g.tolist() == t.tolist()


def test_repr_and_untyped(torch):
    t, g = _both(torch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for ts, gs in ((t.storage(), g.storage()), (t.untyped_storage(), g.untyped_storage())):
            tl, gl = repr(ts).split("\n"), repr(gs).split("\n")
            assert gl[:-1] == tl[:-1]  # one element a line, each after a space
            assert gl[-1] == tl[-1].replace("torch", "glassgrad")
        ints = (torch.tensor([1, 2]).storage(), gg.tensor([1, 2]).storage())
    assert repr(ints[1]).split("\n")[:-1] == repr(ints[0]).split("\n")[:-1]
    assert g.untyped_storage().tolist() == t.untyped_storage().tolist()


def test_bad_index_and_value(torch):
    t, g = _both(torch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for x in (t, g):
            s = x.storage()
            for i in (6, -7):
                with pytest.raises(IndexError, match="out of range for storage of size 6"):
                    s[i]
            with pytest.raises(TypeError, match="can't assign a str"):
                s[0] = "a"


def test_deprecation_warned_once(monkeypatch):
    monkeypatch.setattr(tensor_storage, "_WARNED", [False])
    g = gg.tensor(POINTS)
    with pytest.warns(UserWarning, match="TypedStorage is deprecated"):
        g.storage()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g.storage()
        g.untyped_storage()


def test_a_write_through_storage_is_an_in_place_change_for_autograd():
    # exp saves its output: changed through the storage, backward must refuse, not use the new values
    x = gg.tensor([0.0, 1.0], requires_grad=True)
    y = x.exp()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = y.detach().storage()
    version = y._version
    s[0] = 5.0
    assert y._version == version + 1 and y.tolist()[0] == 5.0
    with pytest.raises(gg.errors.GraphError):
        y.sum().backward()
    z = x.exp()
    z.detach().untyped_storage().fill_(0)
    with pytest.raises(gg.errors.GraphError):
        z.sum().backward()
