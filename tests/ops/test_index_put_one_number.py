"""index_put / index_put_ of one number through a single bool mask: PyTorch hands it to
masked_fill_, which converts a value of another dtype and any one-element shape (values,
gradient of the value in its own dtype); other index_put writes keep refusing another dtype."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


def _run(lib, value, dtype, shape, inplace):
    x = lib.arange(12.0).reshape(4, 3) * lib.ones(1, requires_grad=True)
    # (PyTorch's own backward fails for a (1, 1) value: "expected shape compatible with [1, 1]")
    grad = dtype.startswith("float") and len(shape) < 2
    w = lib.tensor(np.full(shape, value), dtype=getattr(lib, dtype), requires_grad=grad)
    y = x.clone().index_put_((x > 5,), w) if inplace else x.index_put((x > 5,), w)
    if w.requires_grad:
        (y * lib.arange(12.0).reshape(4, 3)).sum().backward()
    return y, w


@pytest.mark.parametrize("inplace", [False, True])
@pytest.mark.parametrize("shape", [(), (1,), (1, 1)])
@pytest.mark.parametrize(
    ("dtype", "value"), [("int64", 7), ("float64", 2.5), ("bool", True), ("float16", -1.5)]
)
def test_one_number_through_a_bool_mask_converts_as_pytorch(torch, dtype, value, shape, inplace):
    y, w = _run(gg, value, dtype, shape, inplace)
    ty, tw = _run(torch, value, dtype, shape, inplace)
    assert y.dtype.name == str(ty.dtype).split(".")[-1]
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    if tw.requires_grad:
        assert w.grad.dtype.name == str(tw.grad.dtype).split(".")[-1]
        np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy())


@pytest.mark.parametrize(
    "case",
    ["long index", "two values", "accumulate"],
)
def test_other_index_puts_of_another_dtype_still_refused_as_pytorch(torch, case):
    def call(lib):
        x = lib.arange(12.0).reshape(4, 3)
        if case == "long index":
            return x.index_put((lib.tensor([0, 2]),), lib.tensor(7))
        if case == "two values":
            return x.index_put((x > 5,), lib.tensor([7, 8, 9]))
        return x.index_put((x > 5,), lib.tensor(7), accumulate=True)

    with pytest.raises(RuntimeError):
        call(torch)
    with pytest.raises(RuntimeError):
        call(gg)
