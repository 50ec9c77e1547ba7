"""Round 34, improved-diffusion and guided-diffusion's classifier guidance.

guided-diffusion's ``MixedPrecisionTrainer`` measures every parameter with
``th.norm(p, p=2, dtype=th.float32)``: PyTorch lets a norm's ``dtype`` only widen within the
input's kind, so float64 parameters are refused there; glassgrad narrowed them silently. The
VLB pieces of improved-diffusion (``normal_kl``, the discretized Gaussian decoder likelihood)
are checked against PyTorch with their gradients as the program's hybrid loss uses them.
"""

import math

import numpy as np
import pytest

import glassgrad
from glassgrad.errors import DTypeError

_DTYPES = ["float16", "float32", "float64", "complex64", "complex128", "int64"]


def _call(lib, fn, src, dst):
    x = lib.ones(3, 2, dtype=getattr(lib, src))
    calls = {
        "torch.norm": lambda: lib.norm(x, p=2, dtype=getattr(lib, dst)),
        "Tensor.norm": lambda: x.norm(2, dim=1, dtype=getattr(lib, dst)),
        "vector_norm": lambda: lib.linalg.vector_norm(x, 2, dtype=getattr(lib, dst)),
        "matrix_norm": lambda: lib.linalg.matrix_norm(x, dtype=getattr(lib, dst)),
        "linalg.norm": lambda: lib.linalg.norm(x, dtype=getattr(lib, dst)),
    }
    try:
        return str(calls[fn]().dtype).split(".")[-1]
    except RuntimeError:
        return "error"


@pytest.mark.parametrize("fn", ["torch.norm", "Tensor.norm", "vector_norm", "matrix_norm", "linalg.norm"])
def test_norm_dtype_only_widens_like_torch(torch, fn):
    for src in _DTYPES:
        for dst in _DTYPES:
            want = _call(torch, fn, src, dst)
            got = _call(glassgrad, fn, src, dst)
            assert got == want, (fn, src, dst, got, want)


def test_norm_narrowing_error_names_op_and_dtypes():
    p = glassgrad.ones(4, dtype=glassgrad.float64)
    with pytest.raises(DTypeError, match=r"norm: dtype=glassgrad.float32 .*glassgrad.float64"):
        glassgrad.norm(p, p=2, dtype=glassgrad.float32)
    with pytest.raises(DTypeError, match=r"linalg.vector_norm: .*complex"):
        glassgrad.linalg.vector_norm(glassgrad.ones(2, dtype=glassgrad.complex128), dtype=glassgrad.float64)


def test_fp16_trainer_norms_of_half_and_float_params(torch):
    """``_compute_norms``: fp16 model params and fp32 master params, both measured in float32."""
    rng = np.random.default_rng(0)
    for dt in (np.float16, np.float32):
        a = (rng.standard_normal((5, 7)) * 30).astype(dt)
        g = glassgrad.norm(glassgrad.tensor(a), p=2, dtype=glassgrad.float32).item() ** 2
        t = torch.norm(torch.tensor(a), p=2, dtype=torch.float32).item() ** 2
        assert math.isclose(g, t, rel_tol=1e-6)


def _vlb_terms(lib, x, means, log_scales, mean2, logvar2):
    """improved_diffusion/losses.py: normal_kl and discretized_gaussian_log_likelihood."""

    def cdf(v):
        return 0.5 * (1.0 + lib.tanh(math.sqrt(2.0 / math.pi) * (v + 0.044715 * lib.pow(v, 3))))

    centered = x - means
    inv = lib.exp(-log_scales)
    cdf_plus = cdf(inv * (centered + 1.0 / 255.0))
    cdf_min = cdf(inv * (centered - 1.0 / 255.0))
    log_cdf_plus = lib.log(cdf_plus.clamp(min=1e-12))
    log_one_minus = lib.log((1.0 - cdf_min).clamp(min=1e-12))
    log_probs = lib.where(
        x < -0.999,
        log_cdf_plus,
        lib.where(x > 0.999, log_one_minus, lib.log((cdf_plus - cdf_min).clamp(min=1e-12))),
    )
    logvar1 = 2.0 * log_scales
    kl = 0.5 * (
        -1.0 + logvar2 - logvar1 + lib.exp(logvar1 - logvar2) + ((means - mean2) ** 2) * lib.exp(-logvar2)
    )
    return (-log_probs).mean(dim=[1, 2]) / math.log(2.0) + kl.mean(dim=[1, 2]) / math.log(2.0)


def test_hybrid_vlb_terms_match_torch_with_gradients(torch):
    rng = np.random.default_rng(3)
    x = np.round(rng.uniform(-1, 1, (3, 4, 4)) * 127.5) / 127.5
    x[0, 0, :2] = [-1.0, 1.0]  # the edge bins take the one-sided branches
    means = x + rng.standard_normal(x.shape) * 0.02
    log_scales = rng.uniform(-4.0, -3.0, x.shape)
    mean2, logvar2 = x + 0.01, np.full(x.shape, -6.5)
    outs = []
    for lib in (torch, glassgrad):
        m = lib.tensor(means, requires_grad=True)
        s = lib.tensor(log_scales, requires_grad=True)
        out = _vlb_terms(lib, lib.tensor(x), m, s, lib.tensor(mean2), lib.tensor(logvar2))
        out.sum().backward()
        outs.append([out.detach().numpy(), m.grad.numpy(), s.grad.numpy()])
    for want, got in zip(*outs):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
