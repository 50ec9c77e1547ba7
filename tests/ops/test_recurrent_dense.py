"""lstm_dense (the feature-major LSTM layer nn.LSTM uses for full batches) against its composite:
the input projection (F.linear) followed by lstm_seq, which it replaces. The float64 gradcheck is
in cases_recurrent.py; PyTorch parity through nn.LSTM is in tests/nn/test_rnn.py."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.errors import DTypeError, GraphError, ShapeError
from glassgrad.ops.recurrent import LSTMSeq
from glassgrad.ops.recurrent_dense import LSTMDense


def _inputs(rng, steps, n, i, h, bias):
    def leaf(*shape):
        return gg.tensor(rng.standard_normal(shape), requires_grad=True)

    b = (leaf(4 * h), leaf(4 * h)) if bias else (None, None)
    return [leaf(steps * n, i), leaf(n, h), leaf(n, h), leaf(4 * h, i), leaf(4 * h, h), *b]


def _composite(x, h0, c0, w_ih, w_hh, b_ih, b_hh, steps, reverse):
    """The same layer as F.linear + lstm_seq, its output rearranged to lstm_dense's rows."""
    n, h = c0.shape
    s = steps * n
    y = LSTMSeq.apply(
        F.linear(x, w_ih, b_ih), h0, c0, w_hh, b_hh, None, batch_sizes=(n,) * steps, reverse=reverse
    )
    return gg.cat([y[:s, :h], y[s:, :h], y[s:, h:]])  # every h_t, h_n, c_n


def _grads(fn, inputs, weight):
    for t in inputs:
        if t is not None:
            t.grad = None
    out = fn()
    (out * gg.tensor(weight)).sum().backward()
    return out.detach().numpy(), [t.grad.numpy().copy() for t in inputs if t is not None]


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("live", ["all", "last", "none"], ids=lambda v: f"outputs-{v}")
@pytest.mark.parametrize("shape", [(6, 3, 4, 5), (1, 1, 1, 1), (3, 2, 7, 2)], ids=str)
def test_matches_linear_plus_lstm_seq(shape, live, bias, reverse):
    steps, n, i, h = shape
    rng = np.random.default_rng(sum(shape) + 10 * bias + 100 * reverse)
    inputs = _inputs(rng, steps, n, i, h, bias)
    weight = rng.standard_normal((steps * n + 2 * n, h))
    if live == "last":
        weight[: (steps - 1) * n] = 0  # only the last step's output (and the final states) used
    elif live == "none":
        weight[: steps * n] = 0  # only h_n and c_n
    y, grads = _grads(lambda: LSTMDense.apply(*inputs, steps=steps, reverse=reverse), inputs, weight)
    y_ref, grads_ref = _grads(lambda: _composite(*inputs, steps=steps, reverse=reverse), inputs, weight)
    np.testing.assert_allclose(y, y_ref, rtol=1e-12, atol=1e-14)
    for g, g_ref in zip(grads, grads_ref):
        np.testing.assert_allclose(g, g_ref, rtol=1e-10, atol=1e-12)


def test_without_grad_the_output_is_the_same():
    """Under no_grad the forward skips the slopes it keeps for backward; the output must not move."""
    rng = np.random.default_rng(3)
    inputs = _inputs(rng, 5, 2, 3, 4, True)
    y = LSTMDense.apply(*inputs, steps=5).detach().numpy()
    with gg.no_grad():
        y_eval = LSTMDense.apply(*inputs, steps=5)
    assert not y_eval.requires_grad
    np.testing.assert_array_equal(y_eval.numpy(), y)


def test_float32_follows_float64():
    rng = np.random.default_rng(4)
    inputs = _inputs(rng, 8, 4, 3, 6, True)
    y64 = LSTMDense.apply(*inputs, steps=8).detach().numpy()
    single = [gg.tensor(t.detach().numpy().astype(np.float32)) for t in inputs]
    y32 = LSTMDense.apply(*single, steps=8)
    assert y32.dtype == gg.float32
    np.testing.assert_allclose(y32.numpy(), y64, rtol=1e-4, atol=1e-5)


def test_shapes_are_checked_by_name():
    rng = np.random.default_rng(5)
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = _inputs(rng, 3, 2, 4, 5, True)
    with pytest.raises(ShapeError, match=r"lstm_dense: expected x of shape \(8, 4\), got \(6, 4\)"):
        LSTMDense.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, steps=4)
    with pytest.raises(ShapeError, match=r"lstm_dense: expected w_hh of shape \(20, 5\), got \(20, 4\)"):
        LSTMDense.apply(x, h0, c0, w_ih, w_hh[:, :4], b_ih, b_hh, steps=3)
    with pytest.raises(ShapeError, match=r"lstm_dense: expected b_hh of shape \(20,\), got \(19,\)"):
        LSTMDense.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh[:19], steps=3)


