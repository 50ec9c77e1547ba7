"""Review of port round 24: the defects fixed in its new code (trace names under in-place ops,
``__index__`` keys, fft's integer arguments), each against PyTorch where PyTorch has the case."""

from __future__ import annotations

import pytest

import glassgrad as gg
from glassgrad.explain import trace


def test_trace_names_each_in_place_version_of_a_tensor_by_its_node():
    """a = x*2; a.add_(1); a.mul_(3): each op reads the version before it, not the first one."""
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    with trace() as tr:
        a = x * 2
        a.add_(1)
        a.mul_(3)
        a.sum().backward()
    rows = tr.rows()
    assert [(r.name, r.inputs) for r in rows] == [
        ("x1", []),
        ("f1", ["x1", "2"]),
        ("f2", ["f1", "1"]),
        ("f3", ["f2", "3"]),
        ("f4", ["f3"]),
    ]


def test_trace_names_are_unique_when_a_view_is_changed_in_place():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    with trace() as tr:
        a = x * 2
        a[0:1].mul_(5)
        a.sum().backward()
    rows = tr.rows()
    names = [r.name for r in rows]
    assert len(set(names)) == len(names)
    copy = next(r for r in rows if r.op == "copy_slices")
    assert copy.inputs[0] == "f1" and rows[-1].inputs == [copy.name]  # the base before, then after


class _Index:
    def __index__(self) -> int:
        return 1


def test_an_object_with_index_indexes_as_its_int(torch):
    t, g = torch.arange(9.0).reshape(3, 3), gg.arange(9.0).reshape(3, 3)
    assert g[_Index()].tolist() == t[_Index()].tolist()
    assert g[0, _Index()].item() == t[0, _Index()].item()
    g[_Index()] = 0.0
    t[_Index()] = 0.0
    assert g.tolist() == t.tolist()
    with pytest.raises(IndexError):
        g[1.0]


@pytest.mark.parametrize("kw", [{"n": 4.0}, {"n": True}, {"dim": (0,)}, {"dim": 0.0}])
def test_fft_takes_only_integer_n_and_dim(torch, kw):
    with pytest.raises(TypeError):
        torch.fft.fft(torch.ones(3), **kw)
    with pytest.raises(TypeError, match=r"^fft: argument '(n|dim)' must be int"):
        gg.fft.fft(gg.ones(3), **kw)
    assert gg.fft.ifft(gg.ones(3), n=gg.tensor(4)).shape == (4,)
