"""Round 40, group audio: torchaudio's functional, transforms and models on glassgrad.

The one defect found: float ``arange`` was NumPy's (``start + i * step``) where PyTorch's CPU
kernel fills blocks of SIMD lanes with fused multiply-adds, so ``torch.arange(0, 51, 1.2)[25]``
is ``29.999999999999996`` and glassgrad gave ``30.0``. torchaudio's ``phase_vocoder`` (hence
``TimeStretch``) turns those times into frame indices with ``.long()``, and from frame 26 on took
the next frame: outputs differed by 6.3 on values of 8. The values are now PyTorch's, bit for bit
(``glassgrad/arange_kernel.py``).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.arange_kernel import _fma, float_arange

RS = np.random.RandomState(40)
RANGES = [(0.0, 51.0, 1.2), (0.5, 40.0, 0.1), (-3.0, 7.0, 1 / 3), (10.0, -2.0, -0.7), (0.0, 1.0, 0.01)] + [
    (float(s), float(s + st * n), float(st))
    for s, st, n in zip(RS.uniform(-5, 5, 12), RS.uniform(0.001, 2, 12) * RS.choice([-1, 1], 12),
                        RS.randint(1, 700, 12), strict=True)
]  # fmt: skip


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
def test_float_arange_bits_match_pytorch(torch, dtype):
    for start, end, step in RANGES:
        if dtype == "float16" and max(abs(start), abs(end)) > 1000:
            continue
        want = torch.arange(start, end, step, dtype=getattr(torch, dtype)).numpy()
        got = gg.arange(start, end, step, dtype=getattr(gg, dtype)).numpy()
        assert got.dtype == want.dtype and got.shape == want.shape, (start, end, step)
        assert np.array_equal(got, want), (start, end, step)


def test_float_arange_large_and_integer_steps_match_pytorch(torch):
    for args in [(0.0, 5000.0, 0.37), (-2.5, 3000.0, 1.0), (16777000.0, 16777300.0, 3.0), (0.0, 1e4, 2.0)]:
        for dt in ("float64", "float32"):
            want = torch.arange(*args, dtype=getattr(torch, dt)).numpy()
            np.testing.assert_array_equal(gg.arange(*args, dtype=getattr(gg, dt)).numpy(), want)
    want = torch.arange(torch.tensor(0.25), 9.0, 0.3).numpy()  # tensor start, default dtype
    np.testing.assert_array_equal(gg.arange(gg.tensor(0.25), 9.0, 0.3).numpy(), want)


def test_arange_times_to_frame_indices_as_phase_vocoder(torch):
    """torchaudio's phase_vocoder: frame times ``arange(0, frames, rate)``, indices ``.long()``."""
    for frames, rate in [(51, 1.2), (300, 1.3), (120, 0.9), (77, 1.7)]:
        want = torch.arange(0, frames, rate, dtype=torch.float64).long().numpy()
        got = gg.arange(0, frames, rate, dtype=gg.float64).long().numpy()
        np.testing.assert_array_equal(got, want)
    want = torch.arange(0, 51, 1.2, dtype=torch.float64)[25].item()
    assert gg.arange(0, 51, 1.2, dtype=gg.float64)[25].item() == want == 29.999999999999996
    assert gg.arange(0, 51, 1.2, dtype=gg.float64).long()[25].item() == 29  # NumPy's 30.0 gave 30


def test_integer_fma_is_exact_by_hand():
    """``_fma`` for integer multipliers against exact rational arithmetic (correct rounding)."""
    for step in [1.2, 0.1, -0.7, 1 / 3, 12345.678, 3e-9]:
        k = RS.randint(0, 2**26, 500).astype(np.float64)
        c = RS.randn(500) * 10.0 ** RS.randint(-3, 6, 500)
        got = _fma(step, k, c, np.dtype(np.float64))
        want = [float(Fraction(step) * Fraction(kk) + Fraction(cc)) for kk, cc in zip(k, c, strict=True)]
        np.testing.assert_array_equal(got, want)


def test_float_arange_by_hand_blocks_of_lanes():
    """float64: blocks of 2 x 4 lanes, each lane ``base + j * step`` from a rounded base, the tail
    one value at a time: hand-computed with exact rationals."""
    start, step, n = 0.0, 1.2, 43  # 40 values in blocks, 3 in the tail
    got = float_arange(start, start + step * n - step / 2, step, np.dtype(np.float64))
    want = []
    for i in range(n):
        if i < 40:
            base = float(Fraction(step) * (i - i % 4) + Fraction(start))
            want.append(float(Fraction(step) * (i % 4) + Fraction(base)))
        else:
            want.append(float(Fraction(step) * i + Fraction(start)))
    np.testing.assert_array_equal(got, want)
    assert len(got) == math.ceil((start + step * n - step / 2 - start) / step)


