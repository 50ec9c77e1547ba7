"""Round 57, generative models and class activation maps (pytorch-generative, torch-cam).

Both programs ran unchanged on glassgrad and matched PyTorch (float64 to ~1e-15, float32 to its
rounding), so nothing was fixed in this round. These tests pin, against PyTorch, the patterns the
two programs are built from (written fresh here): a causal convolution that masks its own weight
in place through ``.data`` on every call and trains with Adam; a custom ``autograd.Function``
that fills ``zeros_like`` buffers slice by slice in forward and backward; a vector quantizer with
EMA codebook buffers updated through ``.data`` and a straight-through estimator; causal attention
whose fully masked row is NaN after softmax and zeroed by ``masked_fill``; Grad-CAM's forward
hooks, ``autograd.grad`` into several hooked activations and in-place min/max normalisation; and a
0-d float64 constant that must not promote float32 parameters.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

LIBS = ["glassgrad", "torch"]


def _lib(name, torch):
    return gg if name == "glassgrad" else torch


def _np(t):
    return t.detach().numpy().copy()


# ---- masked convolution trained with Adam ---------------------------------------------------


def _causal_conv_train(lib, w0, b0, x, target, steps=3):
    conv = lib.nn.Conv2d(2, 3, 3, padding=1, dtype=lib.float64)
    with lib.no_grad():
        conv.weight.copy_(lib.tensor(w0))
        conv.bias.copy_(lib.tensor(b0))
    mask = lib.zeros(conv.weight.shape, dtype=lib.float64)
    mask.data[:, :, :1, :] = 1
    mask.data[:, :, 1, :1] = 1  # the centre masked ("type A")
    opt = lib.optim.Adam(conv.parameters(), lr=1e-2)
    losses, grads = [], None
    for _ in range(steps):
        opt.zero_grad()
        conv.weight.data *= mask  # as pytorch-generative's CausalConv2d.forward
        loss = lib.nn.functional.binary_cross_entropy_with_logits(
            conv(lib.tensor(x)), lib.tensor(target), reduction="none"
        )
        loss = loss.sum(dim=(1, 2, 3)).mean()
        loss.backward()
        grads = grads or [_np(conv.weight.grad), _np(conv.bias.grad)]
        opt.step()
        losses.append(loss.item())
    return losses, grads, [_np(p) for p in conv.parameters()]


def test_causal_conv_masked_through_data_trains_as_torch(torch):
    rng = np.random.default_rng(0)
    w0, b0 = rng.standard_normal((3, 2, 3, 3)) * 0.3, rng.standard_normal(3) * 0.1
    args = w0, b0, rng.standard_normal((2, 2, 5, 5)), (rng.random((2, 3, 5, 5)) < 0.5) * 1.0
    got, want = _causal_conv_train(gg, *args), _causal_conv_train(torch, *args)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-13)
    for a, b in zip(got[1] + got[2], want[1] + want[2]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


# ---- a custom Function that fills buffers slice by slice ------------------------------------


def _row(i):
    return (slice(None), slice(None), slice(i, i + 1), slice(None))


def _linear_attention_function(lib):
    class _Causal(lib.autograd.Function):
        @staticmethod
        def forward(ctx, q, k, v):
            ctx.save_for_backward(q, k, v)
            out, s = lib.zeros_like(v), 0
            for i in range(v.shape[2]):
                s = s + k[_row(i)].transpose(2, 3) @ v[_row(i)]
                out[_row(i)] = q[_row(i)] @ s
            return out

        @staticmethod
        def backward(ctx, g):
            q, k, v = ctx.saved_tensors
            dq, s = lib.zeros_like(q), 0
            for i in range(v.shape[2]):
                s = s + k[_row(i)].transpose(2, 3) @ v[_row(i)]
                dq[_row(i)] = g[_row(i)] @ s.transpose(2, 3)
            dk, dv, s = lib.zeros_like(k), lib.zeros_like(v), 0
            for i in range(v.shape[2] - 1, -1, -1):
                s = s + q[_row(i)].transpose(2, 3) @ g[_row(i)]
                dv[_row(i)] = k[_row(i)] @ s
                dk[_row(i)] = v[_row(i)] @ s.transpose(2, 3)
            return dq, dk, dv

    return _Causal


def test_slice_filled_custom_function_matches_torch_and_gradcheck(torch):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((2, 2, 5, 3)) for _ in range(3)]
    weight = rng.standard_normal((2, 2, 5, 3))
    res = []
    for lib in (gg, torch):
        q, k, v = (lib.tensor(a, requires_grad=True) for a in arrays)
        # elu + 1 feature map, then the numerator over a running sum, as LinearCausalAttention
        q2, k2 = (lib.nn.functional.elu(t) + 1 for t in (q, k))
        out = _linear_attention_function(lib).apply(q2, k2, v)
        (out * lib.tensor(weight)).sum().backward()
        res.append([_np(out), _np(q.grad), _np(k.grad), _np(v.grad)])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-14)
    fn = _linear_attention_function(gg)
    ins = [gg.tensor(a[:1, :1, :4, :2], requires_grad=True) for a in arrays]
    assert gg.autograd.gradcheck(fn.apply, ins)


# ---- vector quantizer: EMA buffers through .data, straight-through estimator ------------------


def _vq_step(lib, emb0, x, decay=0.9):
    emb = lib.tensor(emb0)
    cluster = lib.zeros(emb0.shape[0], dtype=lib.float64)
    avg = emb.clone()
    xt = lib.tensor(x, requires_grad=True)
    n, c, h, w = xt.shape
    flat = xt.permute(0, 2, 3, 1).contiguous().view(-1, c)
    dist = lib.sum(flat**2, dim=1, keepdim=True) + lib.sum(emb**2, dim=1) - 2 * flat @ emb.t()
    idx = lib.argmin(dist, dim=1, keepdim=True)
    one_hot = lib.zeros(idx.shape[0], emb0.shape[0], dtype=lib.float64)
    one_hot.scatter_(1, idx, 1)
    quant = (one_hot @ emb).view(n, h, w, c).permute(0, 3, 1, 2).contiguous()
    loss = lib.nn.functional.mse_loss(xt, quant.detach())
    cluster.data.mul_(decay).add_(one_hot.sum(axis=0), alpha=1 - decay)
    avg.data.mul_(decay).add_((flat.t() @ one_hot).t(), alpha=1 - decay)
    emb.data.copy_(avg / (cluster + 1e-5).unsqueeze(1))
    out = xt + (quant - xt).detach()
    ((out**2).sum() + loss).backward()
    return [_np(out), _np(loss), _np(xt.grad), _np(cluster), _np(emb), _np(idx)]


def test_vector_quantizer_ema_and_straight_through_match_torch(torch):
    rng = np.random.default_rng(2)
    emb0, x = rng.standard_normal((5, 3)), rng.standard_normal((2, 3, 2, 2))
    for a, b in zip(_vq_step(gg, emb0, x), _vq_step(torch, emb0, x)):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


# ---- causal attention with the centre masked: NaN row zeroed after softmax -------------------


@pytest.mark.parametrize("mask_center", [False, True])
def test_masked_center_attention_values_and_grads_match_torch(torch, mask_center):
    rng = np.random.default_rng(3)
    qn, kn = rng.standard_normal((2, 2, 6, 3)), rng.standard_normal((2, 2, 6, 3))
    vn, gn = rng.standard_normal((2, 2, 6, 3)), rng.standard_normal((2, 2, 6, 3))
    res = []
    for lib in (gg, torch):
        q, k, v = (lib.tensor(a, requires_grad=True) for a in (qn, kn, vn))
        mask = lib.tril(lib.ones((6, 6), dtype=lib.float64), diagonal=-int(mask_center)).view(1, 1, 6, 6)
        attn = (q @ k.transpose(2, 3)) / np.sqrt(k.shape[-1])
        attn = attn.masked_fill(mask == 0, -np.inf)
        attn = lib.nn.functional.softmax(attn, dim=-1).masked_fill(mask == 0, 0)
        out = attn @ v
        (out * lib.tensor(gn)).sum().backward()
        res.append([_np(out), _np(q.grad), _np(k.grad), _np(v.grad)])
    for a, b in zip(*res):
        assert np.isfinite(a).all()
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


# ---- Grad-CAM: hooks, autograd.grad into hooked outputs, in-place normalisation --------------


def _grad_cams(lib, params, x, class_idx):
    net = lib.nn.Sequential(
        lib.nn.Conv2d(3, 4, 3, padding=1),
        lib.nn.ReLU(),
        lib.nn.Conv2d(4, 5, 3, padding=1, stride=2),
        lib.nn.ReLU(),
        lib.nn.AdaptiveAvgPool2d(1),
        lib.nn.Flatten(),
        lib.nn.Linear(5, 3),
    ).double()
    net.load_state_dict({k: lib.tensor(v) for k, v in params.items()})
    acts = {}

    def hook(name):
        def fn(_mod, _inp, out):
            acts[name] = out  # the graph output; its detached copy is the activation

        return fn

    handles = [net[i].register_forward_hook(hook(i)) for i in (1, 3)]
    scores = net(lib.tensor(x))
    loss = scores.gather(1, lib.tensor(class_idx).view(-1, 1)).sum()
    grads = lib.autograd.grad(loss, [acts[1], acts[3]])
    cams = []
    with lib.no_grad():
        for g, a in zip(grads, (acts[1], acts[3])):
            w = g.flatten(2).mean(-1)[..., None, None]
            cam = lib.nn.functional.relu(lib.nansum(w * a.detach(), dim=1), inplace=True)
            cam.sub_(cam.flatten(start_dim=-2).min(-1).values[..., None, None])
            cam.div_(cam.flatten(start_dim=-2).max(-1).values[..., None, None] + 1e-8)
            cams.append(cam)
        fused = [lib.nn.functional.interpolate(c.unsqueeze(1), (6, 6), mode="bilinear") for c in cams]
        fused = lib.stack(fused).max(dim=0).values.squeeze(1)
    for h in handles:
        h.remove()
    return [_np(c) for c in cams] + [_np(fused)]


def test_grad_cam_on_two_hooked_layers_matches_torch(torch):
    rng = np.random.default_rng(4)
    ref = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.Conv2d(4, 5, 3, padding=1, stride=2),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(5, 3),
    ).double()
    params = {k: v.detach().numpy() for k, v in ref.state_dict().items()}
    x = rng.standard_normal((2, 3, 6, 6))
    for a, b in zip(_grad_cams(gg, params, x, [2, 0]), _grad_cams(torch, params, x, [2, 0])):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


# ---- a 0-d float64 constant with float32 parameters (GaussianMixtureModel) -------------------


@pytest.mark.parametrize("name", LIBS)
def test_zero_dim_float64_constant_keeps_float32_parameters(torch, name):
    lib = _lib(name, torch)
    rng = np.random.default_rng(5)
    log_std = lib.nn.Parameter(lib.tensor(rng.standard_normal((3, 4)).astype(np.float32)))
    mean = lib.nn.Parameter(lib.tensor(rng.standard_normal((3, 4)).astype(np.float32)))
    x = lib.tensor(rng.standard_normal((2, 1, 4)).astype(np.float32))
    const = lib.log(lib.tensor(np.float64(2 * np.pi)))  # a NumPy float64 scalar: a float64 0-d tensor
    assert const.dtype == lib.float64
    lp = (-log_std - 0.5 * const - 0.5 * ((x.unsqueeze(1) - mean) / log_std.exp()) ** 2).sum(-1)
    out = lib.logsumexp(lib.log_softmax(lib.ones(3), dim=-1) + lp, dim=-1)
    assert out.dtype == lib.float32 and lp.dtype == lib.float32
    out.sum().backward()
    assert log_std.grad.dtype == lib.float32
