"""repeat_interleave: PyTorch's three forms (input + int repeats, input + tensor repeats, repeats
alone), ``output_size``, errors of PyTorch's types, meta repeats, and the gradient."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck
from glassgrad.errors import DTypeError


@pytest.mark.parametrize("dtype", ["int64", "int32"])
def test_repeats_alone_gives_indices_in_the_repeats_dtype(torch, dtype):
    reps = np.array([2, 0, 1, 3], dtype=dtype)
    got = gg.repeat_interleave(gg.tensor(reps))
    want = torch.repeat_interleave(torch.tensor(reps))
    assert got.tolist() == want.tolist() == [0, 0, 2, 3, 3, 3]
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1] == dtype
    assert gg.repeat_interleave(gg.tensor([2, 1]), output_size=3).tolist() == [0, 0, 1]
    assert gg.repeat_interleave(gg.tensor([], dtype=gg.int64)).tolist() == []


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: lib.repeat_interleave(x, 2, dim=0, output_size=6),
        lambda lib, x: lib.repeat_interleave(x, lib.tensor([1, 0, 2]), dim=0, output_size=3),
        lambda lib, x: x.repeat_interleave(lib.tensor([2, 1]), dim=-1, output_size=3),
        lambda lib, x: x.repeat_interleave(3, output_size=18),
    ],
)
def test_output_size_equal_to_the_total_is_accepted(torch, call):
    x = np.arange(6).reshape(3, 2)
    assert call(gg, gg.tensor(x)).tolist() == call(torch, torch.tensor(x)).tolist()


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.repeat_interleave(lib.tensor([1, 2]), 2, output_size=5),
        lambda lib: lib.repeat_interleave(lib.tensor([1, 2]), lib.tensor([2, 2]), output_size=3),
        lambda lib: lib.repeat_interleave(lib.tensor([2, 1, 3]), output_size=5),
        lambda lib: lib.repeat_interleave(lib.tensor([1, 2]), -1),
        lambda lib: lib.repeat_interleave(lib.tensor([1, 2]), lib.tensor([1, -2])),
        lambda lib: lib.repeat_interleave(lib.tensor(3)),  # repeats alone must be 1-D
        lambda lib: lib.repeat_interleave(lib.tensor([[1, 2]])),
    ],
)
def test_bad_calls_raise_runtime_errors_as_pytorch(torch, call):
    with pytest.raises(RuntimeError):
        call(torch)
    with pytest.raises(RuntimeError, match="repeat_interleave"):
        call(gg)


def test_non_integer_repeats_are_dtype_errors():
    with pytest.raises(DTypeError, match="integer repeats"):
        gg.repeat_interleave(gg.tensor([1.0, 2.0]))
    with pytest.raises(DTypeError, match="integer repeats"):
        gg.repeat_interleave(gg.tensor([1, 2]), gg.tensor([True, False]))


def test_meta_repeats_with_output_size_give_a_meta_result(torch):
    for lib in (gg, torch):
        out = lib.zeros(3, 2, device="meta").repeat_interleave(
            lib.empty(3, device="meta", dtype=lib.int64), dim=0, output_size=5
        )
        assert out.is_meta and tuple(out.shape) == (5, 2)
        idx = lib.repeat_interleave(lib.empty(3, device="meta", dtype=lib.int64), output_size=4)
        assert idx.is_meta and tuple(idx.shape) == (4,) and idx.dtype == lib.int64


def test_gradient_sums_the_repeated_slices(torch):
    x = np.random.default_rng(0).standard_normal((3, 2))
    reps = [2, 0, 3]
    w = np.arange(10.0).reshape(5, 2)
    grads = []
    for lib in (gg, torch):
        t = lib.tensor(x, requires_grad=True)
        (lib.repeat_interleave(t, lib.tensor(reps), dim=0, output_size=5) * lib.tensor(w)).sum().backward()
        grads.append(t.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])
    leaf = gg.tensor(x, dtype=gg.float64, requires_grad=True)
    assert gradcheck(lambda t: gg.repeat_interleave(t, gg.tensor(reps), dim=0), (leaf,))
