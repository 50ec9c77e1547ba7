"""Issue 7, item 10: tensors print as PyTorch prints them (number formatting, ``grad_fn`` names
with their trailing index, dtype suffixes). The same script's printed text is compared, with the
library's name taken out."""

from __future__ import annotations

import glassgrad


def script_printing(torch):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = torch.tensor([[1.5, 2.25], [1e-5, 3.0]])
    shown = [x, x + 1, x * 2, (x * 2).sum(), x.mean(), x.exp(), torch.tensor([1, 2, 3]),
             torch.tensor([0.1, 100.0]), y, torch.tensor(3.5), torch.zeros(2, dtype=torch.float64),
             torch.tensor([True, False]), torch.tensor([1e10, 1.0]), torch.arange(3) * 1.5,
             torch.tensor([[1.0, -2.0]]).T, x.detach(), torch.nn.Parameter(torch.ones(2))]  # fmt: skip
    return [str(v).replace(torch.__name__ + ".", "LIB.") for v in shown] + [x.grad_fn, (x + 1).grad_fn.name()]


def test_printing_port(torch):
    ours, theirs = script_printing(glassgrad), script_printing(torch)
    assert ours[:-1] == theirs[:-1]
    assert ours[-1] == theirs[-1]


def script_layout(torch):
    wide = torch.tensor([[i / 7 for i in range(20)] for _ in range(3)], requires_grad=True)
    return [str(t).replace(torch.__name__ + ".", "LIB.") for t in (
        wide * 1, torch.arange(2000) * 1.0, torch.arange(3000).view(100, 30) * 1.0,
        torch.arange(5000).view(5, 10, 100), torch.arange(3000) * 1e-5, torch.arange(24.0).view(2, 3, 4),
        torch.tensor([1.5, float("inf"), -float("inf"), float("nan")]), torch.arange(-500, 500, 3).view(-1, 1)[:40])]  # fmt: skip


def test_layout_port(torch):
    # wrapping, elisions, nesting and number modes of large and wide tensors
    for ours, theirs in zip(script_layout(glassgrad), script_layout(torch)):
        assert ours == theirs


def script_half(torch):
    return [str(t).replace(torch.__name__ + ".", "LIB.") for t in (
        torch.ones(2, dtype=torch.float16), torch.tensor([1e-3, 6e4], dtype=torch.float16),
        torch.tensor([1.5, 3e4], dtype=torch.float16))]  # fmt: skip


def test_float16_prints_as_torch_without_warnings(torch, recwarn):
    # the mode is chosen in float64: float16 cannot hold the 1e8 limit (it warned of an overflow)
    assert script_half(glassgrad) == script_half(torch)
    assert not [w for w in recwarn if w.category is RuntimeWarning]


def script_row_length(torch):
    # PyTorch counts a row's entries by the width of the non-zero finite values (at least 1), not
    # by the printed text: all zeros (d2l's `b1 weight:`), nan/inf and -0. rows hold more entries
    nan, inf = float("nan"), float("inf")
    return [str(t).replace(torch.__name__ + ".", "LIB.") for t in (
        torch.zeros(20), torch.zeros(30, requires_grad=True), torch.full((30,), nan), torch.zeros(3, 26),
        torch.tensor([1.0] + [nan] * 25), torch.tensor([inf, -inf] * 14), torch.tensor([-0.0] * 25 + [2.5]),
        torch.zeros(40, dtype=torch.float64), torch.zeros(30, dtype=torch.int64))]  # fmt: skip


def test_row_length_of_zero_nan_inf_rows_port(torch):
    for ours, theirs in zip(script_row_length(glassgrad), script_row_length(torch)):
        assert ours == theirs


def script_suffix_wrap(torch):
    # PyTorch wraps the dtype= and grad_fn= suffixes by its own count (the last line plus two) and
    # by `torch.`'s length: the same tensors keep their suffixes on one line in both libraries
    return [str(t).replace(torch.__name__ + ".", "LIB.") for t in (
        torch.arange(6, dtype=torch.float16).requires_grad_() * 1, torch.arange(21, dtype=torch.int16),
        torch.arange(4, dtype=torch.float64).requires_grad_() * 100, torch.arange(13, dtype=torch.int32),
        torch.arange(3, dtype=torch.float16).requires_grad_() * 0.001, torch.arange(18, dtype=torch.uint8),
        torch.empty(5, 12, dtype=torch.float16, device="meta", requires_grad=True))]  # fmt: skip


def test_suffixes_wrap_where_pytorch_wraps_them_port(torch):
    for ours, theirs in zip(script_suffix_wrap(glassgrad), script_suffix_wrap(torch)):
        assert ours == theirs
