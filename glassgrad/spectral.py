"""``torch.stft`` / ``torch.istft`` and the window factories (``hann_window``, ``hamming_window``,
``blackman_window``, ``bartlett_window``), built from differentiable ops (pad, ``unfold``, ``fft``,
``fold``), so gradients reach the signal and the window (port round 26: Whisper's
``log_mel_spectrogram`` is ``torch.stft(audio, 400, 160, window=torch.hann_window(400))``).

Frames follow PyTorch: with ``center`` the signal is padded by n_fft // 2 each side (``pad_mode``),
frame t covers ``[t * hop, t * hop + n_fft)``, and a window shorter than n_fft sits in the middle,
zero-padded. ``istft`` overlap-adds the windowed inverse frames and divides by the overlap-added
squared window, as PyTorch's (it refuses a window whose envelope vanishes, NOLA).
"""

from __future__ import annotations

import contextlib
import operator
import warnings
from typing import Any

import numpy as np

import glassgrad.nn.functional as F
from glassgrad import dtypes, fft
from glassgrad.backend import quietly
from glassgrad.errors import ArgumentError, DTypeError, IndexOutOfRangeError, ShapeError
from glassgrad.factories import _check, _float, _make
from glassgrad.fft_common import real_of
from glassgrad.operand_errors import flag
from glassgrad.ops.complex import complex as _complex
from glassgrad.ops.complex import imag, real, view_as_real
from glassgrad.ops.single_kernels import kaiser_single
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = [
    "stft", "istft", "hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window",
]  # fmt: skip


def _window(
    name: str, n: int, periodic: bool, dtype: Any, layout: Any, device: Any, pin: bool, rg: bool, f: Any
) -> Tensor:
    """``f(k, m)`` at k = 0 .. n - 1 with m = n (periodic) or n - 1 (symmetric), computed in the window's
    dtype in PyTorch's order of operations, so float32 windows round as PyTorch's do."""
    _check(name, device, layout, pin)
    n, periodic = window_length(name, n), flag(name, "periodic", periodic)
    dt = window_dtype(name, dtype)
    k = np.arange(n, dtype=dt)
    arr = np.ones(n) if n <= 1 else f(k, float(n if periodic else n - 1))
    return _make(np.asarray(arr, dtype=dt), rg)


def window_dtype(name: str, dtype: Any) -> np.dtype:
    """A window factory's ``dtype`` (None: the default float), refused unless floating point: a
    ``DTypeError``, a RuntimeError too, as PyTorch's "expects floating point dtypes"."""
    dt = _float(dtype)
    if dt.kind != "f":
        raise DTypeError(f"{name}: expected a floating point dtype, got {dtype}")
    return dt


def window_length(name: str, n: Any) -> int:
    """A window factory's ``window_length`` as PyTorch's argument parser takes it: any integer
    (a NumPy integer, a 0-d integer tensor: TorchIO's ``hann_window(np.uint16(10))``); a bool or a
    float is a TypeError, a negative length a ValueError (and a RuntimeError, PyTorch's class)."""
    if not isinstance(n, bool):
        with contextlib.suppress(TypeError):  # not an integer: refused below, by its type
            n = operator.index(n)
    if not isinstance(n, int) or isinstance(n, bool):
        kind = (
            type(n).__name__
            if type(n).__module__ == "builtins"
            else f"{type(n).__module__}.{type(n).__name__}"
        )
        raise TypeError(f"{name}(): argument 'window_length' (position 1) must be int, not {kind}")
    if n < 0:
        raise ArgumentError(f"{name}: expected a non-negative int window_length, got {n}")
    return n


_checked_length = window_length  # (kaiser_window's parameter shadows the name)


def _cos(t: np.ndarray) -> np.ndarray:
    """cos of t's values rounded once to t's dtype: NumPy's float32 cos is up to 2 ulps off where
    PyTorch's is under one, and a float32 window cast to float64 keeps those ulps (BigVGAN's mel)."""
    return np.cos(t.astype(np.float64)).astype(t.dtype)


def _blackman(t: np.ndarray) -> np.ndarray:
    return _cos(t * 4) * 0.08 - _cos(t * 2) * 0.5 + 0.42


def _bartlett(k: np.ndarray, m: float) -> np.ndarray:
    t, half = k * (2 / m), (int(m) >> 1) + 1  # rising over the first half of the m + 1 points, then falling
    return np.concatenate([t[:half], 2 - t[half:]])


