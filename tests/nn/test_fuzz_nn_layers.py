"""A compact seeded randomized parity sweep of the layers (normalization, embedding, attention,
recurrent, softmax, losses) against PyTorch in float64, and the regressions the larger
differential fuzz found: ``group_norm`` refuses one value per group as PyTorch,
``scale_grad_by_freq`` for ``embedding``/``Embedding``/``embedding_bag`` (it raised)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F


def _run(torch, fn, *arrays, nograd=()):
    """``fn(lib, *tensors)`` on both libraries; compare the outputs and the input gradients."""
    outs, ins = [], []
    for lib in (torch, gg):
        ts = [
            lib.tensor(a.copy(), requires_grad=a.dtype.kind == "f" and i not in nograd)
            for i, a in enumerate(arrays)
        ]
        out = fn(lib, *ts)
        out = list(out) if isinstance(out, (tuple, list)) else [out]
        outs.append(out)
        ins.append(ts)
    w = [np.random.default_rng(1).standard_normal(tuple(o.shape)) for o in outs[0]]
    for lib, out in zip((torch, gg), outs):
        terms = [
            (o * lib.tensor(v)).sum() for o, v in zip(out, w) if o.requires_grad and o.dtype == lib.float64
        ]
        if terms:
            sum(terms).backward()
    for a, b in zip(*outs):
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-7, atol=1e-9)
    for a, b in zip(*ins):
        if a.requires_grad:
            np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=1e-6, atol=1e-8)


def _state(module):
    return {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}


@pytest.mark.parametrize("seed", range(4))
def test_layers_randomized_parity(torch, seed):
    rng = np.random.default_rng(seed)
    tF = torch.nn.functional
    n, c = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    x = rng.standard_normal((n, c, int(rng.integers(2, 4)))) * 2 + 1
    mom = None if rng.integers(2) else 0.3
    affine, track = bool(rng.integers(2)), bool(rng.integers(2))

    def bn(lib, *xs):  # several steps, train then eval, running statistics as outputs
        m = lib.nn.BatchNorm1d(c, momentum=mom, affine=affine, track_running_stats=track, dtype=lib.float64)
        outs = [m(xs[0]), m(xs[1])]
        m.eval()
        return [*outs, m(xs[0]), *[b for b in m.buffers() if b.dtype == lib.float64]]

    _run(torch, bn, x, x[::-1].copy() * 0.5)
    groups = int(rng.choice([g for g in range(1, c + 1) if c % g == 0]))
    _run(torch, lambda lib, a: (tF if lib is torch else F).group_norm(a, groups), x)
    _run(torch, lambda lib, a: (tF if lib is torch else F).rms_norm(a, x.shape[-1:]), x)
    _run(torch, lambda lib, a: (tF if lib is torch else F).local_response_norm(a, 2), x)

    # embedding: negative padding_idx, max_norm, scale_grad_by_freq
    v, d = 5, 3
    idx = rng.integers(0, v, size=(2, 4))
    table = rng.standard_normal((v, d))

    def emb(lib, w):
        w = w.detach().clone().requires_grad_(True)  # max_norm renorms it in place
        out = (tF if lib is torch else F).embedding(
            lib.tensor(idx), w, padding_idx=-2, max_norm=1.5, scale_grad_by_freq=True
        )
        out.backward(lib.tensor(np.ones(out.shape)))
        return out.detach(), w.grad, w.detach()

    _run(torch, emb, table, nograd=(0,))

    # attention, GQA and masks
    q, k = rng.standard_normal((2, 4, 3, 2)), rng.standard_normal((2, 2, 5, 2))
    mask = rng.random((3, 5)) < 0.3
    _run(
        torch,
        lambda lib, q, k, m: (tF if lib is torch else F).scaled_dot_product_attention(
            q, k, k, attn_mask=m, scale=0.7, enable_gqa=True
        ),
        q,
        k,
        mask,
    )

    # MultiheadAttention with kdim/vdim, add_bias_kv, add_zero_attn; weights copied from torch
    torch.manual_seed(seed)
    tm = torch.nn.MultiheadAttention(
        4, 2, add_bias_kv=True, add_zero_attn=True, kdim=3, vdim=2, dtype=torch.float64
    )
    gm = gg.nn.MultiheadAttention(
        4, 2, add_bias_kv=True, add_zero_attn=True, kdim=3, vdim=2, dtype=gg.float64
    )
    gm.load_state_dict(_state(tm))
    kpm = rng.random((2, 5)) < 0.3
    _run(
        torch,
        lambda lib, q, k, v, m: (tm if lib is torch else gm)(
            q, k, v, key_padding_mask=m, average_attn_weights=False
        ),
        rng.standard_normal((3, 2, 4)),
        rng.standard_normal((5, 2, 3)),
        rng.standard_normal((5, 2, 2)),
        kpm,
    )

    # a packed bidirectional LSTM with projections, unsorted lengths, initial states
    tl = torch.nn.LSTM(
        3, 4, num_layers=2, bidirectional=True, proj_size=2, batch_first=True, dtype=torch.float64
    )
    gl = gg.nn.LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2, batch_first=True, dtype=gg.float64)
    gl.load_state_dict(_state(tl))
    lengths = rng.integers(1, 5, size=3)
    lengths[0] = 4

    def lstm(lib, x, h, c):
        rnn = lib.nn.utils.rnn
        packed = rnn.pack_padded_sequence(x, lib.tensor(lengths), batch_first=True, enforce_sorted=False)
        out, (hn, cn) = (tl if lib is torch else gl)(packed, (h, c))
        return rnn.pad_packed_sequence(out, batch_first=True)[0], hn, cn

    _run(
        torch,
        lstm,
        rng.standard_normal((3, 4, 3)),
        rng.standard_normal((4, 3, 2)),
        rng.standard_normal((4, 3, 4)),
    )

    # softmax family and losses
    z = rng.standard_normal((3, 4, 2))
    dim = int(rng.integers(-3, 3))
    for name in ("softmax", "log_softmax", "softmin"):
        _run(torch, lambda lib, a, name=name: getattr(tF if lib is torch else F, name)(a, dim=dim), z)
    red = ["none", "mean", "sum"][seed % 3]
    target = rng.integers(0, 4, size=(3, 2))
    weight = rng.uniform(0.5, 2, 4)
    _run(
        torch,
        lambda lib, a, w: (tF if lib is torch else F).cross_entropy(
            a, lib.tensor(target), weight=w, ignore_index=1, reduction=red, label_smoothing=0.2
        ),
        z,
        weight,
        nograd=(1,),
    )
    y = rng.standard_normal(z.shape)
    for name, kw in (("smooth_l1_loss", {"beta": 0.5}), ("huber_loss", {"delta": 0.7}), ("mse_loss", {})):
        _run(
            torch,
            lambda lib, a, b, name=name, kw=kw: getattr(tF if lib is torch else F, name)(
                a, b, reduction=red, **kw
            ),
            z,
            y,
        )
    _run(
        torch,
        lambda lib, a, b, pw: (tF if lib is torch else F).binary_cross_entropy_with_logits(
            a, b, pos_weight=pw, reduction=red
        ),
        z,
        rng.uniform(0, 1, z.shape),
        rng.uniform(0.5, 2, 2),
        nograd=(2,),
    )


def test_group_norm_refuses_one_value_per_group_as_pytorch(torch):
    # PyTorch's check: N * C / G * prod(spatial) == 1 raises (glassgrad returned the bias)
    for shape, groups in (((1, 4, 1), 4), ((1, 1), 1), ((1, 3), 3)):
        with pytest.raises(ValueError, match="group_norm: expected more than 1 value"):
            F.group_norm(gg.zeros(*shape), groups)
        with pytest.raises(ValueError):
            torch.nn.functional.group_norm(torch.zeros(*shape), groups)
        with pytest.raises(ValueError, match="group_norm"):
            gg.nn.GroupNorm(groups, shape[1])(gg.zeros(*shape))
    assert F.group_norm(gg.zeros(2, 4, 1), 4).shape == (2, 4, 1)  # N = 2 is fine


def test_embedding_scale_grad_by_freq_matches_pytorch(torch):
    idx = np.array([[1, 1, 3], [1, 0, 3]])
    w = np.arange(12.0).reshape(4, 3)
    grads = []
    for lib, fn in ((torch, torch.nn.functional), (gg, F)):
        t = lib.tensor(w, requires_grad=True)
        out = fn.embedding(lib.tensor(idx), t, padding_idx=0, scale_grad_by_freq=True)
        np.testing.assert_array_equal(out.detach().numpy(), w[idx])  # the forward is unchanged
        out.backward(lib.ones(2, 3, 3, dtype=lib.float64))
        grads.append(t.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0])
    np.testing.assert_allclose(grads[1][:, 0], [0.0, 1.0, 0.0, 1.0])  # id 1: 3 / 3, id 3: 2 / 2


def test_embedding_module_and_from_pretrained_take_scale_grad_by_freq():
    m = gg.nn.Embedding.from_pretrained(gg.ones(3, 2), freeze=False, scale_grad_by_freq=True)
    assert "scale_grad_by_freq=True" in repr(m)
    m(gg.tensor([2, 2, 2, 0])).sum().backward()
    np.testing.assert_allclose(m.weight.grad.numpy()[:, 0], [1.0, 0.0, 1.0])
    assert "sparse=True" in repr(gg.nn.Embedding(3, 2, sparse=True))


def test_embedding_bag_scale_grad_by_freq_divides_by_true_counts(torch):
    # PyTorch 2.13's CPU path divides by the wrong count (pytorch/pytorch#190063): for ids
    # [1, 1, 3] it gives row 3 the gradient 0.5. glassgrad divides each id by its own count,
    # as PyTorch's embedding, CUDA path and the fix (#190264) do.
    idx, off = gg.tensor([1, 1, 3, 2, 1]), gg.tensor([0, 3])
    for mode, expect in (("sum", [0.0, 1.0, 1.0, 1.0]), ("mean", [0.0, 7.0 / 18, 0.5, 1.0 / 3])):
        w = gg.ones(4, 2, dtype=gg.float64, requires_grad=True)
        F.embedding_bag(idx, w, off, mode=mode, scale_grad_by_freq=True).sum().backward()
        np.testing.assert_allclose(w.grad.numpy()[:, 0], expect)
    # the same gradient as embedding(...).sum(1) with scale_grad_by_freq
    ids = np.array([[0, 2, 2], [1, 2, 0]])
    a = gg.tensor(np.arange(8.0).reshape(4, 2), requires_grad=True)
    b = gg.tensor(np.arange(8.0).reshape(4, 2), requires_grad=True)
    F.embedding_bag(gg.tensor(ids), a, mode="sum", scale_grad_by_freq=True).sum().backward()
    F.embedding(gg.tensor(ids), b, scale_grad_by_freq=True).sum(1).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy())
    with pytest.raises(ValueError, match="embedding_bag: expected mode 'sum' or 'mean'"):
        F.embedding_bag(idx, w, off, mode="max", scale_grad_by_freq=True)
    bag = gg.nn.EmbeddingBag(4, 2, mode="sum", scale_grad_by_freq=True)
    bag(idx, off).sum().backward()
    np.testing.assert_allclose(bag.weight.grad.numpy()[:, 0], [0.0, 1.0, 1.0, 1.0])
