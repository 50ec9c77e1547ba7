"""Round 30, generative models (StyleGAN2, NCSN, rectified flow, consistency models): distilled repros.

The RectifiedFlow repo's NCSN++ `upsample_conv_2d` flips its kernel with `w[..., ::-1, ::-1]`, which
PyTorch refuses (ValueError); glassgrad used to return NumPy's reversed view, so the program ran
here and stopped there. The rest pins what StyleGAN2 leans on: a modulated, demodulated weight
through grouped `conv_transpose2d`, a blur, and the path-length penalty's double backward."""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad as gg


def test_negative_slice_step_refused_as_torch(torch):
    w = np.arange(2 * 3 * 3 * 3, dtype=np.float32).reshape(2, 3, 3, 3)
    with pytest.raises(ValueError, match="step must be greater than zero"):
        torch.tensor(w)[..., ::-1, ::-1]
    with pytest.raises(
        ValueError, match=r"getitem: expected slice steps greater than zero.*-1.*\(2, 3, 3, 3\)"
    ):
        gg.tensor(w)[..., ::-1, ::-1]
    x = gg.zeros(4)
    with pytest.raises(ValueError, match="__setitem__: expected slice steps greater than zero"):
        x[::-2] = 1.0
    assert x.tolist() == [0.0, 0.0, 0.0, 0.0]  # nothing written
    np.testing.assert_array_equal(gg.tensor(w).flip((-2, -1)).numpy(), torch.tensor(w).flip((-2, -1)).numpy())


def test_zero_and_tensor_slice_steps_as_torch(torch):
    a = np.arange(10.0)
    with pytest.raises(ValueError):
        torch.tensor(a)[::0]
    with pytest.raises(ValueError, match="got a zero step 0"):
        gg.tensor(a)[::0]
    got = gg.tensor(a)[1 :: gg.tensor(3)]
    want = torch.tensor(a)[1 :: torch.tensor(3)]
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def _modulated_up(lib, x, w, style, blur):
    """rosinality's fused ModulatedConv2d(upsample=True) + Blur on the native upfirdn2d path."""
    b, cin, h, wd = x.shape
    cout, k = w.shape[1], w.shape[-1]
    weight = (1 / math.sqrt(cin * k * k)) * w * style.view(b, 1, cin, 1, 1)
    demod = lib.rsqrt(weight.pow(2).sum([2, 3, 4]) + 1e-8)
    weight = weight * demod.view(b, cout, 1, 1, 1)
    weight = weight.view(b, cout, cin, k, k).transpose(1, 2).reshape(b * cin, cout, k, k)
    out = lib.nn.functional.conv_transpose2d(x.view(1, b * cin, h, wd), weight, padding=0, stride=2, groups=b)
    out = out.view(b, cout, *out.shape[2:])
    n, c, oh, ow = out.shape
    out = lib.nn.functional.pad(out.reshape(-1, 1, oh, ow), [1, 1, 1, 1])
    kern = lib.flip(blur, [0, 1]).view(1, 1, *blur.shape)
    return lib.nn.functional.conv2d(out, kern).reshape(n, c, oh - 1, ow - 1)


def test_stylegan2_modulated_upsample_and_path_penalty_match_torch(torch):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 4, 4)), rng.standard_normal((1, 5, 3, 3, 3))
    s, noise = rng.standard_normal((2, 3)), rng.standard_normal((2, 5, 8, 8))
    k = np.outer([1.0, 3, 3, 1], [1.0, 3, 3, 1])
    k = k / k.sum() * 4
    res = {}
    for lib in (gg, torch):
        latents = lib.tensor(s, requires_grad=True)
        wt = lib.tensor(w, requires_grad=True)
        img = _modulated_up(lib, lib.tensor(x), wt, latents, lib.tensor(k))
        (grad,) = lib.autograd.grad((img * lib.tensor(noise)).sum(), latents, create_graph=True)
        lengths = lib.sqrt(grad.pow(2).sum(1))
        penalty = (lengths - lengths.mean().detach()).pow(2).mean()
        penalty.backward()
        res[lib.__name__] = (img.detach().numpy(), lengths.detach().numpy(), wt.grad.numpy())
    for a, b in zip(res["glassgrad"], res["torch"]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