def hann_window(window_length: int, periodic: bool = True, *, dtype: Any = None, layout: Any = None,
                device: Any = None, pin_memory: bool = False, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """``0.5 - 0.5 cos(2 pi k / m)``; shape ``(window_length,)``."""
    return _window("hann_window", window_length, periodic, dtype, layout, device, pin_memory, requires_grad,
                   lambda k, m: _cos(k * (2 * np.pi / m)) * -0.5 + 0.5)  # fmt: skip


def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54, beta: float = 0.46, *,
                   dtype: Any = None, layout: Any = None, device: Any = None, pin_memory: bool = False,
                   requires_grad: bool = False) -> Tensor:  # fmt: skip
    """``alpha - beta cos(2 pi k / m)``; shape ``(window_length,)``."""
    return _window("hamming_window", window_length, periodic, dtype, layout, device, pin_memory, requires_grad,
                   lambda k, m: _cos(k * (2 * np.pi / m)) * -beta + alpha)  # fmt: skip


def blackman_window(window_length: int, periodic: bool = True, *, dtype: Any = None, layout: Any = None,
                    device: Any = None, pin_memory: bool = False, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """``0.42 - 0.5 cos(2 pi k / m) + 0.08 cos(4 pi k / m)``; shape ``(window_length,)``."""
    return _window("blackman_window", window_length, periodic, dtype, layout, device, pin_memory, requires_grad,
                   lambda k, m: _blackman(k * (np.pi / m)))  # fmt: skip


def bartlett_window(window_length: int, periodic: bool = True, *, dtype: Any = None, layout: Any = None,
                    device: Any = None, pin_memory: bool = False, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """The triangle ``1 - |2k / m - 1|``; shape ``(window_length,)``."""
    return _window("bartlett_window", window_length, periodic, dtype, layout, device, pin_memory, requires_grad,
                   _bartlett)  # fmt: skip


def _frame_window(name: str, window: Tensor | None, n_fft: int, win_length: int, like: Tensor) -> Tensor:
    """The window as n_fft taps: ones when absent, a shorter one centred between zeros."""
    if window is None:
        window = Tensor(np.ones(win_length, dtype=real_of(like._data.dtype)), _wrap=True)
    if window.ndim != 1 or window.shape[0] != win_length:
        raise ShapeError(
            f"{name}: expected a 1-D window of win_length={win_length} values, got shape {tuple(window.shape)}"
        )
    left = (n_fft - win_length) // 2
    return F.pad(window, (left, n_fft - win_length - left)) if win_length < n_fft else window


def _parts(fn: Any, v: Tensor) -> Tensor:
    """``fn(v)``; for a complex ``v``, applied to its real and imaginary parts (fold is a real op)."""
    return _complex(fn(real(v)), fn(imag(v))) if v.dtype.is_complex else fn(v)


def _sizes(name: str, n_fft: int, hop_length: int | None, win_length: int | None) -> tuple[int, int]:
    hop = n_fft // 4 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length
    if n_fft <= 0 or hop <= 0 or not 0 < win <= n_fft:
        raise ArgumentError(f"{name}: expected 0 < win_length <= n_fft and hop_length > 0, got n_fft={n_fft}, "
                            f"hop_length={hop}, win_length={win}")  # fmt: skip
    return hop, win


def stft(input: Tensor, n_fft: int, hop_length: int | None = None, win_length: int | None = None,  # noqa: A002
         window: Tensor | None = None, center: bool = True, pad_mode: str = "reflect", normalized: bool = False,
         onesided: bool | None = None, return_complex: bool | None = None,
         align_to_window: bool | None = None) -> Tensor:  # fmt: skip
    """Short-time Fourier transform: the DFT of each windowed frame.

    ``align_to_window`` (``center=False`` only): frames start where the ``win_length`` window
    starts, every ``hop`` samples, so ``n_frames = 1 + (L - win_length) // hop`` (the input is
    zero-padded by the window's offset inside the ``n_fft`` frame).

    Shape:
        input ``(L,)`` or ``(B, L)``; returns ``(B?, n_freq, n_frames)`` complex (``return_complex=False``:
        ``(..., 2)`` real, deprecated as PyTorch), ``n_freq = n_fft // 2 + 1`` when onesided (the
        default for a real input and window) else n_fft; ``n_frames = 1 + (L' - n_fft) // hop``
        with L' = L + 2 (n_fft // 2) under ``center``.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"stft: expected input to be a Tensor, got {type(input).__name__}")
    if not (input.dtype.is_floating_point or input.dtype.is_complex):  # PyTorch's refusal of ints
        raise RuntimeError(f"stft: expected a tensor of floating point or complex values, got {input.dtype}")
    is_complex = input.dtype.is_complex or (window is not None and window.dtype.is_complex)
    if return_complex is None and not is_complex:
        raise RuntimeError(
            f"stft requires the return_complex parameter be given for real inputs (got {input.dtype}, shape "
            f"{tuple(input.shape)}): True for a complex result (view_as_real gives the (..., 2) layout), or "
            "the deprecated False"
        )
    if input.ndim not in (1, 2):
        raise ShapeError(f"stft: expected a 1D or 2D tensor, got shape {tuple(input.shape)}")
    hop, win = _sizes("stft", n_fft, hop_length, win_length)
    if window is None:
        warnings.warn("A window was not provided. A rectangular window will be applied, which is known to cause "
                      "spectral leakage. Other windows such as torch.hann_window or torch.hamming_window are "
                      "recommended to reduce spectral leakage. To suppress this warning and use a rectangular "
                      "window, explicitly set `window=torch.ones(n_fft, device=<device>)`.",
                      UserWarning, stacklevel=user_stacklevel())  # PyTorch's text  # fmt: skip
    if center and align_to_window is not None:
        raise RuntimeError("stft align_to_window should only be set when center = false")
    x = input if input.ndim == 2 else input.unsqueeze(0)
    if center:  # F.pad's reflect/replicate/circular modes take (N, C, L)
        x = F.pad(x.unsqueeze(0), (n_fft // 2, n_fft // 2), mode=pad_mode).squeeze(0)
    elif align_to_window and win < n_fft:  # the window sits (n_fft - win) // 2 into each frame
        left = (n_fft - win) // 2
        x = F.pad(x, (left, n_fft - win - left))
    if x.shape[-1] < n_fft:
        raise ShapeError(f"stft: expected n_fft={n_fft} <= the (padded) signal length {x.shape[-1]}")
    frames = x.unfold(-1, n_fft, hop) * _frame_window("stft", window, n_fft, win, input)  # (B, T, n_fft)
    onesided = not is_complex if onesided is None else onesided
    if onesided and is_complex:
        raise RuntimeError("stft: cannot have onesided output if window or input is complex")
    norm = "ortho" if normalized else "backward"
    spec = (
        fft.rfft(frames, dim=-1, norm=norm) if onesided else fft.fft(frames, dim=-1, norm=norm)
    ).transpose(1, 2)
    spec = spec if input.ndim == 2 else spec.squeeze(0)
    if return_complex is False:
        warnings.warn("stft with return_complex=False is deprecated; call torch.view_as_real on the complex "
                      "output to recover the old return format.", UserWarning, stacklevel=user_stacklevel())  # fmt: skip
        return view_as_real(spec)
    return spec


def istft(input: Tensor, n_fft: int, hop_length: int | None = None, win_length: int | None = None,  # noqa: A002
          window: Tensor | None = None, center: bool = True, normalized: bool = False, onesided: bool | None = None,
          length: int | None = None, return_complex: bool = False) -> Tensor:  # fmt: skip
    """Inverse of ``stft``: inverse DFT of each frame, windowed, overlap-added, divided by the
    overlap-added squared window, trimmed (``center``) and cut or zero-padded to ``length``.

    Shape:
        input ``(B?, n_freq, n_frames)`` complex; returns ``(B?, length)`` (default
        ``n_fft + hop (n_frames - 1)``, less 2 (n_fft // 2) under ``center``).
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"istft: expected input to be a Tensor, got {type(input).__name__}")
    if not input.dtype.is_complex:
        raise RuntimeError("istft requires a complex-valued input tensor")
    if input.ndim not in (2, 3):  # too few dims: PyTorch's IndexError (its dim -2 is out of range)
        kind = IndexOutOfRangeError if input.ndim < 2 else ShapeError
        raise kind(f"istft: expected a 2D or 3D complex tensor, got shape {tuple(input.shape)}")
    hop, win = _sizes("istft", n_fft, hop_length, win_length)
    if window is None:
        warnings.warn("A window was not provided. A rectangular window will be applied. Please provide the same "
                      "window used by stft to make the inversion lossless. To suppress this warning and use a "
                      "rectangular window, explicitly set `window=torch.ones(n_fft, device=<device>)`.",
                      UserWarning, stacklevel=user_stacklevel())  # PyTorch's text  # fmt: skip
    if window is not None and window.dtype.is_complex and not return_complex:
        # PyTorch's refusal: the real result would have been complex (or silently lost its imaginary part)
        raise RuntimeError("istft: Complex windows are incompatible with return_complex=False")
    spec = input if input.ndim == 3 else input.unsqueeze(0)
    n_frames = spec.shape[-1]
    onesided = spec.shape[1] != n_fft if onesided is None else onesided
    if spec.shape[1] != (n_fft // 2 + 1 if onesided else n_fft):
        raise RuntimeError(f"istft: expected {n_fft // 2 + 1 if onesided else n_fft} frequency bins for "
                           f"n_fft={n_fft} (onesided={onesided}), got {spec.shape[1]}")  # fmt: skip
    norm = "ortho" if normalized else "backward"
    frames = spec.transpose(1, 2)  # (B, T, n_freq)
    if onesided and return_complex:
        raise RuntimeError("istft: cannot have onesided output if return_complex=True")
    if return_complex:
        frames = fft.ifft(frames, n=n_fft, dim=-1, norm=norm)
    else:  # a real signal: PyTorch reads only the one-sided half of a full spectrum, through irfft
        frames = fft.irfft(frames if onesided else frames[..., : n_fft // 2 + 1], n=n_fft, dim=-1, norm=norm)
    w = _frame_window("istft", window, n_fft, win, frames)
    total = n_fft + hop * (n_frames - 1)
    ola = lambda v: F.fold(v.transpose(1, 2), (1, total), (1, n_fft), stride=(1, hop))[:, 0, 0]  # noqa: E731
    y = _parts(ola, frames * w)
    # not detached: PyTorch's gradient reaches a trainable window through the envelope too
    w2 = (w * w).reshape(1, n_fft, 1).expand(1, n_fft, n_frames)
    env = F.fold(w2, (1, total), (1, n_fft), stride=(1, hop))[0, 0, 0]
    start = n_fft // 2 if center else 0
    end = total - (n_fft // 2 if center else 0) if length is None else start + length
    y, env = y[:, start:end], env[start:end]
    low = float(env.detach().abs().min()) if env.numel() else 1.0
    if low < 1e-11:
        raise RuntimeError(f"istft: window overlap add min: {low} (the window fails NOLA)")
    y = y / env
    if end > total:  # PyTorch pads the quotient, with this warning
        warnings.warn("The length of signal is shorter than the length parameter. Result is being padded with "
                      "zeros in the tail. Please check your center and hop_length settings.", UserWarning,
                      stacklevel=user_stacklevel())  # PyTorch's text  # fmt: skip
        y = F.pad(y, (0, end - total))
    return y if input.ndim == 3 else y.squeeze(0)


# x.stft(...) / x.istft(...), as PyTorch's Tensor methods
Tensor.stft = stft
Tensor.istft = istft


def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *, dtype: Any = None,
                  layout: Any = None, device: Any = None, requires_grad: bool = False,
                  pin_memory: bool = False) -> Tensor:  # fmt: skip
    """The Kaiser window I0(β √(1 − (2n/(N − 1) − 1)²)) / I0(β); ``periodic`` drops the last point of
    a window of N + 1, as PyTorch's. Shape: (window_length,)."""
    import glassgrad as gg

    window_length = _checked_length("kaiser_window", window_length)
    # refused unless floating point, as PyTorch (an integer dtype truncated the window to zeros)
    dtype = dtypes.from_np_dtype(window_dtype("kaiser_window", dtype))
    periodic = flag("kaiser_window", "periodic", periodic)  # PyTorch's parser: "no" is not False
    if window_length <= 1:
        return gg.ones(window_length, dtype=dtype, requires_grad=requires_grad)
    n = window_length + 1 if periodic else window_length
    # float32 and the half types: PyTorch's float kernel and its rounding (BigVGAN's float32 filters)
    values = np.kaiser(n, beta) if dtype == gg.float64 else quietly(kaiser_single, np, n, beta)
    return gg.tensor(values[:window_length], dtype=dtype, requires_grad=requires_grad)
