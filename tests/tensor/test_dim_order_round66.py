"""Round 66 (PyTorch's test_torch.py): ``Tensor.dim_order(ambiguity_check=...)``, PyTorch's keyword
(it was a TypeError): True raises when more than one order is legal, a list of memory formats
only when the tensor is not contiguous in exactly one of them."""

from __future__ import annotations

import glassgrad as gg


def _orders(lib):
    def ar(*shape):
        return lib.arange(float(lib.Size(shape).numel())).reshape(shape)

    cases = [
        (ar(2, 3, 4, 5), True),
        (ar(1, 3, 4, 5), True),
        (ar(1, 3, 4, 5), [lib.contiguous_format, lib.channels_last]),
        (ar(2, 3, 4, 5).contiguous(memory_format=lib.channels_last), [lib.contiguous_format]),
        (ar(2, 3, 4, 5).contiguous(memory_format=lib.channels_last), True),
        (ar(2, 1).expand(2, 2), True),
        (ar(2, 1).expand(2, 2), False),
        (ar(3), "bad"),
        (ar(3), [1]),
        (ar(2, 3).t(), True),
        (ar(2, 3), []),
        (ar(2, 3).t(), [lib.contiguous_format]),
        (ar(3, 3)[:, ::3], True),
    ]
    out = []
    for t, check in cases:
        try:
            out.append(tuple(t.dim_order(ambiguity_check=check)))
        except (RuntimeError, TypeError) as e:
            out.append(type(e).__name__)
    return out


def test_dim_order_ambiguity_check_as_torch(torch):
    assert _orders(gg) == _orders(torch)
