"""nn.utils.parametrizations.weight_norm / spectral_norm and the hook-based nn.utils.spectral_norm
against PyTorch: state_dict keys, shapes and values, forward outputs, gradients w.r.t. the
originals, the power-iteration buffers over training-mode passes, removal, and errors."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
from glassgrad.autograd import gradcheck
from glassgrad.nn.utils import parametrizations as PS
from glassgrad.nn.utils import parametrize as P

LAYERS = {
    "Linear": ((3, 4), (2, 3)),
    "Conv2d": ((3, 4, 3), (2, 3, 5, 5)),
    "ConvTranspose2d": ((3, 4, 2), (2, 3, 3, 3)),
}


def _pair(torch, layer, seed, dtype=np.float64):
    args, x_shape = LAYERS[layer]
    ours, theirs = getattr(nn, layer)(*args), getattr(torch.nn, layer)(*args)
    if dtype == np.float64:
        ours, theirs = ours.double(), theirs.double()
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(seed).standard_normal(x_shape).astype(dtype)
    return ours, theirs, x


def _compare_state(ours, theirs, tol):
    sd, tsd = ours.state_dict(), theirs.state_dict()
    assert list(sd) == list(tsd)
    for k in sd:
        assert tuple(sd[k].shape) == tuple(tsd[k].shape), k
        np.testing.assert_allclose(sd[k]._data, tsd[k].numpy(), atol=tol, rtol=tol, err_msg=k)


def _compare_grads(ours, theirs, tol):
    tparams = dict(theirs.named_parameters())
    assert [n for n, _ in ours.named_parameters()] == list(tparams)
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad._data, tparams[name].grad.numpy(), atol=tol, rtol=tol, err_msg=name)


# ---------------------------------------------------------------- weight_norm
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("dim", [0, 1, None, -1])
@pytest.mark.parametrize("layer", list(LAYERS))
def test_weight_norm_matches_pytorch(torch, layer, dim, dtype):
    ours, theirs, x = _pair(torch, layer, seed=0, dtype=dtype)
    assert PS.weight_norm(ours, dim=dim) is ours
    torch.nn.utils.parametrizations.weight_norm(theirs, dim=dim)
    assert list(ours.state_dict())[1:] == [
        "parametrizations.weight.original0",
        "parametrizations.weight.original1",
    ]
    tol = 1e-5 if dtype == np.float32 else 1e-12
    _compare_state(ours, theirs, tol)
    with gg.no_grad():  # so that g differs from ||v||
        ours.parametrizations.weight.original0.mul_(1.5)
    with torch.no_grad():
        theirs.parametrizations.weight.original0.mul_(1.5)
    out, tout = ours(gg.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(out._data, tout.detach().numpy(), atol=tol * 10)
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    _compare_grads(ours, theirs, tol * 10)
    P.remove_parametrizations(ours, "weight")
    torch.nn.utils.parametrize.remove_parametrizations(theirs, "weight")
    assert type(ours) is getattr(nn, layer) and isinstance(ours.weight, nn.Parameter)
    _compare_state(ours, theirs, tol)


def test_weight_norm_assignment_and_gradcheck():
    m = PS.weight_norm(nn.Linear(3, 4).double(), dim=0)
    w = np.random.default_rng(1).standard_normal((4, 3))
    m.weight = gg.tensor(w)
    g = m.parametrizations.weight.original0
    np.testing.assert_allclose(g._data, np.linalg.norm(w, axis=1, keepdims=True))
    np.testing.assert_allclose(m.weight._data, w, atol=1e-12)
    x = gg.tensor(np.random.default_rng(2).standard_normal((2, 3)))
    originals = (g, m.parametrizations.weight.original1)
    assert gradcheck(lambda g_, v_: m(x), originals)


def test_weight_norm_loads_torch_and_hook_based_state_dicts(torch):
    ours, theirs, x = _pair(torch, "Conv2d", seed=3)
    PS.weight_norm(ours)
    torch.nn.utils.parametrizations.weight_norm(theirs)
    with torch.no_grad():
        theirs.parametrizations.weight.original0.mul_(0.5)
    ours.load_state_dict(theirs.state_dict())
    np.testing.assert_allclose(ours(gg.tensor(x))._data, theirs(torch.tensor(x)).detach().numpy(), atol=1e-12)
    if not hasattr(nn.Module, "_register_load_state_dict_pre_hook"):
        return  # the key renaming needs load_state_dict pre-hooks
    old = nn.utils.weight_norm(nn.Conv2d(3, 4, 3).double())  # the hook-based keys weight_g, weight_v
    ours.load_state_dict(old.state_dict())
    np.testing.assert_allclose(ours.parametrizations.weight.original1._data, old.weight_v._data)
    np.testing.assert_allclose(ours.weight._data, old.weight._data, atol=1e-12)


def test_weight_norm_errors():
    with pytest.raises(IndexError, match=r"weight_norm: expected dim in \[-2, 1\].*got 2"):
        PS.weight_norm(nn.Linear(3, 4), dim=2)
    with pytest.raises(ValueError, match="named 'nope' in Linear"):
        PS.weight_norm(nn.Linear(3, 4), name="nope")
    m = PS.weight_norm(nn.Linear(3, 4))
    with pytest.raises(ValueError, match="leave_parametrized=False"):
        P.remove_parametrizations(m, "weight", leave_parametrized=False)


# ---------------------------------------------------------------- spectral_norm (parametrization)
def _sn_setup(torch, layer, seed, dtype=np.float64, **kw):
    ours, theirs, x = _pair(torch, layer, seed, dtype)
    PS.spectral_norm(ours, **kw)
    torch.nn.utils.parametrizations.spectral_norm(theirs, **kw)
    ours.load_state_dict(theirs.state_dict())  # the random start of u and v, from torch
    return ours, theirs, x


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layer", list(LAYERS))
def test_spectral_norm_matches_pytorch_over_training_passes(torch, layer, dtype):
    ours, theirs, x = _sn_setup(torch, layer, seed=4, dtype=dtype, n_power_iterations=2)
    prefix = "parametrizations.weight."
    assert list(ours.state_dict()) == ["bias", prefix + "original", prefix + "0._u", prefix + "0._v"]
    tol = 1e-4 if dtype == np.float32 else 1e-10
    rng = np.random.default_rng(5)
    for _ in range(3):  # each training forward moves u and v, in both libraries alike
        with gg.no_grad():  # a change of weight between passes, as an optimizer step would make
            ours.parametrizations.weight.original.add_(0.1)
        with torch.no_grad():
            theirs.parametrizations.weight.original.add_(0.1)
        out, tout = ours(gg.tensor(x)), theirs(torch.tensor(x))
        np.testing.assert_allclose(out._data, tout.detach().numpy(), atol=tol, rtol=tol)
        _compare_state(ours, theirs, tol)
        x = rng.standard_normal(x.shape).astype(dtype)
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    _compare_grads(ours, theirs, tol)
    P.remove_parametrizations(ours, "weight")
    torch.nn.utils.parametrize.remove_parametrizations(theirs, "weight")
    assert type(ours) is getattr(nn, layer)
    _compare_state(ours, theirs, tol)


def _top_singular_value(m, dim):
    w = np.moveaxis(m.weight._data, dim, 0)  # (..., h, ...) -> (h, ...)
    return np.linalg.svd(w.reshape(w.shape[0], -1), compute_uv=False)[0]


def test_spectral_norm_eval_mode_keeps_u_and_v(torch):
    ours, theirs, x = _sn_setup(torch, "Linear", seed=6)
    ours.eval()
    theirs.eval()
    u = ours.parametrizations.weight[0]._u._data.copy()
    for _ in range(2):
        out, tout = ours(gg.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_array_equal(ours.parametrizations.weight[0]._u._data, u)
    np.testing.assert_allclose(out._data, tout.detach().numpy(), atol=1e-12)
    _compare_state(ours, theirs, 1e-12)


def test_spectral_norm_starts_near_the_top_singular_vectors():
    rng = np.random.default_rng(7)
    m = nn.Linear(6, 5).double()
    w = rng.standard_normal((5, 6))
    with gg.no_grad():
        m.weight.copy_(gg.tensor(w))
    PS.spectral_norm(m)
    sn = m.parametrizations.weight[0]
    u, _, vt = np.linalg.svd(w)
    assert abs(float(sn._u._data @ u[:, 0])) == pytest.approx(1.0, abs=1e-3)
    assert abs(float(sn._v._data @ vt[0])) == pytest.approx(1.0, abs=1e-3)
    np.testing.assert_allclose(m.parametrizations.weight.original._data, w)  # right_inverse: W itself
    assert _top_singular_value(m.eval(), 0) == pytest.approx(1.0, abs=1e-3)  # eval: u, v stay


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_spectral_norm_dims_and_1d_weights(torch, dim):
    ours, theirs, x = _sn_setup(torch, "Conv2d", seed=8, dim=dim)
    _compare_state(ours, theirs, 1e-12)
    np.testing.assert_allclose(ours(gg.tensor(x))._data, theirs(torch.tensor(x)).detach().numpy(), atol=1e-10)

    def vec(lib):
        class V(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.v = lib.nn.Parameter(lib.ones(5, dtype=lib.float64) * 2)

        return V()

    a, b = PS.spectral_norm(vec(gg), "v"), torch.nn.utils.parametrizations.spectral_norm(vec(torch), "v")
    assert list(a.state_dict()) == list(b.state_dict()) == ["parametrizations.v.original"]
    np.testing.assert_allclose(a.v._data, b.v.detach().numpy())


def test_spectral_norm_gradcheck_in_eval_mode():
    m = PS.spectral_norm(nn.Linear(3, 4).double()).eval()
    x = gg.tensor(np.random.default_rng(9).standard_normal((2, 3)))
    assert gradcheck(lambda w: m(x), (m.parametrizations.weight.original,))


def test_spectral_norm_errors():
    with pytest.raises(ValueError, match="n_power_iterations > 0, got 0"):
        PS.spectral_norm(nn.Linear(2, 3), n_power_iterations=0)
    with pytest.raises(IndexError, match=r"dim in \[-2, 1\].*got 3"):
        PS.spectral_norm(nn.Linear(2, 3), dim=3)
    with pytest.raises(ValueError, match="named 'nope' in Linear, got none"):
        PS.spectral_norm(nn.Linear(2, 3), name="nope")


# ---------------------------------------------------------------- nn.utils.spectral_norm (hooks)
@pytest.mark.parametrize("layer", list(LAYERS))
def test_hook_spectral_norm_matches_pytorch(torch, layer):
    ours, theirs, x = _pair(torch, layer, seed=10)
    assert nn.utils.spectral_norm(ours, n_power_iterations=2) is ours
    torch.nn.utils.spectral_norm(theirs, n_power_iterations=2)
    assert list(ours.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    ours.load_state_dict(theirs.state_dict())
    for train in (True, True, False):
        ours.train(train)
        theirs.train(train)
        out, tout = ours(gg.tensor(x)), theirs(torch.tensor(x))
        np.testing.assert_allclose(out._data, tout.detach().numpy(), atol=1e-10)
        _compare_state(ours, theirs, 1e-10)
        np.testing.assert_allclose(ours.weight._data, theirs.weight.detach().numpy(), atol=1e-10)
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    _compare_grads(ours, theirs, 1e-10)
    nn.utils.remove_spectral_norm(ours)
    torch.nn.utils.remove_spectral_norm(theirs)
    assert not ours._forward_pre_hooks
    _compare_state(ours, theirs, 1e-10)
    assert isinstance(ours.weight, nn.Parameter)


def test_hook_spectral_norm_trains_and_errors():
    rng = np.random.default_rng(11)
    m = nn.utils.spectral_norm(nn.Linear(4, 4))
    opt = gg.optim.SGD(m.parameters(), lr=0.1)
    x = gg.tensor(rng.standard_normal((8, 4)).astype(np.float32))
    first = None
    for _ in range(10):
        opt.zero_grad()
        loss = ((m(x) - 1.0) ** 2).mean()
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    assert loss.item() < first
    with pytest.raises(RuntimeError, match="two spectral_norm hooks"):
        nn.utils.spectral_norm(m)
    with pytest.raises(ValueError, match="n_power_iterations > 0"):
        nn.utils.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)
    with pytest.raises(ValueError, match="expected 'nope' to be a parameter of Linear"):
        nn.utils.spectral_norm(nn.Linear(2, 2), name="nope")
    with pytest.raises(ValueError, match="spectral_norm of 'bias' not found"):
        nn.utils.remove_spectral_norm(m, "bias")
