"""Review of round 33's new code: each test pins a defect found against PyTorch (or hand-derived
values) and fixed; see the review report."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import ShapeError


def _g(t):
    return gg.tensor(t.detach().numpy())


# ------------------------------------------------------------------ rnn_functions
def test_packed_lstm_with_keywords_after_the_first_three(torch):
    torch.manual_seed(0)
    m = torch.nn.LSTM(3, 4, bidirectional=True).double()
    x = torch.randn(4, 3, 3, dtype=torch.float64)
    p = torch.nn.utils.rnn.pack_padded_sequence(x, [4, 3, 1])
    h0, c0 = torch.randn(2, 3, 4, dtype=torch.float64), torch.randn(2, 3, 4, dtype=torch.float64)
    kw = dict(has_biases=True, num_layers=1, dropout=0.0, train=False, bidirectional=True)
    want = torch.lstm(p.data, p.batch_sizes, (h0, c0), params=m._flat_weights, **kw)
    got = gg.lstm(
        _g(p.data), _g(p.batch_sizes), (_g(h0), _g(c0)), params=[_g(w) for w in m._flat_weights], **kw
    )
    for a, b in zip(got, want):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=1e-12)


# ------------------------------------------------------------------ testing
def test_assert_close_narrow_ints_do_not_wrap():
    a, e = gg.tensor([0], dtype=gg.uint8), gg.tensor([255], dtype=gg.uint8)
    with pytest.raises(AssertionError, match="absolute difference: 255"):
        gg.testing.assert_close(a, e)
    with pytest.raises(AssertionError):  # 0 - 255 wrapped to 1 in uint8 passed atol=1
        gg.testing.assert_close(a, e, rtol=0, atol=1)


def test_assert_close_none_and_numpy_scalars(torch):
    for a, e in [(None, None), (np.float32(1.0), 1.0), (np.int64(1), 1), (np.bool_(True), True)]:
        torch.testing.assert_close(a, e)
        gg.testing.assert_close(a, e)
    for a, e in [(None, gg.tensor(1.0)), (np.float32(1.0), np.float32(1.5))]:
        with pytest.raises(AssertionError):
            gg.testing.assert_close(a, e)


def test_assert_close_negative_tolerance_refused():
    with pytest.raises(RuntimeError, match="rtol and atol >= 0"):
        gg.testing.assert_close(gg.tensor(1.0), gg.tensor(1.0), rtol=-1.0, atol=0.0)


def test_make_tensor_float16_range_clamped():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = gg.testing.make_tensor(50, dtype=gg.float16, low=-1e6, high=1e6)
    assert np.isfinite(t.numpy()).all()


# ------------------------------------------------------------------ gradient
def test_gradient_spacing_zero_dim_tensor(torch):
    x = torch.randn(4, 5, dtype=torch.float64)
    want = torch.gradient(x, spacing=torch.tensor(2.0, dtype=torch.float64))
    got = gg.gradient(_g(x), spacing=gg.tensor(2.0, dtype=gg.float64))
    for a, b in zip(got, want):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=1e-12)


def test_gradient_refusals_are_runtime_errors():
    with pytest.raises(RuntimeError, match="edge_order 1 or 2"):
        gg.gradient(gg.randn(4), edge_order=3)
    for dt in (gg.uint8, gg.bool):
        with pytest.raises(RuntimeError, match="gradient"):
            gg.gradient(gg.ones(4, dtype=dt))


# ------------------------------------------------------------------ torch_aten_more
def test_norm_except_dim_negative_dim(torch):
    v = torch.randn(3, 4, 5, dtype=torch.float64)
    for d in (-2, -3):
        want = torch.norm_except_dim(v, 2, d)
        got = gg.norm_except_dim(_g(v), 2, d)
        assert tuple(got.shape) == tuple(want.shape)
        np.testing.assert_allclose(got.numpy(), want.numpy(), atol=1e-12)


def test_native_dropout_train_none_trains():
    gg.manual_seed(0)
    out, mask = gg.native_dropout(gg.ones(400), 0.5, None)
    assert 0 < int(mask.sum()) < 400  # ATen reads train=None as training
    np.testing.assert_allclose(out.numpy(), mask.numpy() * 2.0)


# ------------------------------------------------------------------ tensor_methods_extra
def test_nonzero_static_negative_size_and_map_broadcast():
    with pytest.raises(RuntimeError, match="nonzero_static: expected size"):
        gg.tensor([1, 0]).nonzero_static(size=-1)
    assert gg.tensor([1, 0, 2]).nonzero_static(size=np.int64(3)).tolist() == [[0], [2], [-1]]
    with pytest.raises(ShapeError, match="map_"):
        gg.tensor([1.0, 2.0]).map_(gg.ones(2, 2), lambda u, v: u - v)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_storage_type_complex(torch):
    for dt in ("complex64", "complex128"):
        want = torch.zeros(1, dtype=getattr(torch, dt)).storage_type().__name__
        assert gg.zeros(1, dtype=getattr(gg, dt)).storage_type().__name__ == want


# ------------------------------------------------------------------ threads
def test_thread_counts_take_numpy_ints():
    before = gg.get_num_threads()
    gg.set_num_threads(np.int64(before))
    gg.set_num_interop_threads(np.int32(1))
    assert gg.get_num_interop_threads() == 1
    with pytest.raises(TypeError):
        gg.set_num_threads(gg.tensor(1))


def test_lstm_cell_refuses_a_cell_state_of_another_shape():
    x, h = gg.randn(3, 2), gg.randn(3, 4)
    w_ih, w_hh = gg.randn(16, 2), gg.randn(16, 4)
    for c in (gg.randn(1, 4), gg.randn(3, 5)):  # PyTorch: batch size / hidden_size mismatch
        with pytest.raises(RuntimeError, match="lstm_cell: expected c of h's shape"):
            gg.lstm_cell(x, (h, c), w_ih, w_hh)
    with pytest.raises(TypeError, match="got 3 states"):
        gg.lstm_cell(x, (h, h, h), w_ih, w_hh)


def test_assert_close_sparse_meta_and_strides(torch):
    d, d2 = [[0, 1.0], [2, 0]], [[0, 1.0], [2.5, 0]]
    torch.testing.assert_close(torch.tensor(d).to_sparse(), torch.tensor(d).to_sparse())
    gg.testing.assert_close(gg.tensor(d).to_sparse(), gg.tensor(d).to_sparse())
    gg.testing.assert_close(gg.tensor(d).to_sparse(), gg.tensor(d), check_layout=False)
    for a, e, kw in [
        (gg.tensor(d).to_sparse(), gg.tensor(d2).to_sparse(), {}),
        (gg.tensor(d).to_sparse(), gg.tensor(d), {}),  # layouts differ
        (gg.empty(2, device="meta"), gg.empty(2), {}),  # devices differ
        (gg.ones(3, 4), gg.ones(4, 3).t(), {"check_stride": True}),
    ]:
        with pytest.raises(AssertionError):
            gg.testing.assert_close(a, e, **kw)
    gg.testing.assert_close(gg.empty(2, device="meta"), gg.empty(2, device="meta"))
    x = torch.ones(3, 4)
    with pytest.raises(AssertionError):
        torch.testing.assert_close(x, x.t().contiguous().t(), check_stride=True)


def test_assert_close_msg_leaves_type_and_length_errors(torch):
    for m in (torch, gg):
        with pytest.raises(TypeError, match="cannot compare|No comparison pair"):
            m.testing.assert_close(m.tensor(1.0), 1.0, msg="boom")
        with pytest.raises(AssertionError, match="length|lengths"):
            m.testing.assert_close([1.0], [1.0, 2.0], msg="boom")
        with pytest.raises(AssertionError, match="^boom$"):
            m.testing.assert_close(m.tensor([1.0]), m.tensor([2.0]), msg="boom")


def test_conv_tbc_empty_output(torch):
    for t, k, pad in [(2, 3, 0), (0, 1, 0), (1, 3, 1)]:
        want = torch.conv_tbc(torch.randn(t, 2, 3), torch.randn(k, 3, 4), torch.randn(4), pad)
        got = gg.conv_tbc(gg.randn(t, 2, 3), gg.randn(k, 3, 4), gg.randn(4), pad)
        assert tuple(got.shape) == tuple(want.shape)
    with pytest.raises(RuntimeError, match="conv_tbc: expected T"):
        gg.conv_tbc(gg.randn(1, 2, 3), gg.randn(3, 3, 4), gg.randn(4), 0)
