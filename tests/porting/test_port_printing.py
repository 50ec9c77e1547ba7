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


def test_print_of_a_large_tensor_is_summarised(torch):
    ours, theirs = str(glassgrad.arange(2000) * 1.0), str(torch.arange(2000) * 1.0)
    assert ours == theirs
