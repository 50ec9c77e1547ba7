"""Round 65, the strides / layouts / memory-overlap fuzz: minimised programs where glassgrad
differed from PyTorch.

- A batched ``matmul`` whose operands' batch dims are permuted (``a.transpose(0, 1) @ b``, a
  channels-last or permuted stack) came back in that permuted layout, as NumPy lays it out; PyTorch's
  is contiguous, so ``.view()`` of it, which PyTorch allows, raised. ``ops/matmul._mm`` now asks
  NumPy for a C-ordered result.
- ``x.view(dtype)`` of another element size checked NumPy's byte strides, not PyTorch's: a last dim
  of size 1 with NumPy's stride 0 (an expanded tensor) was refused, and the other strides were never
  checked (a channels-last float tensor of one channel viewed as float64 ran). ``bit_view`` now
  checks PyTorch's conditions on ``stride()``, in PyTorch's words.
- ``as_strided`` with strides that interleave without meeting (sizes (3, 2), strides (2, 3)) gave a
  read-only view: writes raised where PyTorch writes. The refusal now counts the view's places
  first (``memory_overlap.reopen_if_distinct``).
- ``as_strided`` of a tensor whose memory is one block in a permuted order (the result of an
  elementwise op on a channels-last tensor) raised "the input's memory is not one block".
- Writes refused for overlapping memory now carry PyTorch's "unsupported operation: ... single
  memory location" wording.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import ShapeError

LIBS = ["glassgrad", "torch"]


@pytest.fixture(params=LIBS)
def lib(request):
    return gg if request.param == "glassgrad" else request.getfixturevalue("torch")


R = np.random.default_rng(65)


def _np(t):
    return t.detach().numpy()


# ------------------------------------------------------------------ matmul layout
MATMULS = {
    "permuted batch": lambda lib, x: x.permute(2, 1, 0, 3) @ x.permute(2, 1, 0, 3).mT,
    "transposed batch, mT first": lambda lib, x: x.transpose(0, 1).mT @ x.transpose(0, 1),
    "channels-last stack": lambda lib, x: (lambda c: lib.matmul(c, c.transpose(-1, -2)))(
        x.contiguous(memory_format=lib.channels_last)
    ),
    "vector times permuted stack": lambda lib, x: x[0, 0, 0] @ x.permute(1, 0, 2, 3),
    "permuted stack times vector": lambda lib, x: x.permute(1, 0, 2, 3) @ x[0, 0, 0],
    "broadcast batch": lambda lib, x: x.permute(1, 0, 2, 3) @ x[:, 0].mT,
}


@pytest.mark.parametrize("name", sorted(MATMULS))
def test_batched_matmul_answers_contiguous(torch, name):
    data = R.standard_normal((2, 3, 4, 4))
    results = {}
    for lib in (gg, torch):
        x = lib.tensor(data, requires_grad=True)
        z = MATMULS[name](lib, x)
        flat = z.view(-1)  # PyTorch's result is contiguous, so view() works
        (flat * lib.arange(flat.numel(), dtype=lib.float64)).sum().backward()
        results[lib.__name__] = (tuple(z.stride()), z.is_contiguous(), _np(z), _np(x.grad))
    ours, theirs = results["glassgrad"], results["torch"]
    assert ours[:2] == theirs[:2]
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours[3], theirs[3], rtol=1e-12, atol=1e-12)


def test_batched_matmul_float32_layout_as_pytorch(lib):
    x = lib.tensor(R.standard_normal((3, 2, 4, 5)).astype(np.float32))
    z = x.transpose(0, 1) @ x.transpose(0, 1).mT
    assert tuple(z.stride()) == (48, 16, 4, 1) and z.is_contiguous()


# ------------------------------------------------------------------ view(dtype)
VIEW_DTYPE = [
    "lib.zeros(4, 1, dtype=lib.float64).expand(2, 4, 1).view(lib.int16).shape",
    "lib.zeros(1, 1).expand(2, 1, 1).view(lib.float32).shape",
    "lib.zeros(2, 1, 3, 3, 1).to(memory_format=lib.channels_last_3d).view(lib.float64).shape",
    "lib.zeros(2, 1, 3, 4).contiguous(memory_format=lib.channels_last).view(lib.float64).shape",
    "lib.ones(2, 3).t().view(lib.float16)",
    "lib.ones(4, 3)[:, 1:].view(lib.float64)",
    "lib.ones(3, 4)[:, :2].view(lib.float64).stride()",
    "lib.ones(4, 2, dtype=lib.float64)[:, :1].view(lib.int16).stride()",
    "lib.ones(2, 4).t()[:, :1].view(lib.int16)",
    "lib.tensor(1.0).view(lib.float64)",
    "lib.ones(3, 5).view(lib.float64)",
    "lib.ones(3, 6)[:, ::2].view(lib.int16)",
    "lib.ones(2, 3, dtype=lib.float64).view(lib.uint8).stride()",
]


def _outcome(call, lib):
    try:
        return str(tuple(eval(call, {"lib": lib})))
    except RuntimeError as e:
        return "refused: " + str(e).removeprefix("view: ")


@pytest.mark.parametrize("call", VIEW_DTYPE)
def test_view_as_another_element_size_follows_pytorch(torch, call):
    assert _outcome(call, gg) == _outcome(call, torch)


def test_view_dtype_of_an_expanded_tensor_reads_its_bits(torch):
    data = R.standard_normal((3, 1))
    ours = gg.tensor(data).expand(2, 3, 1).view(gg.int32)
    theirs = torch.tensor(data).expand(2, 3, 1).view(torch.int32)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert ours.stride() == tuple(theirs.stride())


# ------------------------------------------------------------------ as_strided writes
def test_as_strided_interleaved_but_distinct_is_written(lib):
    base = lib.arange(12.0, dtype=lib.float64)
    v = lib.as_strided(base, (3, 1, 2), (2, 3, 3))  # elements 0, 3, 2, 5, 4, 7: none twice
    v.mul_(2)
    v[0, 0, 1] = -1.0
    assert base.tolist() == [0.0, 1.0, 4.0, -1.0, 8.0, 10.0, 6.0, 14.0, 8.0, 9.0, 10.0, 11.0]


def test_as_strided_distinct_write_keeps_the_gradient(torch):
    data = R.standard_normal(12)
    grads = []
    for lib in (gg, torch):
        w = lib.tensor(data, requires_grad=True)
        y = w * 1.0
        lib.as_strided(y, (3, 2), (2, 3)).mul_(lib.tensor([[2.0, 3.0]], dtype=lib.float64))
        (y * lib.arange(12.0, dtype=lib.float64)).sum().backward()
        grads.append((_np(y), _np(w.grad)))
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-14)
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-14)


@pytest.mark.parametrize(
    "write",
    [
        lambda b: b.expand(3, 4).add_(1),
        lambda b: b.expand(3, 4).copy_(gg.zeros(3, 4)),
        lambda b: gg.add(b, 1, out=b.expand(3, 4)),
        lambda b: gg.as_strided(b, (3, 2), (0, 1)).mul_(2),
    ],
    ids=["add_", "copy_", "out=", "as_strided stride 0"],
)
def test_write_to_shared_places_refused_in_pytorch_words(write):
    b = gg.arange(4.0)
    with pytest.raises(ShapeError, match="more than one element of the written-to tensor refers to a single"):
        write(b)


def test_truly_overlapping_as_strided_stays_refused():
    # PyTorch's overlap check cannot decide these strides and lets the write run in its own order;
    # glassgrad, which computes the result before writing it, refuses instead
    with pytest.raises(ShapeError, match="single memory location"):
        gg.as_strided(gg.arange(8.0), (3, 2), (1, 1)).add_(1)


def test_read_only_numpy_memory_stays_refused():
    a = np.arange(6.0)
    a.flags.writeable = False
    with warnings.catch_warnings():  # (from_numpy's warning about it is shown once per program)
        warnings.simplefilter("ignore")
        t = gg.from_numpy(a)
    for target in (t, t[1:], t.view(2, 3)):
        with pytest.raises(ShapeError, match="read-only NumPy array"):
            target.add_(1)
    assert a.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_partial_overlap_refused_in_pytorch_words(torch):
    for lib in (gg, torch):
        x = lib.arange(6.0)
        with pytest.raises(RuntimeError, match="some elements of the input tensor .*single memory location"):
            lib.sin(x[1:], out=x[:-1])


# ------------------------------------------------------------------ as_strided of a permuted block
def test_as_strided_of_a_channels_last_result(torch):
    data, weights = R.standard_normal((2, 3, 4, 5)), R.standard_normal((3, 2, 3))
    results = []
    for lib in (gg, torch):
        leaf = lib.tensor(data, requires_grad=True)
        y = leaf.contiguous(memory_format=lib.channels_last) * 1.5  # one block, channels-last order
        z = y.as_strided([3, 2, 3], [2, 5, 7], 4)  # overlapping: the gradient sums its repeats
        w = lib.as_strided(y + 1, (4,), (3,))
        (z * lib.tensor(weights)).sum().backward()
        results.append((tuple(y.stride()), z.storage_offset(), _np(z), _np(w), _np(leaf.grad)))
    assert results[0][:2] == results[1][:2]
    for a, b in zip(results[0][2:], results[1][2:]):
        np.testing.assert_allclose(a, b, rtol=1e-14)


def test_as_strided_of_a_permuted_result_shares_memory(lib):
    x = lib.tensor(R.standard_normal((2, 3, 4))).permute(2, 0, 1).contiguous().permute(1, 2, 0)
    y = x + 0  # laid out as x (permuted), as PyTorch's TensorIterator lays it
    v = y.as_strided((2,), (1,), 0)
    v.fill_(7.0)
    assert v.untyped_storage().data_ptr() == y.untyped_storage().data_ptr()
    assert (y == 7.0).sum().item() == 2
