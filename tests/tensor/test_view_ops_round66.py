"""Round 66 (PyTorch's test_view_ops run against glassgrad): the view-adjacent differences found.

- ``torch._utils._element_size(dtype)`` existed in PyTorch only (its view-dtype tests size the
  expected shapes with it);
- the address of a tensor without elements: PyTorch reports 0 (and 0 for a storage of no bytes),
  where NumPy gave every empty array an address of its own, so a view of an empty tensor looked
  like a copy (``data_ptr`` differed);
- ``resize_`` to a size whose byte count overflows raised NumPy's ValueError, not PyTorch's
  RuntimeError;
- ``view_as_complex`` of a 0-d tensor names the rank, as PyTorch's check does first;
- ``Tensor.unfold``'s node was ``TensorUnfoldBackward0``; PyTorch names it ``UnfoldBackward0``.
"""

import pytest

import glassgrad as gg
from glassgrad._utils import _element_size

DTYPES = [
    "bool",
    "uint8",
    "int8",
    "int16",
    "int32",
    "int64",
    "float16",
    "bfloat16",
    "float32",
    "float64",
    "complex32",
    "complex64",
    "complex128",
]


@pytest.mark.parametrize("name", DTYPES)
def test_element_size_matches_pytorch(torch, name):
    assert _element_size(getattr(gg, name)) == torch._utils._element_size(getattr(torch, name))


def test_element_size_refuses_a_non_dtype():
    with pytest.raises(RuntimeError, match="_element_size"):
        _element_size("float32")


def _empty_cases(lib):
    e = lib.empty(0, 6)
    return {
        "empty": e,
        "reshape": e.reshape(6, 0),
        "slice": e[:, :2],
        "view_int32": e.view(lib.int32),
        "view_float64": e.view(lib.float64),
        "t": e.t(),
    }


def test_empty_tensor_addresses_match_pytorch(torch):
    ours, theirs = _empty_cases(gg), _empty_cases(torch)
    for key in theirs:
        assert ours[key].data_ptr() == theirs[key].data_ptr(), key
    assert gg.empty(0).untyped_storage().data_ptr() == torch.empty(0).untyped_storage().data_ptr()


def test_empty_view_shares_address_with_its_base():
    e = gg.zeros(0, 5, 64)
    assert e.view(gg.int16).data_ptr() == e.data_ptr()
    assert e.permute(2, 0, 1).data_ptr() == e.data_ptr()


def test_empty_slice_and_storage_addresses(torch):
    # a tensor without elements is at 0 even over real memory; its storage keeps the address
    for lib in (gg, torch):
        base = lib.ones(5)
        assert base[5:].data_ptr() == 0
        assert base[5:].untyped_storage().data_ptr() == base.untyped_storage().data_ptr() != 0


@pytest.mark.parametrize("sizes", [[2, 4, 2**29, 2**29], [8, 8, 2**29, 2**29]])
def test_resize_overflow_is_runtime_error(torch, sizes):
    with pytest.raises(RuntimeError, match="overflow"):
        torch.empty((), dtype=torch.float64).resize_(sizes)
    with pytest.raises(RuntimeError, match="overflow"):
        gg.empty((), dtype=gg.float64).resize_(sizes)


def test_resize_overflow_leaves_tensor_unchanged():
    x = gg.ones(3, dtype=gg.float64)
    with pytest.raises(RuntimeError):
        x.resize_([2**40, 2**40])
    assert x.shape == (3,) and x._version == 0


def test_view_as_complex_zero_dim_message(torch):
    with pytest.raises(RuntimeError, match="Input tensor must have one or more dimensions"):
        torch.view_as_complex(torch.tensor(2.0))
    with pytest.raises(RuntimeError, match="Input tensor must have one or more dimensions"):
        gg.view_as_complex(gg.tensor(2.0))
    # a 1-d tensor of the wrong size still names the last dimension, as PyTorch's
    with pytest.raises(RuntimeError, match="last dimension of size 2"):
        gg.view_as_complex(gg.tensor([]))


def test_tensor_unfold_node_name_matches_pytorch(torch):
    # Tensor.unfold's node is UnfoldBackward0 in PyTorch (F.unfold's is Im2ColBackward0)
    names = []
    for lib in (gg, torch):
        x = lib.arange(6.0).requires_grad_()
        img = lib.ones(1, 1, 3, 3, requires_grad=True)
        names.append(
            (
                type(x.unfold(0, 2, 2).grad_fn).__name__,
                type(lib.nn.functional.unfold(img, 2).grad_fn).__name__,
            )
        )
    assert names[0] == names[1] == ("UnfoldBackward0", "Im2ColBackward0")
