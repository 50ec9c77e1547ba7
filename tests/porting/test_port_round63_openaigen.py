"""Round 63, OpenAI generative code never ported before: openai/consistency_models, glide-text2im, point-e
and shap-e. They ran unchanged; the patterns they lean on hardest are written fresh here and compared with
PyTorch in float64 with gradients, so a later change that breaks them shows up.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

from .helpers import close_to
from .helpers import tensor_of as _t

RNG_SEED = 63


def _libs(torch):
    return {"torch": torch, "glassgrad": gg}


# ---- a gradient-checkpoint Function that supports double backward --------------------------------
# shap-e's checkpoint saves inputs and parameters with save_for_backward, and its backward calls a
# second Function whose forward runs autograd.grad under enable_grad and whose backward takes the
# gradient of that gradient (create_graph=True). Both are decorated with custom_fwd / custom_bwd.
# A gradient penalty through it needs grad-of-grad of the checkpointed attention.


def _checkpoint_functions(lib):
    custom_fwd, custom_bwd = lib.amp.custom_fwd, lib.amp.custom_bwd

    class Grad(lib.autograd.Function):
        @staticmethod
        @custom_fwd(device_type="cpu")
        def forward(ctx, fn, n_in, n_par, *args):
            ctx.fn, ctx.n_in, ctx.n_par = fn, n_in, n_par
            ins = [x.detach().requires_grad_(True) for x in args[:n_in]]
            pars = list(args[n_in : n_in + n_par])
            outg = list(args[n_in + n_par :])
            ctx.save_for_backward(*ins, *pars, *outg)
            with lib.enable_grad():
                out = fn(*[x.view_as(x) for x in ins])
            return lib.autograd.grad(out, ins + pars, outg, allow_unused=True)

        @staticmethod
        @custom_bwd(device_type="cpu")
        def backward(ctx, *gg_out):
            saved = ctx.saved_tensors
            ins = [x.detach().requires_grad_(True) for x in saved[: ctx.n_in]]
            pars = list(saved[ctx.n_in : ctx.n_in + ctx.n_par])
            outg = [x.detach().requires_grad_(True) for x in saved[ctx.n_in + ctx.n_par :]]
            with lib.enable_grad():
                out = ctx.fn(*[x.view_as(x) for x in ins])
                g = lib.autograd.grad(out, ins + pars, outg, allow_unused=True, create_graph=True)
            gg2 = lib.autograd.grad(g, ins + pars + outg, gg_out, allow_unused=True)
            return (None, None, None) + gg2

    class Checkpoint(lib.autograd.Function):
        @staticmethod
        @custom_fwd(device_type="cpu")
        def forward(ctx, fn, n_in, *args):
            ctx.fn, ctx.n_in = fn, n_in
            ctx.save_for_backward(*args)
            with lib.no_grad():
                return fn(*args[:n_in])

        @staticmethod
        @custom_bwd(device_type="cpu")
        def backward(ctx, *out_grads):
            saved = ctx.saved_tensors
            ins, pars = saved[: ctx.n_in], saved[ctx.n_in :]
            return (None, None) + Grad.apply(ctx.fn, len(ins), len(pars), *ins, *pars, *out_grads)

    return Checkpoint


def _attention(lib, heads):
    def attend(qkv):  # qkv: (B, T, 3 * H * C) -> (B, T, H * C)
        b, t, w = qkv.shape
        ch = w // heads // 3
        scale = 1 / np.sqrt(np.sqrt(ch))
        q, k, v = lib.split(qkv.view(b, t, heads, -1), ch, dim=-1)
        weight = lib.einsum("bthc,bshc->bhts", q * scale, k * scale)
        weight = lib.softmax(weight, dim=-1)
        return lib.einsum("bhts,bshc->bthc", weight, v).reshape(b, t, -1)

    return attend


def test_double_backward_checkpoint_gradient_penalty_as_pytorch(torch):
    rng = np.random.default_rng(RNG_SEED)
    x0 = rng.standard_normal((2, 5, 4))
    w1, w2 = rng.standard_normal((12, 4)) * 0.5, rng.standard_normal((4, 4)) * 0.5
    res = {}
    for name, lib in _libs(torch).items():
        ckpt = _checkpoint_functions(lib)
        lin1, lin2 = _t(lib, w1, grad=True), _t(lib, w2, grad=True)
        x = _t(lib, x0, grad=True)
        qkv = x @ lin1.t()
        h = ckpt.apply(_attention(lib, 2), 1, qkv)
        out = (h @ lin2.t()).tanh()
        (g,) = lib.autograd.grad(out.pow(2).sum(), x, create_graph=True)
        (g.pow(2).sum() + out.sum()).backward()
        res[name] = (out, g, x.grad, lin1.grad, lin2.grad)
    for a, b in zip(res["torch"], res["glassgrad"]):
        close_to(a, b)


# ---- guided-diffusion's checkpoint fed the parameters() generator --------------------------------
# consistency_models / glide / point-e: ``checkpoint(self._forward, (x, emb), self.parameters(), flag)``
# turns the generator into a tuple of Function inputs; backward re-runs the block under enable_grad and
# returns autograd.grad over inputs and parameters with allow_unused=True (a parameter the block does
# not touch gets None).


def _guided_checkpoint(lib):
    class CheckpointFunction(lib.autograd.Function):
        @staticmethod
        def forward(ctx, run_function, length, *args):
            ctx.run_function = run_function
            ctx.input_tensors = list(args[:length])
            ctx.input_params = list(args[length:])
            with lib.no_grad():
                return ctx.run_function(*ctx.input_tensors)

        @staticmethod
        def backward(ctx, *output_grads):
            ctx.input_tensors = [x.detach().requires_grad_(True) for x in ctx.input_tensors]
            with lib.enable_grad():
                out = ctx.run_function(*[x.view_as(x) for x in ctx.input_tensors])
            grads = lib.autograd.grad(
                out, ctx.input_tensors + ctx.input_params, output_grads, allow_unused=True
            )
            return (None, None) + grads

    return CheckpointFunction


@pytest.mark.parametrize("flag", [True, False], ids=["checkpointed", "plain"])
def test_scale_shift_resblock_checkpoint_with_parameters_generator_as_pytorch(torch, flag):
    rng = np.random.default_rng(RNG_SEED + 1)
    x0, e0 = rng.standard_normal((2, 4, 3, 3)), rng.standard_normal((2, 6))
    res = {}
    for name, lib in _libs(torch).items():
        nn = lib.nn
        lib.manual_seed(0)

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(4, 4, 3, padding=1)
                self.norm = nn.GroupNorm(2, 4)
                self.emb = nn.Linear(6, 8)
                self.unused = nn.Linear(2, 2)
                self.ckpt = _guided_checkpoint(lib)

            def _forward(self, x, emb):
                h = self.conv(nn.functional.silu(x))
                scale, shift = lib.chunk(self.emb(emb)[..., None, None], 2, dim=1)
                return x + self.norm(h) * (1 + scale) + shift

            def forward(self, x, emb):
                if flag:
                    return self.ckpt.apply(self._forward, 2, x, emb, *tuple(self.parameters()))
                return self._forward(x, emb)

        blk = Block().double()
        rs = np.random.default_rng(5)
        blk.load_state_dict(
            {k: _t(lib, rs.standard_normal(tuple(v.shape))) for k, v in blk.state_dict().items()}
        )
        x, e = _t(lib, x0, grad=True), _t(lib, e0, grad=True)
        out = blk(x, e)
        out.square().mean().backward()
        res[name] = [out, x.grad, e.grad] + [p.grad for n, p in blk.named_parameters() if "unused" not in n]
        res[name + "_unused"] = [p.grad is None for n, p in blk.named_parameters() if "unused" in n]
    for a, b in zip(res["torch"], res["glassgrad"]):
        close_to(a, b)
    assert res["torch_unused"] == res["glassgrad_unused"] == [True, True]


# ---- glide CLIP: block-causal additive bias and a zero-key-bias-grad Function ---------------------
# glide's noised CLIP builds its causal mask in NumPy (1 - layout, masked entries set to -1e10), adds it
# to the attention logits, and routes the key bias through a Function whose backward zeroes its grad.


def test_clip_causal_bias_and_zero_key_bias_grad_as_pytorch(torch):
    rng = np.random.default_rng(RNG_SEED + 2)
    n = 6
    m = 1 - np.tril(np.ones((n, n))).astype(np.float64)
    m[m == 1] = -1e10
    x0, wq, wk, bk = (rng.standard_normal(s) for s in [(2, n, 4), (4, 4), (4, 4), (4,)])
    res = {}
    for name, lib in _libs(torch).items():

        class ZeroKeyBiasGrad(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, output_grad):
                return lib.zeros_like(output_grad)

        bias = lib.from_numpy(m).to("cpu")
        x = _t(lib, x0, grad=True)
        q_w, k_w, k_b = (_t(lib, a, grad=True) for a in (wq, wk, bk))
        q = lib.nn.functional.linear(x, q_w)
        k = lib.nn.functional.linear(x, k_w, ZeroKeyBiasGrad.apply(k_b))
        w = lib.softmax(lib.einsum("bqd,bkd->bqk", q, k) / 2.0 + bias[None], dim=-1)
        out = lib.einsum("bqk,bkd->bqd", w, x)
        out.square().sum().backward()
        res[name] = (w, out, x.grad, q_w.grad, k_w.grad, k_b.grad)
    for a, b in zip(res["torch"], res["glassgrad"]):
        close_to(a, b)
    assert not res["glassgrad"][-1].detach().numpy().any()
