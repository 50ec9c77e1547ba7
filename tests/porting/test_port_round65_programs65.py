"""Round 65 (programs): TransformerLens, metaformer, ConvMixer, RepViT and muse-maskgit-pytorch ran
unchanged against PyTorch 2.13. Pinned here, as short programs of our own, the patterns they lean on:

- muse-maskgit's attention falls back to a chunked "flash" ``autograd.Function`` (online softmax in
  forward under ``no_grad``, its own backward, ``None`` for the non-tensor arguments);
- RepViT folds Conv-BN, a parallel 1x1 branch and the identity into one 3x3 convolution in place
  (``weight += ...`` on a Parameter under ``no_grad``): the eval outputs before and after agree;
- TransformerLens edits activations through forward hooks (one ``prepend``-ed) and rescales
  gradients through full backward hooks on identity modules.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

RNG = np.random.default_rng(65)


def _flash_function(lib):
    class Flash(lib.autograd.Function):
        """softmax(q k^T * scale) v over key chunks; q (b, n, d), k and v (b, m, d)."""

        @staticmethod
        @lib.no_grad()
        def forward(ctx, q, k, v, chunk, scale):
            o = lib.zeros_like(q)
            row_sum = q.new_zeros(q.shape[:-1] + (1,))
            row_max = q.new_full(q.shape[:-1] + (1,), float("-inf"))
            for kc, vc in zip(k.split(chunk, dim=1), v.split(chunk, dim=1)):
                s = lib.einsum("bid,bjd->bij", q, kc) * scale
                new_max = lib.maximum(row_max, s.amax(dim=-1, keepdim=True))
                p = (s - new_max).exp()
                corr = (row_max - new_max).exp()
                row_sum = row_sum * corr + p.sum(dim=-1, keepdim=True)
                o = o * corr + lib.einsum("bij,bjd->bid", p, vc)
                row_max = new_max
            o = o / row_sum
            ctx.args = (chunk, scale)
            ctx.save_for_backward(q, k, v, o, row_max + row_sum.log())
            return o

        @staticmethod
        @lib.no_grad()
        def backward(ctx, do):
            q, k, v, o, lse = ctx.saved_tensors
            _, scale = ctx.args
            p = (lib.einsum("bid,bjd->bij", q, k) * scale - lse).exp()
            dv = lib.einsum("bij,bid->bjd", p, do)
            dp = lib.einsum("bid,bjd->bij", do, v)
            ds = p * (dp - (do * o).sum(dim=-1, keepdim=True)) * scale
            return lib.einsum("bij,bjd->bid", ds, k), lib.einsum("bij,bid->bjd", ds, q), dv, None, None

    return Flash


@pytest.mark.parametrize("chunk", [2, 3, 8])
def test_chunked_flash_function_matches_torch(torch, chunk):
    arrays = [RNG.standard_normal(s) for s in ((2, 5, 4), (2, 7, 4), (2, 7, 4))]
    proj = RNG.standard_normal((2, 5, 4))
    outs = []
    for lib in (torch, gg):
        q, k, v = (lib.tensor(a, requires_grad=True) for a in arrays)
        o = _flash_function(lib).apply(q, k, v, chunk, 0.5)
        (o * lib.tensor(proj)).sum().backward()
        ref = ((q @ k.transpose(1, 2)) * 0.5).softmax(-1) @ v  # the same attention, autograd's way
        outs.append([o.detach().numpy(), ref.detach().numpy()] + [t.grad.numpy() for t in (q, k, v)])
    for a, b in zip(*outs):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(outs[1][0], outs[1][1], rtol=1e-12, atol=1e-13)


def _repvgg_branches(lib):
    nn = lib.nn
    lib.manual_seed(0)
    conv, bn = nn.Conv2d(3, 3, 3, 1, 1, groups=3, bias=False).double(), nn.BatchNorm2d(3).double()
    conv1 = nn.Conv2d(3, 3, 1, groups=3).double()
    return conv, bn, conv1


def test_repvgg_in_place_fold_matches_torch(torch):
    state = {k: RNG.standard_normal(s) for k, s in [("w", (3, 1, 3, 3)), ("w1", (3, 1, 1, 1)), ("b1", (3,))]}
    bn_state = {k: RNG.uniform(0.5, 1.5, 3) for k in ("weight", "bias", "running_mean", "running_var")}
    x = RNG.standard_normal((2, 3, 6, 5))
    outs = []
    for lib in (torch, gg):
        conv, bn, conv1 = _repvgg_branches(lib)
        with lib.no_grad():
            conv.weight.copy_(lib.tensor(state["w"]))
            conv1.weight.copy_(lib.tensor(state["w1"]))
            conv1.bias.copy_(lib.tensor(state["b1"]))
            for k, a in bn_state.items():
                getattr(bn, k).copy_(lib.tensor(a))
        bn.eval()
        xt = lib.tensor(x)
        before = bn(conv(xt)) + conv1(xt) + xt
        with lib.no_grad():
            std = (bn.running_var + bn.eps) ** 0.5
            fused = lib.nn.Conv2d(3, 3, 3, 1, 1, groups=3).double()
            fused.weight.data.copy_(conv.weight * (bn.weight / std)[:, None, None, None])
            fused.bias.data.copy_(bn.bias - bn.running_mean * bn.weight / std)
            fused.weight += lib.nn.functional.pad(conv1.weight, [1, 1, 1, 1])
            fused.weight += lib.nn.functional.pad(lib.ones(3, 1, 1, 1, dtype=lib.float64), [1, 1, 1, 1])
            fused.bias += conv1.bias
        after = fused(xt)
        outs.append((before.detach().numpy(), after.detach().numpy(), fused.weight._version))
    np.testing.assert_allclose(outs[1][0], outs[0][0], rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(outs[1][1], outs[0][1], rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(outs[1][1], outs[1][0], rtol=1e-12, atol=1e-12)
    assert outs[1][2] == outs[0][2]


def _hooked_run(lib):
    nn = lib.nn
    lib.manual_seed(0)
    lin1, lin2 = nn.Linear(4, 4).double(), nn.Linear(4, 1).double()
    point = nn.Identity()
    order = []

    def times_two(m, args, out):
        order.append("prepended")
        return out * 2

    def plus_one(m, args, out):
        order.append("appended")
        return out + 1

    def scale_grad(m, grad_in, grad_out):
        order.append("bwd")
        return (grad_out[0] * 3.0,)

    point.register_forward_hook(plus_one)
    point.register_forward_hook(times_two, prepend=True)
    point.register_full_backward_hook(scale_grad)
    return lin1, lin2, point, order


def test_hook_point_edits_and_gradient_rescale_match_torch(torch):
    w1, b1, w2, b2 = (
        RNG.standard_normal((4, 4)),
        RNG.standard_normal(4),
        RNG.standard_normal((1, 4)),
        RNG.standard_normal(1),
    )
    x = RNG.standard_normal((3, 4))
    outs = []
    for lib in (torch, gg):
        lin1, lin2, point, order = _hooked_run(lib)
        with lib.no_grad():
            for p, a in zip((lin1.weight, lin1.bias, lin2.weight, lin2.bias), (w1, b1, w2, b2)):
                p.copy_(lib.tensor(a))
        y = lin2(point(lin1(lib.tensor(x))).tanh()).sum()
        y.backward()
        outs.append((y.item(), lin1.weight.grad.numpy(), lin1.bias.grad.numpy(), order))
    assert outs[1][3] == outs[0][3] == ["prepended", "appended", "bwd"]
    np.testing.assert_allclose(outs[1][0], outs[0][0], rtol=1e-14)
    np.testing.assert_allclose(outs[1][1], outs[0][1], rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(outs[1][2], outs[0][2], rtol=1e-13, atol=1e-14)
