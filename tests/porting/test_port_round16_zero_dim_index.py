"""Indexing a 0-dim tensor (PyTorch-GAN's began reads `M = (...).data[0]`, PyTorch < 0.4's way to
read a loss): an ``IndexError`` in both libraries, and glassgrad's message says to use ``item()``
as PyTorch's does; the keys a 0-dim tensor does take (``None``, ``...``, ``()``) still work."""

from __future__ import annotations

import pytest

import glassgrad


def script(torch):
    x = torch.tensor(1.5)
    out = []
    for key in (0, slice(None), [0], None, Ellipsis, ()):
        try:
            out.append(tuple(x[key].shape))
        except IndexError:
            out.append("IndexError")
    return out


def test_zero_dim_index_port(torch):
    assert script(glassgrad) == script(torch)


def test_zero_dim_index_message_says_item():
    loss = glassgrad.tensor([1.0, 2.0]).sum()
    with pytest.raises(IndexError, match=r"0-dim tensor.*item\(\)"):
        loss.data[0]
    with pytest.raises(IndexError) as info:  # other tensors keep the plain message
        glassgrad.ones(2)[5]
    assert "item()" not in str(info.value)
