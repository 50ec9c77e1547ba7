"""Round 67 (PyTorch's test_shape_ops.py run against glassgrad): the shape ops' refusals raise
PyTorch's exception classes with its words, which its tests match, and refuse what PyTorch refuses
(``unflatten`` to no sizes, ``nonzero(as_tuple=True, out=)``, ``take_along_dim`` of a 0-d tensor)."""

from __future__ import annotations

import re

import numpy as np
import pytest

import glassgrad as gg


def _raises_as_torch(torch, call, error, pattern):
    """``call(lib)`` raises ``error`` matching ``pattern`` under PyTorch and under glassgrad."""
    for lib in (torch, gg):
        with pytest.raises(error) as info:
            call(lib)
        assert re.search(pattern, str(info.value)), (lib.__name__, str(info.value))


def _x(lib, *shape):
    return lib.tensor(np.arange(float(np.prod(shape))).reshape(shape))


@pytest.mark.parametrize(
    ("source", "destination", "pattern"),
    [
        ((1, 0), (0,), r"movedim: Invalid source or destination dims: source .* destination"),
        ((0, 0), (0, 1), r"movedim: repeated dim in `source`"),
        ((0, 1, 0), (0, 1, 2), r"movedim: repeated dim in `source`"),
        ((0, 1), (1, 1), r"movedim: repeated dim in `destination`"),
        ((0, 1, 2), (1, 0, 1), r"movedim: repeated dim in `destination`"),
    ],
)
@pytest.mark.parametrize("name", ["movedim", "moveaxis"])
def test_movedim_refusals_in_pytorch_words(torch, name, source, destination, pattern):
    _raises_as_torch(
        torch, lambda m: getattr(m, name)(_x(m, 2, 3, 4), source, destination), RuntimeError, pattern
    )


@pytest.mark.parametrize(
    "call",
    [lambda m, x: x.clamp(), lambda m, x: x.clamp_(), lambda m, x: m.clamp(x), lambda m, x: m.clip(x)],
)
def test_clamp_without_bounds_in_pytorch_words(torch, call):
    _raises_as_torch(
        torch, lambda m: call(m, _x(m, 3)), RuntimeError, "At least one of 'min' or 'max' must not be None"
    )


@pytest.mark.parametrize(
    ("name", "shape", "pattern"),
    [("fliplr", (4,), r"Input must be >= 2-d\."), ("fliplr", (), r"Input must be >= 2-d\."),
     ("flipud", (), r"Input must be >= 1-d\.")],
)  # fmt: skip
def test_fliplr_flipud_refusals_in_pytorch_words(torch, name, shape, pattern):
    _raises_as_torch(torch, lambda m: getattr(m, name)(_x(m, *shape)), RuntimeError, pattern)


@pytest.mark.parametrize(
    ("shape", "args", "pattern"),
    [
        ((7,), (0, -1, 1), r"size is -1 but must be >= 0"),
        ((7,), (0, 1, -1), r"step is -1 but must be > 0"),
        ((7,), (0, 1, 0), r"step is 0 but must be > 0"),
        ((7,), (0, 8, 1), r"maximum size for tensor at dimension 0 is 7 but size is 8"),
        ((3, 6), (-1, 7, 2), r"maximum size for tensor at dimension 1 is 6 but size is 7"),
        ((), (0, 2, 1), r"maximum size for tensor at dimension 0 is 1 but size is 2"),
        ((), (0, 1, 0), r"step is 0 but must be > 0"),
        ((), (-1, -1, 1), r"size is -1 but must be >= 0"),
    ],
)
def test_unfold_refusals_in_pytorch_words(torch, shape, args, pattern):
    _raises_as_torch(torch, lambda m: _x(m, *shape).unfold(*args), RuntimeError, pattern)


@pytest.mark.parametrize(
    ("shape", "args"), [((), (0, 0, 1)), ((), (-1, 1, 3)), ((7,), (0, 7, 1)), ((7,), (0, 0, 2))]
)
def test_unfold_edges_still_match_torch(torch, shape, args):
    got, want = _x(gg, *shape).unfold(*args), _x(torch, *shape).unfold(*args)
    assert tuple(got.shape) == tuple(want.shape)
    if want.numel():  # (the strides of an empty result are a listed difference of their own)
        assert got.stride() == want.stride()
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("dim", [0, -1])
def test_take_along_dim_of_a_0d_tensor_is_an_index_error(torch, dim):
    """PyTorch: "Dimension specified as 0 but tensor has no dimensions" (an IndexError); glassgrad
    raised a ShapeError, which an ``except IndexError`` missed."""
    _raises_as_torch(
        torch,
        lambda m: m.take_along_dim(m.tensor(3.0), m.tensor(0), dim),
        IndexError,
        "tensor has no dimensions",
    )


def test_take_along_dim_of_a_0d_tensor_without_dim_still_runs(torch):
    got = gg.take_along_dim(gg.tensor(3.0), gg.tensor([0, 0]))
    want = torch.take_along_dim(torch.tensor(3.0), torch.tensor([0, 0]))
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_nonzero_as_tuple_refuses_out(torch):
    """PyTorch's RuntimeError (glassgrad raised a TypeError about the tuple's length)."""
    _raises_as_torch(
        torch,
        lambda m: m.nonzero(_x(m, 2, 3), as_tuple=True, out=m.empty(0, dtype=m.long)),
        RuntimeError,
        "nonzero does not support the out kwarg when as_tuple is True",
    )


@pytest.mark.parametrize(("shape", "dim"), [((3, 1), 1), ((1,), 0), ((3, 4), -1)])
def test_unflatten_to_no_sizes_is_refused(torch, shape, dim):
    """``unflatten(dim, ())`` of a size-1 dim dropped it silently; PyTorch refuses empty sizes."""
    _raises_as_torch(
        torch, lambda m: _x(m, *shape).unflatten(dim, ()), RuntimeError, "sizes must be non-empty"
    )


@pytest.mark.parametrize("dtype", ["float32", "int32", "bool"])
def test_nonzero_refuses_an_out_of_another_dtype_in_pytorch_words(torch, dtype):
    _raises_as_torch(
        torch,
        lambda m: m.nonzero(_x(m, 2, 3), out=m.empty(0, dtype=getattr(m, dtype))),
        RuntimeError,
        "Expected out tensor to have scalar type Long",
    )


def test_missing_aten_operator_points_only_to_a_public_function_that_exists():
    """``torch.ops.aten.unfold_backward`` (PyTorch's test calls it) has no glassgrad counterpart:
    the error no longer sends the user to a ``glassgrad.unfold_backward`` that does not exist."""
    with pytest.raises(AttributeError, match="no public glassgrad counterpart"):
        gg.ops.aten.unfold_backward  # noqa: B018
    with pytest.raises(AttributeError, match="call the public function glassgrad.sin"):
        gg.ops.aten.sin  # noqa: B018
