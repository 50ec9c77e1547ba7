"""Round 62, audio codecs (hubertsiuzdak/snac, kyutai-labs/moshi's Mimi and LM,
Stability-AI/stable-audio-tools' Oobleck VAE and DiT): the three ran unchanged and matched PyTorch.
Pinned here, written fresh after their patterns: the error classes of ``index_copy_`` (Mimi's
ring KV cache writes with ``index_copy_``/``scatter_``) and of ``bincount`` (the k-means codebook
init), where glassgrad raised a ``ShapeError`` that a script's ``except IndexError`` /
``except NotImplementedError`` missed; and the codebook, KV-cache and straight-through patterns
the programs train through, at float64 rounding.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import ShapeError

RNG_SEED = 62


def _libs(torch):
    return [("torch", torch), ("glassgrad", gg)]


# ---- error classes: index_copy_ / index_add_ / index_reduce_, bincount ------------------------

_INDEX_CASES = {
    # (op, self shape, dim, index, source shape): PyTorch's class
    "copy_length": (("index_copy_", (2, 3), 1, [0, 1], (2, 3)), IndexError),
    "copy_rank": (("index_copy_", (2, 3), 1, [0, 1], (2,)), IndexError),
    "copy_2d_index": (("index_copy_", (2, 3), 1, [[0, 1]], (2, 2)), IndexError),
    "copy_0d_self": (("index_copy_", (), 0, [0], (2,)), IndexError),
    "copy_slice": (("index_copy_", (2, 3), 1, [0, 1], (3, 2)), RuntimeError),
    "copy_scalar_source": (("index_copy_", (2, 3), 1, [0], ()), RuntimeError),
    "add_length": (("index_add_", (2, 3), 1, [0, 1], (2, 3)), RuntimeError),
    "add_rank": (("index_add_", (2, 3), 1, [0, 1], (2,)), RuntimeError),
    "add_2d_index": (("index_add_", (2, 3), 1, [[0, 1]], (2, 2)), IndexError),
    "reduce_2d_index": (("index_reduce_", (2, 3), 1, [[0, 1]], (2, 2)), IndexError),
    "reduce_length": (("index_reduce_", (2, 3), 1, [0, 1], (2, 3)), RuntimeError),
}


@pytest.mark.parametrize("case", sorted(_INDEX_CASES))
def test_index_copy_add_reduce_refusals_raise_torchs_class(torch, case):
    (op, shape, dim, index, src_shape), cls = _INDEX_CASES[case]
    for _, lib in _libs(torch):
        x = lib.zeros(shape)
        args = (dim, lib.tensor(index), lib.ones(src_shape))
        if op == "index_reduce_":
            args += ("prod",)
        with pytest.raises(cls):
            getattr(x, op)(*args)
    if cls is IndexError:  # glassgrad's is a ShapeError too (its own except clauses keep working)
        with pytest.raises(ShapeError):
            getattr(gg.zeros(shape), op)(dim, gg.tensor(index), gg.ones(src_shape), *args[3:])


@pytest.mark.parametrize(
    "values", [[0.0, 1.0], [[1.0, 2.0]], [True, False]], ids=["float", "float-2d", "bool"]
)
def test_bincount_of_non_integers_is_torchs_not_implemented_error(torch, values):
    for _, lib in _libs(torch):
        with pytest.raises(NotImplementedError, match="bincount_cpu"):
            lib.bincount(lib.tensor(values))
        with pytest.raises(NotImplementedError, match="not implemented for"):
            lib.tensor(values).bincount()
    # the integral-but-misshapen inputs stay RuntimeErrors (not NotImplementedError), as PyTorch's
    for bad in ([[0, 1]], 1, [0, -1]):
        for _, lib in _libs(torch):
            with pytest.raises(RuntimeError) as info:
                lib.bincount(lib.tensor(bad))
            assert not isinstance(info.value, NotImplementedError)


# ---- Mimi: EMA k-means codebook, ring KV cache --------------------------------------------------


def _codebook_step(lib, samples, embedding_sum, cluster_usage, decay=0.99):
    """moshi's EuclideanCodebook: nearest centroid by cdist, usage and sums by scatter_add_ of
    repeated codes, EMA through ``.data.mul_().add_(alpha=)``, embedding re-derived."""
    emb = embedding_sum / cluster_usage.clamp(min=1e-5)[:, None]
    codes = lib.cdist(samples[None], emb[None], p=2)[0].argmin(dim=-1)
    usage = lib.zeros_like(cluster_usage)
    usage.scatter_add_(0, codes, lib.ones_like(codes, dtype=usage.dtype))
    cluster_usage.data.mul_(decay).add_(usage, alpha=1 - decay)
    sums = lib.zeros_like(embedding_sum)
    sums.scatter_add_(0, codes[:, None].expand(-1, samples.shape[1]), samples)
    embedding_sum.data.mul_(decay).add_(sums, alpha=1 - decay)
    bins = lib.bincount(codes, minlength=emb.shape[0])
    return codes, bins, emb


def test_mimi_ema_codebook_step_matches_torch(torch):
    rng = np.random.default_rng(RNG_SEED)
    x, e = rng.standard_normal((40, 4)), rng.standard_normal((6, 4))
    outs = []
    for _, lib in _libs(torch):
        samples, esum, usage = lib.tensor(x), lib.tensor(e * 2.0), lib.full((6,), 2.0, dtype=lib.float64)
        codes, bins, emb = _codebook_step(lib, samples, esum, usage)
        codes2, _, _ = _codebook_step(lib, samples, esum, usage)
        outs.append([t.numpy() for t in (codes, bins, emb, usage, esum, codes2)])
    for a, b in zip(*outs, strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(b, a, rtol=1e-14, atol=1e-15)


def _ring_cache(lib, k_steps, capacity, exec_masks):
    """moshi's RingKVCache.complete: writes by ``cache[0].scatter_`` through an expanded index,
    offsets advanced by ``where`` on the exec mask, positions of the ring's slots."""
    B, H, _, D = k_steps[0].shape
    cache = lib.zeros((2, B, H, capacity, D), dtype=lib.float64)
    end = lib.zeros(B, dtype=lib.long)
    positions = []
    for k, mask in zip(k_steps, exec_masks, strict=True):
        T = k.shape[2]
        idx = (lib.arange(T, dtype=lib.long) + end.view(-1, 1)) % capacity
        cache[0].scatter_(2, idx.view(B, 1, T, 1).expand(-1, H, T, D), k)
        cache[1].scatter_(2, idx.view(B, 1, T, 1).expand(-1, H, T, D), -k)
        last = end.view(-1, 1) + T - 1
        delta = lib.arange(capacity, dtype=lib.long) - last % capacity
        pos = lib.where(delta <= 0, last + delta, last + delta - capacity)
        end[:] = lib.where(lib.tensor(mask), end + T, end)
        pos = lib.where(lib.arange(capacity) >= end.view(-1, 1), lib.full_like(pos, -1), pos)
        positions.append(pos)
    return cache, end, lib.stack(positions)


