"""Round 26 (Whisper / Llama / llama2.c ports): PyTorch behaviours those programs rely on."""

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn


@pytest.mark.parametrize(
    "cls_name, shape", [("Conv1d", (2, 3, 9)), ("Conv2d", (2, 3, 6, 6)), ("Conv3d", (1, 3, 4, 4, 4))]
)
def test_conv_forward_goes_through_conv_forward(torch, cls_name, shape):
    # Whisper's Conv1d overrides _conv_forward(x, weight, bias) to cast weights to x's dtype (fp16 decode)
    seen = []

    def make(lib):
        base = getattr(lib.nn, cls_name)

        class Scaled(base):
            def _conv_forward(self, x, weight, bias):
                seen.append(lib.__name__)
                return super()._conv_forward(x, 2 * weight, None if bias is None else bias + 1)

        return Scaled(3, 4, 3, padding=1, padding_mode="reflect")

    t, g = make(torch), make(gg)
    g.load_state_dict({k: gg.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    yt, yg = t(torch.tensor(x)), g(gg.tensor(x))
    np.testing.assert_allclose(yg.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-5)
    assert seen == ["torch", "glassgrad"]


def test_conv1d_fp16_input_with_cast_weights():
    class Conv1d(nn.Conv1d):
        def _conv_forward(self, x, weight, bias):
            return super()._conv_forward(x, weight.to(x.dtype), None if bias is None else bias.to(x.dtype))

    y = Conv1d(2, 3, 3, padding=1)(gg.randn(1, 2, 5).half())
    assert y.dtype == gg.float16 and tuple(y.shape) == (1, 3, 5)


@pytest.mark.parametrize(
    "elements, test_elements, kw",
    [
        ([[1, 2], [3, 4]], [2, 3], {}),
        ([1.0, float("nan"), 2.0], [float("nan"), 1.0], {}),
        ([2, 5, 7], [5], {"invert": True}),
        ([1, 2], [1.0, 2.5], {}),
        ([1, 2], [[1], [3]], {"assume_unique": True}),
        ([3, 1], [], {}),
        (3, [2, 3], {}),
        ([2, 5], 5, {"invert": True}),
    ],
)
def test_isin_matches_torch(torch, elements, test_elements, kw):
    # Llama 3's generate: eos_reached |= torch.isin(next_token, stop_tokens)
    def arg(lib, v):
        return v if isinstance(v, int | float) else lib.tensor(v)

    want = torch.isin(arg(torch, elements), arg(torch, test_elements), **kw)
    got = gg.isin(arg(gg, elements), arg(gg, test_elements), **kw)
    assert got.dtype == gg.bool and tuple(got.shape) == tuple(want.shape)
    assert got.tolist() == want.tolist()


def test_isin_needs_a_tensor():
    with pytest.raises(TypeError, match="isin"):
        gg.isin(1, 2)


# ---------------------------------------------------------------- stft / istft / windows (Whisper audio.py)
STFT_CASES = [
    dict(n_fft=16, return_complex=True),
    dict(n_fft=16, hop_length=5, win_length=10, window="hann", center=False, return_complex=True),
    dict(n_fft=15, hop_length=4, window="hann", pad_mode="constant", normalized=True, return_complex=True),
    dict(n_fft=12, hop_length=3, window="hann", pad_mode="replicate", onesided=False, return_complex=True),
    dict(n_fft=8, hop_length=2, window="hann", pad_mode="circular", return_complex=True),
    dict(n_fft=16, hop_length=4, window="hann", return_complex=False),
]


def _stft_args(lib, case, dtype):
    kw = dict(case)
    if kw.get("window") in ("hann", "hamming"):
        make = lib.hann_window if kw["window"] == "hann" else lib.hamming_window
        kw["window"] = make(kw.get("win_length", kw["n_fft"]), dtype=dtype).requires_grad_()
    return kw


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("case", STFT_CASES)
@pytest.mark.parametrize("shape", [(50,), (2, 41)])
def test_stft_matches_torch_values_and_grads(torch, case, shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    outs, grads = [], []
    for lib in (torch, gg):
        xt = lib.tensor(x, requires_grad=True)
        kw = _stft_args(lib, case, lib.float64)
        y = lib.stft(xt, **kw)
        yr = y if not y.is_complex() else lib.view_as_real(y)
        (yr * lib.tensor(np.cos(np.arange(yr.numel())).reshape(tuple(yr.shape)))).sum().backward()
        outs.append(yr.detach().numpy())
        w = kw.get("window")
        grads.append((xt.grad.numpy(), None if w is None else w.grad.numpy()))
    assert outs[0].shape == outs[1].shape
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-10, atol=1e-10)
    for a, b in zip(grads[0], grads[1]):
        if a is not None:
            np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-10)


def test_stft_complex_input_and_method(torch):
    x = np.random.default_rng(1).standard_normal(40) + 1j * np.random.default_rng(2).standard_normal(40)
    kw = dict(n_fft=8, hop_length=3, return_complex=True)
    want = torch.tensor(x).stft(window=torch.hann_window(8, dtype=torch.float64), **kw)
    got = gg.tensor(x).stft(window=gg.hann_window(8, dtype=gg.float64), **kw)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10, atol=1e-10)


def test_stft_needs_return_complex_for_real_input():
    with pytest.raises(RuntimeError, match="return_complex"):
        gg.stft(gg.randn(40), 8)


