"""Round 67 (pt_nn_mid, test_nn.py's middle): batch norm's running statistics get no gradient and
are refused when they would carry one; batch_norm_update_stats; a meta num_batches_tracked on load;
the Transformer's activation and interpolate's scale-factor errors of PyTorch's class."""

from collections import OrderedDict

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.autograd import forward_ad as fwAD


def _stats(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((3, 2, 5)), rng.standard_normal(2), rng.random(2) + 0.5


NORMS = {
    "batch_norm_train": lambda f, x, m, v: f.batch_norm(x, m, v, training=True),
    "batch_norm_eval": lambda f, x, m, v: f.batch_norm(x, m, v, training=False),
    "instance_norm": lambda f, x, m, v: f.instance_norm(x, m, v, use_input_stats=True),
    "instance_norm_stats": lambda f, x, m, v: f.instance_norm(x, m, v, use_input_stats=False),
}


@pytest.mark.parametrize("name", sorted(NORMS))
@pytest.mark.parametrize("which", ["mean", "var"])
@pytest.mark.parametrize("input_grad", [True, False])
def test_running_stats_that_require_grad_are_refused(torch, name, which, input_grad):
    """The output depends on the statistics in evaluation, yet no gradient reaches them: PyTorch
    refuses one that requires grad (a RuntimeError); glassgrad gave it ``grad=None`` silently."""
    x, m, v = _stats()
    for lib in (torch, gg):
        stats = {"mean": lib.tensor(m), "var": lib.tensor(v)}
        stats[which].requires_grad_(True)
        with pytest.raises(RuntimeError):
            NORMS[name](
                lib.nn.functional, lib.tensor(x, requires_grad=input_grad), stats["mean"], stats["var"]
            )


def test_running_stats_that_require_grad_pass_under_no_grad():
    x, m, v = _stats()
    mean = gg.tensor(m, requires_grad=True)
    with gg.no_grad():
        out = F.batch_norm(gg.tensor(x), mean, gg.tensor(v), training=False)
    expected = (x - m[None, :, None]) / np.sqrt(v[None, :, None] + 1e-5)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("duals", [(0, 1), (0, 2), (0, 1, 2)])
def test_forward_ad_tangent_on_running_stats_is_refused(duals):
    """A tangent on the statistics was dropped from the output's tangent (a wrong t_y, 1.1 off a
    finite difference); PyTorch refuses it when the input carries a tangent too."""
    x, m, v = _stats(1)
    rng = np.random.default_rng(2)
    args = [gg.tensor(a) for a in (x, m, v)]
    with fwAD.dual_level():
        duals_ = [
            fwAD.make_dual(a, gg.tensor(rng.random(a.shape))) if i in duals else a for i, a in enumerate(args)
        ]
        with pytest.raises(RuntimeError, match="not differentiable wrt running_mean and running_var"):
            F.batch_norm(*duals_, training=False)


def test_forward_ad_tangent_on_input_only_is_the_eval_formula():
    x, m, v = _stats(3)
    tx = np.random.default_rng(4).random(x.shape)
    with fwAD.dual_level():
        out = F.batch_norm(
            fwAD.make_dual(gg.tensor(x), gg.tensor(tx)), gg.tensor(m), gg.tensor(v), training=False
        )
        tangent = fwAD.unpack_dual(out).tangent.numpy()
    np.testing.assert_allclose(tangent, tx / np.sqrt(v[None, :, None] + 1e-5), rtol=1e-12)


def test_batch_norm_update_stats_matches_pytorch(torch):
    rng = np.random.default_rng(5)
    x, rm, rv = rng.standard_normal((4, 3, 5)), rng.random(3), rng.random(3)
    got_rm, got_rv = gg.tensor(rm), gg.tensor(rv)
    want_rm, want_rv = torch.tensor(rm), torch.tensor(rv)
    got = gg.batch_norm_update_stats(gg.tensor(x), got_rm, got_rv, 0.3)
    want = torch.batch_norm_update_stats(torch.tensor(x), want_rm, want_rv, 0.3)
    for g, w in zip((*got, got_rm, got_rv), (*want, want_rm, want_rv)):
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-12)
    # the definitions: biased variance returned, unbiased one folded into the running variance
    np.testing.assert_allclose(got[1].numpy(), x.var(axis=(0, 2)), rtol=1e-12)
    np.testing.assert_allclose(got_rv.numpy(), 0.7 * rv + 0.3 * x.var(axis=(0, 2), ddof=1), rtol=1e-12)


