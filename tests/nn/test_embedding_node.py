"""F.embedding / nn.Embedding as one node (ops/embedding.py): PyTorch's grad_fn name, gradients
with repeated ids, padding_idx and scale_grad_by_freq against PyTorch (ids of any shape), the
output's own gradient left untouched by those options, and the forward-mode tangent."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.autograd.forward_ad as fwAD
import glassgrad.nn.functional as F

W = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
IDS = np.array([[1, 2, 1, 0], [5, 1, 1, 2]])  # id 1 four times, 2 twice


def test_grad_fn_is_embedding_backward_as_pytorch(torch):
    ours = gg.nn.Embedding(6, 3)(gg.tensor(IDS))
    theirs = torch.nn.Embedding(6, 3)(torch.tensor(IDS))
    assert repr(ours.grad_fn) == "<EmbeddingBackward0>" == f"<{type(theirs.grad_fn).__name__}>"
    assert "grad_fn=<EmbeddingBackward0>" in repr(ours)


@pytest.mark.parametrize("ids", [IDS, IDS[0], np.array(3), IDS.reshape(2, 2, 2)])
@pytest.mark.parametrize("padding_idx", [None, 1, -1])
@pytest.mark.parametrize("freq", [False, True])
def test_weight_gradient_matches_pytorch(torch, ids, padding_idx, freq):
    g = np.random.default_rng(1).standard_normal(ids.shape + (3,)).astype(np.float32)
    grads, outs = [], []
    for lib in (gg, torch):
        w = lib.tensor(W, requires_grad=True)
        out = lib.nn.functional.embedding(
            lib.tensor(ids), w, padding_idx=padding_idx, scale_grad_by_freq=freq
        )
        (out * lib.tensor(g)).sum().backward()
        grads.append(w.grad.numpy())
        outs.append(out.detach().numpy())
    np.testing.assert_array_equal(outs[0], outs[1])
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6, atol=1e-7)


def test_options_leave_the_outputs_own_gradient_alone(torch):
    # the padding rows' share is dropped on the way to the weight, not in the output's .grad
    g = np.arange(24.0, dtype=np.float32).reshape(2, 4, 3)
    seen = []
    for lib in (gg, torch):
        out = lib.nn.functional.embedding(
            lib.tensor(IDS), lib.tensor(W, requires_grad=True), padding_idx=1, scale_grad_by_freq=True
        )
        out.retain_grad()
        (out * lib.tensor(g)).sum().backward()
        seen.append(out.grad.numpy())
    np.testing.assert_array_equal(seen[0], seen[1])
    np.testing.assert_array_equal(seen[0], g)


def test_forward_mode_tangent_is_the_looked_up_tangent_rows():
    t = np.random.default_rng(2).standard_normal(W.shape).astype(np.float32)
    with fwAD.dual_level():
        dual = fwAD.make_dual(gg.tensor(W), gg.tensor(t))
        out = F.embedding(gg.tensor(IDS), dual, padding_idx=1)  # padding changes no tangent
        tangent = fwAD.unpack_dual(out).tangent
    np.testing.assert_array_equal(tangent.numpy(), t[IDS])


def test_padding_rows_gradient_is_skipped_even_when_not_finite(torch):
    # PyTorch skips the padding positions: an inf or nan gradient there leaves the row at 0
    g = np.array([[1.0, 2.0], [np.inf, np.nan], [3.0, 4.0]], dtype=np.float32)
    grads = []
    for lib in (gg, torch):
        w = lib.ones(3, 2, requires_grad=True)
        lib.nn.functional.embedding(lib.tensor([0, 1, 2]), w, padding_idx=1).backward(lib.tensor(g))
        grads.append(w.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])


def test_ids_changed_in_place_after_the_lookup_do_not_move_the_gradient():
    # The node keeps its own copy of the ids (as getitem keeps its key): the rows read get the
    # gradient, not the rows the changed ids would name.
    w = gg.randn(5, 2, requires_grad=True)
    ids = gg.tensor([0, 1])
    y = gg.nn.functional.embedding(ids, w)
    ids.add_(2)
    y.sum().backward()
    assert w.grad[:, 0].tolist() == [1.0, 1.0, 0.0, 0.0, 0.0]
