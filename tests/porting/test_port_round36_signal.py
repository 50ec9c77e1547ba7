"""Round 36, signal processing: kymatio's scattering transforms, pytorch_wavelets' DWT/DTCWT and
ScatLayer, asteroid-filterbanks' encoders/decoders, nnAudio's spectrogram layers.

Defects found: ``torch._C._is_tracing`` was missing (asteroid-filterbanks' own copy of
``script_if_tracing`` calls it on every filterbank call), and so were ``torch.jit.script_if_tracing``
and the ``torch.signal.windows`` module. The rest ran unchanged; the last tests pin what those
programs lean on (a DWT analysis/synthesis step through grouped strided convolutions, an STFT
round trip through ``fold``-based overlap-add) against PyTorch from the same values."""

from __future__ import annotations

import functools
import itertools
import warnings

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.jit

WINDOWS = (
    "bartlett", "blackman", "cosine", "exponential", "gaussian", "general_cosine", "general_hamming",
    "hamming", "hann", "kaiser", "nuttall",
)  # fmt: skip
EXTRA = {
    "exponential": [{}, {"tau": 2.5}, {"center": 1.0, "sym": False}],
    "gaussian": [{}, {"std": 0.7}],
    "kaiser": [{}, {"beta": 3.0}, {"beta": 0.0}],
    "general_cosine": [{"a": [0.5, 0.3, 0.2]}, {"a": (1.0,)}],
    "general_hamming": [{}, {"alpha": 0.6}],
}


# ------------------------------------------------------------------ torch._C._is_tracing