def test_batch_norm_update_stats_gradient_is_the_mean_and_variance_one(torch):
    """Deliberate (docs/design.md): PyTorch's node raises at backward; here the gradients are
    those of the mean and biased variance over every dim but 1, as PyTorch computes them."""
    rng = np.random.default_rng(6)
    x, g1, g2 = rng.standard_normal((4, 3, 5)), rng.standard_normal(3), rng.standard_normal(3)
    xg = gg.tensor(x, requires_grad=True)
    mean, var = gg.batch_norm_update_stats(xg, None, None, 0.1)
    gg.autograd.backward([mean, var], [gg.tensor(g1), gg.tensor(g2)])
    xt = torch.tensor(x, requires_grad=True)
    torch.autograd.backward(
        [xt.mean((0, 2)), xt.var((0, 2), unbiased=False)], [torch.tensor(g1), torch.tensor(g2)]
    )
    np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_batch_norm_update_stats_empty_input_raises(torch):
    for lib in (torch, gg):
        with pytest.raises(RuntimeError, match=r"at least one element, but got input_sizes = \[0, 1\]"):
            lib.batch_norm_update_stats(lib.rand(0, 1), lib.rand(1), lib.rand(1), 0.0)


def test_meta_num_batches_tracked_becomes_zero_on_load(torch):
    """A checkpoint without num_batches_tracked keeps the module's own, but a meta one (no value)
    is replaced by 0, as PyTorch's: it stayed on the meta device."""
    for lib in (torch, gg):
        with lib.device("meta"):
            bn = lib.nn.BatchNorm2d(3)
        bn.load_state_dict(OrderedDict(), assign=True, strict=False)
        nbt = bn.state_dict()["num_batches_tracked"]
        assert nbt.device.type == "cpu"
        assert nbt.item() == 0 and str(nbt.dtype).endswith("int64")
    bn = gg.nn.BatchNorm2d(3)
    bn.num_batches_tracked = gg.tensor(10)
    bn.load_state_dict(OrderedDict(), strict=False)
    assert bn.state_dict()["num_batches_tracked"].item() == 10


@pytest.mark.parametrize("name", ["TransformerEncoderLayer", "TransformerDecoderLayer"])
def test_transformer_layer_unknown_activation_is_runtime_error(torch, name):
    for lib in (torch, gg):
        with pytest.raises(RuntimeError, match="activation should be relu/gelu"):
            getattr(lib.nn, name)(16, 4, 20, 0.1, "abc")
    with pytest.raises(ValueError):  # glassgrad's class before, kept
        gg.nn.TransformerEncoderLayer(16, 4, 20, 0.1, "abc")


@pytest.mark.parametrize("factor", [1e20, -1e20, float("inf"), float("nan")])
@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_interpolate_scale_factor_beyond_int64_is_runtime_error(torch, factor, mode):
    """NumPy's ValueError ('Maximum allowed size exceeded') and OverflowError leaked; PyTorch's
    RuntimeError names the int64 conversion."""
    for lib in (torch, gg):
        with pytest.raises(RuntimeError, match="cannot be converted to type int64_t without overflow"):
            lib.nn.functional.interpolate(lib.ones(1, 1, 16, 16), scale_factor=factor, mode=mode)


def test_interpolate_float_size_words(torch):
    for lib in (torch, gg):
        with pytest.raises(TypeError, match="expected size to be one of int or"):
            lib.nn.functional.interpolate(lib.ones(1, 1, 4), size=(2.0,), mode="nearest")
