"""``put`` / ``Tensor.put`` / ``Tensor.put_``: x read as 1-D, source written (or added) at index.
PyTorch parity of values and gradients (repeated and negative indices, any index/source shapes,
empty), float64 gradcheck, in place on a recorded tensor, and the errors."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd.gradcheck import gradcheck
from glassgrad.errors import DTypeError, IndexOutOfRangeError

CASES = [  # (x shape, index, source shape)
    ((2, 3), [[0, -1], [4, 4]], (4,)),
    ((5,), [1, 1, 1], (3, 1)),
    ((2, 2, 2), [7, 0], (2,)),
    ((3,), [], (0,)),
    ((), [0], (1,)),
]


# Repeated indices only with accumulate: without it PyTorch leaves the winner unspecified.
PARAMS = [
    (case, acc)
    for case, (_, index, _) in enumerate(CASES)
    for acc in (False, True)
    if acc or len(set(np.ravel(index).tolist())) == np.size(index)
]


@pytest.mark.parametrize(("case", "accumulate"), PARAMS)
def test_put_matches_pytorch(torch, case, accumulate):
    shape, index, src_shape = CASES[case]
    rng = np.random.default_rng(case)
    xa, sa, u = rng.standard_normal(shape), rng.standard_normal(src_shape), rng.standard_normal(shape)
    results = []
    for lib in (gg, torch):
        x = lib.tensor(xa, requires_grad=True)
        s = lib.tensor(sa, requires_grad=True)
        idx = lib.tensor(np.asarray(index, dtype=np.int64))
        y = lib.put(x * 1, idx, s * 1, accumulate=accumulate)
        (y * lib.tensor(u)).sum().backward()
        results.append([a.detach().numpy() for a in (y, x.grad, s.grad)])
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_put_gradcheck_float64():
    rng = np.random.default_rng(3)
    x = gg.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    s = gg.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    idx = gg.tensor([[0, 5, -1], [5, 2, 11]])
    assert gradcheck(lambda a, b: gg.put(a, idx, b, accumulate=True), (x, s))
    assert gradcheck(lambda a, b: a.put(idx[0], b[0]), (x, s))


def test_put_in_place_on_a_recorded_tensor_and_the_method_forms(torch):
    results = []
    for lib in (gg, torch):
        x = lib.arange(6.0, requires_grad=True)
        s = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1
        assert y.put_(lib.tensor([4, 0]), s * 1) is y
        (y * lib.arange(6.0)).sum().backward()
        results.append((y.tolist(), x.grad.tolist(), s.grad.tolist()))
        assert lib.ones(2, 2).put(lib.tensor([3]), lib.tensor([5.0])).tolist() == [[1.0, 1.0], [1.0, 5.0]]
    assert results[0] == results[1]


def test_put_errors_name_the_op_and_what_was_expected(torch):
    x = gg.zeros(2, 3)
    with pytest.raises(IndexOutOfRangeError, match=r"put: expected indices in \[-6, 6\)"):
        x.put_(gg.tensor([6]), gg.tensor([1.0]))
    with pytest.raises(DTypeError, match="int64 index"):
        x.put_(gg.tensor([1], dtype=gg.int32), gg.tensor([1.0]))
    with pytest.raises(IndexOutOfRangeError, match="same number of elements"):
        x.put_(gg.tensor([1, 2]), gg.tensor([1.0]))
    with pytest.raises(DTypeError, match="source of the input's dtype"):
        x.put_(gg.tensor([1]), gg.tensor([1.0], dtype=gg.float64))
    t = torch.zeros(2, 3)  # PyTorch refuses the same four (IndexError / RuntimeError, as ours are)
    for index, source in [([6], [1.0]), ([1, 2], [1.0])]:
        with pytest.raises(IndexError):
            t.put_(torch.tensor(index), torch.tensor(source))
    with pytest.raises(RuntimeError):
        t.put_(torch.tensor([1], dtype=torch.int32), torch.tensor([1.0]))
