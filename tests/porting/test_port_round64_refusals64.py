"""Round 64, refusals: calls glassgrad ran (or refused with another class) where PyTorch raises, from
this round's "Not fixed" lists and a battery over their neighbours (outside the repository). Pinned
here, written fresh, each against PyTorch: scatter_reduce 'mean' and index_reduce of bools; clamp,
clip and their in-place and method forms with a tensor bound beside a number; a float
LocalResponseNorm size; an adaptive 2-D/3-D pool size given as a 0-d tensor, a NumPy integer or
None (and a 1-D tensor, which runs); reflect/replicate padding of an empty channel dim; unfold of a
1-D/2-D input, of an empty dim, unfold/fold of integers; linalg.cross of bools; unique_consecutive of
complex numbers; full/arange/histc of an n-d tensor; isclose's tensor rtol; the shuffle layers' and
GroupNorm's float sizes; a float BatchNorm num_features. And the calls glassgrad refused where
PyTorch runs: embedding(max_norm=) of a dual weight, a 0-d tensor eps for cosine_similarity and
gaussian_nll_loss, Dropout(p=0-d tensor); plus ``x.mul_(x)`` on a recorded x, which PyTorch refuses
at backward (the operand is saved before the write) while ``x.add_(x)`` runs.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg

X = np.arange(6.0).reshape(2, 3) - 2


def _raised(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # index_reduce's beta warning
        try:
            fn()
        except Exception as e:
            return e
    return None


def _bool(lib):
    return lib.tensor([[True, False, True], [False, False, True]])


def _idx(lib):
    return lib.tensor([[0, 1, 0], [1, 0, 1]])


def _x(lib):
    return lib.tensor(X)


# name -> (call(lib, F, nn), PyTorch's class)
_REFUSED = {
    "scatter_reduce_bool_mean": (lambda lib, F, nn: _bool(lib).scatter_reduce(0, _idx(lib), _bool(lib), "mean"), NotImplementedError),
    "scatter_reduce_bool_mean_noself": (
        lambda lib, F, nn: _bool(lib).scatter_reduce(0, _idx(lib), _bool(lib), "mean", include_self=False),
        NotImplementedError,
    ),
    "index_reduce_bool_1d_amax": (
        lambda lib, F, nn: _bool(lib)[0].index_reduce(0, lib.tensor([0, 1, 0]), _bool(lib)[1], "amax"),
        NotImplementedError,
    ),
    "index_reduce_bool_2d_mean": (
        lambda lib, F, nn: _bool(lib).index_reduce(1, lib.tensor([0, 1, 0]), _bool(lib), "mean"),
        NotImplementedError,
    ),
    "index_reduce_bool_2d_prod_noself": (
        lambda lib, F, nn: _bool(lib).index_reduce_(1, lib.tensor([0, 1, 0]), _bool(lib), "prod", include_self=False),
        NotImplementedError,
    ),
    "clamp_tensor_min_number_max": (lambda lib, F, nn: lib.clamp(_x(lib), min=lib.ones(2, 3, dtype=lib.float64), max=2.0), TypeError),
    "clamp_number_min_tensor_max": (lambda lib, F, nn: lib.clamp(_x(lib), -1.0, lib.ones(3, dtype=lib.float64)), TypeError),
    "clamp_grad_0d_min_number_max": (lambda lib, F, nn: lib.clamp(_x(lib), lib.tensor(0.0, requires_grad=True), 2.0), TypeError),
    "clip_tensor_number": (lambda lib, F, nn: lib.clip(_x(lib), lib.ones(2, 3, dtype=lib.float64), 2.0), TypeError),
    "method_clamp": (lambda lib, F, nn: _x(lib).clamp(lib.ones(3, dtype=lib.float64), 2.0), TypeError),
    "method_clip_": (lambda lib, F, nn: _x(lib).clip_(-1.0, lib.ones(3, dtype=lib.float64)), TypeError),
    "clamp_out": (lambda lib, F, nn: lib.clamp(_x(lib), lib.ones(3, dtype=lib.float64), 2.0, out=lib.empty(2, 3, dtype=lib.float64)), TypeError),
    "local_response_norm_float_size": (lambda lib, F, nn: nn.LocalResponseNorm(2.0)(lib.ones(1, 4, 3, 3)), TypeError),
    "adaptive_avg_pool2d_0d_tensor": (lambda lib, F, nn: F.adaptive_avg_pool2d(lib.ones(1, 1, 6, 6), lib.tensor(3)), TypeError),
    "adaptive_max_pool3d_numpy_int": (lambda lib, F, nn: F.adaptive_max_pool3d(lib.ones(1, 4, 4, 4), np.int64(2)), TypeError),
    "adaptive_avg_pool2d_none": (lambda lib, F, nn: F.adaptive_avg_pool2d(lib.ones(1, 1, 6, 6), None), TypeError),
    "AdaptiveAvgPool2d_0d_tensor": (lambda lib, F, nn: nn.AdaptiveAvgPool2d(lib.tensor(3))(lib.ones(1, 1, 6, 6)), TypeError),
    "reflect_pad_empty_channels": (lambda lib, F, nn: F.pad(lib.ones(1, 0, 4, 4), (1, 1, 1, 1), mode="reflect"), RuntimeError),
    "reflect_pad_unbatched_empty": (lambda lib, F, nn: F.pad(lib.ones(0, 3), (1, 1), mode="reflect"), RuntimeError),
    "replicate_pad_empty_channels": (lambda lib, F, nn: F.pad(lib.ones(2, 0, 3), (1, 1), mode="replicate"), RuntimeError),
    "unfold_2d_input": (lambda lib, F, nn: F.unfold(lib.ones(4, 4), 2), IndexError),
    "Unfold_1d_input": (lambda lib, F, nn: nn.Unfold(2)(lib.ones(4)), IndexError),
    "unfold_empty_channels": (lambda lib, F, nn: F.unfold(lib.ones(1, 0, 4, 4), 2), RuntimeError),
    "unfold_int64": (lambda lib, F, nn: F.unfold(lib.ones(1, 1, 4, 4, dtype=lib.int64), 2), NotImplementedError),
    "fold_uint8": (lambda lib, F, nn: F.fold(lib.ones(1, 4, 4, dtype=lib.uint8), (3, 3), 2), NotImplementedError),
    "fold_empty_dim": (lambda lib, F, nn: F.fold(lib.ones(1, 4, 0), (3, 3), 2), RuntimeError),
    "linalg_cross_bool": (lambda lib, F, nn: lib.linalg.cross(_bool(lib), _bool(lib)), NotImplementedError),
    "unique_consecutive_complex": (lambda lib, F, nn: lib.unique_consecutive(lib.ones(3, dtype=lib.complex64)), NotImplementedError),
    "unique_consecutive_complex_dim": (
        lambda lib, F, nn: lib.unique_consecutive(lib.ones(2, 3, dtype=lib.complex64), dim=0),
        NotImplementedError,
    ),
    "full_1d_tensor_value": (lambda lib, F, nn: lib.full((2,), lib.ones(3)), TypeError),
    "full_like_grad_0d_value": (lambda lib, F, nn: lib.full_like(_x(lib), lib.tensor(1.0, requires_grad=True)), TypeError),
    "arange_1d_tensor_end": (lambda lib, F, nn: lib.arange(lib.tensor([3])), TypeError),
    "histc_tensor_min": (lambda lib, F, nn: lib.histc(_x(lib), 3, min=lib.ones(2), max=5), TypeError),
    "isclose_tensor_rtol": (lambda lib, F, nn: lib.isclose(_x(lib), _x(lib), rtol=lib.ones(2, 3)), TypeError),
    "PixelShuffle_float": (lambda lib, F, nn: nn.PixelShuffle(2.0)(lib.ones(1, 4, 3, 3)), TypeError),
    "PixelUnshuffle_float": (lambda lib, F, nn: nn.PixelUnshuffle(2.0)(lib.ones(1, 1, 4, 4)), TypeError),
    "ChannelShuffle_float": (lambda lib, F, nn: nn.ChannelShuffle(2.0)(lib.ones(1, 4, 3, 3)), TypeError),
    "channel_shuffle_float": (lambda lib, F, nn: F.channel_shuffle(lib.ones(1, 4, 3, 3), 2.0), TypeError),
    "GroupNorm_float_groups": (lambda lib, F, nn: nn.GroupNorm(2.0, 4)(lib.ones(1, 4, 3, 3)), TypeError),
    "GroupNorm_float_channels": (lambda lib, F, nn: nn.GroupNorm(2, 4.0), TypeError),
    "BatchNorm2d_float_features": (lambda lib, F, nn: nn.BatchNorm2d(4.0), TypeError),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(_REFUSED))
def test_refused_as_pytorch(torch, name):
    call, cls = _REFUSED[name]
    for lib, F, nn in ((torch, torch.nn.functional, torch.nn), (gg, gg.nn.functional, gg.nn)):
        err = _raised(lambda: call(lib, F, nn))
        assert isinstance(err, cls), (lib.__name__, name, repr(err))


# name -> call(lib, F, nn) returning a tensor; both run, to the same values
_RUNS = {
    "scatter_reduce_bool_amax": lambda lib, F, nn: _bool(lib).scatter_reduce(0, _idx(lib), _bool(lib), "amax"),
    "scatter_reduce_bool_prod_noself": lambda lib, F, nn: _bool(lib).scatter_reduce(0, _idx(lib), _bool(lib), "prod", include_self=False),
    "index_reduce_bool_2d_amin": lambda lib, F, nn: _bool(lib).index_reduce(1, lib.tensor([0, 1, 0]), _bool(lib), "amin"),
    "index_reduce_bool_3d_prod": lambda lib, F, nn: _bool(lib)[None].index_reduce(2, lib.tensor([2, 1, 2]), _bool(lib)[None], "prod"),
    "clamp_0d_min_number_max": lambda lib, F, nn: lib.clamp(_x(lib), lib.tensor(-1.0), 2.0),
    "clamp_tensor_min_none": lambda lib, F, nn: lib.clamp(_x(lib), lib.tensor([0.0, -1.0, 1.0], dtype=lib.float64), None),
    "adaptive_avg_pool2d_1d_tensor": lambda lib, F, nn: F.adaptive_avg_pool2d(_x(lib).reshape(1, 1, 2, 3), lib.tensor([1, 2])),
    "adaptive_max_pool1d_0d_tensor": lambda lib, F, nn: F.adaptive_max_pool1d(_x(lib)[None], lib.tensor(2)),
    "reflect_pad_empty_batch": lambda lib, F, nn: F.pad(lib.ones(0, 2, 3, 3), (1, 1, 1, 1), mode="reflect"),
    "replicate_pad_empty_batch": lambda lib, F, nn: F.pad(lib.ones(0, 2, 3), (1, 2), mode="replicate"),
    "circular_pad_empty_channels": lambda lib, F, nn: F.pad(lib.ones(1, 0, 3), (1, 1), mode="circular"),
    "unfold_empty_batch": lambda lib, F, nn: F.unfold(lib.ones(0, 1, 4, 4), 2),
    "unfold_bool": lambda lib, F, nn: F.unfold(lib.tensor(np.eye(4, dtype=bool)[None, None]), 2),
    "fold_empty_batch": lambda lib, F, nn: F.fold(lib.ones(0, 4, 4), (3, 3), 2),
    "linalg_cross_int": lambda lib, F, nn: lib.linalg.cross(lib.tensor([[1, 2, 3]]), lib.tensor([[4, 5, 7]])),
    "unique_consecutive_float": lambda lib, F, nn: lib.unique_consecutive(lib.tensor([1.0, 1.0, 2.0, 1.0])),
    "full_0d_value": lambda lib, F, nn: lib.full((2,), lib.tensor(3)),
    "arange_0d_end": lambda lib, F, nn: lib.arange(lib.tensor(3)),
    "histc_0d_bounds": lambda lib, F, nn: lib.histc(_x(lib), 3, min=lib.tensor(-2.0), max=lib.tensor(3.0)),
    "isclose_0d_rtol": lambda lib, F, nn: lib.isclose(_x(lib), _x(lib) + 1e-3, rtol=lib.tensor(0.5)),
    "cosine_similarity_0d_eps": lambda lib, F, nn: F.cosine_similarity(_x(lib), _x(lib) + 1, 1, lib.tensor(5.0)),
    "gaussian_nll_0d_eps": lambda lib, F, nn: F.gaussian_nll_loss(_x(lib), _x(lib) + 0.5, _x(lib).abs() * 0.1, eps=lib.tensor(0.3)),
    "gaussian_nll_1d_eps": lambda lib, F, nn: F.gaussian_nll_loss(
        _x(lib), _x(lib) + 0.5, _x(lib).abs() * 0.1, eps=lib.tensor([0.3, 0.5, 0.1]), reduction="none"
    ),
    "Dropout_0d_tensor_p_eval": lambda lib, F, nn: nn.Dropout(lib.tensor(0.5)).eval()(_x(lib)),
    "LocalResponseNorm_0d_tensor": lambda lib, F, nn: nn.LocalResponseNorm(lib.tensor(2))(_x(lib).reshape(1, 2, 3)),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(_RUNS))
def test_runs_as_pytorch(torch, name):
    call = _RUNS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = call(torch, torch.nn.functional, torch.nn)
        got = call(gg, gg.nn.functional, gg.nn)
    assert tuple(got.shape) == tuple(want.shape)
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-14, atol=1e-15)


def test_module_reprs_keep_sizes_as_given(torch):
    for ctor in (
        lambda nn: nn.LocalResponseNorm(2.0),
        lambda nn: nn.PixelShuffle(2.0),
        lambda nn: nn.GroupNorm(2.0, 4),
    ):
        assert repr(ctor(gg.nn)) == repr(ctor(torch.nn))


def test_clamp_refusal_leaves_input_unchanged():
    x = gg.tensor(X)
    with pytest.raises(TypeError, match="clamp"):
        x.clamp_(gg.ones(2, 3, dtype=gg.float64), 2.0)
    np.testing.assert_array_equal(x.numpy(), X)
    assert x._version == 0


def test_bool_index_reduce_names_the_kernel():
    with pytest.raises(NotImplementedError, match="index_reduce_func_exclude_input_init.*Bool"):
        _bool(gg).index_reduce(1, gg.tensor([0, 1, 0]), _bool(gg), "amax", include_self=False)


def test_embedding_max_norm_dual_weight(torch):
    """PyTorch renorms through ``weight.detach()``: the rows change, the tangent stays as given."""
    rs = np.random.RandomState(0)
    w, t = rs.randn(5, 3), rs.randn(5, 3)
    res = []
    for lib in (torch, gg):
        fwad = lib.autograd.forward_ad
        with fwad.dual_level():
            wd = fwad.make_dual(lib.tensor(w), lib.tensor(t))
            out = lib.nn.functional.embedding(lib.tensor([0, 2, 2, 4]), wd, max_norm=1.0)
            p, tan = fwad.unpack_dual(out)
            wp, wt = fwad.unpack_dual(wd)
            res.append([p.numpy(), tan.numpy(), wp.numpy(), wt.numpy(), wd._version])
    for a, b in zip(*res):
        np.testing.assert_allclose(b, a, rtol=1e-14, atol=0)


_SELF_OPS = {
    "mul_": lambda x: x.mul_(x),
    "div_": lambda x: x.div_(x),
    "pow_": lambda x: x.pow_(x),
    "atan2_": lambda x: x.atan2_(x),
    "imul": lambda x: x.__imul__(x),
    "add_": lambda x: x.add_(x),
    "sub_": lambda x: x.sub_(x),
    "copysign_": lambda x: x.copysign_(x),
    "lerp_": lambda x: x.lerp_(x, 0.3),
    "addcmul_": lambda x: x.addcmul_(x, x.detach() + 1),
    "mul_view": lambda x: x.mul_(x[:]),
}


@pytest.mark.parametrize("op", sorted(_SELF_OPS))
def test_inplace_with_self_as_operand(torch, op):
    """``x.op_(x)``: PyTorch saves the operand at x's version before the write, so an op whose
    backward reads it raises there; self's own old values stay valid (``x.add_(x)`` runs)."""
    res = []
    for lib in (torch, gg):
        a = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        x = a * 1.5
        out = _SELF_OPS[op](x)
        values, version = out.detach().numpy().copy(), x._version
        err = _raised(lambda: x.sum().backward())
        res.append((values, version, err, None if err else a.grad.numpy()))
    (tv, tver, terr, tg), (gv, gver, gerr, gg_) = res
    np.testing.assert_allclose(gv, tv, rtol=1e-14)
    assert gver == tver
    assert (terr is None) == (gerr is None), (repr(terr), repr(gerr))
    if terr is None:
        np.testing.assert_allclose(gg_, tg, rtol=1e-14)
    else:
        assert isinstance(gerr, RuntimeError) and "modified by an inplace operation" in str(terr)
