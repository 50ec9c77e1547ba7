"""Round 60, programs never ported before: cloneofsimo/minRF (DiT + rectified flow), nanoT5 (T5 with
relative position buckets, AdamWScale, SequentialLR schedules), tysam-code's hlb-CIFAR10 and
hlb-gpt, microsoft/unilm's Diff-Transformer, lucidrains/titans-pytorch (neural memory with
per-sample gradients through ``torch.func``, the MAC transformer) and facebookresearch/sam2 (Hiera,
prompt encoder, mask decoder and the video memory path).

They ran and agreed with PyTorch in float64. One difference was found: an optimizer stepping a
Parameter that is an expanded view (titans' ``repeat(p, '... -> h ...')`` without
``per_head_learned_parameters``) raised NumPy's bare ``ValueError: output array is read-only``,
where PyTorch's in-place update raises ``RuntimeError``. The other tests pin the patterns the
programs are built from (written fresh here), each against PyTorch in float64 with gradients.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad as gg

RNG_SEED = 60


def _t(lib, a, grad=False):
    t = lib.tensor(np.asarray(a))
    return t.requires_grad_() if grad else t


def _close(a, b, tol=1e-12):
    a = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
    b = b.detach().numpy() if hasattr(b, "detach") else np.asarray(b)
    assert a.shape == b.shape
    np.testing.assert_allclose(b, a, rtol=tol, atol=tol * (np.abs(a).max() + 1e-300))


# ---- an optimizer refuses an expanded (read-only) parameter as PyTorch does ---------------------

_OPTIMIZERS = [
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "Adadelta",
    "Adamax",
    "NAdam",
    "RAdam",
    "ASGD",
    "Rprop",
]
_OPTIMIZERS += ["Adafactor", "Muon", "LBFGS"]


def _expanded_step(lib, name):
    p = lib.nn.Parameter(lib.ones(3, dtype=lib.float64).expand(2, 3))
    p.grad = lib.ones(2, 3, dtype=lib.float64)
    opt = getattr(lib.optim, name)([p], lr=0.1)
    if name == "LBFGS":
        opt.step(lambda: (p * p).sum())
    else:
        opt.step()
    return p


@pytest.mark.parametrize("name", _OPTIMIZERS)
def test_optimizer_step_of_an_expanded_parameter_raises_runtime_error_as_torch(torch, name):
    for lib in (torch, gg):
        with pytest.raises(RuntimeError) as info:
            _expanded_step(lib, name)
    assert f"{name}.step" in str(info.value) and "clone()" in str(info.value)


def test_optimizer_step_of_a_materialised_repeat_trains_as_torch(torch):
    # titans' fix-up: clone the expanded parameter, then Adam steps it as PyTorch
    out = []
    for lib in (torch, gg):
        base = _t(lib, np.linspace(-1.0, 1.0, 6).reshape(2, 3))
        p = lib.nn.Parameter(base[None].expand(4, 2, 3).clone())
        opt = lib.optim.Adam([p], lr=0.05)
        for _ in range(3):
            loss = (p.sin() * _t(lib, np.arange(24.0).reshape(4, 2, 3))).sum()
            loss.backward()
            opt.step()
            opt.zero_grad()
        out.append(p)
    _close(*out)


# ---- titans: per-sample gradients of a functional MLP through torch.func --------------------------


def _per_sample_memory_update(lib):
    rng = np.random.default_rng(RNG_SEED)
    func = lib.func
    w1 = _t(lib, rng.standard_normal((3, 4, 8)) * 0.3, grad=True)  # (batch*heads, d, hidden)
    w2 = _t(lib, rng.standard_normal((3, 8, 4)) * 0.3, grad=True)
    keys = _t(lib, rng.standard_normal((3, 5, 4)), grad=True)
    values = _t(lib, rng.standard_normal((3, 5, 4)))
    lr = _t(lib, rng.random((3, 5)), grad=True)

    def loss_fn(params, k, v, weight):
        h = lib.nn.functional.gelu(k @ params["w1"])
        pred = h @ params["w2"]
        return ((pred - v) ** 2).mean(-1).mul(weight).sum()

    grads = func.vmap(func.grad(loss_fn), in_dims=(0, 0, 0, 0))({"w1": w1, "w2": w2}, keys, values, lr)
    surprise = -(grads["w1"] ** 2).sum() - (grads["w2"].cumsum(1) * 0.5).sum()
    surprise.backward()
    return grads["w1"], grads["w2"], w1.grad, w2.grad, keys.grad, lr.grad


def test_vmap_of_grad_of_a_memory_mlp_and_backward_through_it_as_torch(torch):
    for a, b in zip(_per_sample_memory_update(torch), _per_sample_memory_update(gg)):
        _close(a, b)


# ---- nanoT5: relative position buckets, AdamWScale-style step, SequentialLR ------------------------


def _buckets(lib, bidirectional, num_buckets, max_distance):
    rel = lib.arange(-40, 41)[None, :] - lib.arange(3)[:, None]
    buckets = 0
    if bidirectional:
        num_buckets //= 2
        buckets += (rel > 0).to(lib.long) * num_buckets
        rel = lib.abs(rel)
    else:
        rel = -lib.min(rel, lib.zeros_like(rel))
    max_exact = num_buckets // 2
    large = max_exact + (
        lib.log(rel.float() / max_exact) / math.log(max_distance / max_exact) * (num_buckets - max_exact)
    ).to(lib.long)
    large = lib.min(large, lib.full_like(large, num_buckets - 1))
    return buckets + lib.where(rel < max_exact, rel, large)


@pytest.mark.parametrize("bidirectional", [True, False], ids=["encoder", "decoder"])
def test_t5_relative_position_buckets_as_torch(torch, bidirectional):
    a, b = _buckets(torch, bidirectional, 32, 128), _buckets(gg, bidirectional, 32, 128)
    assert str(b.dtype).split(".")[-1] == "int64"
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def _adamw_scale(lib):
    """nanoT5's AdamWScale, reduced: Adam whose step is scaled by the parameter's RMS."""

    class AdamWScale(lib.optim.Optimizer):
        def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.0):
            super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    grad, state = p.grad.data, self.state[p]
                    beta1, beta2 = group["betas"]
                    if len(state) == 0:
                        state.update(
                            step=0, exp_avg=lib.zeros_like(p.data), exp_avg_sq=lib.zeros_like(p.data)
                        )
                    state["step"] += 1
                    state["exp_avg"].mul_(beta1).add_(grad, alpha=1.0 - beta1)
                    state["exp_avg_sq"].mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)
                    denom = state["exp_avg_sq"].sqrt().add_(group["eps"])
                    step_size = (
                        group["lr"] * math.sqrt(1.0 - beta2 ** state["step"]) / (1.0 - beta1 ** state["step"])
                    )
                    step_size = step_size * max(1e-3, p.data.norm(2) / (p.data.numel() ** 0.5))
                    p.data.addcdiv_(state["exp_avg"], denom, value=-step_size)
                    if group["weight_decay"] > 0.0:
                        p.data.add_(p.data, alpha=(-group["lr"] * group["weight_decay"]))

    return AdamWScale


def _adamw_scale_run(lib):
    rng = np.random.default_rng(RNG_SEED + 1)
    w = lib.nn.Parameter(_t(lib, rng.standard_normal((4, 3))))
    b = lib.nn.Parameter(_t(lib, rng.standard_normal(3) * 1e-4))
    groups = [{"params": [w], "weight_decay": 0.01}, {"params": [b], "weight_decay": 0.0}]
    opt = _adamw_scale(lib)(groups, lr=2e-2)
    sched = lib.optim.lr_scheduler.SequentialLR(
        opt,
        [
            lib.optim.lr_scheduler.LinearLR(opt, start_factor=0.5, end_factor=1, total_iters=2),
            lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=3, eta_min=1e-5),
        ],
        milestones=[2],
    )
    lrs = []
    x = _t(lib, rng.standard_normal((5, 4)))
    for _ in range(5):
        loss = lib.tanh(x @ w + b).square().mean()
        loss.backward()
        lib.nn.utils.clip_grad_norm_([w, b], max_norm=1.0, norm_type=2)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        lrs.append([g["lr"] for g in opt.param_groups])
    return w, b, np.array(lrs)


def test_nanot5_adamwscale_with_linear_then_cosine_schedule_as_torch(torch):
    (wa, ba, la), (wb, bb, lb) = _adamw_scale_run(torch), _adamw_scale_run(gg)
    _close(wa, wb)
    _close(ba, bb)
    np.testing.assert_allclose(lb, la, rtol=1e-15)


# ---- hlb-gpt: latent attention block, fused AdamW under a per-group LambdaLR ----------------------


def _hlb_gpt_run(lib):
    rng = np.random.default_rng(RNG_SEED + 2)
    F = lib.nn.functional
    emb = lib.nn.Embedding(11, 8, scale_grad_by_freq=True).double()
    norm = lib.nn.LayerNorm(8, bias=False).double()
    expand = lib.nn.Parameter(_t(lib, rng.standard_normal((2 * 2 + 2 * 16, 8)) * 0.2))
    project = lib.nn.Parameter(_t(lib, rng.standard_normal((8, 16)) * 0.2))
    mult = lib.nn.Parameter(_t(lib, 1.0))
    with lib.no_grad():
        emb.weight.copy_(_t(lib, rng.standard_normal((11, 8)) * 0.5))
    rng_range = lib.arange(-5, 1).double()
    bias_base = rng_range.unsqueeze(0) - rng_range.unsqueeze(1)
    causal = lib.tril(lib.ones(6, 6, dtype=lib.bool))
    groups = [
        {"params": [expand, project], "lr": 0.02, "betas": (0.9, 0.95), "eps": 1e-9, "weight_decay": 0.3},
        {"params": [mult], "lr": 0.5, "betas": (0.9, 0.95), "eps": 1e-9, "weight_decay": 0.0},
        {
            "params": [emb.weight, norm.weight],
            "lr": 0.1,
            "betas": (0.6, 0.95),
            "eps": 1e-9,
            "weight_decay": 0.0,
        },
    ]
    opt = lib.optim.AdamW(groups, fused=True)
    sched = lib.optim.lr_scheduler.LambdaLR(
        opt, [lambda s: 0.02 + s / 3, lambda s: 0.995**s, lambda s: (s + 1.0) ** -0.2]
    )
    ids = _t(lib, np.array([[1, 3, 3, 7, 1, 3], [2, 2, 9, 0, 1, 10]]))
    for _ in range(3):
        x = emb(ids)
        mask = lib.where(
            causal, F.softplus(mult) * bias_base, lib.full((6, 6), -float("inf"), dtype=lib.float64)
        )
        q, k, lin, pre = F.linear(norm(x), expand).split((2, 2, 16, 16), dim=-1)
        geglu = lin * F.gelu(pre)
        local, value = geglu.split((8, 8), -1)
        att = F.scaled_dot_product_attention(q, k, value, attn_mask=mask)
        out = x + F.linear(lib.cat([local, att], dim=-1), project)
        logits = out @ emb.weight.t()  # (2, 6, 11)
        loss = F.cross_entropy(logits.flatten(0, 1), ids.roll(-1, 1).flatten(), ignore_index=-1)
        loss.backward()
        opt.step()
        opt.param_groups[0]["weight_decay"] = 1.0 / 1.7 ** (loss.detach() + 1e-8).item() * 0.3
        sched.step()
        opt.zero_grad()
    return [p for g in groups for p in g["params"]]


def test_hlb_gpt_latent_attention_block_trains_as_torch(torch):
    for a, b in zip(_hlb_gpt_run(torch), _hlb_gpt_run(gg)):
        _close(a, b, 1e-10)


# ---- Diff-Transformer: differential attention with a custom rotary Function -----------------------


def _rotary_function(lib):
    def rotate(x, cos, sin):
        x1, x2 = x[..., ::2], x[..., 1::2]
        c, s = cos[:, None, :], sin[:, None, :]
        return lib.stack((x1 * c - x2 * s, x1 * s + x2 * c), dim=-1).flatten(-2)

    class ApplyRotaryEmb(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, cos, sin):
            ctx.save_for_backward(cos, sin)
            return rotate(x, cos, sin)

        @staticmethod
        def backward(ctx, grad):
            cos, sin = ctx.saved_tensors
            return rotate(grad, cos, -sin), None, None

    return ApplyRotaryEmb


def _diff_attention(lib):
    rng = np.random.default_rng(RNG_SEED + 3)
    F = lib.nn.functional
    bsz, n, heads, hd = 2, 5, 2, 4
    x = _t(lib, rng.standard_normal((bsz, n, 2 * heads * hd)), grad=True)
    wq, wk, wv = (_t(lib, rng.standard_normal((16, 16)) * 0.3, grad=True) for _ in range(3))
    lam = [_t(lib, rng.standard_normal(hd) * 0.1, grad=True) for _ in range(4)]
    ang = rng.random((n, hd // 2)) * 3
    cos, sin = _t(lib, np.cos(ang)), _t(lib, np.sin(ang))
    rot = _rotary_function(lib).apply
    q = rot((x @ wq).view(bsz, n, 2 * heads, hd), cos, sin).transpose(1, 2) * hd**-0.5
    k = rot((x @ wk).view(bsz, n, 2 * heads, hd), cos, sin).transpose(1, 2)
    v = (x @ wv).view(bsz, n, heads, 2 * hd).transpose(1, 2)
    w = lib.nan_to_num(q @ k.transpose(-1, -2)) + lib.triu(lib.full((n, n), float("-inf"), dtype=x.dtype), 1)
    w = F.softmax(w, dim=-1).view(bsz, heads, 2, n, n)
    lambda_init = 0.8 - 0.6 * math.exp(-0.3 * 1)
    lam_full = (
        lib.exp(lib.sum(lam[0] * lam[1], dim=-1)) - lib.exp(lib.sum(lam[2] * lam[3], dim=-1)) + lambda_init
    )
    attn = (w[:, :, 0] - lam_full * w[:, :, 1]) @ v
    attn = attn * lib.rsqrt(attn.pow(2).mean(-1, keepdim=True) + 1e-5) * (1 - lambda_init)
    out = attn.transpose(1, 2).reshape(bsz, n, -1)
    (out * _t(lib, rng.standard_normal(tuple(out.shape)))).sum().backward()
    return [out, x.grad, wq.grad, wk.grad, wv.grad] + [t.grad for t in lam]


def test_differential_attention_with_custom_rotary_function_as_torch(torch):
    for a, b in zip(_diff_attention(torch), _diff_attention(gg)):
        _close(a, b)


# ---- hlb-CIFAR10: the whitening convolution's initialisation, dirac_ re-normalised ---------------


def _whitening(lib):
    rng = np.random.default_rng(RNG_SEED + 4)
    x = _t(lib, rng.standard_normal((6, 3, 8, 8)) * np.array([1.0, 2.0, 0.5])[:, None, None])
    patches = x.unfold(2, 2, 1).unfold(3, 2, 1).transpose(1, 3).reshape(-1, 3, 2, 2)
    n, c, h, w = patches.shape
    cov = lib.cov(patches.view(n, c * h * w).t())
    evals, evecs = lib.linalg.eigh(cov, UPLO="U")
    evals, evecs = evals.flip(0).view(-1, 1, 1, 1), evecs.t().reshape(c * h * w, c, h, w).flip(0)
    sliced = (evecs / lib.sqrt(evals + 1e-2))[-6:]
    conv1 = lib.nn.Conv2d(8, 8, 3, padding="same", bias=False).double()
    with lib.no_grad():
        conv1.weight.copy_(_t(lib, rng.standard_normal((8, 8, 3, 3)) * 0.1))
        dirac = lib.nn.init.dirac_(lib.empty_like(conv1.weight))
        std_pre, mean_pre = lib.std_mean(conv1.weight.data)
        conv1.weight.data = conv1.weight.data + dirac
        std_post, mean_post = lib.std_mean(conv1.weight.data)
        conv1.weight.data.sub_(mean_post).div_(std_post).mul_(std_pre).add_(mean_pre)
    # eigenvector signs are the solver's choice: compare magnitudes
    return evals, cov, sliced.abs(), conv1.weight


def test_hlb_cifar10_whitening_and_dirac_init_as_torch(torch):
    for a, b in zip(_whitening(torch), _whitening(gg)):
        _close(a, b, 1e-10)