def test_one_dtype_throughout():
    """The op never casts a weight or a state to the input's dtype behind the caller's back."""
    rng = np.random.default_rng(7)
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = _inputs(rng, 3, 2, 4, 5, True)
    with pytest.raises(
        DTypeError, match="lstm_dense: expected w_ih of the input's dtype float64, got float32"
    ):
        LSTMDense.apply(x, h0, c0, w_ih.float(), w_hh, b_ih, b_hh, steps=3)
    with pytest.raises(DTypeError, match="lstm_dense: expected c0 of the input's dtype float32, got float64"):
        LSTMDense.apply(x.float(), h0.float(), c0, w_ih.float(), w_hh.float(), None, None, steps=3)


def test_a_weight_changed_in_place_after_forward_raises():
    rng = np.random.default_rng(6)
    inputs = _inputs(rng, 3, 2, 4, 5, True)
    y = LSTMDense.apply(*inputs, steps=3)
    with gg.no_grad():
        inputs[4].mul_(2.0)  # w_hh, saved for backward
    with pytest.raises(GraphError, match="lstm_dense"):
        y.sum().backward()


@pytest.mark.parametrize("wanted", [(1, 2), (0,), (3, 4, 5, 6), (0, 5)], ids=str)
def test_only_the_wanted_gradients(wanted):
    """Backward skips the products nobody asked for and still gets the rest right."""
    rng = np.random.default_rng(8)
    inputs = _inputs(rng, 4, 2, 3, 5, True)
    for q, t in enumerate(inputs):
        t.requires_grad = q in wanted
    weight = rng.standard_normal((4 * 2 + 2 * 2, 5))
    chosen = [inputs[q] for q in wanted]
    _, grads = _grads(lambda: LSTMDense.apply(*inputs, steps=4, reverse=True), chosen, weight)
    _, grads_ref = _grads(lambda: _composite(*inputs, steps=4, reverse=True), chosen, weight)
    for g, g_ref in zip(grads, grads_ref):
        np.testing.assert_allclose(g, g_ref, rtol=1e-10, atol=1e-12)
    assert all(t.grad is None for q, t in enumerate(inputs) if q not in wanted)


@pytest.mark.parametrize("n, h", [(1, 4), (3, 1), (1, 1), (2, 3)])
def test_backward_leaves_the_incoming_gradient_alone(n, h):
    """The loop updates its state gradients in place; they must never be views of the gradient
    it was handed (a hook on the output would otherwise see that array change afterwards)."""
    rng = np.random.default_rng(9)
    inputs = _inputs(rng, 3, n, 2, h, True)
    y = LSTMDense.apply(*inputs, steps=3)
    seen = []
    y.register_hook(lambda g: seen.append((g, g.numpy().copy())))
    (y * gg.tensor(rng.standard_normal(tuple(y.shape)))).sum().backward()
    g, snapshot = seen[0]
    np.testing.assert_array_equal(g.numpy(), snapshot)


class _OneThreadOpenBLAS:
    """Stands in for threadpoolctl's controller of an OpenBLAS on AVX-512 kernels at one thread,
    so that the row-block products run on any machine."""

    num_threads = 1


@pytest.mark.parametrize("reverse", [False, True])
def test_row_block_products_match_the_float64_layer(monkeypatch, reverse):
    """At the benchmark's sizes (H = 128, N = 32) and float32 the per-step products go in row
    blocks (glassgrad/blas_blocks.py) on such a BLAS; outputs and every gradient still follow the
    float64 composite, as closely as the one-call products do."""
    import glassgrad.blas_blocks as blas_blocks

    steps, n, i, h = 4, 32, 32, 128
    rng = np.random.default_rng(11)
    inputs = _inputs(rng, steps, n, i, h, True)
    for t in inputs:
        t.data *= 0.1  # keep the gates out of saturation, so the gradients are not all tiny
    weight = rng.standard_normal((steps * n + 2 * n, h))
    y_ref, grads_ref = _grads(lambda: _composite(*inputs, steps=steps, reverse=reverse), inputs, weight)
    single = [gg.tensor(t.detach().numpy().astype(np.float32), requires_grad=True) for t in inputs]
    monkeypatch.setattr(blas_blocks, "_openblas", [_OneThreadOpenBLAS()])
    assert len(blas_blocks.row_blocks(4 * h, i + h + 1, n, np.dtype("float32"))) == 3
    assert len(blas_blocks.row_blocks(h, 4 * h, n, np.dtype("float32"))) == 3
    results = {}
    for blocks in (4, 0):  # 0: the one-call products
        monkeypatch.setattr(blas_blocks, "_MAX_BLOCKS", blocks)
        call = lambda: LSTMDense.apply(*single, steps=steps, reverse=reverse)  # noqa: E731
        results[blocks] = _grads(call, single, weight.astype(np.float32))
    for y, grads in results.values():
        np.testing.assert_allclose(y, y_ref, rtol=1e-4, atol=1e-5)
        for g, g_ref in zip(grads, grads_ref):
            np.testing.assert_allclose(g, g_ref, rtol=1e-4, atol=1e-4 * np.abs(g_ref).max())
