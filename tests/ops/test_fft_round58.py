"""Round 58's differential hunt on torch.fft, stft/istft and the windows, against PyTorch: istft's
gradient reaches a trainable window through the overlap-added envelope too; a complex-to-real
transform (irfft*, hfft*) refuses a complex ``out=``; the window factories (kaiser_window included)
refuse a non-float dtype, and they and stft/istft raise RuntimeErrors where PyTorch does; istft
warns when no window is given."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg

# ----------------------------------------------------------------------------- istft's window gradient
ISTFT = [
    dict(n_fft=8, hop_length=2),
    dict(n_fft=8, hop_length=2, length=37),
    dict(n_fft=8, hop_length=3, center=False),
    dict(n_fft=8, hop_length=2, normalized=True, length=45),
    dict(n_fft=8, hop_length=2, onesided=False),
    dict(n_fft=9, hop_length=3, win_length=7),
]


def _istft_grads(lib, spec, window, kw, batched):
    s = lib.tensor(spec if batched else spec[0], requires_grad=True)
    w = lib.tensor(window, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the zero-padding warning of a long length
        y = lib.istft(s, window=w, **kw)
    cot = np.cos(np.arange(y.numel())).reshape(tuple(y.shape))
    gs, gw = lib.autograd.grad(y, (s, w), lib.tensor(cot))
    return y.detach().numpy(), gs.numpy(), gw.numpy()


@pytest.mark.parametrize("kw", ISTFT, ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()))
@pytest.mark.parametrize("batched", [False, True])
def test_istft_window_gradient_matches_torch(torch, kw, batched):
    """A trainable synthesis window (a learned filterbank's): PyTorch divides by the envelope
    sum_t w^2(n - t hop) and differentiates through it; glassgrad's was detached."""
    rng = np.random.default_rng(58)
    n_fft, win = kw["n_fft"], kw.get("win_length", kw["n_fft"])
    bins = n_fft if kw.get("onesided") is False else n_fft // 2 + 1
    spec = rng.normal(size=(2, bins, 17)) + 1j * rng.normal(size=(2, bins, 17))
    if kw.get("onesided") is False:  # a two-sided spectrum: PyTorch reads its one-sided half
        spec[:, 0].imag = 0
    window = rng.uniform(0.5, 1.5, size=win)
    want = _istft_grads(torch, spec, window, kw, batched)
    got = _istft_grads(gg, spec, window, kw, batched)
    for g, t in zip(got, want, strict=True):
        assert g.shape == t.shape
        np.testing.assert_allclose(g, t, rtol=1e-10, atol=1e-12)


def test_istft_round_trip_trains_the_window(torch):
    """The istft(stft(x)) round trip with one learnable window: its gradient is PyTorch's."""
    rng = np.random.default_rng(7)
    x, w0 = rng.normal(size=(2, 64)), rng.uniform(0.5, 1.5, size=16)
    grads = []
    for lib in (torch, gg):
        w = lib.tensor(w0, requires_grad=True)
        spec = lib.stft(lib.tensor(x), 16, 4, window=w, return_complex=True)
        y = lib.istft(spec * 0.9, 16, 4, window=w, length=64)
        ((y - lib.tensor(x)) ** 2).sum().backward()
        grads.append(w.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-10, atol=1e-12)


def test_istft_warns_without_a_window(torch):
    """PyTorch warns that a rectangular window is applied; glassgrad's stft warned, its istft did not."""
    spec = gg.stft(gg.randn(50, dtype=gg.float64), 8, window=gg.hann_window(8), return_complex=True)
    with pytest.warns(UserWarning, match="A window was not provided. A rectangular window will be applied"):
        gg.istft(spec, 8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gg.istft(spec, 8, window=gg.ones(8))  # an explicit window: quiet


# ----------------------------------------------------------------------------- out= of the c2r transforms
@pytest.mark.parametrize("name", ["irfft", "hfft", "irfft2", "hfft2", "irfftn", "hfftn"])
@pytest.mark.parametrize("out_dtype", ["complex128", "complex64", "float64"])
def test_complex_to_real_out_dtype_matches_torch(torch, name, out_dtype):
    z = np.random.default_rng(1).normal(size=(3, 5)) * (1 + 1j)
    results = []
    for lib in (torch, gg):
        out = lib.zeros(1, dtype=getattr(lib, out_dtype))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the resize warning
                getattr(lib.fft, name)(lib.tensor(z), out=out)
            results.append(("ok", tuple(out.shape), out.numpy()))
        except RuntimeError:
            results.append(("raised", None, None))
    (want, got) = results
    assert got[:2] == want[:2]
    if want[0] == "ok":
        np.testing.assert_allclose(got[2], want[2], rtol=1e-12, atol=1e-12)


def test_complex_out_refusal_names_the_op():
    with pytest.raises(RuntimeError, match=r"irfft: out= has dtype glassgrad.complex128.* glassgrad.float64"):
        gg.fft.irfft(gg.randn(3, 5, dtype=gg.complex128), out=gg.empty(0, dtype=gg.complex128))


# ----------------------------------------------------------------------------- window factories' errors
WINDOWS = ["hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window"]


@pytest.mark.parametrize("name", WINDOWS)
@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_windows_refuse_integer_dtypes_as_torch(torch, name, dtype):
    """PyTorch: "<name> expects floating point dtypes" (a RuntimeError); glassgrad's kaiser_window
    returned zeros (the window truncated to integers), the others raised a plain TypeError."""
    with pytest.raises(RuntimeError):
        getattr(torch, name)(8, dtype=getattr(torch, dtype))
    with pytest.raises(
        RuntimeError, match=rf"{name}: expected a floating point dtype, got glassgrad.{dtype}"
    ):
        getattr(gg, name)(8, dtype=getattr(gg, dtype))


@pytest.mark.parametrize("name", WINDOWS)
def test_windows_refuse_a_negative_length_as_torch(torch, name):
    with pytest.raises(RuntimeError, match="non-negative"):
        getattr(torch, name)(-2)
    with pytest.raises(RuntimeError, match=rf"{name}: expected a non-negative int window_length, got -2"):
        getattr(gg, name)(-2)


@pytest.mark.parametrize("periodic", [True, False])
@pytest.mark.parametrize("dtype", [None, "float32", "float64"])
def test_kaiser_window_dtypes_match_torch(torch, periodic, dtype):
    for n in (0, 1, 2, 7):
        kw = {} if dtype is None else {"dtype": getattr(torch, dtype)}
        want = torch.kaiser_window(n, periodic, 5.0, **kw)
        got = gg.kaiser_window(n, periodic, 5.0, **({} if dtype is None else {"dtype": getattr(gg, dtype)}))
        assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=2e-6 if dtype != "float64" else 1e-12)


# ----------------------------------------------------------------------------- stft/istft argument errors
STFT_BAD = [
    dict(n_fft=8, hop_length=0),
    dict(n_fft=8, win_length=9),
    dict(n_fft=8, win_length=0),
    dict(n_fft=64, center=False),  # longer than the signal
    dict(n_fft=8, window_length=7),  # a window of the wrong length
    dict(n_fft=4, ndim=3),
]


@pytest.mark.parametrize("case", STFT_BAD, ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()))
def test_stft_argument_errors_are_runtime_errors(torch, case):
    """PyTorch's TORCH_CHECKs: RuntimeErrors (glassgrad's were ValueErrors only; they are both now)."""
    kw = dict(case)
    wl, ndim = kw.pop("window_length", kw.get("win_length") or kw["n_fft"]), kw.pop("ndim", 1)
    x = np.random.default_rng(0).normal(size=(2, 5, 5) if ndim == 3 else (50,))
    for lib in (torch, gg):
        window = lib.ones(max(wl, 1), dtype=lib.float64)
        with pytest.raises(RuntimeError):
            lib.stft(lib.tensor(x), window=window, return_complex=True, **kw)


@pytest.mark.parametrize("case", [dict(hop_length=0), dict(win_length=9), dict(window_length=5)])
def test_istft_argument_errors_are_runtime_errors(torch, case):
    kw = dict(case)
    wl = kw.pop("window_length", 8)
    spec = np.random.default_rng(0).normal(size=(5, 20)) * (1 + 1j)
    for lib in (torch, gg):
        with pytest.raises(RuntimeError), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lib.istft(lib.tensor(spec), 8, window=lib.ones(wl, dtype=lib.float64), **kw)
