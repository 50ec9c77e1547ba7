"""glassgrad.special (torch.special): the aliases, and entr, erfcx, ndtr, ndtri, log_ndtr, xlog1py,
multigammaln (ops/special_more.py) against PyTorch, values and gradients, tails included."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck

ONE_INPUT = ["entr", "erfcx", "ndtr", "ndtri", "log_ndtr"]
GRIDS = {
    "entr": np.concatenate([[-1.0, 0.0, np.inf, np.nan], np.geomspace(1e-300, 1e3, 400)]),
    "erfcx": np.concatenate([np.linspace(-26, 30, 2001), [-1e-300, 0.0, 1e3, 1e8, 1e300, np.inf, np.nan]]),
    "ndtr": np.concatenate([np.linspace(-38, 9, 2001), [np.nan]]),
    "ndtri": np.concatenate(
        [
            np.geomspace(1e-300, 0.5, 600),
            1 - np.geomspace(1e-16, 0.5, 300),
            [0.0, 0.5, 1.0, -0.1, 1.1, np.nan],
        ]
    ),
    "log_ndtr": np.concatenate([np.linspace(-1000, 40, 2001), [np.inf, np.nan]]),
}
# PyTorch's float64 ndtr underflows to 0 from x = -30 (the value is 4.9e-198 there): the reference
# is exp(log_ndtr), which PyTorch keeps accurate (to about |log_ndtr| ulps: 1e-12 relative at -38)
REFERENCE = {"ndtr": lambda torch, t: torch.exp(torch.special.log_ndtr(t))}


def _rel_close(a, b, rtol):
    """Relative closeness; values both within 2^24 of the dtype's smallest normal number count as
    equal: glassgrad keeps the tails down to there (ndtr(-37.6) = 1.5e-313), PyTorch's float64
    erfc underflows to 0 a little earlier."""
    tiny = np.finfo(a.dtype).tiny * 2.0**24
    a, b = np.asarray(a, float), np.asarray(b, float)
    same = (a == b) | (np.isnan(a) & np.isnan(b)) | ((np.abs(a) < tiny) & (np.abs(b) < tiny))
    scale = np.maximum(np.abs(b), 1e-300)
    with np.errstate(invalid="ignore"):  # inf - inf where both are inf: counted in `same`
        ok = same | (np.abs(a - b) <= rtol * scale)
    assert ok.all(), (a[~ok][:5], b[~ok][:5])


@pytest.mark.parametrize("name", ONE_INPUT)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_one_input_functions_match_pytorch(torch, name, dtype):
    """Against PyTorch in float64 for both dtypes: glassgrad evaluates float32 in float64 and rounds
    once, where PyTorch's own float32 kernels lose digits in these tails (its float32 log_ndtr
    gradient at -1000 is 955.6 instead of 1000.001, its erfcx gradient cancels)."""
    with np.errstate(over="ignore"):  # the grids' float64 extremes become float32 inf
        x = GRIDS[name].astype(dtype)
    a = gg.tensor(x, requires_grad=True)
    t = torch.tensor(x.astype("float64"), requires_grad=True)
    y = getattr(gg.special, name)(a)
    ref = REFERENCE.get(name, lambda torch, t: getattr(torch.special, name)(t))(torch, t)
    assert y.dtype == getattr(gg, dtype)
    rtol = 1e-12 if dtype == "float64" else 1.2e-7  # float32: within rounding of the exact value
    with np.errstate(over="ignore"):
        want = ref.detach().numpy().astype(dtype)
    _rel_close(y.detach().numpy(), want, rtol)
    y.sum().backward()
    ref.sum().backward()
    # float64 log_ndtr'(-999.48): PyTorch 999.48100065, the asymptotic -x + 1/(-x) 999.48100052
    with np.errstate(over="ignore"):
        want_grad = t.grad.numpy().astype(dtype)
    _rel_close(a.grad.numpy(), want_grad, 1e-9 if dtype == "float64" else 1.2e-7)


def test_tails_keep_their_digits(torch):
    """Where the composite log(ndtr(x)) or sqrt 2 erfinv(2p - 1) would give -inf."""
    x = gg.tensor([-40.0, -1e4])
    np.testing.assert_allclose(gg.special.log_ndtr(x).numpy(), [-804.60844, -50000009.21], rtol=1e-6)
    g = gg.tensor([-1000.0, -1e5, -np.inf], dtype=gg.float64, requires_grad=True)
    gg.special.log_ndtr(g).sum().backward()
    # phi/Phi ~ -x (1 + 1/x^2 - 2/x^4) far in the left tail, and its limit at -inf (PyTorch: 100000.074
    # at -1e5, NaN at -inf)
    np.testing.assert_allclose(g.grad.numpy(), [1000.000999998, 100000.00001, np.inf], rtol=1e-14)
    x = gg.tensor([-np.inf, np.inf], requires_grad=True)
    y = gg.special.ndtr(x)
    y.sum().backward()
    np.testing.assert_array_equal(y.detach().numpy(), [0.0, 1.0])
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])
    p = gg.tensor([1e-10, 1e-30], dtype=gg.float32)
    np.testing.assert_allclose(gg.special.ndtri(p).numpy(), [-6.361341, -11.46403], rtol=1e-6)


@pytest.mark.parametrize("name", ONE_INPUT)
def test_one_input_functions_gradcheck(name):
    x = {"entr": [0.3, 1.7, 5.0], "ndtri": [0.01, 0.4, 0.93]}.get(name, [-5.0, -0.3, 0.2, 3.0])
    a = gg.tensor(x, dtype=gg.float64, requires_grad=True)
    assert gradcheck(getattr(gg.special, name), (a,))


def test_xlog1py_matches_pytorch_with_its_edge_cases(torch):
    xs = np.array([0.0, 0.0, 0.0, 1.0, 2.0, -3.0, 0.0, 1.5])
    ys = np.array([-1.0, 0.0, np.nan, -0.5, np.nan, 4.0, -2.0, -1.0])
    a, b = gg.tensor(xs, requires_grad=True), gg.tensor(ys, requires_grad=True)
    ta, tb = torch.tensor(xs, requires_grad=True), torch.tensor(ys, requires_grad=True)
    y, ref = gg.special.xlog1py(a, b), torch.special.xlog1py(ta, tb)
    np.testing.assert_array_equal(y.detach().numpy(), ref.detach().numpy())
    y.sum().backward()
    ref.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), ta.grad.numpy())
    np.testing.assert_array_equal(b.grad.numpy(), tb.grad.numpy())
    # numbers on either side, integers promoted, broadcasting
    assert gg.special.xlog1py(gg.tensor([1, 2]), gg.tensor([1, 2])).dtype == gg.float32
    np.testing.assert_allclose(
        gg.special.xlog1py(2, gg.tensor([[1.0], [2.0]])).numpy(),
        torch.special.xlog1py(2, torch.tensor([[1.0], [2.0]])).numpy(),
    )
    a = gg.tensor(np.random.default_rng(0).random((2, 3)), requires_grad=True)
    b = gg.tensor(np.random.default_rng(1).random(3), requires_grad=True)
    assert gradcheck(gg.special.xlog1py, (a, b))


def test_multigammaln_matches_pytorch(torch):
    x = np.array([0.2, 0.5, 1.0, 2.5, 3.0, 10.0])
    for p in (1, 2, 3):
        a, t = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y, ref = gg.special.multigammaln(a, p), torch.special.multigammaln(t, p)
        np.testing.assert_allclose(y.detach().numpy(), ref.detach().numpy(), rtol=1e-12)
        y[np.isfinite(ref.detach().numpy())].sum().backward()
        ref[torch.isfinite(ref)].sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-10)
    assert gg.special.multigammaln(gg.tensor([3, 4]), 2).dtype == gg.float32
    with pytest.raises(RuntimeError, match="multigammaln: expected p to be at least 1"):
        gg.special.multigammaln(gg.tensor([3.0]), 0)
    with pytest.raises(TypeError, match="multigammaln: expected p to be an int"):
        gg.special.multigammaln(gg.tensor([3.0]), 1.5)


def test_every_alias_is_pytorchs_function(torch):
    x = np.linspace(0.05, 0.95, 7)
    for name in ["expit", "logit", "gammaln", "digamma", "psi", "erf", "erfc", "erfinv", "exp2", "expm1",
                 "log1p", "i0", "sinc", "round"]:  # fmt: skip
        np.testing.assert_allclose(
            getattr(gg.special, name)(gg.tensor(x)).numpy(),
            getattr(torch.special, name)(torch.tensor(x)).numpy(),
            rtol=1e-12,
            err_msg=name,
        )
    m = np.random.default_rng(0).standard_normal((3, 4))
    for name in ["softmax", "log_softmax", "logsumexp"]:
        np.testing.assert_allclose(
            getattr(gg.special, name)(gg.tensor(m), 1).numpy(),
            getattr(torch.special, name)(torch.tensor(m), 1).numpy(),
        )
    np.testing.assert_allclose(
        gg.special.polygamma(1, gg.tensor(x)).numpy(), torch.special.polygamma(1, torch.tensor(x))
    )
    np.testing.assert_allclose(
        gg.special.xlogy(gg.tensor(x), gg.tensor(x)).numpy(),
        torch.special.xlogy(torch.tensor(x), torch.tensor(x)),
    )
    assert set(gg.special.__all__) <= set(dir(torch.special))


def test_missing_functions_say_so():
    with pytest.raises(AttributeError, match="has no attribute 'no_such_function'"):
        gg.special.no_such_function  # noqa: B018
    from glassgrad.special import ndtr  # a plain import of a name defined here

    assert ndtr is gg.special.ndtr
