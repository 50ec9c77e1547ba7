"""torch.fft's fft/ifft (fft.py) against PyTorch: values, dtypes, gradients of real and complex
inputs with padding/cutting lengths and every norm, and the errors (port round 24: labml_nn FNet)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

CALLS = [{}, {"dim": 0}, {"n": 7, "dim": 1}, {"n": 2, "dim": -2, "norm": "ortho"}, {"norm": "forward"}]


@pytest.mark.parametrize("name", ["fft", "ifft"])
@pytest.mark.parametrize("kw", CALLS)
def test_real_input_matches_torch(torch, name, kw):
    x = np.random.default_rng(0).normal(size=(3, 5, 4))
    w = np.random.default_rng(1).normal(size=(3, 7, 4, 2))
    tx, gx = torch.tensor(x, requires_grad=True), gg.tensor(x, requires_grad=True)
    ty, gy = getattr(torch.fft, name)(tx, **kw), getattr(gg.fft, name)(gx, **kw)
    assert gy.dtype == gg.complex128 and gy.shape == tuple(ty.shape)
    np.testing.assert_allclose(gy.detach().numpy(), ty.detach().resolve_conj().numpy(), atol=1e-12)
    wt = w[tuple(slice(0, s) for s in ty.shape)]
    (torch.view_as_real(ty.resolve_conj()) * torch.tensor(wt)).sum().backward()
    (gg.view_as_real(gy) * gg.tensor(wt)).sum().backward()
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("name", ["fft", "ifft"])
def test_complex_input_and_fnet_real_part_match_torch(torch, name):
    z = np.random.default_rng(2).normal(size=(4, 6, 2))
    tz, gz = torch.tensor(z, requires_grad=True), gg.tensor(z, requires_grad=True)
    ty = getattr(torch.fft, name)(torch.view_as_complex(tz), n=8, norm="ortho")
    gy = getattr(gg.fft, name)(gg.view_as_complex(gz), n=8, norm="ortho")
    (torch.view_as_real(ty.resolve_conj()) ** 3).sum().backward()
    (gg.view_as_real(gy) ** 3).sum().backward()
    np.testing.assert_allclose(gz.grad.numpy(), tz.grad.numpy(), atol=1e-12)
    x = np.random.default_rng(3).normal(size=(5, 2, 6))  # FNet: fft along two dims, then .real
    tx, gx = torch.tensor(x, requires_grad=True), gg.tensor(x, requires_grad=True)
    (torch.fft.fft(torch.fft.fft(tx, dim=2), dim=0).real ** 2).sum().backward()
    (gg.fft.fft(gg.fft.fft(gx, dim=2), dim=0).real ** 2).sum().backward()
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_dtypes_follow_torch(torch):
    assert gg.fft.fft(gg.arange(4)).dtype == gg.complex64  # integers: the default float's complex
    assert gg.fft.fft(gg.ones(3, dtype=gg.float32)).dtype == gg.complex64
    assert str(torch.fft.fft(torch.arange(4)).dtype) == "torch.complex64"


@pytest.mark.parametrize(
    ("kw", "error", "text"),
    [
        ({"n": 0}, RuntimeError, "Invalid number of data points (0)"),
        ({"norm": "x"}, RuntimeError, "Invalid normalization mode"),
        ({"dim": 3}, IndexError, "Dimension out of range"),
    ],
)
def test_bad_arguments_raise_as_torch_naming_the_op(torch, kw, error, text):
    with pytest.raises(error, match=r"^fft: .*" + text.replace("(", r"\(").replace(")", r"\)")):
        gg.fft.fft(gg.randn(3, 2), **kw)
    with pytest.raises(error):
        torch.fft.fft(torch.randn(3, 2), **kw)
