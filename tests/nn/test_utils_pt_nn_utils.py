"""Round 67 (pt_nn_utils): torch.nn.utils and torch.utils.checkpoint against PyTorch's own tests.

Gradient clipping's factor is PyTorch's arithmetic to the bit, ``pad_sequence`` keeps the first
sequence's dtype, ``get_total_norm`` refuses a None entry, checkpoint's private
``_infer_device_type`` (imported by PyTorch's test_utils.py) exists, and a freed graph's error
carries PyTorch's words."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
from glassgrad.nn.utils import clip_grad_norm_, clip_grads_with_norm_, get_total_norm
from glassgrad.nn.utils.rnn import pad_sequence
from glassgrad.utils.checkpoint import _infer_device_type, checkpoint

SHAPES = [(3, 4), (5,), (2, 2, 3)]


def _grads(seed: int, dtype: str, scale: float) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal(s) * scale).astype(dtype) for s in SHAPES]


def _ours(grads: list[np.ndarray]) -> list[nn.Parameter]:
    ps = []
    for g in grads:
        p = nn.Parameter(gg.zeros(g.shape, dtype=getattr(gg, str(g.dtype))))
        p.grad = gg.tensor(g)
        ps.append(p)
    return ps


def _theirs(torch, grads: list[np.ndarray]) -> list:
    ps = []
    for g in grads:
        p = torch.nn.Parameter(torch.zeros(g.shape, dtype=getattr(torch, str(g.dtype))))
        p.grad = torch.from_numpy(g.copy())
        ps.append(p)
    return ps


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("max_norm", [0.37, 1.1, 2.9])
@pytest.mark.parametrize("total", [0.7, 3.3, 11.0, 517.0])
def test_clip_factor_is_pytorch_arithmetic_bit_for_bit(torch, dtype, max_norm, total):
    # The total is given (no norm computed), so every step is a scalar or elementwise IEEE
    # operation: PyTorch's max_norm / (total + 1e-6) in the total's dtype, then the product.
    grads = _grads(int(total * 10 + max_norm * 100), dtype, 1.0)
    ours, theirs = _ours(grads), _theirs(torch, grads)
    clip_grads_with_norm_(ours, max_norm, gg.tensor(total, dtype=getattr(gg, dtype)))
    torch.nn.utils.clip_grads_with_norm_(theirs, max_norm, torch.tensor(total, dtype=getattr(torch, dtype)))
    for p, q in zip(ours, theirs):
        assert p.grad.dtype == getattr(gg, dtype)
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())


@pytest.mark.parametrize("total_dtype", ["float32", "float64"])
def test_clip_float16_gradients_by_a_wider_factor(torch, total_dtype):
    # PyTorch multiplies a float16 gradient in float32 by the factor's own value; rounding the
    # factor to float16 first put a third of the entries an ulp off.
    grads = _grads(7, "float16", 1.0)
    ours, theirs = _ours(grads), _theirs(torch, grads)
    clip_grads_with_norm_(ours, 1.0, gg.tensor(7.3, dtype=getattr(gg, total_dtype)))
    torch.nn.utils.clip_grads_with_norm_(theirs, 1.0, torch.tensor(7.3, dtype=getattr(torch, total_dtype)))
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())


def test_clip_grad_norm_mixed_dtypes_scales_each_in_its_dtype(torch):
    grads = [g.astype(d) for g, d in zip(_grads(11, "float64", 3.0), ["float64", "float32", "float16"])]
    ours, theirs = _ours(grads), _theirs(torch, grads)
    total = clip_grad_norm_(ours, 0.5)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, 0.5)
    assert total.dtype == gg.float64 and ttotal.dtype == torch.float64
    np.testing.assert_allclose(total.numpy(), ttotal.numpy(), rtol=1e-6)  # float32/16 norms inside
    for p, q in zip(ours, theirs):
        assert str(p.grad.dtype).split(".")[-1] == str(q.grad.dtype).split(".")[-1]
        rtol = {np.float16: 1e-3, np.float32: 2e-6, np.float64: 1e-6}[q.grad.numpy().dtype.type]
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=rtol)


def test_clip_factor_above_one_leaves_gradients_and_nan_total_poisons_them():
    p = _ours(_grads(3, "float32", 1.0))
    before = [q.grad.numpy().copy() for q in p]
    clip_grads_with_norm_(p, 5.0, gg.tensor(2.0))  # factor min(5 / 2, 1) = 1
    for q, b in zip(p, before):
        np.testing.assert_array_equal(q.grad.numpy(), b)
    clip_grads_with_norm_(p, 5.0, gg.tensor(float("nan")))
    assert all(np.isnan(q.grad.numpy()).all() for q in p)


def test_get_total_norm_refuses_none_entry(torch):
    with pytest.raises(RuntimeError):
        torch.nn.utils.get_total_norm([torch.ones(2), None])
    with pytest.raises(RuntimeError, match="get_total_norm"):
        get_total_norm([gg.ones(2), None])


def test_pad_sequence_takes_first_sequence_dtype(torch):
    a = np.arange(3.0)
    b = np.array([0.25])
    ours = [gg.tensor(a, dtype=gg.float32, requires_grad=True), gg.tensor(b, requires_grad=True)]
    theirs = [
        torch.tensor(a, dtype=torch.float32, requires_grad=True),
        torch.tensor(b, requires_grad=True),
    ]
    y = pad_sequence(ours, batch_first=True, padding_side="left")
    ty = torch.nn.utils.rnn.pad_sequence(theirs, batch_first=True, padding_side="left")
    assert y.dtype == gg.float32 and ty.dtype == torch.float32
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    w = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    (y * gg.tensor(w, dtype=gg.float32)).sum().backward()
    (ty * torch.tensor(w, dtype=torch.float32)).sum().backward()
    for p, q in zip(ours, theirs):
        assert str(p.grad.dtype).split(".")[-1] == str(q.grad.dtype).split(".")[-1]
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())


def test_pad_sequence_int_then_float_truncates_as_pytorch(torch):
    y = pad_sequence([gg.tensor([1, 2]), gg.tensor([2.75])], padding_value=-1)
    ty = torch.nn.utils.rnn.pad_sequence([torch.tensor([1, 2]), torch.tensor([2.75])], padding_value=-1)
    assert y.dtype == gg.int64 and ty.dtype == torch.int64
    np.testing.assert_array_equal(y.numpy(), ty.numpy())


def test_infer_device_type(torch):
    from torch.utils.checkpoint import _infer_device_type as theirs

    assert _infer_device_type({"foo": gg.rand(3, device="meta")}) == theirs(
        {"foo": torch.rand(3, device="meta")}
    )
    assert (
        _infer_device_type(gg.ones(2), 3, [gg.ones(1)]) == theirs(torch.ones(2), 3, [torch.ones(1)]) == "cpu"
    )


def test_freed_graph_error_has_pytorch_words():
    x = gg.ones(3, requires_grad=True)
    y = checkpoint(lambda t: (t * 2).exp().sum(), x, use_reentrant=True)
    y.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()
    z = (x * x).sum()
    z.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        z.backward()


def test_nonreentrant_checkpoint_in_place_inside_gives_the_true_gradient():
    # Without checkpointing this block raises (exp's saved output is changed in place); PyTorch's
    # non-reentrant checkpoint runs it and returns twice the derivative, glassgrad's recomputation
    # stops before the write and returns the derivative of the function as written.
    def block(u):
        v = u.exp()
        v.mul_(2)
        return v.sin().sum()

    x = np.array([0.3, -1.2, 0.7])
    t = gg.tensor(x, requires_grad=True)
    checkpoint(block, t, use_reentrant=False).backward()
    np.testing.assert_allclose(t.grad.numpy(), np.cos(2 * np.exp(x)) * 2 * np.exp(x), rtol=1e-12)


def test_linear_cross_entropy_chunked_all_ignored_matches_reference_path():
    # PyTorch's chunked path gives NaN gradients here, its reference path zeros; both paths give
    # zeros in glassgrad (a mean over no target is NaN, but no entry contributed to it).
    rng = np.random.default_rng(0)
    grads = []
    for options in (None, nn.LinearCrossEntropyOptions(batch_chunk_size=3)):
        x = gg.tensor(rng.standard_normal((6, 5)), requires_grad=True)
        w = gg.tensor(rng.standard_normal((7, 5)), requires_grad=True)
        loss = gg.nn.functional.linear_cross_entropy(
            x, w, gg.full((6,), -1, dtype=gg.int64), ignore_index=-1, options=options
        )
        assert np.isnan(loss.item())
        loss.backward()
        grads.append((x.grad.numpy(), w.grad.numpy()))
    for g in grads:
        np.testing.assert_array_equal(g[0], np.zeros((6, 5)))
        np.testing.assert_array_equal(g[1], np.zeros((7, 5)))


def test_lenient_forms_give_the_strict_forms_values():
    from glassgrad.nn.utils import parameters_to_vector

    a = gg.tensor(np.arange(12.0).reshape(3, 4))
    np.testing.assert_array_equal(
        parameters_to_vector([a.t()]).numpy(), parameters_to_vector([a.t().contiguous()]).numpy()
    )
    grads = _grads(5, "float64", 1.0)
    by_number, by_tensor = _ours(grads), _ours(grads)
    clip_grads_with_norm_(by_number, 0.5, 3.7)
    clip_grads_with_norm_(by_tensor, 0.5, gg.tensor(3.7, dtype=gg.float64))
    for p, q in zip(by_number, by_tensor):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())
