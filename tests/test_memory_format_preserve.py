"""``preserve_format`` (``clone()``, ``to(copy=True)``, the ``*_like`` factories) and the leaf
gradient layout contract, against PyTorch: a dense tensor keeps its exact strides (size-1 dims
too), a sliced or expanded one gets dense strides in its dims' order (a stride of 0 keeps the
order), and a leaf's ``.grad`` takes a dense leaf's strides, else C-contiguous strides."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

_A = np.arange(24.0).reshape(2, 3, 4)

# ``T`` is the library, ``a`` a (2, 3, 4) tensor of 0..23 (float64).
SAME = [
    "T.zeros_like(a[0].t()).stride()",
    "T.empty_like(a[0][:, ::2]).stride()",
    "T.empty_like(a[0].t()[::2]).stride()",
    "T.empty_like(T.ones(1, 4).expand(3, 4)).stride()",
    "T.ones_like(T.ones(3, 1).expand(3, 4)).stride()",
    "T.full_like(T.ones(2, 1, 4).expand(2, 3, 4).transpose(0, 2), 2.0).stride()",
    "T.ones(1, 4).expand(3, 4).clone().stride()",
    "T.ones(2, 1, 4).expand(2, 3, 4).transpose(0, 2).clone().stride()",
    "a.permute(2, 0, 1)[:, :, ::2].clone().stride()",
    "a.permute(2, 0, 1).clone().stride()",
    "a[0][:1].t().clone().stride()",
    "a[:, :1].clone().stride()",
    "T.ones(1, 4).expand(3, 4).to(T.float32, copy=True).stride()",
    "T.zeros_like(T.ones(2, 1, 4, 5).to(memory_format=T.channels_last)).stride()",
    "T.ones(2, 1, 4, 5).to(memory_format=T.channels_last).clone().stride()",
    "T.ones(2, 3, 4, 5).contiguous(memory_format=T.preserve_format).stride()",
    "T.nn.functional.instance_norm(T.ones(2, 3, 4, 5).to(memory_format=T.channels_last)).stride()",
    "T.nn.functional.instance_norm(T.ones(2, 3, 4, 5).to(memory_format=T.channels_last),"
    " T.zeros(3), T.ones(3), use_input_stats=False).stride()",
]


@pytest.mark.parametrize("expr", SAME)
def test_preserve_format_strides_as_pytorch(torch, expr):
    got = eval(expr, {"T": gg, "a": gg.tensor(_A)})
    want = eval(expr, {"T": torch, "a": torch.tensor(_A)})
    assert got == want


@pytest.mark.parametrize(
    "make",
    [
        lambda T: T.ones(3, 4).t(),  # dense: the leaf's strides
        lambda T: T.ones(4, 4).t()[::2],  # sliced: contiguous
        lambda T: T.ones(1, 4).expand(3, 4),  # expanded: contiguous
        lambda T: T.ones(2, 3, 4, 5).to(memory_format=T.channels_last),
    ],
)
def test_leaf_grad_layout_and_values_as_pytorch(torch, make):
    out = {}
    for T in (torch, gg):
        w = make(T).detach().requires_grad_()
        k = T.tensor(np.arange(float(np.prod(w.shape))).reshape(tuple(w.shape)), dtype=w.dtype)
        for _ in range(2):  # a second backward accumulates into the first .grad
            (w * k).sum().backward()
        out[T.__name__] = (w.grad.stride(), w.grad.detach().numpy().copy())
    assert out["glassgrad"][0] == out["torch"][0]
    np.testing.assert_array_equal(out["glassgrad"][1], out["torch"][1])


def test_preserve_copies_keep_values_and_are_writable():
    x = gg.tensor(_A).permute(2, 0, 1)[:, :, ::2]
    for y in (x.clone(), gg.empty_like(x).copy_(x), x.to(gg.float64, copy=True)):
        np.testing.assert_array_equal(y.numpy(), x.numpy())
        y.add_(1)  # its own memory: x is unchanged
        np.testing.assert_array_equal(y.numpy(), x.numpy() + 1)
    np.testing.assert_array_equal(x.numpy(), _A.transpose(2, 0, 1)[:, :, ::2])
