"""Round 63, lucidrains' mixture-of-experts and captioning models (st-moe-pytorch's top-n gating
with capacity, z-loss and balance loss; soft-moe-pytorch's soft and dynamic-slot routing;
CoCa-pytorch's contrastive + captioning losses): the three ran unchanged and matched PyTorch.

Pinned here, written fresh after their patterns: ``F.one_hot`` with a negative ``num_classes``
other than -1 (glassgrad inferred the count where PyTorch refuses, and gave a one-hot of the wrong
width), ``one_hot`` of an empty index with ``num_classes=0``, the ``IndexError`` of
``index_select`` with a 2-D index (st-moe's distributed gather selects with ``index_select``), and
the gating, soft-routing and contrastive patterns the programs train through, at float64 rounding.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import ShapeError

RNG_SEED = 63


def _libs(torch):
    return [("torch", torch), ("glassgrad", gg)]


def _f(lib):
    return lib.nn.functional


# ---- one_hot: only -1 infers the class count -------------------------------------------------

_ONE_HOT_REFUSED = {
    "neg2": ([0, 1], -2),
    "neg3": ([2], -3),
    "zero_classes": ([0], 0),
    "empty_zero": ([], 0),
    "empty_neg2": ([], -2),
    "empty_infer": ([], -1),
}


@pytest.mark.parametrize("case", sorted(_ONE_HOT_REFUSED))
def test_one_hot_refuses_counts_pytorch_refuses(torch, case):
    index, num_classes = _ONE_HOT_REFUSED[case]
    for _, lib in _libs(torch):
        with pytest.raises(RuntimeError):
            _f(lib).one_hot(lib.tensor(index, dtype=lib.long), num_classes)


@pytest.mark.parametrize(
    ("index", "num_classes"),
    [([[0, 3], [1, 1]], -1), ([2, 0], 5), ([], 3), ([0], 1)],
    ids=["infer", "given", "empty_given", "one"],
)
def test_one_hot_values_match_torch(torch, index, num_classes):
    outs = [_f(lib).one_hot(lib.tensor(index, dtype=lib.long), num_classes) for _, lib in _libs(torch)]
    assert outs[1].dtype == gg.int64
    assert tuple(outs[1].shape) == tuple(outs[0].shape)
    np.testing.assert_array_equal(outs[1].numpy(), outs[0].numpy())


def test_one_hot_negative_count_message_names_op():
    with pytest.raises(ValueError, match=r"one_hot: expected num_classes -1 .* got -2"):
        gg.nn.functional.one_hot(gg.tensor([0, 1]), -2)


# ---- index_select with a 2-D index: PyTorch's IndexError -------------------------------------


def test_index_select_2d_index_raises_index_error(torch):
    for _, lib in _libs(torch):
        with pytest.raises(IndexError):
            lib.zeros(4).index_select(0, lib.tensor([[1, 2]]))
    with pytest.raises(ShapeError, match=r"index_select: expected a 0-d or 1-D index"):
        gg.zeros(4).index_select(0, gg.tensor([[1, 2]]))


# ---- bool inputs PyTorch has no kernel for: its NotImplementedError / RuntimeError -------------

_BOOL_REFUSED = {
    "median": (lambda t: t.median(), NotImplementedError),
    "median_dim": (lambda t: t.median(0), NotImplementedError),
    "nanmedian": (lambda t: t.nanmedian(), NotImplementedError),
    "kthvalue": (lambda t: t.kthvalue(2), NotImplementedError),
    "floor": (lambda t: t.floor(), NotImplementedError),
    "ceil": (lambda t: t.ceil(), NotImplementedError),
    "round": (lambda t: t.round(), NotImplementedError),
    "trunc": (lambda t: t.trunc(), NotImplementedError),
    "frac": (lambda t: t.frac(), NotImplementedError),
    "topk": (lambda t: t.topk(2), RuntimeError),
    "argmax": (lambda t: t.argmax(), RuntimeError),
    "argmin_dim": (lambda t: t.argmin(0), RuntimeError),
}


@pytest.mark.parametrize("case", sorted(_BOOL_REFUSED))
def test_bool_input_refusals_raise_torchs_class(torch, case):
    fn, cls = _BOOL_REFUSED[case]
    for _, lib in _libs(torch):
        with pytest.raises(cls):
            fn(lib.tensor([True, False, True]))
    with pytest.raises(TypeError, match="bool"):  # glassgrad's is a DTypeError too
        fn(gg.tensor([True, False, True]))


def test_frac_of_integers_raises_not_implemented(torch):
    for _, lib in _libs(torch):
        with pytest.raises(NotImplementedError):
            lib.tensor([3, -1]).frac()


def test_sort_of_bool_still_matches_torch(torch):
    outs = [
        lib.tensor([True, False, True, False]).sort(descending=True, stable=True) for _, lib in _libs(torch)
    ]
    np.testing.assert_array_equal(outs[1].values.numpy(), outs[0].values.numpy())
    np.testing.assert_array_equal(outs[1].indices.numpy(), outs[0].indices.numpy())


# ---- the programs' patterns, against PyTorch ------------------------------------------------


def _leaf(lib, a):
    return lib.tensor(a, dtype=lib.float64, requires_grad=True)


def _top2_gating(lib, x, w, capacity):
    """st-moe's TopNGating without its random draws: (b, n, d) -> dispatch/combine (b, n, e, c)."""
    F = _f(lib)
    logits = x @ w  # (b, n, e)
    raw = logits.softmax(dim=-1)
    gates, idx = raw.topk(2, dim=-1)
    gates, idx = gates.permute(2, 0, 1), idx.permute(2, 0, 1)  # (k, b, n)
    one_hot = F.one_hot(idx, w.shape[-1])
    mask = one_hot.to(x.dtype)
    gates = gates / gates.sum(0, keepdim=True).clamp(min=1e-9)
    # exclusive cumsum along the sequence through a negative pad, as the program does
    cum = F.pad(mask, (0, 0, 1, -1)).cumsum(dim=-2)
    positions, prev = [], 0.0
    for n in range(2):
        pos = (cum[n] + prev) * mask[n]
        mask[n] *= (pos < float(capacity)).to(x.dtype)
        prev = mask[n].sum(-2, keepdim=True) + prev
        positions.append(pos.sum(-1))
    positions = lib.stack(positions).long()
    flat = mask.sum(-1)
    gates = gates * flat
    pos_hot = F.one_hot(positions, max(int(positions.max()) + 1, capacity))[..., :capacity].to(x.dtype)
    combine = (
        gates[..., None, None] * flat[..., None, None] * one_hot[..., None] * pos_hot[..., None, :]
    ).sum(0)
    dispatch = combine.bool().type(x.dtype) + combine - combine.detach()
    balance = (raw.mean(-2) * mask[0].mean(-2)).mean() * float(w.shape[-1] ** 2)
    z_loss = lib.logsumexp(logits, dim=-1).square().mean()
    return dispatch, combine, balance, z_loss


