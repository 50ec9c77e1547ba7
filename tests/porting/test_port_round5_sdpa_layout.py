"""The memory layout of ``F.scaled_dot_product_attention``'s output where PyTorch's CPU dispatch
falls back from its flash kernel to the math one (``sdpa_backend.query_layout``): a query, key or
value whose last dim is not at unit stride, or no keys at all, gives a contiguous output in
PyTorch, so ``view`` on it works there and must work here (test_port_round5_sequence.py has the
cases where the output follows the query's layout). Where it does follow the query, the output is
an op's result, not a view: an in-place op on it is recorded."""

from __future__ import annotations

import numpy as np

import glassgrad

from .helpers import assert_same


def _fixed(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _strides(t):
    """Strides in elements, leaving out dims of size 1 (any stride is valid there)."""
    return tuple(s for s, n in zip(t.stride(), t.shape) if n != 1)


def script_math_fallback_layouts(torch):
    F = torch.nn.functional
    n, L, h, e = 2, 5, 3, 4
    q = torch.tensor(_fixed(n, L, h, e)).transpose(1, 2)  # (N, H, L, E) laid out as (N, L, H, E)
    k, v = torch.tensor(_fixed(n, h, L, e, seed=1)), torch.tensor(_fixed(n, h, L, e, seed=2))
    k_strided = torch.tensor(_fixed(n, h, e, L, seed=3)).transpose(-1, -2)  # last-dim stride L
    cases = {
        "query last dim strided": (torch.tensor(_fixed(n, L, e, h)).permute(0, 3, 1, 2), k, v),
        "key last dim strided": (q, k_strided, v),
        "value last dim strided": (q, k, k_strided),
        "no keys": (q, k[:, :, :0], v[:, :, :0]),
    }
    out = {name: _strides(F.scaled_dot_product_attention(*qkv)) for name, qkv in cases.items()}
    y = F.scaled_dot_product_attention(q, k_strided, v)
    out["flat view"] = y.view(n, h * L * e)  # contiguous in PyTorch: view works
    return out


def test_sdpa_math_fallback_output_is_contiguous_port(torch):
    assert_same(script_math_fallback_layouts(glassgrad), script_math_fallback_layouts(torch), 1e-10, 1e-12)


def script_doubled_output(torch, inplace):
    F = torch.nn.functional
    x = torch.tensor(_fixed(2, 5, 3, 4, seed=4), requires_grad=True)
    q = x.transpose(1, 2)  # (N, L, H, E) -> (N, H, L, E)
    y = F.scaled_dot_product_attention(q, q, q, is_causal=True)
    y = y.mul_(2) if inplace else y * 2
    (y * y).sum().backward()
    return [y, x.grad]


def test_inplace_on_sdpa_output_in_query_layout(torch):
    """The output laid out like the query is an op's result, not a view: an in-place op on it is
    recorded. (PyTorch's flash kernel saves its output, so PyTorch refuses this backward; the
    gradient is the out-of-place one's, which both compute.)"""
    assert_same(script_doubled_output(glassgrad, True), script_doubled_output(torch, False), 1e-9, 1e-11)