ISTFT_CASES = [
    dict(n_fft=16, hop_length=4, window="hann"),
    dict(n_fft=16, hop_length=4, window="hann", length=45),
    dict(n_fft=16, hop_length=4, window="hann", length=70),
    dict(n_fft=15, hop_length=5, window="hamming", normalized=True, center=False),
    dict(n_fft=16, hop_length=5, win_length=10, window="hann"),
    dict(n_fft=12, hop_length=3, window="hann", onesided=False),
]


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("case", ISTFT_CASES)
@pytest.mark.parametrize("batched", [False, True])
def test_istft_matches_torch_values_and_grads(torch, case, batched):
    shape = (2, 60) if batched else (60,)
    x = np.random.default_rng(3).standard_normal(shape)
    fw = {k: v for k, v in case.items() if k != "length"}
    spec = (
        torch.stft(torch.tensor(x), **_stft_args(torch, fw, torch.float64), return_complex=True)
        .detach()
        .numpy()
    )
    spec = spec + 0.1 * np.random.default_rng(4).standard_normal(
        spec.shape
    )  # not an exact stft: tests the LS step
    outs, grads = [], []
    for lib in (torch, gg):
        s = lib.tensor(spec, requires_grad=True)
        kw = _stft_args(lib, case, lib.float64)
        y = lib.istft(s, **kw)
        (y * lib.tensor(np.sin(np.arange(y.numel())).reshape(tuple(y.shape)))).sum().backward()
        outs.append(y.detach().numpy())
        grads.append((s.grad.numpy(), kw["window"].grad.numpy()))
    assert outs[0].shape == outs[1].shape
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(grads[1][0], grads[0][0], rtol=1e-9, atol=1e-10)
    # the window's too (through the envelope it divides by: round 58)
    np.testing.assert_allclose(grads[1][1], grads[0][1], rtol=1e-9, atol=1e-10)


def test_istft_round_trip_and_nola():
    x = gg.randn(2, 64, dtype=gg.float64)
    w = gg.hann_window(16, dtype=gg.float64)
    spec = gg.stft(x, 16, 4, window=w, return_complex=True)
    np.testing.assert_allclose(gg.istft(spec, 16, 4, window=w, length=64).numpy(), x.numpy(), atol=1e-12)
    with pytest.raises(RuntimeError, match="window overlap add min"):
        gg.istft(spec, 16, 4, window=gg.zeros(16, dtype=gg.float64))


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("length", [None, 50])
def test_istft_complex_output_matches_torch(torch, length):
    rng = np.random.default_rng(5)
    spec = rng.standard_normal((8, 12)) + 1j * rng.standard_normal((8, 12))
    kw = dict(n_fft=8, hop_length=3, onesided=False, return_complex=True, length=length)
    outs, grads = [], []
    for lib in (torch, gg):
        s = lib.tensor(spec, requires_grad=True)
        y = lib.istft(s, window=lib.hann_window(8, dtype=lib.float64), **kw)
        lib.view_as_real(y).sum().backward()
        outs.append(y.detach().numpy())
        grads.append(s.grad.numpy())
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", ["hann_window", "hamming_window", "blackman_window", "bartlett_window"])
@pytest.mark.parametrize("periodic", [True, False])
def test_windows_match_torch(torch, name, periodic):
    for n in (0, 1, 2, 3, 8, 401):
        for dt in ("float32", "float64"):
            want = getattr(torch, name)(n, periodic, dtype=getattr(torch, dt)).numpy()
            got = getattr(gg, name)(n, periodic, dtype=getattr(gg, dt)).numpy()
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_allclose(got, want, atol=3e-7 if dt == "float32" else 1e-15)
    assert gg.hann_window(4).dtype == gg.float32 and gg.hann_window(4, requires_grad=True).requires_grad


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_and_unfold_take_complex_tensors(torch, mode):
    # stft pads and frames complex signals; both ops are linear with real coefficients
    rng = np.random.default_rng(6)
    z = rng.standard_normal((1, 2, 6)) + 1j * rng.standard_normal((1, 2, 6))
    outs = []
    for lib in (torch, gg):
        t = lib.tensor(z, requires_grad=True)
        y = lib.nn.functional.pad(t, (2, 3), mode=mode).unfold(-1, 3, 2)
        w = lib.tensor(np.arange(y.numel()).reshape(tuple(y.shape)) * (1 - 2j))
        lib.view_as_real(y * w).sum().backward()
        outs.append((y.detach().numpy(), t.grad.numpy()))
    np.testing.assert_allclose(outs[1][0], outs[0][0])
    np.testing.assert_allclose(outs[1][1], outs[0][1])


def test_fold_and_unfold_take_complex_tensors(torch):
    """istft's overlap-add folds complex frames; PyTorch's fold/unfold take them (round 26 review)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 4, 9)) + 1j * rng.standard_normal((1, 4, 9))
    outs = []
    for lib in (gg, torch):
        t = lib.tensor(x, requires_grad=True)
        z = lib.nn.functional.unfold(lib.nn.functional.fold(t, (4, 4), 2), 2)
        (lib.view_as_real(z) * lib.tensor(np.arange(2.0))).sum().backward()
        outs.append((z.detach().numpy(), t.grad.numpy()))
    np.testing.assert_allclose(outs[0][0], outs[1][0], atol=1e-12)
    np.testing.assert_allclose(outs[0][1], outs[1][1], atol=1e-12)
