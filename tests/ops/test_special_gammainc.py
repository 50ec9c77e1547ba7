"""``special.gammainc``/``gammaincc`` (``torch.igamma``/``igammac``), ops/special_gamma.py, against
PyTorch: values over the series and continued-fraction ranges and the edges, gradients in x,
the refused gradient in a, out=, dtypes."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck

A = np.array([0.5, 2.0, 5.0, 30.0, 0.0, 1.0, 3.0, 1e3])
X = np.array([0.1, 3.0, 40.0, 10.0, 2.0, 0.0, np.inf, 990.0])


@pytest.mark.parametrize("name", ["gammainc", "gammaincc"])
def test_values_and_gradients_match_torch(torch, name):
    out = []
    for lib in (gg, torch):
        a, x = lib.tensor(A), lib.tensor(X, requires_grad=True)
        z = getattr(lib.special, name)(a, x)
        (z * lib.tensor(np.arange(1.0, 9.0))).sum().backward()
        out.append((z.detach().numpy(), x.grad.numpy(), z.grad_fn.name()))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-9, atol=1e-300)
    assert out[0][2] == out[1][2]


def test_upper_is_computed_directly_where_lower_is_near_one():
    # Q(1, 40) = e^-40: 1 - P would give 0 in float64
    q = gg.special.gammaincc(gg.tensor([1.0], dtype=gg.float64), gg.tensor([40.0], dtype=gg.float64))
    assert q.item() == pytest.approx(np.exp(-40.0), rel=1e-12)


def test_upper_for_small_a_has_no_cancellation():
    # for a -> 0, Q(a, x) = a E1(x) + O(a^2): with E1(0.5), E1(1) from tables, 1 - P keeps only
    # 16 - 12 digits at a = 1e-12 (PyTorch 2.13's Q is off by 2e-4 there)
    a = gg.tensor([1e-12, 1e-12], dtype=gg.float64)
    q = gg.special.gammaincc(a, gg.tensor([0.5, 1.0], dtype=gg.float64)).numpy()
    np.testing.assert_allclose(q, 1e-12 * np.array([0.55977359477616081, 0.21938393439552027]), rtol=1e-10)


def test_upper_small_a_grid_against_cephes():
    # SciPy comes with scikit-learn (a test dependency); its gammaincc is Cephes' igamc
    from scipy.special import gammaincc as cephes_q

    a = np.geomspace(1e-14, 0.25, 40)[:, None]
    x = np.linspace(1e-3, 1.25, 30)[None, :]
    ours = gg.special.gammaincc(gg.tensor(a), gg.tensor(x)).numpy()
    np.testing.assert_allclose(ours, cephes_q(a, x), rtol=1e-13)


def test_gradcheck_in_x_and_refusal_in_a():
    a = gg.tensor([0.7, 2.5, 6.0], dtype=gg.float64)
    x = gg.tensor([0.4, 2.0, 9.0], dtype=gg.float64, requires_grad=True)
    assert gradcheck(lambda t: gg.special.gammainc(a, t), (x,))
    assert gradcheck(lambda t: gg.special.gammaincc(a, t), (x,))
    with pytest.raises(NotImplementedError, match="gammainc: the derivative with respect to a"):
        gg.special.gammainc(a.clone().requires_grad_(), x).sum().backward()


def test_aliases_out_and_dtypes(torch):
    a, x = gg.tensor([2.0, 3.0]), gg.tensor([1.0, 4.0])
    assert gg.igamma(a, x).tolist() == gg.special.gammainc(a, x).tolist()
    assert gg.igammac(a, x).tolist() == gg.special.gammaincc(a, x).tolist()
    out = gg.empty(2)
    assert gg.special.gammainc(a, x, out=out) is out
    np.testing.assert_allclose(
        out.numpy(),
        torch.special.gammainc(torch.tensor([2.0, 3.0]), torch.tensor([1.0, 4.0])).numpy(),
        rtol=1e-6,
    )
    assert gg.special.gammainc(a, x.double()).dtype == gg.float64
    with pytest.raises(RuntimeError, match="gammainc: expected floating-point operands"):
        gg.special.gammainc(gg.tensor([1, 2]), gg.tensor([1, 2]))


def test_tensor_methods_as_torch(torch):
    out = []
    for lib in (gg, torch):
        a, x = lib.tensor([2.0, 3.0]), lib.tensor([1.0, 4.0])
        p, q = a.igamma(x), a.igammac(x)
        a.igamma_(x)
        out.append([p.numpy(), q.numpy(), a.numpy()])
    for g, r in zip(*out):
        np.testing.assert_allclose(g, r, rtol=1e-6)


def test_second_derivative_in_x_and_inf_inf_as_torch(torch):
    out = []
    for lib in (gg, torch):
        a = lib.tensor([0.5, 2.0], dtype=lib.float64)
        x = lib.tensor([1.0, 3.0], dtype=lib.float64, requires_grad=True)
        second = []
        for f in (lib.special.gammainc, lib.special.gammaincc):
            (gx,) = lib.autograd.grad(f(a, x).sum(), x, create_graph=True)
            second.append(lib.autograd.grad(gx.sum(), x)[0].numpy())
        inf = lib.tensor([float("inf")])
        out.append(second + [lib.special.gammainc(inf, inf).numpy(), lib.special.gammaincc(inf, inf).numpy()])
    for g, r in zip(*out):
        np.testing.assert_allclose(g, r, rtol=1e-12, equal_nan=True)
