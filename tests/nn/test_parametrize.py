"""nn.utils.parametrize against PyTorch: the generated class, state_dict keys, forward values and
gradients w.r.t. the originals, right_inverse on registration and assignment, chains, buffers,
tuple-valued right_inverse, removal, caching, copying, and the errors for bad input."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
from glassgrad.autograd import gradcheck
from glassgrad.nn.utils import parametrize as P


def _symmetric(lib):
    class Symmetric(lib.nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).mT

    return Symmetric()


def _scale(lib, k):
    class Scale(lib.nn.Module):
        def forward(self, X):
            return X * k

        def right_inverse(self, X):
            return X / k

    return Scale()


def _split(lib):
    class Split(lib.nn.Module):  # X = A + B, stored as (X / 2, X / 2)
        def forward(self, A, B):
            return A + B

        def right_inverse(self, X):
            return X / 2, X / 2

    return Split()


def _pair(torch, seed=0, n_in=4, n_out=4, dtype=np.float64):
    rng = np.random.default_rng(seed)
    ours, theirs = nn.Linear(n_in, n_out).double(), torch.nn.Linear(n_in, n_out).double()
    w = rng.standard_normal((n_out, n_in))
    b = rng.standard_normal(n_out)
    ours.load_state_dict({"weight": w, "bias": b})
    theirs.load_state_dict({"weight": torch.tensor(w), "bias": torch.tensor(b)})
    return ours, theirs, rng.standard_normal((3, n_in))


def _check_same(ours, theirs, x, torch, tol=1e-12):
    sd, tsd = ours.state_dict(), theirs.state_dict()
    assert list(sd) == list(tsd)
    for k in sd:
        np.testing.assert_allclose(sd[k]._data, tsd[k].numpy(), atol=tol, err_msg=k)
    out, tout = ours(gg.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(out._data, tout.detach().numpy(), atol=tol)
    (out**2).sum().backward()
    (tout**2).sum().backward()
    tparams = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad._data, tparams[name].grad.numpy(), atol=tol, err_msg=name)


def test_register_makes_class_property_and_keys_like_pytorch(torch):
    ours, theirs, x = _pair(torch)
    weight = ours.weight
    assert P.register_parametrization(ours, "weight", _symmetric(gg)) is ours
    torch.nn.utils.parametrize.register_parametrization(theirs, "weight", _symmetric(torch))
    assert type(ours).__name__ == "ParametrizedLinear" and isinstance(ours, nn.Linear)
    assert P.type_before_parametrizations(ours) is nn.Linear
    assert P.type_before_parametrizations(nn.Linear(2, 2)) is nn.Linear
    assert P.is_parametrized(ours) and P.is_parametrized(ours, "weight")
    assert not P.is_parametrized(ours, "bias") and not P.is_parametrized(nn.Linear(2, 2))
    assert ours.parametrizations.weight.original is weight  # the Parameter itself, for optimizers
    assert isinstance(ours.parametrizations.weight, P.ParametrizationList)
    assert repr(ours).replace("glassgrad", "") == repr(theirs)
    assert type(nn.Linear(2, 2)).__name__ == "Linear"  # other instances keep their class
    np.testing.assert_allclose(ours.weight._data, ours.weight._data.T)
    _check_same(ours, theirs, x, torch)


def test_right_inverse_on_registration_and_assignment(torch):
    ours, theirs, x = _pair(torch, seed=1)
    w = ours.weight._data.copy()
    P.register_parametrization(ours, "weight", _scale(gg, 2.0))
    torch.nn.utils.parametrize.register_parametrization(theirs, "weight", _scale(torch, 2.0))
    np.testing.assert_allclose(ours.weight._data, w)  # starts where it was
    np.testing.assert_allclose(ours.parametrizations.weight.original._data, w / 2)
    original = ours.parametrizations.weight.original
    version = original._version
    value = np.random.default_rng(2).standard_normal((4, 4))
    ours.weight = gg.tensor(value)
    theirs.weight = torch.tensor(value)
    assert ours.parametrizations.weight.original is original and original._version > version
    np.testing.assert_allclose(ours.weight._data, value)
    _check_same(ours, theirs, x, torch)


def test_assigning_without_right_inverse_and_a_parameter_are_refused():
    m = P.register_parametrization(nn.Linear(3, 3), "weight", _symmetric(gg))
    with pytest.raises(RuntimeError, match="Symmetric does not implement right_inverse"):
        m.weight = gg.zeros(3, 3)
    with pytest.raises(KeyError, match="attribute 'weight' already exists"):
        m.weight = nn.Parameter(gg.zeros(3, 3))
    m2 = P.register_parametrization(nn.Linear(3, 3), "weight", _scale(gg, 2.0))
    with pytest.raises(
        ValueError, match="Tensor of dtype glassgrad.float32 for original, got dtype glassgrad.float64"
    ):
        m2.weight = gg.zeros(3, 3, dtype=gg.float64)


def test_chained_parametrizations_match_pytorch(torch):
    ours, theirs, x = _pair(torch, seed=3)
    for lib, m in ((gg, ours), (torch, theirs)):
        reg = P.register_parametrization if lib is gg else torch.nn.utils.parametrize.register_parametrization
        reg(m, "weight", _scale(lib, 3.0))
        reg(m, "weight", _symmetric(lib))
        reg(m, "bias", _scale(lib, 0.5))
    assert len(ours.parametrizations.weight) == 2
    assert list(ours.state_dict()) == ["parametrizations.weight.original", "parametrizations.bias.original"]
    _check_same(ours, theirs, x, torch)


def test_tuple_right_inverse_gives_original0_original1(torch):
    ours, theirs, x = _pair(torch, seed=4)
    w = ours.weight._data.copy()
    P.register_parametrization(ours, "weight", _split(gg))
    torch.nn.utils.parametrize.register_parametrization(theirs, "weight", _split(torch))
    plist = ours.parametrizations.weight
    assert not plist.is_tensor and plist.ntensors == 2
    assert isinstance(plist.original0, nn.Parameter) and plist.original1.requires_grad
    np.testing.assert_allclose(ours.weight._data, w)
    _check_same(ours, theirs, x, torch)
    ours.weight = gg.ones(4, 4, dtype=gg.float64)
    np.testing.assert_allclose(plist.original1._data, 0.5)
    with pytest.raises(ValueError, match="leave_parametrized=False"):
        P.remove_parametrizations(ours, "weight", leave_parametrized=False)
    P.remove_parametrizations(ours, "weight")
    assert type(ours) is nn.Linear and isinstance(ours.weight, nn.Parameter)
    np.testing.assert_allclose(ours.weight._data, 1.0)


def test_buffers_can_be_parametrized(torch):
    def build(lib):
        class M(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.register_buffer("w", lib.ones(3, 3) * 4)

            def forward(self, x):
                return x @ self.w

        return M()

    ours, theirs = build(gg), build(torch)
    P.register_parametrization(ours, "w", _scale(gg, 2.0))
    torch.nn.utils.parametrize.register_parametrization(theirs, "w", _scale(torch, 2.0))
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert list(ours.parameters()) == []
    np.testing.assert_allclose(ours.state_dict()["parametrizations.w.original"]._data, 2.0)
    np.testing.assert_allclose(ours.w._data, 4.0)
    P.remove_parametrizations(ours, "w")
    assert "w" in ours._buffers and not ours.w.requires_grad


def test_remove_parametrizations_like_pytorch(torch):
    ours, theirs, _ = _pair(torch, seed=5)
    for lib, m in ((gg, ours), (torch, theirs)):
        mod = P if lib is gg else torch.nn.utils.parametrize
        mod.register_parametrization(m, "weight", _scale(lib, 2.0))
        mod.register_parametrization(m, "bias", _scale(lib, 2.0))
    original = ours.parametrizations.weight.original
    P.remove_parametrizations(ours, "weight", leave_parametrized=False)
    torch.nn.utils.parametrize.remove_parametrizations(theirs, "weight", leave_parametrized=False)
    assert type(ours).__name__ == "ParametrizedLinear" and ours.weight is original  # still bias
    assert list(ours.state_dict()) == list(theirs.state_dict())
    P.remove_parametrizations(ours, "bias")
    torch.nn.utils.parametrize.remove_parametrizations(theirs, "bias")
    assert type(ours) is nn.Linear and not hasattr(ours, "parametrizations")
    assert not hasattr(nn.Linear, "bias") or not isinstance(nn.Linear.__dict__.get("bias"), property)
    sd, tsd = ours.state_dict(), theirs.state_dict()
    assert list(sd) == list(tsd) == ["weight", "bias"]
    for k in sd:
        np.testing.assert_allclose(sd[k]._data, tsd[k].detach().numpy(), err_msg=k)


def test_leave_parametrized_keeps_the_parameter_object():
    m = nn.Linear(3, 3)
    weight = m.weight
    P.register_parametrization(m, "weight", _symmetric(gg))
    value = m.weight._data.copy()
    P.remove_parametrizations(m, "weight")
    assert m.weight is weight and m.weight.requires_grad
    np.testing.assert_allclose(m.weight._data, value)


def test_unsafe_allows_a_change_of_shape_and_dtype():
    class Row(nn.Module):
        def forward(self, X):
            return X[0].double()

    m = P.register_parametrization(nn.Linear(3, 2), "weight", Row(), unsafe=True)
    assert m.weight.shape == (3,) and m.weight.dtype == gg.float64
    assert m.parametrizations.weight.unsafe
    P.register_parametrization(m, "weight", _scale(gg, 2.0), unsafe=True)
    assert m.weight.shape == (3,)


def test_bad_parametrizations_are_clear_errors():
    class Row(nn.Module):
        def forward(self, X):
            return X[0]

    class Double(nn.Module):
        def forward(self, X):
            return X.double()

    class NotTensor(nn.Module):
        def forward(self, X):
            return 3

    with pytest.raises(ValueError, match=r"keep the shape \(2, 3\).*unsafe=True.*got \(3,\)"):
        P.register_parametrization(nn.Linear(3, 2), "weight", Row())

    class HalfRow(Row):
        def right_inverse(self, X):
            return X / 2

    refused = nn.Linear(3, 2)
    w = refused.weight._data.copy()
    with pytest.raises(ValueError, match="keep the shape"):
        P.register_parametrization(refused, "weight", HalfRow())
    assert type(refused) is nn.Linear and "weight" in refused._parameters
    np.testing.assert_array_equal(refused.weight._data, w)  # right_inverse undone
    with pytest.raises(ValueError, match="keep the dtype glassgrad.float32.*got glassgrad.float64"):
        P.register_parametrization(nn.Linear(3, 2), "weight", Double())
    with pytest.raises(ValueError, match="expected the parametrized tensor to be a Tensor, got int"):
        P.register_parametrization(nn.Linear(3, 2), "weight", NotTensor())
    m = P.register_parametrization(nn.Linear(3, 2), "weight", _scale(gg, 2.0))
    for bad in (Row(), Double(), NotTensor()):
        with pytest.raises(ValueError, match="register_parametrization: expected"):
            P.register_parametrization(m, "weight", bad)
    assert len(m.parametrizations.weight) == 1  # nothing was appended

    class BadInverse(nn.Module):
        def forward(self, X):
            return X

        def right_inverse(self, X):
            return X[0]

    with pytest.raises(ValueError, match=r"right_inverse\(module.weight\) to keep the shape"):
        P.register_parametrization(m, "weight", BadInverse())
    with pytest.raises(TypeError, match="expected an nn.Module as the parametrization, got function"):
        P.register_parametrization(nn.Linear(3, 2), "weight", lambda x: x)
    with pytest.raises(ValueError, match="named 'nope' in Linear"):
        P.register_parametrization(nn.Linear(3, 2), "nope", _scale(gg, 2.0))
    with pytest.raises(ValueError, match="'bias' of Linear, got None"):
        P.register_parametrization(nn.Linear(3, 2, bias=False), "bias", _scale(gg, 2.0))
    with pytest.raises(ValueError, match="parametrization on 'bias' of ParametrizedLinear, got none"):
        P.remove_parametrizations(m, "bias")
    with pytest.raises(ValueError, match="one or more modules"):
        P.ParametrizationList([], gg.zeros(2))


def test_training_mode_follows_the_module():
    m = nn.Linear(3, 3).eval()
    p = _scale(gg, 2.0)
    P.register_parametrization(m, "weight", p)
    assert not p.training
    m.train()
    assert p.training


def test_cached_computes_once_per_block():
    calls = []

    class Counted(nn.Module):
        def forward(self, X):
            calls.append(1)
            return X * 2

    m = P.register_parametrization(nn.Linear(3, 3), "weight", Counted())
    calls.clear()
    with P.cached():
        a, b = m.weight, m.weight
        with P.cached():
            c = m.weight
    assert len(calls) == 1 and a is b is c
    assert m.weight is not a and len(calls) == 2
    x = gg.randn(2, 3)
    with P.cached():
        (m(x).sum() + m(x).sum()).backward()  # one graph, used twice
    grad = m.parametrizations.weight.original.grad._data  # d/dW of 2 * sum(x (2W)^T)
    np.testing.assert_allclose(grad, np.broadcast_to(4 * x._data.sum(0), (3, 3)), rtol=1e-6)


def test_deepcopy_works_and_pickle_is_refused():
    m = P.register_parametrization(nn.Linear(3, 3), "weight", _symmetric(gg))
    c = copy.deepcopy(m)
    # a class of its own, like the original's (a shared one would tie their parametrizations)
    assert type(c).__name__ == type(m).__name__ and type(c) is not type(m)
    assert c.parametrizations.weight.original is not m.parametrizations.weight.original
    np.testing.assert_allclose(c.weight._data, m.weight._data)
    with pytest.raises(RuntimeError, match="only be saved through state_dict"):
        pickle.dumps(m)


def test_load_torch_state_dict(torch):
    ours, theirs, x = _pair(torch, seed=6)
    P.register_parametrization(ours, "weight", _split(gg))
    torch.nn.utils.parametrize.register_parametrization(theirs, "weight", _split(torch))
    with torch.no_grad():
        theirs.parametrizations.weight.original0.mul_(3.0)
    ours.load_state_dict(theirs.state_dict())
    np.testing.assert_allclose(ours(gg.tensor(x))._data, theirs(torch.tensor(x)).detach().numpy(), atol=1e-12)
    with pytest.raises(RuntimeError, match=r"Missing key\(s\) in state_dict"):
        ours.load_state_dict({"weight": x, "bias": x[0]})


def test_transfer_parametrizations_and_params():
    src = P.register_parametrization(nn.Linear(3, 3), "weight", _symmetric(gg))
    dst = P.transfer_parametrizations_and_params(src, nn.Linear(3, 3))
    assert type(dst).__name__ == "ParametrizedLinear"
    assert dst.parametrizations.weight.original is src.parametrizations.weight.original
    np.testing.assert_allclose(dst.weight._data, src.weight._data)
    assert P.transfer_parametrizations_and_params(nn.Linear(2, 2), dst) is dst


def test_gradcheck_through_a_chain():
    m = nn.Linear(3, 3).double()
    P.register_parametrization(m, "weight", _symmetric(gg))
    P.register_parametrization(m, "weight", _scale(gg, 1.5))
    P.register_parametrization(m, "bias", _scale(gg, -2.0))
    x = gg.tensor(np.random.default_rng(7).standard_normal((2, 3)))
    originals = (m.parametrizations.weight.original, m.parametrizations.bias.original)
    assert gradcheck(lambda w, b: m(x).tanh(), originals)


def test_optimizer_trains_the_original():
    rng = np.random.default_rng(8)
    m = P.register_parametrization(nn.Linear(4, 4), "weight", _symmetric(gg))
    opt = gg.optim.SGD(m.parameters(), lr=0.1)
    x, y = gg.tensor(rng.standard_normal((16, 4)).astype(np.float32)), gg.zeros(16, 4)
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = ((m(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    np.testing.assert_allclose(m.weight._data, m.weight._data.T)
