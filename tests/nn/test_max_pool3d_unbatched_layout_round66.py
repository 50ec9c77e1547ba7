"""Round 66 (PyTorch's test_pooling, test_max_pool3d_ndhwc with an unbatched input): max_pool3d of
a ``(C, D, H, W)`` volume that is a squeezed channels_last_3d one answers (and its indices) in
channels_last_3d strides, as PyTorch's CPU kernel; other unbatched layouts stay contiguous and a
4-D volume is never laid out as a 4-D image's channels-last."""

import numpy as np
import pytest

import glassgrad


def _volumes(lib, rng_seed):
    rng = np.random.default_rng(rng_seed)
    a = rng.standard_normal((1, 4, 6, 7, 5))
    b = rng.standard_normal((4, 6, 7, 5))
    base = lib.tensor(a, dtype=lib.float64)
    plain = lib.tensor(b, dtype=lib.float64)
    return {
        "squeezed_cl3d": base.contiguous(memory_format=lib.channels_last_3d)[0],
        "contiguous": plain,
        "permuted": lib.tensor(b.transpose(0, 1, 3, 2), dtype=lib.float64).permute(0, 1, 3, 2),
        "image_channels_last_like": lib.tensor(b, dtype=lib.float64).contiguous(
            memory_format=lib.channels_last
        ),
    }


@pytest.mark.parametrize("kind", ["squeezed_cl3d", "contiguous", "permuted"])
@pytest.mark.parametrize("args", [(2,), (3, 2, 1), (2, 1, 0, 2)])
def test_unbatched_max_pool3d_layout_and_values(kind, args, torch):
    x = _volumes(glassgrad, 0)[kind].requires_grad_()
    t = _volumes(torch, 0)[kind].requires_grad_()
    out, idx = glassgrad.nn.functional.max_pool3d(x, *args, return_indices=True)
    tout, tidx = torch.nn.functional.max_pool3d(t, *args, return_indices=True)
    assert out.stride() == tout.stride()
    assert idx.stride() == tidx.stride()
    np.testing.assert_array_equal(out.detach().numpy(), tout.detach().numpy())
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    cot = np.random.default_rng(1).standard_normal(tuple(out.shape))
    out.backward(glassgrad.tensor(cot))
    tout.backward(torch.tensor(cot))
    assert x.grad.stride() == t.grad.stride()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=0)


def test_unbatched_volume_is_not_read_as_an_image():
    """A (C, D, H, W) volume whose strides look like a 4-D image's channels-last (PyTorch refuses it:
    "Unsupported memory format") pools to a contiguous result, not a channels-last image."""
    x = _volumes(glassgrad, 2)["image_channels_last_like"]
    out = glassgrad.nn.functional.max_pool3d(x, 2)
    assert out.is_contiguous()
    ref = glassgrad.nn.functional.max_pool3d(x.contiguous(), 2)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
