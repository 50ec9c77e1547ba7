"""Round 66 (PyTorch's test_torch.py): ``index_add``/``index_reduce`` refuse a source of another rank
than the input (a 0-d input summed a whole vector source without error); gather/scatter take an
empty index of any shape, as PyTorch (they refused it); ``nll_loss`` of a 0-d input is PyTorch's
ValueError before the target is read."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # index_reduce beta, scatter reduce=


def _outcome(fn):
    try:
        r = fn()
    except IndexError:
        return "IndexError"
    except RuntimeError:
        return "RuntimeError"
    return r.tolist()


def _rank_cases(lib):
    z = lambda: lib.zeros(())  # noqa: E731
    v = lambda: lib.zeros(3)  # noqa: E731
    one, two = lib.tensor([0]), lib.tensor([0, 0])
    return [
        lambda: z().index_add(0, two, lib.tensor([1.0, 2.0])),
        lambda: z().index_add_(0, two, lib.tensor([1.0, 2.0])),
        lambda: z().index_add(0, one, lib.tensor([1.0])),
        lambda: z().index_add(0, one, lib.tensor(1.0)),
        lambda: z().index_add(0, lib.tensor(0), lib.tensor(1.0)),
        lambda: z().index_add(0, two, lib.tensor(1.0)),
        lambda: v().index_add(0, lib.tensor([1]), lib.tensor(1.0)),
        lambda: v().index_add(0, lib.tensor([1, 2]), lib.tensor(1.0)),
        lambda: z().index_add(0, one, lib.tensor([[1.0]])),
        lambda: lib.zeros(2, 3).index_add(1, one, lib.ones(2)),
        lambda: lib.zeros(2, 3).index_add(1, one, lib.ones(2, 1)),
        lambda: z().index_reduce(0, one, lib.tensor([1.0]), "amax"),
        lambda: v().index_reduce(0, lib.tensor([1]), lib.tensor(1.0), "amax"),
        lambda: z().index_reduce(0, lib.tensor(0), lib.tensor(1.0), "amax"),
        # index_copy is laxer in PyTorch: a 0-d input takes a vector source, a 1-D one a 0-d source
        lambda: z().index_copy(0, two, lib.tensor([1.0, 2.0])),
        lambda: v().index_copy(0, lib.tensor([1]), lib.tensor(1.0)),
        lambda: v().index_copy(0, lib.tensor([0, 1]), lib.tensor(1.0)),
    ]


def test_index_add_reduce_source_rank_as_torch(torch):
    got = [_outcome(f) for f in _rank_cases(gg)]
    want = [_outcome(f) for f in _rank_cases(torch)]
    assert got == want


def _empty_index(lib):
    x = lib.arange(4.0, requires_grad=True)
    idx = lib.zeros((0, 4), dtype=lib.long)
    g = lib.gather(x, 0, idx)
    g.sum().backward()
    y = lib.arange(6.0).reshape(2, 3)
    out = [tuple(g.shape), x.grad.tolist()]
    out.append(tuple(lib.gather(x, 0, lib.zeros(2, 0, dtype=lib.long)).shape))
    out.append(tuple(lib.gather(y, 1, lib.zeros(2, 0, dtype=lib.long)).shape))
    xd = x.detach()
    out.append(xd.scatter(0, idx, lib.zeros(0, 4)).tolist())
    out.append(xd.scatter(0, idx, 1.0).tolist())
    out.append(xd.scatter(0, idx, lib.zeros(3)).tolist())
    out.append(xd.scatter_add(0, idx, lib.zeros(0, 4)).tolist())
    out.append(xd.scatter_reduce(0, idx, lib.zeros(0, 4), "prod").tolist())
    out.append(xd.scatter(0, idx, lib.zeros(0, 4), reduce="add").tolist())
    out.append(y.scatter(1, lib.zeros(0, dtype=lib.long), 5.0).tolist())
    with pytest.raises(IndexError):
        lib.gather(x, 3, idx)  # the dim is still checked
    return out


def test_empty_index_of_any_shape_as_torch(torch):
    assert _empty_index(gg) == _empty_index(torch)


def test_scatter_with_empty_index_keeps_gradients():
    x = gg.arange(4.0, requires_grad=True)
    src = gg.ones(3, requires_grad=True)
    out = x.scatter(0, gg.zeros((0, 4), dtype=gg.long), src)
    (out * gg.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 2.0, 3.0, 4.0])  # nothing overwritten
    np.testing.assert_array_equal(src.grad.numpy(), [0.0, 0.0, 0.0])  # nothing read from src


def test_nll_loss_zero_dim_input_is_value_error(torch):
    for lib in (torch, gg):
        F = lib.nn.functional
        for target in (lib.randn(()), lib.tensor(0)):
            with pytest.raises(ValueError):
                F.nll_loss(lib.randn(()), target, reduction="none")
