"""Round 62, Meta vision models never ported before: facebookresearch/dinov3 (ViT with RoPE, its
segmentation adapter + Mask2Former and Plain-DETR heads), facebookresearch/sam2, facebookresearch/vggt
and facebookresearch/vjepa2. The patterns below are written fresh here and compared with PyTorch
in float64 with gradients.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

from .helpers import close_to as _close
from .helpers import tensor_of as _t

RNG_SEED = 62


def _pair(torch, make):
    """The same layer in PyTorch and glassgrad (float64), glassgrad holding PyTorch's weights."""
    torch.manual_seed(0)
    ref, mine = make(torch.nn).double(), make(gg.nn).double()
    mine.load_state_dict({k: gg.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()})
    return ref, mine


# ---- nn.MultiheadAttention applies out_proj through its weights -------------------------------------
# DINOv3's Plain-DETR encoder was inspected with forward hooks on every submodule: PyTorch's
# MultiheadAttention hands ``out_proj.weight`` / ``out_proj.bias`` to the functional attention and
# never calls ``out_proj``, so hooks on it never fire and a module standing in for it is not run.


def _attention_modules(nn):
    return {
        "mha": lambda: nn.MultiheadAttention(8, 2, batch_first=True),
        "mha_seq_first_kdim": lambda: nn.MultiheadAttention(8, 2, kdim=6, vdim=5, bias=False),
        "encoder_layer": lambda: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True),
        "decoder_layer": lambda: nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, batch_first=True),
    }


def _call(name, m, x, y, z):
    if name == "mha":
        return m(x, x, x)[0]
    if name == "mha_seq_first_kdim":
        return m(x.transpose(0, 1), y.transpose(0, 1), z.transpose(0, 1))[0]
    if name == "encoder_layer":
        return m(x)
    return m(x, x)


def _inputs(lib):
    rng = np.random.default_rng(RNG_SEED)
    return (
        _t(lib, rng.standard_normal((2, 3, 8))),
        _t(lib, rng.standard_normal((2, 4, 6))),
        _t(lib, rng.standard_normal((2, 4, 5))),
    )


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("name", ["mha", "mha_seq_first_kdim", "encoder_layer", "decoder_layer"])
def test_attention_forward_hooks_fire_on_torchs_modules_only(torch, name, train):
    orders = []
    for lib in (torch, gg):
        lib.manual_seed(0)
        m = _attention_modules(lib.nn)[name]().double().train(train)
        calls = []
        for n, sub in m.named_modules():
            sub.register_forward_pre_hook(lambda mod, args, n=n: calls.append("pre:" + (n or "root")))
            sub.register_forward_hook(lambda mod, args, out, n=n: calls.append(n or "root"))
        with lib.no_grad():
            _call(name, m, *_inputs(lib))
        orders.append(calls)
    assert orders[1] == orders[0]
    assert not any(c.endswith("out_proj") for c in orders[1])


@pytest.mark.parametrize("name", ["mha", "mha_seq_first_kdim", "encoder_layer", "decoder_layer"])
def test_hook_returning_a_new_out_proj_output_leaves_attention_unchanged(torch, name):
    # a pruning-style hook on every Linear: it rewrites the layers PyTorch runs, not out_proj
    outs = []
    for lib, m in zip((torch, gg), _pair(torch, lambda nn: _attention_modules(nn)[name]())):
        for sub in m.modules():
            if isinstance(sub, lib.nn.Linear):
                sub.register_forward_hook(lambda mod, args, out: out * 0.5)
        x, y, z = (t.requires_grad_() for t in _inputs(lib))
        out = _call(name, m, x, y, z)
        (out * _t(lib, np.sin(np.arange(out.numel())).reshape(tuple(out.shape)))).sum().backward()
        grads = [p.grad for _, p in sorted(m.named_parameters())]
        outs.append((out, x.grad, *grads))
    for a, b in zip(*outs):
        _close(a, b)


class _Scaled:
    """A stand-in for out_proj that keeps its weight and bias but scales in its own forward (LoRA-like
    wrappers do this): PyTorch's MultiheadAttention reads the weights and skips the forward."""

    @staticmethod
    def make(nn, inner):
        class Scaled(nn.Module):
            def __init__(self):
                super().__init__()
                self.inner = inner
                self.weight, self.bias = inner.weight, inner.bias

            def forward(self, x):
                return 3.0 * self.inner(x)

        return Scaled()