def _script_if_tracing(T, fn):
    """asteroid-filterbanks' scripting.py, which copies PyTorch 1.6's decorator."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if not T._C._is_tracing():
            return fn(*args, **kwargs)
        return T.jit.script(fn)(*args, **kwargs)

    return wrapper


def test_c_is_tracing_is_false_outside_a_trace_as_pytorchs(torch):
    assert gg._C._is_tracing() is torch._C._is_tracing() is False
    assert gg._C._get_tracing_state() is torch._C._get_tracing_state() is None


def test_asteroid_style_script_if_tracing_runs_eagerly(torch):
    def restore(T, spec, n: int):
        spec[..., 0, :] *= 2**0.5
        spec[..., n // 2, :] *= 2**0.5
        return spec

    x = np.random.default_rng(0).standard_normal((2, 9, 5))
    want = _script_if_tracing(torch, functools.partial(restore, torch))(torch.tensor(x), 16)
    got = _script_if_tracing(gg, functools.partial(restore, gg))(gg.tensor(x), 16)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_c_names_what_it_has_when_asked_for_another():
    with pytest.raises(AttributeError, match="_is_tracing"):
        gg._C._no_such_hook  # noqa: B018


# ------------------------------------------------------------------ jit.script_if_tracing


def test_jit_script_if_tracing_wraps_as_pytorchs(torch):
    def f(x, k: int = 2):
        """doc"""
        return x * k

    for T in (torch, gg):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no deprecation warning at decoration or call, as PyTorch
            g = T.jit.script_if_tracing(f)
            assert g is not f and g.__wrapped__ is f
            assert g.__name__ == "f" and g.__doc__ == "doc"
            assert getattr(g, "__original_fn") is f
            assert getattr(g, "__script_if_tracing_wrapper") is True
            assert g(3, k=4) == 12
    x = np.arange(4.0)
    got = gg.jit.script_if_tracing(f)(gg.tensor(x))
    np.testing.assert_array_equal(got.numpy(), torch.jit.script_if_tracing(f)(torch.tensor(x)).numpy())
    assert "script_if_tracing" in glassgrad.jit.__all__


# ------------------------------------------------------------------ torch.signal.windows


def _window(T, name, M, **kw):
    return getattr(T.signal.windows, name)(M, **kw)


@pytest.mark.parametrize("name", WINDOWS)
def test_signal_windows_match_pytorch(torch, name):
    for M, sym, dt, extra in itertools.product(
        [0, 1, 2, 5, 8, 11], [True, False], ["float32", "float64"], EXTRA.get(name, [{}])
    ):
        kw = {"sym": sym, **extra}
        want = _window(torch, name, M, dtype=getattr(torch, dt), **kw)
        got = _window(gg, name, M, dtype=getattr(gg, dt), **kw)
        assert str(got.dtype) == str(want.dtype).replace("torch", "glassgrad")
        assert tuple(got.shape) == tuple(want.shape) == (M,)
        np.testing.assert_allclose(
            got.numpy(),
            want.numpy(),
            rtol=0,
            atol=1e-6 if dt == "float32" else 1e-13,
            err_msg=f"{name} {M} {kw}",
        )


class _DefaultDtype:
    def __init__(self, dtype):
        self.dtype, self.old = dtype, gg.get_default_dtype()

    def __enter__(self):
        gg.set_default_dtype(self.dtype)

    def __exit__(self, *exc):
        gg.set_default_dtype(self.old)


@pytest.mark.parametrize("name", WINDOWS)
def test_signal_windows_default_dtype_and_requires_grad(torch, name):
    extra = EXTRA.get(name, [{}])[0]
    with _DefaultDtype(gg.float64):
        assert _window(gg, name, 6, **extra).dtype == gg.float64
    assert _window(gg, name, 6, **extra).dtype == gg.get_default_dtype()
    for M in (1, 6):
        want = _window(torch, name, M, requires_grad=True, **extra)
        got = _window(gg, name, M, requires_grad=True, **extra)
        assert got.requires_grad is want.requires_grad is True
        assert (got.grad_fn is None) == (want.grad_fn is None), "a leaf (M == 1) or a node in the graph"


def test_signal_windows_refuse_bad_arguments_as_pytorch(torch):
    cases = [
        ("hann", -1, {}),
        ("bartlett", 4, {"dtype": "float16"}),
        ("cosine", 4, {"dtype": "int64"}),
        ("exponential", 4, {"tau": 0.0}),
        ("exponential", 4, {"center": 1.0}),  # a center needs sym=False
        ("gaussian", 4, {"std": -1.0}),
        ("kaiser", 4, {"beta": -0.5}),
        ("general_cosine", 4, {"a": []}),
        ("general_cosine", 4, {"a": 3}),
        ("cosine", 3, {"layout": "sparse_coo"}),
    ]
    for name, M, kw in cases:
        errors = []
        for T in (torch, gg):
            kw_t = {k: getattr(T, v) if k in ("dtype", "layout") else v for k, v in kw.items()}
            with pytest.raises((ValueError, TypeError)) as info:
                _window(T, name, M, **kw_t)
            errors.append((info.type, str(info.value).replace("torch.", "").replace("glassgrad.", "")))
        assert errors[0] == errors[1], (name, kw)


def test_signal_is_an_attribute_after_import_and_importable_by_path(torch):
    import glassgrad.signal.windows as w

    assert gg.signal.windows is w
    assert sorted(w.__all__) == sorted(torch.signal.windows.__all__)
    assert gg.signal.__all__ == torch.signal.__all__ == ["windows"]


def test_stft_round_trip_with_a_signal_window_matches_pytorch(torch):
    x = np.random.default_rng(1).standard_normal((2, 200))
    out = []
    for T in (torch, gg):
        win = T.signal.windows.hann(32, sym=False, dtype=T.float64)
        xt = T.tensor(x, requires_grad=True)
        spec = T.stft(xt, 32, hop_length=8, window=win, return_complex=True)
        y = T.istft(spec, 32, hop_length=8, window=win, length=200)
        (y * T.linspace(0.0, 1.0, 200, dtype=T.float64)).sum().backward()
        out.append((T.view_as_real(spec).detach().numpy(), y.detach().numpy(), xt.grad.numpy()))
    for want, got in zip(*out):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


# ------------------------------------------------------------------ what the programs lean on


def _dwt_step(T, x, h0, h1, mode):
    """pytorch_wavelets' AFB1D/SFB1D along the last dim: pad, grouped conv with stride 2, then
    the transposed conv back; both bands, one channel group per input channel."""
    C, L = x.shape[1], h0.shape[-1]
    filt = T.cat([h0.flip(-1), h1.flip(-1)], 0).view(2, 1, 1, L).repeat(C, 1, 1, 1)
    xp = T.nn.functional.pad(x, (L // 2, L // 2 - 1 + L % 2, 0, 0), mode=mode)
    lohi = T.nn.functional.conv2d(xp, filt, stride=(1, 2), groups=C)
    g = T.cat([h0, h1], 0).view(2, 1, 1, L).repeat(C, 1, 1, 1)
    back = T.nn.functional.conv_transpose2d(lohi, g, stride=(1, 2), groups=C)
    return lohi, back


@pytest.mark.parametrize("mode", ["reflect", "circular", "constant", "replicate"])
def test_dwt_analysis_synthesis_step_matches_pytorch(torch, mode):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 4, 20))
    h0, h1 = rng.standard_normal((1, 4)), rng.standard_normal((1, 4))
    out = []
    for T in (torch, gg):
        xt = T.tensor(x, requires_grad=True)
        lohi, back = _dwt_step(T, xt, T.tensor(h0), T.tensor(h1), mode)
        (back**2).sum().backward()
        out.append((lohi.detach().numpy(), back.detach().numpy(), xt.grad.numpy()))
    for want, got in zip(*out):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_fold_overlap_add_of_squared_window_matches_pytorch(torch):
    """asteroid's TorchSTFTFB divides its overlap-add by the squared window folded the same way."""
    out = []
    for T in (torch, gg):
        w = T.hann_window(16, dtype=T.float64, requires_grad=True)
        n_frame, stride = 9, 4
        sq = w.pow(2).view(1, -1, 1).repeat(1, 1, n_frame)
        ola = T.nn.functional.fold(sq, (1, (n_frame - 1) * stride + 16), (1, 16), stride=(1, stride)).squeeze(
            2
        )
        (ola * T.arange(ola.shape[-1], dtype=T.float64)).sum().backward()
        out.append((ola.detach().numpy(), w.grad.numpy()))
    for want, got in zip(*out):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_stable_modulus_function_matches_pytorch(torch):
    """kymatio's ModulusStable: a Function on (..., 2) real pairs, zero gradient at zero."""

    def modulus(T):
        class ModulusStable(T.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                out = (x[..., 0] * x[..., 0] + x[..., 1] * x[..., 1]).sqrt()
                ctx.save_for_backward(x, out)
                return out

            @staticmethod
            def backward(ctx, g):
                x, out = ctx.saved_tensors
                gi = x.mul(g.unsqueeze(-1)).div(out.unsqueeze(-1))
                gi.masked_fill_(out.unsqueeze(-1) == 0, 0)
                return gi

        return ModulusStable.apply

    x = np.random.default_rng(3).standard_normal((2, 5, 2))
    x[0, 1] = 0.0
    out = []
    for T in (torch, gg):
        z = T.view_as_real(T.fft.fft(T.view_as_complex(T.tensor(x, requires_grad=True))))
        xt = z  # through the FFT, as kymatio's cfft then modulus
        y = modulus(T)(xt.contiguous())
        leaf = T.tensor(x, requires_grad=True)
        y2 = modulus(T)(leaf)
        (y.sum() + (y2 * T.arange(5.0, dtype=T.float64)).sum()).backward()
        out.append((y.detach().numpy(), y2.detach().numpy(), leaf.grad.numpy()))
    for want, got in zip(*out):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    assert not np.isnan(out[1][2]).any()


# ------------------------------------------------------------------ _version after recorded in-place ops


def _versions_of_a_chain(T, x0):
    """nnAudio's CFP: relu, then its edges zeroed in place, then more in-place arithmetic."""
    a = T.tensor(x0, requires_grad=True)
    X = T.relu(a * 1) * 1
    seen = [X._version]
    X[:, :, :2] = 0
    seen.append(X._version)
    X[:, :, -2:] = 0
    seen.append(X._version)
    X.mul_(2)
    seen.append(X._version)
    X.add_(1)
    seen.append(X._version)
    X.sigmoid_()
    seen.append(X._version)
    Y = a * 2
    Y[0, 0] = 1
    seen.append(Y._version)
    (X + Y).sum().backward()
    V = X.view(-1)
    seen.append(V._version)
    X.mul_(3)
    seen.append((X._version, V._version))
    V.add_(1)
    seen.append((X._version, V._version))
    return seen, a.grad.numpy()


def test_version_counts_recorded_inplace_ops_as_pytorchs(torch):
    """A non-leaf changed in place while recording counts each change (it read 0 throughout)."""
    x0 = np.random.default_rng(4).standard_normal((1, 4, 6))
    want, want_grad = _versions_of_a_chain(torch, x0)
    got, got_grad = _versions_of_a_chain(gg, x0)
    assert got == want == [0, 1, 2, 3, 4, 5, 1, 5, (6, 6), (7, 7)]
    np.testing.assert_allclose(got_grad, want_grad, rtol=0, atol=1e-15)


@pytest.mark.parametrize("case", range(5))
def test_saved_values_changed_in_place_still_raise_as_pytorch(torch, case):
    def run(T):
        b = T.tensor([0.1, -0.2, 0.3], dtype=T.float64, requires_grad=True)
        y = b * 1
        if case == 0:
            z = y.exp_()
            y.add_(1)
        elif case == 1:
            r = T.relu(y)
            r[0] = 5
            z = r.sigmoid()  # relu's saved output changed: raises at backward
        elif case == 2:
            r = T.relu(y)
            r[0] = 5
            r[1] = 2
            z = r
        elif case == 3:
            r = y.exp()
            r.mul_(2)
            r.add_(1)
            z = r
        else:
            r = y.tanh()
            r.tanh_()
            r.mul_(r)
            z = r
        with pytest.raises(RuntimeError, match="modified"):
            z.sum().backward()

    run(torch)
    run(gg)


def test_forward_ad_follows_a_recorded_inplace_op_with_its_version(torch):
    import glassgrad.autograd.forward_ad as fwad

    x0, t0 = np.array([0.3, -0.4, 1.9]), np.array([1.0, 2.0, -1.0])
    out = []
    for T, fw in ((torch, torch.autograd.forward_ad), (gg, fwad)):
        w = T.tensor([0.5, 0.25, 2.0], dtype=T.float64, requires_grad=True)
        with fw.dual_level(), warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # PyTorch's make_dual scripts a helper
            x = fw.make_dual(T.tensor(x0), T.tensor(t0))
            y = x * w
            y.mul_(3)
            y.sin_()
            version = y._version
            p, t = fw.unpack_dual(y)
            out.append((version, p.detach().numpy(), t.detach().numpy()))
    assert out[0][0] == out[1][0] == 2
    for want, got in zip(out[0][1:], out[1][1:]):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-15)
