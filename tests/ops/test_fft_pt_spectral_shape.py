"""Round 67 (PyTorch's test_spectral_ops.py run against glassgrad): the real-input transforms refuse
a complex input in PyTorch's words (its n-d forms name ``rfftn``), ``stft`` refuses an integer
signal as PyTorch does, and ``istft``'s zero-padding warning has PyTorch's text."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import glassgrad as gg


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("rfft", r"rfft expects a real input tensor, but got ComplexDouble"),
        ("ihfft", r"ihfft expects a real input tensor, but got ComplexDouble"),
        ("rfftn", r"rfftn expects a real-valued input tensor, but got ComplexDouble"),
        ("rfft2", r"rfftn expects a real-valued input tensor, but got ComplexDouble"),
    ],
)
def test_real_input_transforms_refuse_complex_in_pytorch_words(torch, name, pattern):
    for lib in (torch, gg):
        with pytest.raises(RuntimeError, match=pattern):
            getattr(lib.fft, name)(lib.ones(4, 4, dtype=lib.complex128))


@pytest.mark.parametrize("name", ["ihfft2", "ihfftn"])
def test_ihfftn_refuses_complex_naming_itself(torch, name):
    with pytest.raises(RuntimeError):
        getattr(torch.fft, name)(torch.ones(4, 4, dtype=torch.complex128))
    with pytest.raises(RuntimeError, match=rf"^{name}: ihfftn expects a real-valued input tensor"):
        getattr(gg.fft, name)(gg.ones(4, 4, dtype=gg.complex128))


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
def test_stft_refuses_an_integer_signal(torch, dtype):
    """PyTorch: "expected a tensor of floating point or complex values"; glassgrad promoted the
    signal to float32 and ran."""
    for lib in (torch, gg):
        x = lib.ones(40, dtype=getattr(lib, dtype))
        with pytest.raises(RuntimeError, match="expected a tensor of floating point or complex values"):
            lib.stft(x, 8, window=lib.hann_window(8), return_complex=True)


def test_istft_zero_padding_warning_has_pytorchs_text(torch):
    """PyTorch's own test matches "The length of signal is shorter than the length parameter."
    (PyTorch warns once a process, so only glassgrad's warning is asked for here)."""
    rng = np.random.default_rng(67)
    spec = rng.normal(size=(5, 9)) + 1j * rng.normal(size=(5, 9))
    results = []
    for lib in (torch, gg):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            y = lib.istft(
                lib.tensor(spec), 8, 2, window=lib.hann_window(8, dtype=lib.float64) + 0.1, length=40
            )
        results.append(y.detach().numpy())
    texts = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert any(re.match(r"The length of signal is shorter than the length parameter\.", t) for t in texts), (
        texts
    )
    np.testing.assert_allclose(results[1], results[0], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("onesided", [False, True])
def test_istft_refuses_a_complex_window_for_a_real_result(torch, onesided):
    """glassgrad returned a complex128 signal for ``return_complex=False``; PyTorch refuses."""
    rng = np.random.default_rng(5)
    bins = 9 if onesided else 16
    spec = rng.normal(size=(bins, 9)) + 1j * rng.normal(size=(bins, 9))
    window = rng.normal(size=16) + 1j * rng.normal(size=16) + 2
    for lib in (torch, gg):
        with pytest.raises(RuntimeError, match="Complex windows are incompatible with return_complex=False"):
            lib.istft(lib.tensor(spec), 16, 4, window=lib.tensor(window), onesided=onesided)


def test_istft_complex_window_with_a_complex_result_matches_torch(torch):
    rng = np.random.default_rng(6)
    spec = rng.normal(size=(16, 9)) + 1j * rng.normal(size=(16, 9))
    window = rng.normal(size=16) + 1j * rng.normal(size=16) + 2
    got, want = (
        lib.istft(lib.tensor(spec), 16, 4, window=lib.tensor(window), onesided=False, return_complex=True)
        for lib in (gg, torch)
    )
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10, atol=1e-12)


def test_stft_without_return_complex_refuses_in_pytorch_words(torch):
    for lib in (torch, gg):
        with pytest.raises(RuntimeError, match="stft requires the return_complex parameter"):
            lib.stft(lib.ones(100), 10, window=lib.hann_window(10))


@pytest.mark.parametrize("name", ["fftfreq", "rfftfreq"])
def test_fftfreq_resizing_an_out_warns_as_arange(torch, name):
    """PyTorch builds fftfreq on arange(out=), whose resize warning its test matches ("out tensor
    will be resized"); the values are those without out=."""
    got = []
    for lib in (torch, gg):
        out = lib.empty((), dtype=lib.float64)
        with pytest.warns(UserWarning, match="The out tensor will be resized to a tensor of shape"):
            getattr(lib.fft, name)(n=100, d=0.5, out=out)
        expect = getattr(lib.fft, name)(n=100, d=0.5, dtype=lib.float64)
        np.testing.assert_array_equal(out.numpy(), expect.numpy())
        got.append(out.numpy())
    np.testing.assert_allclose(got[1], got[0], rtol=1e-15, atol=0)


@pytest.mark.parametrize("shape", [(9,), ()])
def test_istft_of_too_few_dims_is_an_index_error(torch, shape):
    """PyTorch raises an IndexError (its dim -2 is out of range); glassgrad's ShapeError is one now too."""
    for lib in (torch, gg):
        with pytest.raises(IndexError):
            lib.istft(
                lib.ones(shape, dtype=lib.complex128), 16, window=lib.hann_window(16, dtype=lib.float64)
            )


FORWARD = [
    ("fft", lambda m, x: m.fft.fft(x, n=5, dim=0, norm="ortho")),
    ("ifft", lambda m, x: m.fft.ifft(x, norm="forward")),
    ("rfft", lambda m, x: m.fft.rfft(x, n=8)),
    ("fftn", lambda m, x: m.fft.fftn(x, s=(3, 7))),
    ("ifft2", lambda m, x: m.fft.ifft2(x)),
    ("rfft2", lambda m, x: m.fft.rfft2(x, norm="ortho")),
    ("irfft_of_rfft", lambda m, x: m.fft.irfft(m.fft.rfft(x), n=6)),
    ("stft", lambda m, x: m.stft(x[0], 4, 1, window=m.hann_window(4, dtype=m.float64), return_complex=True)),
]


@pytest.mark.parametrize("call", [c for _, c in FORWARD], ids=[n for n, _ in FORWARD])
def test_forward_mode_tangents_of_the_transforms_of_a_real_input(torch, call):
    """fft/ifft/rfft and their n-d forms of a real dual tensor refused ("no forward-mode rule");
    they are linear, so the tangent is the same transform of the tangent, PyTorch's values."""
    rng = np.random.default_rng(9)
    x, t = rng.normal(size=(4, 6)), rng.normal(size=(4, 6))
    got = []
    for lib in (torch, gg):
        fw = lib.autograd.forward_ad
        with fw.dual_level():
            y = call(lib, fw.make_dual(lib.tensor(x), lib.tensor(t)))
            primal, tangent = fw.unpack_dual(y)
            got.append((primal.resolve_conj().numpy(), tangent.resolve_conj().numpy()))
    for g, w in zip(got[1], got[0], strict=True):
        assert g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)
