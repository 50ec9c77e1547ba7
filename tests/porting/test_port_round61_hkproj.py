"""Round 61, hkproj: Umar Jamil's from-scratch course code (pytorch-transformer, pytorch-llama,
pytorch-stable-diffusion, pytorch-paligemma) run against PyTorch.

pytorch-transformer's ``train.py`` picks its device with ``torch.has_mps``, one of the four build
flags PyTorch still serves through its module ``__getattr__`` with a deprecation warning; glassgrad
had none of them. pytorch-llama's CPU path calls ``set_default_tensor_type(torch.BFloat16Tensor)``:
the name was missing (glassgrad has no bfloat16; the name now exists and its use says so), and a
CUDA type given to ``set_default_tensor_type`` quietly set its dtype where PyTorch's CPU build
raises. The other tests pin patterns of the four programs that already agree with PyTorch.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import DTypeError

_LIBS = ["glassgrad", "torch"]


def _lib(name, torch):
    return gg if name == "glassgrad" else torch


def _rand(seed, *shape):
    return np.random.RandomState(seed).randn(*shape)


# ---------------------------------------------------------------- the deprecated build flags


@pytest.mark.parametrize("name", ["has_mps", "has_cuda", "has_cudnn", "has_mkldnn"])
def test_deprecated_build_flag_warns_as_pytorch(torch, name):
    messages = []
    for lib in (torch, gg):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = getattr(lib, name)
        assert isinstance(value, bool)
        assert [w.category for w in caught] == [UserWarning]
        assert caught[0].filename == __file__  # attributed to the reading line, as PyTorch's
        messages.append(str(caught[0].message))
    assert messages[0] == messages[1]


def test_deprecated_flags_follow_backends():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert gg.has_mps is gg.backends.mps.is_built()
        assert gg.has_cuda is gg.backends.cuda.is_built()
        assert gg.has_cudnn is gg.backends.cudnn.is_available()
        assert gg.has_mkldnn is gg.backends.mkldnn.is_available()


@pytest.mark.parametrize("lib_name", _LIBS)
def test_device_pick_with_has_mps(torch, lib_name):
    lib = _lib(lib_name, torch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        device = (
            "cuda"
            if lib.cuda.is_available()
            else "mps"
            if lib.has_mps or lib.backends.mps.is_available()
            else "cpu"
        )
    assert device == "cpu"


@pytest.mark.parametrize("name", ["has_lapack", "has_spectral", "has_openmp"])
def test_plain_build_flags(torch, name):
    assert getattr(gg, name) is getattr(torch, name)


def test_plain_build_flags_are_bools_without_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert isinstance(gg.has_mkl, bool)
        assert gg.has_lapack is True


def test_missing_attribute_still_raises_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        gg.no_such_name  # noqa: B018
    assert not hasattr(gg, "no_such_name")
    assert getattr(gg, "no_such_name", 7) == 7


# ---------------------------------------------------------------- BFloat16Tensor, CUDA tensor types


@pytest.mark.parametrize("lib_name", _LIBS)
def test_bfloat16_tensor_type_is_no_float32_tensor(torch, lib_name):
    lib = _lib(lib_name, torch)
    assert not isinstance(lib.ones(2), lib.BFloat16Tensor)
    assert lib.BFloat16Tensor.__name__ == "BFloat16Tensor"


@pytest.mark.parametrize(
    "use",
    [
        lambda: gg.set_default_tensor_type(gg.BFloat16Tensor),
        lambda: gg.set_default_tensor_type("torch.BFloat16Tensor"),
        lambda: gg.BFloat16Tensor(2, 3),
        lambda: gg.BFloat16Tensor([1.0]),
        lambda: gg.ones(2).type(gg.BFloat16Tensor),
        lambda: gg.ones(2).type("torch.BFloat16Tensor"),
    ],
    ids=["set_default_type", "set_default_name", "sizes", "data", "Tensor.type", "Tensor.type name"],
)
def test_bfloat16_tensor_type_says_why_it_cannot(use):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(DTypeError, match="no bfloat16"):
            use()
    assert gg.get_default_dtype() is gg.float32


@pytest.mark.parametrize("lib_name", _LIBS)
@pytest.mark.parametrize("kind", ["class", "name"])
def test_set_default_tensor_type_refuses_cuda_types(torch, lib_name, kind):
    lib = _lib(lib_name, torch)
    t = lib.cuda.HalfTensor if kind == "class" else "torch.cuda.FloatTensor"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(TypeError, match="not available"):
            lib.set_default_tensor_type(t)
    assert lib.get_default_dtype() is lib.float32


@pytest.mark.parametrize("lib_name", _LIBS)
def test_set_default_tensor_type_cpu_types_still_work(torch, lib_name):
    lib = _lib(lib_name, torch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            lib.set_default_tensor_type(lib.DoubleTensor)
            assert lib.get_default_dtype() is lib.float64
            lib.set_default_tensor_type("torch.HalfTensor")
            assert lib.get_default_dtype() is lib.float16
        finally:
            lib.set_default_dtype(lib.float32)


# ---------------------------------------------------------------- the programs' patterns


def _llama_decode(lib):
    """pytorch-llama's decode steps: RoPE through polar/view_as_complex, keys written into a cache
    (a plain tensor, so the write is recorded as CopySlices), GQA's repeat by expand + reshape.
    With one key head the repeat is a view of the cache and both libraries refuse the backward."""
    wq = lib.tensor(_rand(0, 16, 8), requires_grad=True)
    wk = lib.tensor(_rand(1, 8, 8), requires_grad=True)
    theta = 1.0 / (10000.0 ** (lib.arange(0, 4, 2).double() / 4))
    freqs = lib.polar(lib.ones(6, 2, dtype=lib.float64), lib.outer(lib.arange(6).double(), theta))
    cache = lib.zeros(1, 6, 2, 4, dtype=lib.float64)

    def rope(x, pos):
        xc = lib.view_as_complex(x.reshape(*x.shape[:-1], -1, 2))
        return lib.view_as_real(xc * freqs[pos : pos + 1].unsqueeze(0).unsqueeze(2)).reshape(*x.shape)

    loss = 0
    for pos in range(3):
        x = lib.tensor(_rand(10 + pos, 1, 1, 8))
        q, k = rope((x @ wq.t()).view(1, 1, 4, 4), pos), rope((x @ wk.t()).view(1, 1, 2, 4), pos)
        cache[:1, pos : pos + 1] = k
        # two key heads repeated twice: the reshape copies, so later cache writes leave it alone
        keys = cache[:1, : pos + 1][:, :, :, None, :].expand(1, pos + 1, 2, 2, 4).reshape(1, pos + 1, 4, 4)
        scores = lib.softmax(q.transpose(1, 2) @ keys.permute(0, 2, 3, 1) / 2.0, dim=-1)
        loss = loss + (scores * lib.tensor(_rand(20 + pos, *scores.shape))).sum()
    loss.backward()
    return type(cache.grad_fn).__name__, loss.item(), wq.grad.numpy(), wk.grad.numpy()


def test_llama_kv_cache_rope_gradients(torch):
    got, ref = _llama_decode(gg), _llama_decode(torch)
    assert got[0] == ref[0] == "CopySlices"
    np.testing.assert_allclose(got[1], ref[1], rtol=1e-12)
    for g, r in zip(got[2:], ref[2:], strict=True):
        np.testing.assert_allclose(g, r, rtol=1e-11, atol=1e-14)


def _llama_top_p(lib, p):
    """pytorch-llama's _sample_top_p up to the draw: sort, cumsum, mask by p, renormalise in place."""
    probs = lib.softmax(lib.tensor(_rand(3, 2, 7)) / 0.6, dim=-1)
    probs_sort, probs_idx = lib.sort(probs, dim=-1, descending=True)
    mask = lib.cumsum(probs_sort, dim=-1) - probs_sort > p
    probs_sort[mask] = 0.0
    probs_sort.div_(probs_sort.sum(dim=-1, keepdim=True))
    # the draw itself differs by design; its index path is gather's
    first = lib.gather(probs_idx, -1, lib.zeros(2, 1, dtype=lib.long))
    return probs_sort.numpy(), probs_idx.numpy(), first.numpy()


