"""Issue 7, item 7: function forms and keyword names as scripts spell them (``torch.mm``,
``matmul(input=, other=)``, ``out=``, ``tensor`` from any sequence, ``range`` indexing,
``new_*``, ``narrow``/``index_select``/``masked_select``/``scatter_``/``gather``, and a
``p.grad = 0.`` refused at the assignment). Each script runs on glassgrad and on PyTorch."""

from __future__ import annotations

from collections import deque

import numpy as np

import glassgrad

from .helpers import assert_same

A = np.arange(6, dtype=np.float32).reshape(2, 3)
B = np.arange(12, dtype=np.float32).reshape(3, 4) / 4


def script_tensor_from_sequences(torch):
    return [torch.tensor(deque([1.0, 2.0])), torch.tensor(range(4)), torch.tensor([x * x for x in range(3)]),
            torch.tensor(((1, 2), (3, 4))), torch.tensor([[0.5], [1]]), torch.tensor(np.float64(2.5)),
            torch.tensor([True, False]), torch.tensor(np.arange(3, dtype=np.int32)),
            torch.tensor([torch.tensor(1.5).item(), 2])]  # fmt: skip


def test_tensor_from_sequences_port(torch):
    assert_same(script_tensor_from_sequences(glassgrad), script_tensor_from_sequences(torch))


def script_selection(torch):
    x = torch.tensor(A)
    return [x.narrow(1, 1, 2), torch.narrow(x, 0, 1, 1), torch.index_select(x, dim=1, index=torch.tensor([2, 0])),
            x.index_select(0, torch.tensor([1])), torch.gather(x, dim=1, index=torch.tensor([[0, 0], [2, 1]])),
            x.gather(0, torch.tensor([[1, 0, 1]]))]  # fmt: skip


def test_selection_port(torch):
    assert_same(script_selection(glassgrad), script_selection(torch))


def script_matmul_forms(torch):
    a, b = torch.tensor(A), torch.tensor(B)
    return [torch.mm(a, b), a.mm(b), torch.bmm(a[None], b[None]), torch.addmm(torch.ones(4), a, b),
            torch.matmul(input=a, other=b), torch.matmul(a, b, out=torch.empty(2, 4))]  # fmt: skip


def test_matmul_forms_port(torch):
    assert_same(script_matmul_forms(glassgrad), script_matmul_forms(torch))


def script_out_keyword(torch):
    a = torch.tensor(A)
    buf = torch.empty(2, 3)
    torch.add(a, 1, out=buf)
    torch.mul(buf, 2, out=buf)
    return [buf, torch.matmul(a, a.T, out=torch.empty(2, 2))]


def test_out_keyword_port(torch):
    assert_same(script_out_keyword(glassgrad), script_out_keyword(torch))


def script_out_keyword_unary(torch):
    a = torch.tensor(A)
    return [torch.exp(a, out=torch.empty(2, 3)), torch.sqrt(a, out=torch.empty(2, 3))]


def test_out_keyword_unary_port(torch):
    assert_same(script_out_keyword_unary(glassgrad), script_out_keyword_unary(torch))


def script_new_factories(torch):
    x = torch.tensor(A, dtype=torch.float64)
    return [x.new_zeros(2, 2), x.new_ones((3,)), x.new_full((2,), 7.0), x.new_empty(4).shape,
            x.new_tensor([1, 2]), x.new_zeros(1, dtype=torch.long)]  # fmt: skip


def test_new_factories_port(torch):
    assert_same(script_new_factories(glassgrad), script_new_factories(torch))


def script_masks_and_scatter(torch):
    x = torch.tensor(A)
    one_hot = torch.zeros(3, 4).scatter_(1, torch.tensor([[0], [3], [1]]), 1.0)
    counts = torch.zeros(4).scatter_add_(0, torch.tensor([0, 0, 2, 3]), torch.ones(4))
    return [torch.masked_select(x, x > 2), x.masked_select(x < 1), one_hot, counts]


def test_masks_and_scatter_port(torch):
    assert_same(script_masks_and_scatter(glassgrad), script_masks_and_scatter(torch))


def script_range_indexing(torch):
    n = 3
    scores = torch.zeros(n, 4)
    y = torch.tensor([0, 2, 1])
    scores[range(n), y] = 1.0  # the cross-entropy-by-hand idiom
    picked = torch.arange(12.0).view(3, 4)[range(n), y]
    scores[[0, 2], 1:3] = -1.0
    return [scores, picked]


def test_range_indexing_port(torch):
    assert_same(script_range_indexing(glassgrad), script_range_indexing(torch))


def script_grad_assignment(torch):
    p = torch.ones(2, requires_grad=True)
    try:
        p.grad = 0.0
    except TypeError:
        refused = True
    else:
        refused = False
    (p * 2).sum().backward()
    return [refused, p.grad]


def test_grad_assignment_port(torch):
    assert_same(script_grad_assignment(glassgrad), script_grad_assignment(torch))
