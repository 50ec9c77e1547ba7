"""Round 58 in-place hunt: indexed writes whose index or source is self itself (refused, as
PyTorch's ``assert_no_overlap``), and 0-dim results that in-place ops and views can take."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import ShapeError


def _own(op):
    """``op(x)`` on a fresh (3, 3) float tensor ``x`` that passes ``x`` (or a view of all of it)
    as its own index or source; returns the written tensor."""

    def run(T):
        x = T.arange(9.0).reshape(3, 3)
        i = T.tensor([0, 1, 2])
        return op(T, x, i)

    return run


def _own_int(op):
    def run(T):
        x = T.tensor([0, 1, 2, 3])
        return op(T, x, T.tensor([5, 6, 7, 8]))

    return run


#: Each case runs in both libraries: PyTorch refuses all of them.
REFUSED = {
    "index_add_ of itself": _own(lambda T, x, i: x.index_add_(0, i, x)),
    "index_add_ of itself by keyword alpha": _own(lambda T, x, i: x.index_add_(0, i, x, alpha=2)),
    "index_copy_ of itself": _own(lambda T, x, i: x.index_copy_(0, i.flip(0), x)),
    "index_put_ of itself": _own(lambda T, x, i: x.index_put_((i,), x)),
    "index_put_ accumulate of itself": _own(lambda T, x, i: x.index_put_((i,), x, accumulate=True)),
    "index_reduce_ of itself": _own(lambda T, x, i: x.index_reduce_(0, i, x, "prod")),
    "scatter_ of itself": _own(lambda T, x, i: x.scatter_(0, i.view(1, 3), x)),
    "scatter_ of itself by keyword": _own(lambda T, x, i: x.scatter_(0, i.view(1, 3), src=x)),
    "scatter_add_ of itself": _own(lambda T, x, i: x.scatter_add_(0, i.view(1, 3), x)),
    "scatter_reduce_ of itself": _own(lambda T, x, i: x.scatter_reduce_(0, i.view(1, 3), x, "sum")),
    "scatter_ of itself through a step": lambda T: (lambda x: x.scatter_(0, T.tensor([[1, 0]]), x))(
        T.arange(8.0)[::2].view(2, 2)
    ),
    "put_ of itself": lambda T: (lambda x: x.put_(T.arange(9), x))(T.arange(9.0)),
    "put_ of an equal view of itself": lambda T: (lambda x: x.put_(T.arange(9), x.view(3, 3)))(T.arange(9.0)),
    "index_add_ indexed by itself": _own_int(lambda T, x, v: x.index_add_(0, x, v)),
    "index_copy_ indexed by itself": _own_int(lambda T, x, v: x.index_copy_(0, x, v)),
    "index_fill_ indexed by itself": _own_int(lambda T, x, v: x.index_fill_(0, x, 3)),
    "index_put_ indexed by itself": _own_int(lambda T, x, v: x.index_put_((x,), v)),
    "put_ indexed by itself": _own_int(lambda T, x, v: x.put_(x, v, accumulate=True)),
    "scatter_add_ indexed by itself": _own_int(lambda T, x, v: x.scatter_add_(0, x, v)),
    "scatter_reduce_ indexed by itself": _own_int(lambda T, x, v: x.scatter_reduce_(0, x, v, "amax")),
}

#: ... and these compute in both, with the same values.
ALLOWED = {
    "index_add_ of the other half": lambda T: (
        lambda x: (x[:2].index_add_(0, T.tensor([1, 0]), x[2:]), x)[1]
    )(T.arange(4.0)),
    "index_add_ indexed by the other half": lambda T: (
        lambda x: (x[:2].index_add_(0, x[2:], T.tensor([1, 1])), x)[1]
    )(T.tensor([0, 1, 1, 0])),
    "masked_scatter_ with itself as the mask": lambda T: (
        lambda x: x.masked_scatter_(x, T.tensor([False, False]))
    )(T.tensor([True, False, True])),
    "masked_fill_ with itself as the mask": lambda T: (lambda x: x.masked_fill_(x, False))(
        T.tensor([True, False, True])
    ),
    "add_ of itself": _own(lambda T, x, i: x.add_(x)),
    "addcmul_ of itself": _own(lambda T, x, i: x.addcmul_(x, x, value=0.5)),
    "copy_ of itself": _own(lambda T, x, i: x.copy_(x)),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_indexed_write_from_or_by_itself_is_refused(torch, name):
    with pytest.raises(RuntimeError, match="single memory location"):
        REFUSED[name](torch)
    with pytest.raises(ShapeError, match="refer to the same memory"):
        REFUSED[name](gg)


@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_overlap_pytorch_allows_computes_its_values(torch, name):
    assert ALLOWED[name](gg).tolist() == ALLOWED[name](torch).tolist()


@pytest.mark.parametrize("as_keyword", [False, True])
def test_masked_scatter_from_itself_is_refused(torch, as_keyword):
    # PyTorch computes this one unchecked, each write reading the source after the writes before
    # it (positions 2 and 3 take the value just written at 1); glassgrad would read first, so it
    # refuses, as it does for a source that partly overlaps
    def run(T):
        x = T.arange(4.0)
        mask = T.tensor([False, True, True, True])
        return x.masked_scatter_(mask, source=x) if as_keyword else x.masked_scatter_(mask, x)

    assert run(torch).tolist() == [0.0, 0.0, 0.0, 0.0]
    with pytest.raises(ShapeError, match="masked_scatter_: .* at the same positions"):
        run(gg)


ZERO_DIM = {
    "trunc then add_": lambda T: T.tensor(-1.5).trunc().add_(1),
    "fix then mul_": lambda T: T.tensor(2.5, dtype=T.float64).fix().mul_(3),
    "isinf then logical_not_": lambda T: T.tensor(1.5).isinf().logical_not_(),
    "isclose then logical_xor_": lambda T: T.tensor(1.0).isclose(T.tensor(1.0)).logical_xor_(T.tensor(True)),
    "nextafter then mul_": lambda T: T.tensor(1.0).nextafter(T.tensor(2.0)).mul_(2),
    "gcd then add_": lambda T: T.tensor(12).gcd(T.tensor(18)).add_(1),
    "gcd then view": lambda T: T.tensor(12).gcd(T.tensor(18)).view(1),
    "lcm then fill_": lambda T: T.tensor(4).lcm(T.tensor(6)).fill_(7),
    # int8 beside uint8 computes in int16; the write back wraps, as PyTorch's cast
    "lcm_ int8 by uint8 wraps": lambda T: T.tensor(100, dtype=T.int8).lcm_(T.tensor(201, dtype=T.uint8)),
    "gcd_ int8 by uint8": lambda T: T.tensor(-100, dtype=T.int8).gcd_(T.tensor(250, dtype=T.uint8)),
}


@pytest.mark.parametrize("name", sorted(ZERO_DIM))
def test_zero_dim_results_are_writable_arrays(torch, name):
    got, want = ZERO_DIM[name](gg), ZERO_DIM[name](torch)
    assert got.tolist() == want.tolist()
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    assert got.shape == tuple(want.shape)


def test_zero_dim_result_holds_an_array_that_numpy_can_write():
    t = gg.tensor(2.5).trunc()
    a = t.numpy()
    assert isinstance(a, np.ndarray) and a.flags.writeable
    a[...] = 7.0  # shares the tensor's memory, as PyTorch's numpy()
    assert t.item() == 7.0


INT_DIV_BY_ZERO = {
    "floor_divide_": lambda T: T.tensor([4, 2]).floor_divide_(T.tensor([0, 1])),
    "remainder_": lambda T: T.tensor([4, 2]).remainder_(T.tensor(0)),
    "fmod_": lambda T: T.tensor([4, 2], dtype=T.int8).fmod_(0),
    "div_ floor": lambda T: T.tensor([4, 2]).div_(T.tensor([0, 1]), rounding_mode="floor"),
    "div_ trunc": lambda T: T.tensor([4, 2]).div_(0, rounding_mode="trunc"),
    "ifloordiv": lambda T: T.tensor([4, 2]).__ifloordiv__(0),
    "remainder": lambda T: T.remainder(T.tensor([4, 2]), 0),
}


@pytest.mark.parametrize("name", sorted(INT_DIV_BY_ZERO))
def test_integer_division_by_zero_is_a_runtime_error(torch, name):
    # PyTorch raises RuntimeError("ZeroDivisionError"): a script's except RuntimeError catches it
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        INT_DIV_BY_ZERO[name](torch)
    with pytest.raises(RuntimeError, match="expected a non-zero integer divisor") as caught:
        INT_DIV_BY_ZERO[name](gg)
    assert isinstance(caught.value, ZeroDivisionError)  # and still Python's kind, as 7 // 0


@pytest.mark.parametrize("op", ["gcd", "gcd_", "lcm", "lcm_"])
@pytest.mark.parametrize("number", [2, 2.5, True])
def test_gcd_lcm_refuse_a_number_as_pytorch(torch, op, number):
    with pytest.raises(TypeError, match=r"argument 'other' \(position 1\) must be Tensor"):
        getattr(torch.tensor([4, 6]), op)(number)
    with pytest.raises(TypeError, match=rf"{op.rstrip('_')}\(\): argument 'other' must be Tensor, not"):
        getattr(gg.tensor([4, 6]), op)(number)
