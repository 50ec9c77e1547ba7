"""torch.fft's real and Hermitian transforms (fft_real.py) against PyTorch: rfft/irfft/hfft/ihfft
and their 2-d and n-d forms; values, dtypes and gradients (PyTorch's exact adjoints: rfft's VJP
zero-fills g, irfft's doubles the interior bins) of real and complex inputs, float32 and float64,
padding and cutting, every norm, odd and even lengths, negative dims, and the errors."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from tests.ops.fft_parity import MANY, parity

ONE = [
    {},
    {"dim": 0},
    {"n": 7, "dim": 1},
    {"n": 8, "dim": -2, "norm": "ortho"},
    {"n": 2, "dim": 1, "norm": "forward"},
    {"n": 1},
    {"n": 5, "norm": "backward"},
]


def _inputs(*names):
    """(name, complex input?) pairs: the r2c transforms take real inputs only."""
    return [(n, c) for n in names for c in (False, True) if not (c and n.startswith(("rfft", "ihfft")))]


@pytest.mark.parametrize(("name", "complex_in"), _inputs("rfft", "irfft", "hfft", "ihfft"))
@pytest.mark.parametrize("kw", ONE)
def test_one_dim_matches_torch(torch, name, kw, complex_in):
    parity(torch, name, kw, (3, 5, 4), complex_in)


@pytest.mark.parametrize(("name", "complex_in"), _inputs("rfftn", "irfftn", "hfftn", "ihfftn"))
@pytest.mark.parametrize("kw", MANY)
def test_n_dim_matches_torch(torch, name, kw, complex_in):
    parity(torch, name, kw, (3, 5, 4), complex_in)


@pytest.mark.parametrize("name", ["rfft2", "irfft2", "hfft2", "ihfft2"])
@pytest.mark.parametrize(
    "kw", [{}, {"s": (3, 7)}, {"dim": (0, -1), "norm": "ortho"}, {"s": (2, 5), "norm": "forward"}]
)
def test_two_dim_matches_torch(torch, name, kw):
    parity(torch, name, kw, (4, 3, 6), complex_in=name in ("irfft2", "hfft2"))


@pytest.mark.parametrize(("name", "complex_in"), _inputs("rfft", "irfft", "hfft", "ihfft", "rfftn", "irfftn"))
def test_float32_matches_torch(torch, name, complex_in):
    y = parity(torch, name, {"norm": "ortho"}, (4, 6), complex_in, dtype=np.float32)
    assert y.dtype in (gg.float32, gg.complex64)


def test_irfft_default_length_and_odd_lengths(torch):
    z = gg.randn(3, 5, dtype=gg.complex128)
    assert gg.fft.irfft(z).shape == (3, 8)  # 2 * (m - 1)
    assert gg.fft.irfftn(z).shape == (3, 8) and gg.fft.hfft(z, dim=0).shape == (4, 5)
    x = gg.randn(2, 9, dtype=gg.float64)
    back = gg.fft.irfft(gg.fft.rfft(x), n=9)  # an odd length comes back only when given
    np.testing.assert_allclose(back.numpy(), x.numpy(), atol=1e-12)
    np.testing.assert_allclose(gg.fft.hfft(gg.fft.ihfft(x), n=9).numpy(), x.numpy(), atol=1e-12)
    t = torch.tensor(z.numpy())
    np.testing.assert_allclose(gg.fft.irfft(z, n=9).numpy(), torch.fft.irfft(t, n=9).numpy(), atol=1e-12)


def test_integer_input_takes_the_default_float(torch):
    assert gg.fft.rfft(gg.arange(4)).dtype == gg.complex64
    assert gg.fft.irfft(gg.arange(4)).dtype == gg.float32
    assert str(torch.fft.irfft(torch.arange(4)).dtype) == "torch.float32"


def test_node_names_are_torchs(torch):
    x, z = gg.randn(4, requires_grad=True), gg.randn(4, dtype=gg.complex64, requires_grad=True)
    tx, tz = torch.randn(4, requires_grad=True), torch.randn(4, dtype=torch.complex64, requires_grad=True)
    for call in (
        lambda m, x, z: m.fft.rfft(x),
        lambda m, x, z: m.fft.rfftn(x),
        lambda m, x, z: m.fft.irfft(z),
        lambda m, x, z: m.fft.hfft(z),
        lambda m, x, z: m.fft.ihfft(x),
        lambda m, x, z: m.fft.fft(x),
        lambda m, x, z: m.fft.fft(z),
        lambda m, x, z: m.fft.ifft(z),
        lambda m, x, z: m.fft.fftn(z),
    ):
        assert call(gg, x, z).grad_fn.name() == call(torch, tx, tz).grad_fn.name()
    assert gg.fft.hfft(z).grad_fn.next_functions[0][0].name() == "ConjBackward0"


@pytest.mark.parametrize(
    ("name", "args", "kw", "error", "text"),
    [
        ("rfft", "c", {}, RuntimeError, "expects a real input tensor, but got ComplexFloat"),
        ("ihfft", "c", {}, RuntimeError, "expects a real input tensor"),
        ("rfftn", "c", {}, RuntimeError, "rfftn expects a real-valued input tensor"),
        ("rfft2", "c", {}, RuntimeError, "rfftn expects a real-valued input tensor"),
        ("irfft", "c1", {}, RuntimeError, "Invalid number of data points (0) specified"),
        ("irfft", "c", {"n": 0}, RuntimeError, "Invalid number of data points (0) specified"),
        ("rfft", "r", {"n": -1}, RuntimeError, "Invalid number of data points (-1) specified"),
        ("hfft", "c", {"norm": "x"}, RuntimeError, 'Invalid normalization mode: "x"'),
        ("rfft2", "r", {"norm": "ortho1"}, RuntimeError, "Invalid normalization mode"),
        (
            "irfft",
            "c",
            {"dim": 2},
            IndexError,
            "Dimension out of range (expected to be in range of [-2, 1], but got 2)",
        ),
        ("irfftn", "c", {"dim": (0, -3)}, IndexError, "Dimension out of range"),
        ("rfftn", "r", {"dim": ()}, RuntimeError, "must transform at least one axis"),
        ("irfftn", "c", {"dim": ()}, RuntimeError, "must transform at least one axis"),
        ("ihfftn", "r", {"dim": ()}, RuntimeError, "must transform at least one axis"),
        ("hfftn", "c", {"dim": (1, 1)}, RuntimeError, "FFT dims must be unique"),
        ("irfft2", "c", {"s": (2,)}, RuntimeError, "dim and shape arguments must have the same length"),
        ("rfft", "h", {}, RuntimeError, "Unsupported dtype"),
    ],
)
def test_bad_arguments_raise_as_torch_naming_the_op(torch, name, args, kw, error, text):
    def make(m):
        return {
            "c": lambda: m.randn(3, 2, dtype=m.complex64),
            "c1": lambda: m.randn(3, 1, dtype=m.complex64),
            "r": lambda: m.randn(3, 2),
            "h": lambda: m.ones(3, 2, dtype=m.float16),
        }[args]()

    escaped = text.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[").replace("]", r"\]")
    with pytest.raises(error, match=rf"^{name}: .*{escaped}"):
        getattr(gg.fft, name)(make(gg), **kw)
    with pytest.raises(error):
        getattr(torch.fft, name)(make(torch), **kw)
