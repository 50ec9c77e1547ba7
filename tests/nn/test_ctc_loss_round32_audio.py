"""ctc_loss's grad_fn is named as PyTorch's (Conformer's CTC step prints its loss, port round 32)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


def _loss(lib, reduction, batched=True):
    lp = lib.tensor(np.log(np.full((5, 2, 4), 0.25)), requires_grad=True)
    if not batched:
        return lib.nn.functional.ctc_loss(
            lp[:, 0], lib.tensor([1, 2]), lib.tensor(5), lib.tensor(2), reduction=reduction
        )
    targets, il, tl = lib.tensor([[1, 2], [3, 0]]), lib.tensor([5, 4]), lib.tensor([2, 1])
    return lib.nn.functional.ctc_loss(lp, targets, il, tl, reduction=reduction)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("batched", [True, False])
def test_ctc_grad_fn_names_as_pytorch(torch, reduction, batched):
    ours, theirs = _loss(gg, reduction, batched), _loss(torch, reduction, batched)
    assert ours.grad_fn.name() == theirs.grad_fn.name()
    assert type(ours.grad_fn).__name__ == type(theirs.grad_fn).__name__
    assert repr(ours).split("grad_fn=")[1] == repr(theirs).split("grad_fn=")[1]
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-13)
    assert ours.shape == tuple(theirs.shape)


def test_ctc_module_loss_prints_mean_node():
    lp = gg.tensor(np.log(np.full((3, 1, 3), 1 / 3)), requires_grad=True)
    loss = gg.nn.CTCLoss()(lp, gg.tensor([[1]]), gg.tensor([3]), gg.tensor([1]))
    assert "grad_fn=<MeanBackward0>" in repr(loss)
    loss.backward()
    assert lp.grad.shape == (3, 1, 3)
