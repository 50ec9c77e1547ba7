"""thuml/Time-Series-Library (porting round 26): FEDformer's Fourier block writes complex modes
into a ``cfloat`` buffer (``out_ft[:, :, :, wi] = ...``), and its wavelet block builds lists with
``torch.jit.annotate(List[Tensor], [])``."""

from __future__ import annotations

import numpy as np

import glassgrad

from .helpers import assert_same

RS = np.random.RandomState(0)
W1, W2 = RS.randn(3, 2), RS.randn(3, 2)
X = RS.randn(2, 3, 5)


def fourier_modes(torch, dtype_name):
    """FourierBlock's pattern: rfft, a complex weight per kept mode written by setitem, irfft."""
    a = torch.tensor(W1, requires_grad=True)
    b = torch.tensor(W2, requires_grad=True)
    x = torch.tensor(X, requires_grad=True)
    xf = torch.fft.rfft(x, dim=-1)
    out = torch.zeros(2, 3, 3, dtype=getattr(torch, dtype_name))
    for i in range(2):
        out[:, :, i] = xf[:, :, i] * torch.complex(a, b)[:, i]
    y = torch.fft.irfft(out, n=5)
    y.pow(2).sum().backward()
    return [out.detach(), y, a.grad, b.grad, x.grad]


def real_into_complex(torch):
    """A real value written into a complex buffer gets the real part of the gradient."""
    buf = torch.zeros(3, dtype=torch.cfloat)
    v = torch.tensor([1.0, 2.0], requires_grad=True)
    buf[:2] = v
    (buf * (1 + 2j)).abs().sum().backward()
    return [buf.detach(), v.grad]


def test_complex_setitem_gradients_port(torch):
    assert_same(fourier_modes(glassgrad, "cdouble"), fourier_modes(torch, "cdouble"), rtol=1e-12, atol=1e-12)
    assert_same(fourier_modes(glassgrad, "cfloat"), fourier_modes(torch, "cfloat"), rtol=1e-5, atol=1e-5)
    assert_same(real_into_complex(glassgrad), real_into_complex(torch))


def test_jit_annotate_returns_the_value():
    import glassgrad.jit

    empty = []
    assert glassgrad.jit.annotate(list[glassgrad.Tensor], empty) is empty
    assert glassgrad.jit.annotate(int, 3) == 3


def test_complex_into_real_setitem_warns_as_pytorch(torch):
    import warnings

    for lib in (glassgrad, torch):
        a = lib.zeros(3)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            a[:2] = lib.tensor([1 + 2j, 3 - 1j])
        assert a.tolist() == [1.0, 3.0, 0.0]
        if lib is torch:  # PyTorch warns once per process (TORCH_WARN_ONCE): another test may have
            assert all(w.category is UserWarning for w in caught)  # seen it first
            continue
        assert [w.category for w in caught] == [UserWarning]  # not NumPy's ComplexWarning
        assert str(caught[0].message).startswith("Casting complex values to real discards the imaginary part")
