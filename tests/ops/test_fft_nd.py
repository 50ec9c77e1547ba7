"""torch.fft's n-dimensional complex transforms (fftn/ifftn/fft2/ifft2, fft.py) and its helpers
(fftfreq/rfftfreq/fftshift/ifftshift, fft_freq.py) against PyTorch: values, dtypes, gradients of
real and complex inputs with padding and cutting sizes, every norm, negative dims, and the errors."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from tests.ops.fft_parity import MANY, parity


@pytest.mark.parametrize("name", ["fftn", "ifftn"])
@pytest.mark.parametrize("kw", [*MANY, {"dim": ()}, {"s": 6}])
@pytest.mark.parametrize("complex_in", [False, True])
def test_n_dim_matches_torch(torch, name, kw, complex_in):
    parity(torch, name, kw, (3, 5, 4), complex_in)


@pytest.mark.parametrize("name", ["fft2", "ifft2"])
@pytest.mark.parametrize(
    "kw", [{}, {"s": (3, 7)}, {"dim": (0, -1), "norm": "ortho"}, {"s": (1, 2), "norm": "forward"}]
)
@pytest.mark.parametrize("complex_in", [False, True])
def test_two_dim_matches_torch(torch, name, kw, complex_in):
    parity(torch, name, kw, (4, 3, 6), complex_in)


@pytest.mark.parametrize("name", ["fftn", "ifft2"])
def test_float32_and_integers_match_torch(torch, name):
    assert parity(torch, name, {"norm": "ortho"}, (4, 6), True, dtype=np.float32).dtype == gg.complex64
    assert getattr(gg.fft, name)(gg.arange(6).reshape(2, 3)).dtype == gg.complex64


def test_scalar_and_no_dims_give_a_complex_copy(torch):
    x = gg.tensor(2.5, requires_grad=True)
    y = gg.fft.fftn(x)
    assert y.dtype == gg.complex64 and y.item() == 2.5
    y.real.backward()
    assert x.grad.item() == 1.0
    assert str(torch.fft.fftn(torch.tensor(2.5)).dtype) == "torch.complex64"


@pytest.mark.parametrize(
    ("name", "kw", "error", "text"),
    [
        ("fftn", {"dim": (0, 0)}, RuntimeError, "FFT dims must be unique"),
        ("fftn", {"dim": (0, -2)}, RuntimeError, "FFT dims must be unique"),
        (
            "ifftn",
            {"s": (2,), "dim": (0, 1)},
            RuntimeError,
            "dim and shape arguments must have the same length",
        ),
        (
            "fftn",
            {"s": (2, 2, 2)},
            RuntimeError,
            "Got shape with 3 values but input tensor only has 2 dimensions.",
        ),
        ("fft2", {"s": (0, 3)}, RuntimeError, "Invalid number of data points (0) specified"),
        ("fftn", {"s": (-2,)}, RuntimeError, "Invalid number of data points (-2) specified"),
        ("ifft2", {"norm": "bad"}, RuntimeError, 'Invalid normalization mode: "bad"'),
        (
            "fftn",
            {"dim": (0, 5)},
            IndexError,
            "Dimension out of range (expected to be in range of [-2, 1], but got 5)",
        ),
        ("fftn", {"dim": 1.0}, TypeError, "argument 'dim' must be tuple of ints, not float"),
        ("fftn", {"s": (2.5,)}, TypeError, "argument 's' must be tuple of ints, not float"),
    ],
)
def test_bad_arguments_raise_as_torch_naming_the_op(torch, name, kw, error, text):
    escaped = text.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[").replace("]", r"\]")
    with pytest.raises(error, match=rf"^{name}: .*{escaped}"):
        getattr(gg.fft, name)(gg.randn(3, 2), **kw)
    with pytest.raises(error):
        getattr(torch.fft, name)(torch.randn(3, 2), **kw)


def test_fft2_of_a_vector_names_the_dim(torch):
    with pytest.raises(IndexError, match=r"^fft2: Dimension out of range"):
        gg.fft.fft2(gg.ones(3))
    with pytest.raises(IndexError):
        torch.fft.fft2(torch.ones(3))


@pytest.mark.parametrize(
    ("name", "n"),
    [(f, n) for f in ("fftfreq", "rfftfreq") for n in (0, 1, 4, 5, 8)] + [("rfftfreq", -1), ("rfftfreq", -3)],
)
@pytest.mark.parametrize("kw", [{}, {"d": 0.5}, {"d": 3, "dtype": "float64"}])
def test_freqs_equal_torch(torch, name, n, kw):
    dtype = kw.get("dtype")
    gkw = {**kw, "dtype": getattr(gg, dtype)} if dtype else kw
    tkw = {**kw, "dtype": getattr(torch, dtype)} if dtype else kw
    ours, theirs = getattr(gg.fft, name)(n, **gkw), getattr(torch.fft, name)(n, **tkw)
    assert ours.dtype == (gg.float64 if dtype else gg.float32)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())  # PyTorch's arithmetic, bit for bit


def test_freqs_keywords_and_errors(torch):
    f = gg.fft.fftfreq(4, d=gg.tensor(2.0), requires_grad=True)
    assert f.requires_grad and f.is_leaf
    np.testing.assert_array_equal(f.detach().numpy(), torch.fft.fftfreq(4, d=torch.tensor(2.0)).numpy())
    assert np.isnan(gg.fft.fftfreq(4, d=0)[0].item()) and gg.fft.fftfreq(4, d=0)[1].item() == np.inf
    with pytest.raises(RuntimeError, match="^fftfreq: .*floating point or complex dtype"):
        gg.fft.fftfreq(4, dtype=gg.int64)
    with pytest.raises(RuntimeError, match="^fftfreq: .*negative dimension -1"):
        gg.fft.fftfreq(-1)
    with pytest.raises(TypeError, match="^fftfreq: argument 'n' must be int, not float"):
        gg.fft.fftfreq(4.0)
    for call in (lambda: torch.fft.fftfreq(4, dtype=torch.int64), lambda: torch.fft.fftfreq(-1)):
        with pytest.raises(RuntimeError):
            call()


@pytest.mark.parametrize("name", ["fftshift", "ifftshift"])
@pytest.mark.parametrize("kw", [{}, {"dim": 1}, {"dim": (0, -1)}, {"dim": -2}])
@pytest.mark.parametrize("complex_in", [False, True])
def test_shifts_match_torch(torch, name, kw, complex_in):
    parity(torch, name, kw, (3, 5, 4), complex_in)


def test_shifts_keep_dtype_and_raise_as_torch(torch):
    np.testing.assert_array_equal(gg.fft.fftshift(gg.arange(5)).numpy(), [3, 4, 0, 1, 2])
    np.testing.assert_array_equal(gg.fft.ifftshift(gg.arange(5)).numpy(), [2, 3, 4, 0, 1])
    with pytest.raises(IndexError, match=r"^fftshift: Dimension out of range"):
        gg.fft.fftshift(gg.ones(2, 2), dim=2)
    with pytest.raises(RuntimeError, match="^ifftshift: `shifts` required"):
        gg.fft.ifftshift(gg.tensor(1.0))
    for call in (
        lambda: torch.fft.fftshift(torch.ones(2, 2), dim=2),
        lambda: torch.fft.ifftshift(torch.tensor(1.0)),
    ):
        with pytest.raises((IndexError, RuntimeError)):
            call()