def test_module_standing_in_for_out_proj_is_read_for_weights_only(torch):
    outs = []
    for lib, m in zip((torch, gg), _pair(torch, lambda nn: nn.MultiheadAttention(8, 2, batch_first=True))):
        m.out_proj = _Scaled.make(lib.nn, m.out_proj)
        x = _inputs(lib)[0].requires_grad_()
        out, w = m(x, x, x, need_weights=True)
        out.pow(2).sum().backward()
        outs.append((out, w, x.grad, m.in_proj_weight.grad, m.out_proj.weight.grad))
    for a, b in zip(*outs):
        _close(a, b)


def test_functional_multi_head_attention_forward_uses_given_out_weights(torch):
    rng = np.random.default_rng(RNG_SEED)
    arrays = [rng.standard_normal(s) for s in ((5, 2, 8), (24, 8), (24,), (8, 8), (8,))]
    outs = []
    for lib in (torch, gg):
        q, w_in, b_in, w_out, b_out = (_t(lib, a, grad=True) for a in arrays)
        out, w = lib.nn.functional.multi_head_attention_forward(
            q, q, q, 8, 2, w_in, b_in, None, None, False, 0.0, w_out, b_out, training=False
        )
        out.sum().backward()
        outs.append((out, w, q.grad, w_out.grad, b_out.grad))
    for a, b in zip(*outs):
        _close(a, b)


# ---- patterns the ported programs rely on (they ran unchanged; pinned here) -----------------------


def _sam2_rope_slice_assign(lib, x, n_rope):
    # sam2's RoPEAttention: ``q, k[:, :, :n] = apply_rotary_enc(q, k[:, :, :n], ...)`` writes the
    # rotated keys back into a slice of a non-leaf (B, h, S, D) tensor; rotation through complex views
    q, k = x[:, :, :4] * 1.5, x * 1.0
    ang = lib.arange(n_rope * 4, dtype=lib.float64).reshape(n_rope, 4) * 0.3
    cis = lib.polar(lib.ones_like(ang), ang)  # (S_rope, D/2)

    def rot(t):
        tc = lib.view_as_complex(t.reshape(*t.shape[:-1], -1, 2))
        return lib.view_as_real(tc * cis[: t.shape[-2]]).flatten(3)

    q, k[:, :, :n_rope] = rot(q), rot(k[:, :, :n_rope])
    return lib.nn.functional.scaled_dot_product_attention(q, k, k)


def _dinov3_koleo(lib, x):
    # dinov3's KoLeoLoss: the diagonal of a Gram matrix filled through a strided flat view
    x = lib.nn.functional.normalize(x, eps=1e-8, p=2, dim=-1)
    dots = lib.mm(x, x.t())
    n = x.shape[0]
    dots.view(-1)[:: (n + 1)].fill_(-1)
    _, idx = lib.max(dots, dim=1)
    d = lib.nn.PairwiseDistance(2, eps=1e-8)(x, x[idx])
    return -lib.log(d + 1e-8).mean() + lib.einsum("s b, t b -> ", x[:2], x[2:4])


_PATTERNS = {
    "sam2_rope_slice_assign": (lambda lib, x: _sam2_rope_slice_assign(lib, x, 4), (2, 1, 6, 8)),
    "dinov3_koleo_strided_fill": (_dinov3_koleo, (6, 5)),
}


@pytest.mark.parametrize("name", list(_PATTERNS))
def test_ported_program_patterns_match_torch(torch, name):
    fn, shape = _PATTERNS[name]
    x = np.random.default_rng(RNG_SEED).standard_normal(shape)
    outs = []
    for lib in (torch, gg):
        xt = _t(lib, x, grad=True)
        y = fn(lib, xt)
        (y * _t(lib, np.cos(np.arange(y.numel())).reshape(tuple(y.shape)))).sum().backward()
        outs.append((y, xt.grad))
    for a, b in zip(*outs):
        _close(a, b)
