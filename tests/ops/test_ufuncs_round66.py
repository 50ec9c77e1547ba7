"""Round 66 (PyTorch's binary/unary ufunc tests, re-created as differential cases): logit's
gradient under a negative eps, and celu's error class for alpha = 0."""

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F

# inside (0, 1), inside [eps, 1 - eps] for eps = -0.1 but outside [0, 1], and far outside
_POINTS = [0.1, 0.5, 0.9, 0.25, -0.05, 1.05, -0.5, 1.5, 3.0, -2.0]


def _logit_grad(lib, values, eps, create_graph):
    x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
    (g,) = lib.autograd.grad(lib.logit(x, eps).sum(), x, create_graph=create_graph)
    return np.asarray(g.detach().numpy())


@pytest.mark.parametrize("eps", [-0.1, -1e-9, -2.0])
@pytest.mark.parametrize("size", [10, 80])  # PyTorch's scalar loop and its vectorised kernel
def test_logit_negative_eps_gradient_is_no_eps_gradient(torch, eps, size):
    """PyTorch reads a negative eps as none: NaN outside [0, 1] (glassgrad gave 0)."""
    values = (_POINTS * (size // len(_POINTS)))[:size]
    expected = _logit_grad(torch, values, eps, False)
    got = _logit_grad(gg, values, eps, False)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)
    # and the same as no eps at all
    np.testing.assert_allclose(got, _logit_grad(gg, values, None, False), rtol=0, atol=0)
    assert np.isnan(got[np.array(values) > 1]).all() and np.isnan(got[np.array(values) < 0]).all()


@pytest.mark.parametrize("eps", [-0.1, 0.2])
def test_logit_gradient_under_create_graph_matches_pytorch(torch, eps):
    """Under create_graph PyTorch clamps to [eps, 1 - eps] even for a negative eps; glassgrad's
    recorded rule does the same (unchanged, pinned here beside the kernel's rule)."""
    expected = _logit_grad(torch, _POINTS, eps, True)
    got = _logit_grad(gg, _POINTS, eps, True)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)


def test_logit_negative_eps_gradient_finite_inside():
    """Inside (0, 1) a negative eps changes nothing: the slope is 1 / (x (1 - x))."""
    values = np.array([0.1, 0.5, 0.9])
    got = _logit_grad(gg, values.tolist(), -0.1, False)
    np.testing.assert_allclose(got, 1 / (values * (1 - values)), rtol=1e-14)


def test_celu_alpha_zero_raises_runtime_error(torch):
    """PyTorch raises RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU"); glassgrad
    raised a ValueError only, which an ``except RuntimeError`` did not catch."""
    with pytest.raises(RuntimeError):
        torch.nn.functional.celu(torch.ones(2), alpha=0.0)
    with pytest.raises(RuntimeError, match="alpha != 0"):
        F.celu(gg.ones(2), alpha=0.0)
    with pytest.raises(ValueError):  # still a ValueError, as before
        F.celu(gg.ones(2), alpha=0.0)
    with pytest.raises(RuntimeError, match="alpha != 0"):
        gg.nn.CELU(alpha=0.0)


_NO_KERNEL = {
    "bessel_j0": lambda lib, x: lib.special.bessel_j0(x),
    "modified_bessel_k1": lambda lib, x: lib.special.modified_bessel_k1(x),
    "chebyshev_polynomial_t": lambda lib, x: lib.special.chebyshev_polynomial_t(x, 2),
    "hermite_polynomial_h degree": lambda lib, x: lib.special.hermite_polynomial_h(lib.ones(2), x),
}


# (a float16 degree beside a float32 x promotes to float32, which PyTorch runs: not a case here)
@pytest.mark.parametrize(
    ("name", "dtype"),
    [
        (n, d)
        for n in sorted(_NO_KERNEL)
        for d in ("float16", "complex64")
        if not (n.endswith("degree") and d == "float16")
    ],
)
def test_special_functions_without_kernel_raise_not_implemented(torch, name, dtype):
    """PyTorch has no float16 or complex kernel for these and raises NotImplementedError;
    glassgrad raised a TypeError/RuntimeError that an ``except NotImplementedError`` missed."""
    call = _NO_KERNEL[name]
    with pytest.raises(NotImplementedError):
        call(torch, torch.ones(2, dtype=getattr(torch, dtype)))
    with pytest.raises(NotImplementedError, match="PyTorch has no"):
        call(gg, gg.ones(2, dtype=getattr(gg, dtype)))
