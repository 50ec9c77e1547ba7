"""nn.utils.weight_norm / remove_weight_norm (PyTorch's hook API) and nn.init.dirac_ / sparse_
against PyTorch: state_dict keys and shapes, outputs, gradients of g and v, and errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
from glassgrad.nn import init


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("dim", [0, 1, None, -1, -2])
@pytest.mark.parametrize("layer", ["Linear", "Conv2d", "ConvTranspose3d"])
def test_weight_norm_matches_pytorch(torch, layer, dim, dtype):
    args = {"Linear": (3, 4), "Conv2d": (3, 4, 3), "ConvTranspose3d": (3, 4, 2)}[layer]
    ours, theirs = getattr(nn, layer)(*args), getattr(torch.nn, layer)(*args)
    if dtype == np.float64:
        ours, theirs = ours.double(), theirs.double()
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        torch.nn.utils.weight_norm(theirs, dim=dim)
    assert nn.utils.weight_norm(ours, dim=dim) is ours
    sd, tsd = ours.state_dict(), theirs.state_dict()
    assert list(sd) == list(tsd) == ["bias", "weight_g", "weight_v"]
    for k in sd:
        assert tuple(sd[k].shape) == tuple(tsd[k].shape), k
        np.testing.assert_allclose(sd[k]._data, tsd[k].numpy(), rtol=1e-6)
    assert repr(ours) == repr(theirs)
    shape = {"Linear": (2, 3), "Conv2d": (2, 3, 5, 5), "ConvTranspose3d": (2, 3, 2, 3, 2)}[layer]
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    with gg.no_grad():  # scale g so that it differs from ||v||
        ours.weight_g.mul_(1.5)
    with torch.no_grad():
        theirs.weight_g.mul_(1.5)
    out, tout = ours(gg.tensor(x)), theirs(torch.tensor(x))
    tol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(out._data, tout.detach().numpy(), atol=tol)
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    for name in ("weight_g", "weight_v", "bias"):
        np.testing.assert_allclose(
            getattr(ours, name).grad._data,
            getattr(theirs, name).grad.numpy(),
            atol=tol,
            rtol=tol,
            err_msg=name,
        )
    nn.utils.remove_weight_norm(ours)
    torch.nn.utils.remove_weight_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["bias", "weight"]
    np.testing.assert_allclose(ours.weight._data, theirs.weight.detach().numpy(), atol=tol)


def test_weight_norm_trains_and_errors():
    m = nn.utils.weight_norm(nn.Linear(2, 2))
    opt = gg.optim.SGD(m.parameters(), lr=0.1)
    names = sorted(n for n, _ in m.named_parameters())
    assert names == ["bias", "weight_g", "weight_v"]
    before = m(gg.ones(1, 2)).detach()
    m(gg.ones(1, 2)).sum().backward()
    opt.step()
    assert not np.allclose(m(gg.ones(1, 2))._data, before._data)
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks"):
        nn.utils.weight_norm(m)
    nn.utils.remove_weight_norm(m)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        nn.utils.remove_weight_norm(m)


@pytest.mark.parametrize(
    ("shape", "groups"), [((6, 4, 3, 3), 2), ((4, 6, 3), 1), ((4, 2, 3, 2, 3), 1), ((6, 6, 3, 3), 3)]
)
def test_dirac_matches_pytorch(torch, shape, groups):
    ours = init.dirac_(gg.empty(*shape), groups)
    theirs = torch.nn.init.dirac_(torch.empty(*shape), groups)
    np.testing.assert_array_equal(ours._data, theirs.numpy())
    x = gg.randn(2, shape[1] * groups if groups > 1 else shape[1], *(5,) * (len(shape) - 2))
    if groups == 1 and shape[0] >= shape[1] and all(k % 2 for k in shape[2:]):  # the identity map
        conv = {3: nn.functional.conv1d, 4: nn.functional.conv2d, 5: nn.functional.conv3d}[len(shape)]
        out = conv(x, ours, padding="same")
        np.testing.assert_allclose(out._data[:, : shape[1]], x._data, atol=1e-6)
    with pytest.raises(ValueError, match="only tensors with 3, 4, or 5 dimensions"):
        init.dirac_(gg.empty(3, 3))
    with pytest.raises(ValueError, match="divisible by groups"):
        init.dirac_(gg.empty(5, 3, 3), groups=2)


def test_sparse():
    w = init.sparse_(gg.empty(10, 6), 0.3, std=0.5)
    assert ((w._data == 0).sum(0) == 3).all()
    assert 0.2 < w._data[w._data != 0].std() < 0.9
    with pytest.raises(ValueError, match="only tensors with 2 dimensions"):
        init.sparse_(gg.empty(3), 0.1)


@pytest.mark.parametrize("dim", [2, -3, 5])
def test_weight_norm_refuses_a_dim_out_of_range(torch, dim):
    # PyTorch raises IndexError ("Dimension out of range"); glassgrad wrapped dim modulo ndim
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # PyTorch's deprecation of the hook API
        with pytest.raises(IndexError):
            torch.nn.utils.weight_norm(torch.nn.Linear(3, 2), dim=dim)
    m = nn.Linear(3, 2)
    with pytest.raises(IndexError, match=rf"weight_norm: expected dim in \[-2, 1\].*got {dim}"):
        nn.utils.weight_norm(m, dim=dim)
    assert list(m.state_dict()) == ["weight", "bias"]  # the module is left as it was