@pytest.mark.parametrize(
    "bad", [(0.0, math.inf), (0.0, math.nan), (-math.inf, 0.0, 1.0), (0.0, 1.0, math.nan)]
)
def test_arange_non_finite_bounds_are_a_clear_error(bad):
    with pytest.raises(ValueError, match="arange: unsupported range"):
        gg.arange(*bad)


def test_arange_integer_and_empty_cases_unchanged(torch):
    for args in [(5,), (2, 9, 3), (0.0, 0.0, 1.0), (3.0, 1.0, 1.0)]:
        try:
            want = torch.arange(*args)
        except RuntimeError:
            with pytest.raises(ValueError):
                gg.arange(*args)
            continue
        got = gg.arange(*args)
        assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
        np.testing.assert_array_equal(got.numpy(), want.numpy())


# --- LazyModuleMixin in a user's module: the mixin's __init__ registers the hooks ------------


def _resampler_class(lib):
    """torchaudio's ``PitchShift`` pattern: a user module with a lazily shaped kernel."""
    nn = lib.nn

    class LazyKernel(nn.modules.lazy.LazyModuleMixin, nn.Module):
        def __init__(self, taps: int) -> None:
            super().__init__()
            self.taps = taps
            self.register_buffer("window", lib.ones(taps))
            self.kernel = nn.parameter.UninitializedParameter(device=None, dtype=None)

        def initialize_parameters(self, x):
            if self.has_uninitialized_params():
                with lib.no_grad():
                    k = (
                        lib.arange(x.shape[-1] * self.taps, dtype=x.dtype).reshape(x.shape[-1], self.taps)
                        / 10
                    )
                    self.kernel.materialize(k.shape)
                    self.kernel.copy_(k * self.window)

        def forward(self, x):
            return x @ self.kernel

    return LazyKernel


def test_user_lazy_module_initializes_on_first_call_as_pytorch(torch):
    x = np.random.RandomState(0).randn(4, 3).astype(np.float32)  # the kernel materializes in float32
    outs = []
    for lib in (torch, gg):
        m = _resampler_class(lib)(5)
        assert m.has_uninitialized_params() and len(m._forward_pre_hooks) == 1
        assert isinstance(m.kernel, lib.nn.parameter.UninitializedParameter)
        y = m(lib.tensor(x))
        assert not m.has_uninitialized_params() and len(m._forward_pre_hooks) == 0
        assert type(m.kernel) is lib.nn.Parameter and type(m).__name__ == "LazyKernel"  # no cls_to_become
        assert tuple(m.kernel.shape) == (3, 5) and m.kernel.requires_grad
        y.sum().backward()
        outs.append((y.detach().numpy(), m.kernel.grad.numpy()))
    for a, b in zip(*outs, strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-6)


def test_user_lazy_layer_with_constructor_arguments(torch):
    """``class M(LazyModuleMixin, nn.Linear)``: the mixin passes its arguments on to the layer."""
    for lib in (torch, gg):

        class Relinear(lib.nn.modules.lazy.LazyModuleMixin, lib.nn.Linear):
            def initialize_parameters(self, x):
                self.seen = tuple(x.shape)

        m = Relinear(3, 2, bias=False)
        assert m.bias is None and tuple(m.weight.shape) == (2, 3) and len(m._forward_pre_hooks) == 1
        m(lib.ones(5, 3))
        assert m.seen == (5, 3) and len(m._forward_pre_hooks) == 0


def test_user_lazy_module_loads_a_state_dict_before_its_first_call(torch):
    sd = {"kernel": np.arange(6.0, dtype=np.float32).reshape(2, 3), "window": np.ones(3, dtype=np.float32)}
    for lib in (torch, gg):
        m = _resampler_class(lib)(3)
        m.load_state_dict({k: lib.tensor(v) for k, v in sd.items()})
        assert not m.has_uninitialized_params()
        np.testing.assert_array_equal(m(lib.ones(1, 2)).detach().numpy(), [[3.0, 5.0, 7.0]])


def test_builtin_lazy_layers_register_one_hook():
    lin = gg.nn.LazyLinear(4)
    conv = gg.nn.LazyConv1d(2, 3)
    bn = gg.nn.LazyBatchNorm1d()
    for m in (lin, conv, bn):
        assert len(m._forward_pre_hooks) == 1
    lin(gg.ones(2, 7))
    assert type(lin) is gg.nn.Linear and lin.weight.shape == (4, 7) and len(lin._forward_pre_hooks) == 0
