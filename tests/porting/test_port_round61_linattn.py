"""Round 61, linattn: fla-org/flash-linear-attention's pure-PyTorch references and ttt-lm-pytorch.

Every naive chunked form ran against its naive recurrent form, and glassgrad against PyTorch, in
float64 to ~1e-15 (values and gradients of q, k, v, gates, initial states), and the tiny
TTTForCausalLM trained and decoded as PyTorch does. No difference needed a fix; these tests pin the
patterns the programs are built from (written fresh here) against PyTorch in float64.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad as gg

LIBS = ["glassgrad", "torch"]


def _lib(name, torch):
    return gg if name == "glassgrad" else torch


def _run(lib, fn, arrays, seed=0):
    """``fn(lib, **tensors)`` -> dict of outputs; returns outputs and input gradients as NumPy."""
    ts = {k: lib.from_numpy(a.copy()).requires_grad_(a.dtype.kind == "f") for k, a in arrays.items()}
    outs = fn(lib, **ts)
    rng = np.random.default_rng(seed)
    loss = sum((o * lib.from_numpy(rng.standard_normal(tuple(o.shape)))).sum() for o in outs.values())
    loss.backward()
    res = {f"out/{k}": o.detach().numpy() for k, o in outs.items()}
    res.update({f"grad/{k}": t.grad.numpy() for k, t in ts.items() if t.grad is not None})
    return res


def _assert_same(ours, theirs, rtol=1e-12):
    assert ours.keys() == theirs.keys()
    for k in theirs:
        scale = max(np.abs(theirs[k]).max(), 1e-300)
        assert np.abs(ours[k] - theirs[k]).max() <= rtol * scale, k


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


# ---- delta rule: the chunked UT form (row-by-row in-place inverse) against the recurrence --------


def _delta_rule(lib, q, k, v, beta, h0, chunk=4):
    b, h, n, d = q.shape
    # recurrent form: S.clone() reads, o[:, :, i] = einsum(...) writes
    s, o_rec = h0.clone(), lib.zeros_like(v)
    qs = q * d**-0.5
    for i in range(n):
        u = (v[:, :, i].clone() - (s.clone() * k[:, :, i][..., None]).sum(-2)) * beta[:, :, i][..., None]
        s = s.clone() + k[:, :, i].unsqueeze(-1) * u.unsqueeze(-2)
        o_rec[:, :, i] = lib.einsum("bhd,bhdm->bhm", qs[:, :, i], s)
    # chunked form: (I - tril(diag(beta) K K^T))^-1 built one row at a time
    qc, kc = (x.reshape(b, h, n // chunk, chunk, d) for x in (qs, k))
    vc = (v * beta[..., None]).reshape(b, h, n // chunk, chunk, -1)
    kb = (k * beta[..., None]).reshape(b, h, n // chunk, chunk, d)
    mask = lib.triu(lib.ones(chunk, chunk, dtype=lib.bool), diagonal=0)
    attn = -(kb @ kc.transpose(-1, -2)).masked_fill(mask, 0)
    for i in range(1, chunk):
        attn[..., i, :i] = attn[..., i, :i] + (attn[..., i, :, None].clone() * attn[..., :, :i].clone()).sum(
            -2
        )
    attn = attn + lib.eye(chunk, dtype=q.dtype)
    u, w = attn @ vc, attn @ kb
    s, o = h0, lib.zeros_like(vc)
    strict = lib.triu(lib.ones(chunk, chunk, dtype=lib.bool), diagonal=1)
    for i in range(n // chunk):
        a = (qc[:, :, i] @ kc[:, :, i].transpose(-1, -2)).masked_fill_(strict, 0)
        u_i = u[:, :, i] - w[:, :, i] @ s
        o[:, :, i] = qc[:, :, i] @ s + a @ u_i
        s = s + kc[:, :, i].transpose(-1, -2) @ u_i
    return {"o_rec": o_rec, "o_chunk": o.reshape(b, h, n, -1), "state": s}


def _delta_inputs(rng, b=2, h=2, n=8, d=3, dv=4):
    k = rng.standard_normal((b, h, n, d))
    return {
        "q": rng.standard_normal((b, h, n, d)),
        "k": k / np.linalg.norm(k, axis=-1, keepdims=True),
        "v": rng.standard_normal((b, h, n, dv)),
        "beta": _sigmoid(rng.standard_normal((b, h, n))),
        "h0": rng.standard_normal((b, h, d, dv)),
    }


def test_delta_rule_chunked_matches_recurrent_and_torch(torch):
    arrays = _delta_inputs(np.random.default_rng(0))
    ours, theirs = _run(gg, _delta_rule, arrays), _run(torch, _delta_rule, arrays)
    _assert_same(ours, theirs)
    # the chunked form (without h0's contribution to o) against the recurrence from zero state
    arrays["h0"] = np.zeros_like(arrays["h0"])
    res = _run(gg, _delta_rule, arrays)
    assert np.abs(res["out/o_chunk"] - res["out/o_rec"]).max() < 1e-13


# ---- gated linear attention: padded chunk form with cumsum decays against the recurrence ---------


def _simple_gla(lib, q, k, v, g, h0, chunk=4):
    b, t, h, d = q.shape
    q, k, v, g = (x.transpose(1, 2) for x in (q, k, v, g))
    q = q * d**-0.5
    s, o_rec = h0.clone(), v.new_zeros(v.shape)
    for i in range(t):
        s = s * g[:, :, i].exp()[..., None, None] + k[:, :, i].unsqueeze(-1) * v[:, :, i].unsqueeze(-2)
        o_rec[:, :, i] = (q[:, :, i].unsqueeze(-1) * s).sum(-2)
    pad = (chunk - t % chunk) % chunk
    qp, kp, vp = (lib.nn.functional.pad(x, (0, 0, 0, pad)) for x in (q, k, v))
    gp = lib.nn.functional.pad(g, (0, pad))
    n = (t + pad) // chunk
    qp, kp, vp = (x.reshape(b, h, n, chunk, -1) for x in (qp, kp, vp))
    decay = gp.reshape(b, h, n, chunk).cumsum(-1)
    lmask = (decay.unsqueeze(-1) - decay.unsqueeze(-2)).tril().exp().tril()
    s, o = h0, lib.zeros_like(vp)
    for i in range(n):
        q_i, k_i, v_i = qp[:, :, i], kp[:, :, i], vp[:, :, i]
        o[:, :, i] = (q_i * decay[:, :, i, :, None].exp()) @ s + (
            q_i @ k_i.transpose(-1, -2) * lmask[:, :, i]
        ) @ v_i
        kd = k_i * (decay[:, :, i, -1, None] - decay[:, :, i]).exp()[..., None]
        s = s * decay[:, :, i, -1, None, None].exp() + kd.transpose(-1, -2) @ v_i
    return {"o_rec": o_rec, "o_chunk": o.reshape(b, h, n * chunk, -1)[:, :, :t], "state": s}


def test_gated_chunk_form_with_padding_matches_recurrent_and_torch(torch):
    rng = np.random.default_rng(1)
    b, t, h, d, dv = 2, 7, 2, 3, 4
    arrays = {
        "q": rng.standard_normal((b, t, h, d)),
        "k": rng.standard_normal((b, t, h, d)),
        "v": rng.standard_normal((b, t, h, dv)),
        "g": -np.log1p(np.exp(-rng.standard_normal((b, t, h)))),  # logsigmoid gates
        "h0": rng.standard_normal((b, h, d, dv)),
    }
    ours, theirs = _run(gg, _simple_gla, arrays), _run(torch, _simple_gla, arrays)
    _assert_same(ours, theirs)
    assert np.abs(ours["out/o_chunk"] - ours["out/o_rec"]).max() < 1e-13


# ---- Mamba2's naive SSD: segment_sum via expand + masked_fill + cumsum ----------------------------


def _segment_sum(lib, x):
    c = x.size(-1)
    x = x[..., None].expand(*x.size(), c)
    x = x.masked_fill(~lib.tril(lib.ones(c, c, dtype=lib.bool), diagonal=-1), 0)
    x = lib.cumsum(x, dim=-2)
    return x.masked_fill(~lib.tril(lib.ones(c, c, dtype=lib.bool), diagonal=0), -math.inf)


def _ssd(lib, x, a, bm, cm, chunk=3):
    """x [b, t, h, p], a [b, t, h] (negative), bm/cm [b, t, h, n]: chunked SSD and its scan."""
    b, t, h, p = x.shape
    s, ys = x.new_zeros(b, h, p, bm.shape[-1]), []
    for i in range(t):
        s = s * a[:, i].exp()[..., None, None] + x[:, i, :, :, None] * bm[:, i, :, None, :]
        ys.append((s * cm[:, i, :, None, :]).sum(-1))
    xc, bc, cc = (z.reshape(b, t // chunk, chunk, *z.shape[2:]) for z in (x, bm, cm))
    ac = a.reshape(b, t // chunk, chunk, h).permute(0, 3, 1, 2)
    acum = lib.cumsum(ac, dim=-1)
    lm = lib.exp(_segment_sum(lib, ac))
    g = (cc[:, :, :, None] * bc[:, :, None]).sum(-1)
    m = (g[..., None] * lm.permute(0, 2, 3, 4, 1)[..., None]).sum(-1)
    y_diag = (m[..., None] * xc[:, :, None]).sum(3)
    bd = bc * lib.exp(acum[..., -1:] - acum).permute(0, -2, -1, 1)[..., None]
    states = (bd[..., None, :] * xc[..., None]).sum(2)
    states = lib.cat([lib.zeros_like(states[:, :1]), states], dim=1)
    dchunk = lib.exp(_segment_sum(lib, lib.nn.functional.pad(acum[:, :, :, -1], (1, 0)))).transpose(1, 3)
    new = (dchunk[..., None, None] * states[:, :, None, ...]).sum(1)
    y_off = (cc[..., None, :] * new[:, :-1, None]).sum(-1) * lib.exp(acum).permute(0, 2, 3, 1)[..., None]
    return {"y_scan": lib.stack(ys, 1), "y_ssd": (y_diag + y_off).reshape(b, t, h, p), "state": new[:, -1]}


def test_mamba2_naive_ssd_matches_scan_and_torch(torch):
    rng = np.random.default_rng(2)
    b, t, h, p, n = 2, 6, 2, 3, 2
    arrays = {
        "x": rng.standard_normal((b, t, h, p)),
        "a": -rng.random((b, t, h)),
        "bm": rng.standard_normal((b, t, h, n)),
        "cm": rng.standard_normal((b, t, h, n)),
    }
    ours, theirs = _run(gg, _ssd, arrays), _run(torch, _ssd, arrays)
    _assert_same(ours, theirs)
    assert np.abs(ours["out/y_ssd"] - ours["out/y_scan"]).max() < 1e-13


# ---- TTT-Linear: the hand-written inner-loop step (dual form), scanned under checkpoint ---------


def _ln_fused_l2_bwd(x, target, gamma, beta, eps=1e-6):
    d = x.shape[-1]
    mu, var = x.mean(dim=-1, keepdim=True), x.var(dim=-1, keepdim=True, unbiased=False)
    std = (var + eps).sqrt()
    x_hat = (x - mu) / std
    gx = (gamma * x_hat + beta - target) * gamma
    return (d * gx - gx.sum(dim=-1, keepdim=True) - x_hat * (gx * x_hat).sum(dim=-1, keepdim=True)) / (
        d * std
    )


def _ttt_linear(lib, xq, xk, xv, w1, b1, gamma, beta, lr_w, lr_b, tok):
    """xq/xk/xv [nmb, b, h, k, f] mini-batches; w1 [h, f, f]; the learnable lr from a sigmoid gate."""
    nmb, b = xq.shape[:2]
    eta_lr = lib.sigmoid(lib.einsum("nbhkf,hf->nbhk", xk, lr_w) + lr_b[:, None])[..., None, :]
    eta = lib.clamp_min(1.0 / lib.arange(1, xq.shape[3] + 1) + tok, 0.0)[:, None] * eta_lr

    def step(params, inp):
        w, bb = params
        q_i, k_i, v_i, e_i = inp
        grad = _ln_fused_l2_bwd(k_i @ w + bb, v_i - k_i, gamma, beta)
        attn = lib.tril(q_i @ k_i.transpose(-2, -1))
        b_bar = bb - lib.tril(e_i) @ grad
        z = q_i @ w - (e_i * attn) @ grad + b_bar
        last = e_i[:, :, -1, :, None]
        w_new = w - (last * k_i).transpose(-1, -2) @ grad
        b_new = bb - lib.sum(last * grad, dim=-2, keepdim=True)
        return (w_new, b_new), q_i + z

    out = lib.empty(xq.shape, dtype=xq.dtype)

    def scan(carry, start, end):
        for i in range(start, end):
            carry, out[i] = step(carry, [xq[i], xk[i], xv[i], eta[i]])
        return carry

    carry = (lib.tile(w1.unsqueeze(0), (b, 1, 1, 1)), lib.tile(b1.unsqueeze(0), (b, 1, 1, 1)))
    for s in range(0, nmb, 2):  # checkpoint groups of two mini-batches, as scan_checkpoint_group_size does
        carry = lib.utils.checkpoint.checkpoint(scan, carry, s, min(s + 2, nmb), use_reentrant=False)
    return {"out": out, "w_last": carry[0], "b_last": carry[1]}


def test_ttt_linear_inner_loop_under_checkpoint_matches_torch(torch):
    rng = np.random.default_rng(3)
    nmb, b, h, k, f = 3, 2, 2, 4, 3
    arrays = {n: rng.standard_normal((nmb, b, h, k, f)) for n in ("xq", "xk", "xv")}
    arrays.update(
        w1=0.3 * rng.standard_normal((h, f, f)),
        b1=0.1 * rng.standard_normal((h, 1, f)),
        gamma=1 + 0.1 * rng.standard_normal((h, 1, f)),
        beta=0.1 * rng.standard_normal((h, 1, f)),
        lr_w=0.5 * rng.standard_normal((h, f)),
        lr_b=0.1 * rng.standard_normal(h),
        tok=0.05 * rng.standard_normal(k),
    )
    _assert_same(_run(gg, _ttt_linear, arrays), _run(torch, _ttt_linear, arrays))


# ---- fla's LongConvolution: FFT convolution with a reversed kernel and a channel mask ------------


def _fft_conv(lib, u, k, k_rev, mask):
    n = 2 * u.shape[-1]
    k_f = lib.fft.rfft(k, n=n) / n + (lib.fft.rfft(k_rev, n=n) / n).conj()
    y = lib.fft.irfft(lib.fft.rfft(u.to(dtype=k.dtype), n=n) * k_f, n=n, norm="forward")[..., : u.shape[-1]]
    return {"y": lib.nn.functional.gelu(y + u) * mask[..., None]}


def test_fft_long_convolution_matches_torch(torch):
    rng = np.random.default_rng(4)
    arrays = {
        "u": rng.standard_normal((2, 3, 7)),
        "k": rng.standard_normal((3, 7)),
        "k_rev": rng.standard_normal((3, 7)),
        "mask": (rng.random((2, 3)) > 0.3).astype(np.float64),
    }
    _assert_same(_run(gg, _fft_conv, arrays), _run(torch, _fft_conv, arrays))


# ---- RWKV6's hand-written backward: a bare @torch.no_grad decorator and copy-on-setitem ---------


@pytest.mark.parametrize("lib_name", LIBS)
def test_bare_no_grad_decorator_and_setitem_copy(lib_name, torch):
    lib = _lib(lib_name, torch)

    @lib.no_grad
    def manual(x, w):
        aux, acc = lib.zeros_like(x), lib.zeros_like(x)
        for i in range(x.shape[0]):
            d = x[i] * w
            aux[i] = d  # a copy: the in-place update below must not reach aux
            d += 1.0
            acc[i] = d
        return aux, acc

    x = lib.from_numpy(np.arange(6.0).reshape(3, 2)).requires_grad_(True)
    aux, acc = manual(x, lib.from_numpy(np.array([2.0, 3.0])).requires_grad_(True))
    assert not aux.requires_grad and not acc.requires_grad
    np.testing.assert_array_equal(acc.numpy() - aux.numpy(), np.ones((3, 2)))
    assert manual.__name__ == "manual"


# ---- fla's varlen helpers: repeat_interleave by counts, int cumsum with a dtype, floor division ---


def _varlen(lib, cu, chunk):
    F = lib.nn.functional
    lens = lib.diff(cu)
    counts = (lens + (chunk - 1)).div(chunk, rounding_mode="floor")
    seg = lib.repeat_interleave(lib.arange(counts.numel(), dtype=counts.dtype), counts)
    start = F.pad(counts.cumsum(0), (1, 0))[:-1]
    intra = lib.arange(seg.shape[0], dtype=counts.dtype) - start[seg]
    pos = lib.arange(int(cu[-1]), dtype=cu.dtype) - lib.repeat_interleave(cu[:-1], lens)
    return {
        "chunk_indices": lib.stack([seg, intra], 1).to(cu),
        "cu_from_lens": F.pad(lens.cumsum(dim=0, dtype=lib.int32), (1, 0)),
        "sequence_ids": pos.eq(0).cumsum(0) - 1,
        "offsets": F.pad((lens + chunk - 1) // chunk, (1, 0), value=0).cumsum(-1),
        "lens_from_mask": (lib.arange(6)[None] < lens[:, None]).sum(dim=-1, dtype=lib.int32),
    }


@pytest.mark.parametrize("dtype", ["int64", "int32"])
def test_varlen_index_helpers_match_torch(dtype, torch):
    cu = np.array([0, 5, 7, 16, 16, 21], dtype=dtype)
    ours = _varlen(gg, gg.from_numpy(cu), 4)
    theirs = _varlen(torch, torch.from_numpy(cu), 4)
    for k, t in theirs.items():
        assert str(ours[k].dtype).split(".")[-1] == str(t.dtype).split(".")[-1], k
        np.testing.assert_array_equal(ours[k].numpy(), t.numpy(), err_msg=k)


# ---- the naive references' in-place misuses fail in both libraries alike --------------------------


@pytest.mark.parametrize("lib_name", LIBS)
def test_in_place_scale_of_a_leaf_view_raises(lib_name, torch):
    lib = _lib(lib_name, torch)
    q = lib.from_numpy(np.ones((2, 3, 4))).requires_grad_(True)
    with pytest.raises(RuntimeError, match="leaf"):
        q.transpose(1, 2).__imul__(0.5)  # fla's ttt naive: q = q.transpose(1, 2); q *= scale


@pytest.mark.parametrize("lib_name", LIBS)
def test_chunk_state_written_after_use_fails_in_backward(lib_name, torch):
    lib = _lib(lib_name, torch)
    wkv = lib.from_numpy(np.ones((3, 2))).requires_grad_(True) * 1.0
    new = lib.zeros_like(wkv)
    for i in range(2):  # naive_chunk_rwkv6: wkv_new[i + 1] = wkv_new[i] * decay + wkv[i]
        new[i + 1] = new[i] * wkv[i] + wkv[i]
    with pytest.raises(RuntimeError, match="modified by an inplace operation|modified in place"):
        new.sum().backward()


# ---- fla's token shift: ZeroPad2d with a negative (cropping) pad, and its varlen loop -----------


def _token_shift(lib, x, xv):
    delta = lib.nn.ZeroPad2d((0, 0, 1, -1))(x) - x
    out = lib.zeros_like(xv)
    for start, end in [(0, 1), (1, 5), (5, 9)]:
        shifted = lib.zeros_like(xv[0, start:end])
        shifted[1:] = xv[0, start : end - 1]
        out[0, start:end] = shifted - xv[0, start:end]
    return {"delta": delta, "varlen": out}


def test_token_shift_with_negative_zero_pad_matches_torch(torch):
    rng = np.random.default_rng(5)
    arrays = {"x": rng.standard_normal((2, 5, 4)), "xv": rng.standard_normal((1, 9, 4))}
    ours, theirs = _run(gg, _token_shift, arrays), _run(torch, _token_shift, arrays)
    _assert_same(ours, theirs, rtol=0)
    np.testing.assert_array_equal(ours["out/delta"][:, 0], -arrays["x"][:, 0])