@pytest.mark.parametrize("p", [0.5, 0.9, 1.0])
def test_llama_top_p_mask(torch, p):
    for g, r in zip(_llama_top_p(gg, p), _llama_top_p(torch, p), strict=True):
        np.testing.assert_allclose(g, r, rtol=1e-14, atol=0)


def _paligemma_merge(lib):
    """PaliGemma's _merge_input_ids_with_image_features: where + masked_scatter of the image
    features into the text embeddings, and position ids from the mask's cumsum."""
    ids = lib.tensor([[9, 9, 9, 2, 5, 0, 7]])
    text = lib.tensor(_rand(4, 1, 7, 4), requires_grad=True)
    image = lib.tensor(_rand(5, 1, 3, 4), requires_grad=True)
    final = lib.zeros(1, 7, 4, dtype=lib.float64)
    final = lib.where(((ids != 9) & (ids != 0)).unsqueeze(-1).expand(-1, -1, 4), text, final)
    final = final.masked_scatter((ids == 9).unsqueeze(-1).expand(-1, -1, 4), image / 2.0)
    final = lib.where((ids == 0).unsqueeze(-1).expand(-1, -1, 4), lib.zeros_like(final), final)
    mask = lib.cat([lib.ones(1, 7, dtype=lib.long), lib.ones((1, 1))], dim=-1)
    positions = mask.cumsum(-1).masked_fill_(mask == 0, 1)
    (final * lib.tensor(_rand(6, 1, 7, 4))).sum().backward()
    return (
        final.detach().numpy(),
        text.grad.numpy(),
        image.grad.numpy(),
        positions.numpy(),
        str(positions.dtype),
    )


