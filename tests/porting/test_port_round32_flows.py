"""Round 32, normalizing flows (bayesiains/nflows): ``LeakyReLU`` transform builds its log-det mask
with ``(inputs < 0).type(torch.Tensor)``, the default tensor type, which follows
``set_default_dtype``. glassgrad read the ``Tensor`` class as a device and raised."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad


def _leaky_logdet(torch, x, slope):
    # nflows.transforms.nonlinearities.LeakyReLU.forward, distilled
    x = torch.tensor(x)
    mask = (x < 0).type(torch.Tensor)
    return mask, (torch.log(torch.as_tensor(slope)) * mask).sum(dim=1)


@pytest.mark.parametrize("default", ["float32", "float64"])
def test_type_of_tensor_class_is_default_dtype(torch, default):
    x = np.array([[-1.0, 2.0, -0.5], [0.0, -3.0, 1.0]])
    got, want = {}, {}
    for lib, out in ((glassgrad, got), (torch, want)):
        before = lib.get_default_dtype()
        lib.set_default_dtype(getattr(lib, default))
        try:
            mask, logdet = _leaky_logdet(lib, x, 0.01)
            out["mask"], out["logdet"] = mask, logdet
            out["str"] = lib.tensor([1, -2]).type("torch.Tensor")
        finally:
            lib.set_default_dtype(before)
    for k in got:
        assert str(got[k].dtype).split(".")[-1] == str(want[k].dtype).split(".")[-1] == default
        np.testing.assert_array_equal(got[k].numpy(), want[k].numpy())


def test_module_type_tensor_class(torch):
    # Module.type takes the same names as Tensor.type; torch.Tensor is the default float type
    m = glassgrad.nn.Linear(2, 2).double().type(glassgrad.Tensor)
    assert m.weight.dtype == glassgrad.float32 and m.weight.dtype == glassgrad.get_default_dtype()
    t = torch.nn.Linear(2, 2).double().type(torch.Tensor)
    assert str(t.weight.dtype) == "torch.float32"


def _power_iteration(lib, w, u, v):
    # normflows.nets.lipschitz: normalize_u/normalize_v with out=, under no_grad
    F = lib.nn.functional
    w, u, v = lib.tensor(w), lib.tensor(u), lib.tensor(v)
    with lib.no_grad():
        for _ in range(3):
            ru = F.normalize(lib.mv(w, v), p=2, dim=0, out=u)
            rv = F.normalize(lib.mv(w.t(), u), p=2, dim=0, out=v)
    return ru is u and rv is v, u.numpy(), v.numpy()


def test_normalize_out_writes_and_returns_it(torch):
    rng = np.random.default_rng(0)
    w, u, v = rng.standard_normal((3, 4)), rng.standard_normal(3), rng.standard_normal(4)
    same_g, ug, vg = _power_iteration(glassgrad, w, u, v)
    same_t, ut, vt = _power_iteration(torch, w, u, v)
    assert same_g and same_t
    np.testing.assert_allclose(ug, ut, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(vg, vt, rtol=1e-13, atol=1e-15)


def test_normalize_out_refused_under_autograd(torch):
    for lib in (glassgrad, torch):
        x = lib.ones(4, dtype=lib.float64, requires_grad=True)
        with pytest.raises(RuntimeError, match="out="):
            lib.nn.functional.normalize(x, dim=0, out=lib.empty(4, dtype=lib.float64))