def test_moshi_ring_kv_cache_writes_match_torch(torch):
    rng = np.random.default_rng(RNG_SEED)
    ks = [rng.standard_normal((2, 2, t, 3)) for t in (2, 1, 3, 1)]
    masks = [[True, True], [True, False], [True, True], [False, True]]
    outs = [
        [t.numpy() for t in _ring_cache(lib, [lib.tensor(k) for k in ks], 4, masks)]
        for _, lib in _libs(torch)
    ]
    for a, b in zip(*outs, strict=True):
        np.testing.assert_array_equal(b, a)


# ---- SNAC: factorized, normalized VQ with straight-through gradients ----------------------------


def _snac_vq(lib, z, w_in, w_out, codebook, stride):
    """SNAC's VectorQuantize: avg_pool1d by the stride, 1x1 projection, L2-normalised codes by
    ``(-dist).max(1)[1]``, straight-through, projection back, ``repeat_interleave`` on time."""
    F = lib.nn.functional
    z = F.avg_pool1d(z, stride, stride)
    z_e = F.conv1d(z, w_in)
    enc = F.normalize(z_e.transpose(1, 2).reshape(-1, z_e.shape[1]))
    cb = F.normalize(codebook)
    dist = enc.pow(2).sum(1, keepdim=True) - 2 * enc @ cb.t() + cb.pow(2).sum(1, keepdim=True).t()
    idx = (-dist).max(1)[1].view(z.shape[0], -1)
    z_q = F.embedding(idx, codebook).transpose(1, 2)
    z_q = z_e + (z_q - z_e).detach()
    return F.conv1d(z_q, w_out).repeat_interleave(stride, dim=-1), idx


def test_snac_vq_straight_through_matches_torch(torch):
    rng = np.random.default_rng(RNG_SEED)
    z, w_in, w_out, cb = (rng.standard_normal(s) for s in ((2, 6, 12), (3, 6, 1), (6, 3, 1), (8, 3)))
    outs = []
    for _, lib in _libs(torch):
        ts = [lib.tensor(a, requires_grad=True) for a in (z, w_in, w_out, cb)]
        y, idx = _snac_vq(lib, *ts, stride=2)
        (y * lib.tensor(np.linspace(-1, 1, y.numel()).reshape(tuple(y.shape)))).sum().backward()
        outs.append([y.detach().numpy(), idx.numpy()] + [t.grad.numpy() for t in ts[:3]])
        outs[-1].append(ts[3].grad)  # the codebook is reached only through the detached branch
    assert outs[0][-1] is None and outs[1][-1] is None
    for a, b in zip(outs[0][:-1], outs[1][:-1], strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-13, atol=1e-14)
