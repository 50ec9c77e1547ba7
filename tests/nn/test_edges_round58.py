"""Round 58's differential hunt on edge shapes and layouts (empty batches, zero-size dims, batch 1,
size-1 dims, non-contiguous and channels-last inputs and weights) against PyTorch: the divergences
it found, reduced.

- A channels-last-3d input lost its layout through batch norm (training), group norm, max_pool3d,
  nearest/trilinear ``interpolate`` and constant/reflect/replicate ``pad``: PyTorch answers these in
  ``channels_last_3d`` as it answers their 4-D forms in ``channels_last``. A channels-last 4-D
  input lost it through ``pixel_shuffle``, ``pixel_unshuffle``, ``channel_shuffle`` and
  ``max_unpool2d``. Values were right; ``is_contiguous``/``stride()`` were not.
- Layer and group norm over an empty normalised shape (``LayerNorm`` on ``(N, L, 0)``,
  ``GroupNorm(1, 0)``) leaked NumPy's ``RuntimeWarning: Mean of empty slice``; PyTorch is silent.
- Convolutions took a weight with no filters and a non-empty batch with an empty spatial dim
  (padding making the output non-empty), both of which PyTorch refuses; and refused a transposed
  convolution of an empty batch with an empty spatial dim, which PyTorch answers (an empty result).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg


def _pair(lib, a, fmt_name):
    """A leaf laid out in memory format ``fmt_name`` (a name of ``lib``), requiring grad."""
    return lib.tensor(a).contiguous(memory_format=getattr(lib, fmt_name)).requires_grad_()


# (name, rank, fn(lib, F, x)); each keeps the channels-last layout of its input in PyTorch
_KEEPS = [
    ("batch_norm_train", 5, lambda lib, F, x: F.batch_norm(x, None, None, training=True)),
    ("group_norm", 5, lambda lib, F, x: F.group_norm(x, 3)),
    ("max_pool3d", 5, lambda lib, F, x: F.max_pool3d(x, 2)),
    ("max_pool3d_indices", 5, lambda lib, F, x: F.max_pool3d(x, 2, return_indices=True)[1]),
    ("interpolate_nearest3d", 5, lambda lib, F, x: F.interpolate(x, scale_factor=2)),
    ("interpolate_trilinear", 5, lambda lib, F, x: F.interpolate(x, scale_factor=2, mode="trilinear")),
    ("pad_constant3d", 5, lambda lib, F, x: F.pad(x, (1, 1, 0, 1, 1, 0), value=0.5)),
    ("pad_reflect3d", 5, lambda lib, F, x: F.pad(x, (1, 1, 1, 1, 1, 1), mode="reflect")),
    ("pad_replicate3d", 5, lambda lib, F, x: F.pad(x, (1, 0, 1, 0, 1, 1), mode="replicate")),
    ("pixel_shuffle", 4, lambda lib, F, x: F.pixel_shuffle(x, 2)),
    ("pixel_unshuffle", 4, lambda lib, F, x: F.pixel_unshuffle(x, 2)),
    ("channel_shuffle", 4, lambda lib, F, x: F.channel_shuffle(x, 3)),
    ("channel_shuffle5d", 5, lambda lib, F, x: F.channel_shuffle(x, 3)),
    ("ChannelShuffle", 4, lambda lib, F, x: lib.nn.ChannelShuffle(3)(x)),
    ("max_unpool2d", 4, lambda lib, F, x: F.max_unpool2d(*F.max_pool2d(x, 2, return_indices=True), 2)),
    # and ones PyTorch answers contiguous, which must stay so
    ("avg_pool3d", 5, lambda lib, F, x: F.avg_pool3d(x, 2)),
    ("adaptive_avg_pool3d", 5, lambda lib, F, x: F.adaptive_avg_pool3d(x, 2)),
    ("instance_norm3d", 5, lambda lib, F, x: F.instance_norm(x)),
    ("pad_circular3d", 5, lambda lib, F, x: F.pad(x, (1, 1, 1, 1, 1, 1), mode="circular")),
    ("max_unpool3d", 5, lambda lib, F, x: F.max_unpool3d(*F.max_pool3d(x, 2, return_indices=True), 2)),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", [c[0] for c in _KEEPS])
def test_channels_last_layout_kept_as_pytorch(torch, case, dtype):
    _, rank, fn = next(c for c in _KEEPS if c[0] == case)
    shape = (2, 12, 4, 4, 4) if rank == 5 else (2, 12, 4, 6)
    fmt = "channels_last_3d" if rank == 5 else "channels_last"
    a = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    tx, gx = _pair(torch, a, fmt), _pair(gg, a, fmt)
    t_out = fn(torch, torch.nn.functional, tx)
    g_out = fn(gg, gg.nn.functional, gx)
    assert g_out.shape == tuple(t_out.shape)
    assert g_out.dtype == getattr(gg, str(t_out.dtype).split(".")[-1])
    tol = dict(rtol=1e-12, atol=1e-12) if dtype == "float64" else dict(rtol=2e-6, atol=2e-6)
    np.testing.assert_allclose(g_out.detach().numpy(), t_out.detach().numpy(), **tol)
    for name in (fmt, "contiguous_format"):
        assert g_out.is_contiguous(memory_format=getattr(gg, name)) == t_out.is_contiguous(
            memory_format=getattr(torch, name)
        ), name
    assert g_out.stride() == t_out.stride()
    if t_out.is_floating_point():
        w = np.random.default_rng(1).standard_normal(g_out.shape).astype(dtype)
        (t_out * torch.tensor(w)).sum().backward()
        (g_out * gg.tensor(w)).sum().backward()
        np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), **tol)


@pytest.mark.parametrize("lib_name", ["torch", "glassgrad"])
def test_batch_norm3d_module_channels_last_3d_in_training(torch, lib_name):
    lib = torch if lib_name == "torch" else gg
    bn = lib.nn.BatchNorm3d(3).double().train()
    x = lib.tensor(np.random.default_rng(2).standard_normal((2, 3, 2, 3, 4)))
    out = bn(x.contiguous(memory_format=lib.channels_last_3d))
    assert out.is_contiguous(memory_format=lib.channels_last_3d)
    assert not out.is_contiguous()


# ---- empty normalised shapes: nan statistics, no NumPy warning ----------------------------------

_EMPTY_NORMS = [
    ("layer_norm", (2, 3, 0), lambda lib, x: lib.nn.functional.layer_norm(x, (0,))),
    ("layer_norm_empty_batch", (0, 3, 0), lambda lib, x: lib.nn.functional.layer_norm(x, (3, 0))),
    ("group_norm_no_channels", (2, 0, 3), lambda lib, x: lib.nn.GroupNorm(1, 0).double()(x)),
    ("rms_norm", (2, 0), lambda lib, x: lib.nn.functional.rms_norm(x, (0,))),
]


@pytest.mark.parametrize("case", [c[0] for c in _EMPTY_NORMS])
def test_norm_over_empty_shape_is_quiet_as_pytorch(torch, case):
    _, shape, fn = next(c for c in _EMPTY_NORMS if c[0] == case)
    outs = {}
    for lib in (torch, gg):
        x = lib.zeros(*shape, dtype=lib.float64, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # any warning fails the test, PyTorch's included
            out = fn(lib, x)
            out.sum().backward()
        outs[lib.__name__] = (tuple(out.shape), tuple(x.grad.shape))
    assert outs["glassgrad"] == outs["torch"]


# ---- convolutions on empty inputs and weights --------------------------------------------------

# (x shape, weight shape, kwargs, transposed)
_CONV_EMPTY = [
    ((1, 3, 0), (2, 3, 1), {"padding": 1}, False),  # a padded empty length of a real batch
    ((2, 3, 0, 4), (2, 3, 1, 1), {"padding": 1}, False),
    ((1, 3, 0), (3, 2, 1), {}, True),
    ((1, 3, 4), (0, 3, 1), {}, False),  # no filters
    ((0, 3, 4), (0, 3, 1), {}, False),  # ... even for an empty batch
    ((1, 3, 4), (0, 1, 1), {"groups": 3}, False),
    ((0, 0, 2), (0, 2, 3), {}, True),
]


@pytest.mark.parametrize("case", range(len(_CONV_EMPTY)))
def test_conv_refuses_empty_inputs_and_filterless_weights_as_pytorch(torch, case):
    xs, ws, kw, transposed = _CONV_EMPTY[case]
    name = f"conv{'_transpose' if transposed else ''}{len(xs) - 2}d"
    with pytest.raises(RuntimeError):
        getattr(torch.nn.functional, name)(torch.zeros(*xs), torch.zeros(*ws), **kw)
    with pytest.raises(RuntimeError, match="Only zero batch|expected weight to be at least"):
        getattr(gg.nn.functional, name)(gg.zeros(*xs), gg.zeros(*ws), **kw)


# an empty batch: the output (possibly itself empty along a dim), and zero gradients
_CONV_EMPTY_BATCH = [
    ((0, 3, 0), (3, 2, 2), {}, True),
    ((0, 3, 0), (3, 2, 1), {}, True),
    ((0, 3, 0), (3, 2, 1), {"stride": 2, "output_padding": 1}, True),
    ((0, 3, 2, 0), (3, 2, 3, 3), {}, True),
    ((0, 3, 0), (2, 3, 1), {"padding": 1}, False),
    ((0, 3, 5, 4), (2, 3, 3, 3), {"padding": 1}, False),
]


@pytest.mark.parametrize("case", range(len(_CONV_EMPTY_BATCH)))
def test_conv_on_empty_batch_matches_pytorch(torch, case):
    xs, ws, kw, transposed = _CONV_EMPTY_BATCH[case]
    name = f"conv{'_transpose' if transposed else ''}{len(xs) - 2}d"
    w = np.random.default_rng(case).standard_normal(ws)
    b = np.random.default_rng(9).standard_normal(ws[1] if transposed else ws[0])
    res = {}
    for lib in (torch, gg):
        x = lib.zeros(*xs, dtype=lib.float64, requires_grad=True)
        wt, bt = lib.tensor(w, requires_grad=True), lib.tensor(b, requires_grad=True)
        out = getattr(lib.nn.functional, name)(x, wt, bt, **kw)
        out.sum().backward()
        res[lib.__name__] = (
            tuple(out.shape),
            tuple(x.grad.shape),
            wt.grad.numpy().copy(),
            bt.grad.numpy().copy(),
        )
    (ts, txg, twg, tbg), (gs, gxg, gwg, gbg) = res["torch"], res["glassgrad"]
    assert (gs, gxg) == (ts, txg)
    np.testing.assert_array_equal(gwg, twg)  # zeros, not None
    np.testing.assert_array_equal(gbg, tbg)