def test_paligemma_merge(torch):
    got, ref = _paligemma_merge(gg), _paligemma_merge(torch)
    for g, r in zip(got[:4], ref[:4], strict=True):
        np.testing.assert_allclose(g, r, rtol=1e-15, atol=0)
    assert got[4].split(".")[-1] == ref[4].split(".")[-1] == "float32"


def _smoothed_loss(lib):
    """pytorch-transformer's loss: label smoothing with the padding index ignored."""
    logits = lib.tensor(_rand(7, 6, 5), requires_grad=True)
    label = lib.tensor([3, 1, 1, 0, 4, 1])
    loss = lib.nn.CrossEntropyLoss(ignore_index=1, label_smoothing=0.1)(logits, label)
    loss.backward()
    return loss.item(), logits.grad.numpy()


def test_transformer_label_smoothing_ignore_index(torch):
    got, ref = _smoothed_loss(gg), _smoothed_loss(torch)
    np.testing.assert_allclose(got[0], ref[0], rtol=1e-14)
    np.testing.assert_allclose(got[1], ref[1], rtol=1e-13, atol=1e-16)


def test_llama_cache_view_saved_then_written_refuses_as_pytorch(torch):
    """One key head: the repeated keys are a view of the cache, saved by matmul, then overwritten."""
    for lib in (torch, gg):
        cache = lib.zeros(1, 3, 1, 2, dtype=lib.float64)
        q = lib.ones(1, 2, 1, 2, dtype=lib.float64, requires_grad=True)
        w = lib.ones(2, dtype=lib.float64, requires_grad=True)
        cache[:, 0:1] = w.view(1, 1, 1, 2)
        keys = cache[:, :1][:, :, :, None, :].expand(1, 1, 1, 2, 2).reshape(1, 1, 2, 2)
        out = q @ keys.permute(0, 2, 3, 1)
        cache[:, 1:2] = w.view(1, 1, 1, 2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation|modified in place"):
            out.sum().backward()


# ---------------------------------------------------------------- interpolate's rank refusals


@pytest.mark.parametrize("lib_name", _LIBS)
@pytest.mark.parametrize(
    "shape, mode",
    [
        ((2, 2), "nearest"),
        ((1, 1, 1, 1, 1, 2), "nearest"),
        ((1, 1, 4), "bilinear"),
        ((1, 1, 4, 4), "linear"),
        ((1, 1, 4, 4), "trilinear"),
        ((1, 1, 2, 2, 2), "bicubic"),
    ],
    ids=["2-D", "6-D", "bilinear 3-D", "linear 4-D", "trilinear 4-D", "bicubic 5-D"],
)
def test_interpolate_rank_refusal_is_not_implemented(torch, lib_name, shape, mode):
    """Stable Diffusion's Upsample calls F.interpolate; PyTorch has no kernel for these ranks and
    raises NotImplementedError, which a script may catch to fall back to another mode."""
    lib = _lib(lib_name, torch)
    with pytest.raises(NotImplementedError):
        lib.nn.functional.interpolate(lib.zeros(*shape), scale_factor=2, mode=mode)
    with pytest.raises(NotImplementedError):
        lib.nn.Upsample(scale_factor=2, mode=mode)(lib.zeros(*shape))


def test_interpolate_rank_refusal_is_still_a_shape_error():
    from glassgrad.errors import ShapeError

    with pytest.raises(ShapeError, match="spatial dims"):
        gg.nn.functional.interpolate(gg.zeros(2, 2), scale_factor=2)