def test_top2_gating_with_capacity_matches_torch(torch):
    rng = np.random.default_rng(RNG_SEED)
    xa, wa = rng.normal(size=(2, 9, 5)), rng.normal(size=(5, 3))
    got = []
    for _, lib in _libs(torch):
        x, w = _leaf(lib, xa), _leaf(lib, wa)
        dispatch, combine, balance, z_loss = _top2_gating(lib, x, w, capacity=4)
        out = lib.einsum(
            "b e c d, b n e c -> b n d", lib.einsum("b n d, b n e c -> b e c d", x, dispatch), combine
        )
        loss = (out**2).sum() + balance + 1e-3 * z_loss
        loss.backward()
        got.append([t.detach().numpy() for t in (dispatch, combine, out, balance, z_loss, x.grad, w.grad)])
    assert got[0][1].sum(axis=(2, 3)).min() == 0.0  # some token overflowed its experts' capacity
    for want, have in zip(*got):
        np.testing.assert_allclose(have, want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("masked", [False, True], ids=["plain", "key_padding"])
def test_soft_routing_dispatch_combine_matches_torch(torch, masked):
    rng = np.random.default_rng(RNG_SEED + 1)
    xa, sa, wa = rng.normal(size=(2, 6, 4)), rng.normal(size=(3, 2, 4)), rng.normal(size=(3, 4, 4))
    keep = np.ones((2, 6), dtype=bool)
    keep[0, 4:] = False
    got = []
    for _, lib in _libs(torch):
        x, slots, w = _leaf(lib, xa), _leaf(lib, sa), _leaf(lib, wa)
        F = _f(lib)
        xn = F.normalize(x, dim=-1) * 2.0
        logits = lib.einsum("b n d, e s d -> b n e s", xn, F.normalize(slots, dim=-1))
        if masked:
            logits = logits.masked_fill(~lib.tensor(keep)[..., None, None], -lib.finfo(logits.dtype).max)
        dispatch = logits.softmax(dim=1)
        combine = logits.flatten(2).softmax(dim=-1)
        slot_in = lib.einsum("b n d, b n e s -> b e s d", xn, dispatch)
        slot_out = lib.einsum("b e s d, e d f -> b e s f", slot_in, w).flatten(1, 2)
        out = lib.einsum("b s d, b n s -> b n d", F.gelu(slot_out), combine)
        (out**2).mean().backward()
        got.append([t.detach().numpy() for t in (out, x.grad, slots.grad, w.grad)])
    for want, have in zip(*got):
        np.testing.assert_allclose(have, want, rtol=1e-12, atol=1e-14)


def test_contrastive_and_caption_losses_match_torch(torch):
    rng = np.random.default_rng(RNG_SEED + 2)
    ta, ia = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    emb_a, tok_a = rng.normal(size=(7, 4)), rng.normal(size=(3, 5, 4))
    labels = np.array([[1, 2, 0, 0, 3], [4, 5, 6, 0, 0], [0, 0, 0, 0, 0]])
    got = []
    for _, lib in _libs(torch):
        F = _f(lib)
        t, i, emb, tok = _leaf(lib, ta), _leaf(lib, ia), _leaf(lib, emb_a), _leaf(lib, tok_a)
        temp = lib.nn.Parameter(lib.tensor([0.5], dtype=lib.float64))
        # cross attention without a detached max (CoCa's CrossAttention), then a tied head
        sim = lib.einsum("b i d, j d -> b i j", tok, emb[:3])
        sim = sim - sim.amax(dim=-1, keepdim=True)
        ctx = lib.einsum("b i j, j d -> b i d", sim.softmax(dim=-1), emb[3:6])
        logits = F.linear(F.layer_norm(tok + ctx, (4,)), emb)  # (b, n, vocab)
        caption = F.cross_entropy(logits.transpose(1, 2), lib.tensor(labels), ignore_index=0)
        sims = lib.einsum("i d, j d -> i j", F.normalize(t, dim=-1), F.normalize(i, dim=-1)) * temp.exp()
        target = lib.arange(3)
        contrastive = (F.cross_entropy(sims, target) + F.cross_entropy(sims.t(), target)) * 0.5
        (caption + 1.3 * contrastive).backward()
        got.append(
            [
                a.detach().numpy()
                for a in (caption, contrastive, t.grad, i.grad, emb.grad, tok.grad, temp.grad)
            ]
        )
    for want, have in zip(*got):
        np.testing.assert_allclose(have, want, rtol=1e-12, atol=1e-14)
