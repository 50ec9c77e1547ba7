"""Round 62, generative models never ported before: NVlabs/edm2 (magnitude-preserving U-Net, EDM2
loss, post-hoc EMA, toy example), FoundationVision/LlamaGen (VQ tokenizer and its losses, c2i/t2i
GPT with 2-D RoPE and KV cache), bytedance/1d-tokenizer (TiTok, MaskGIT) and hustvl/LightningDiT
(DiT, transport, VA-VAE). The patterns below are written fresh here and compared with PyTorch in
float64 with gradients.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

import glassgrad as gg

from .helpers import tensor_of as _t

RNG_SEED = 62


def _libs(torch):
    return {"torch": torch, "glassgrad": gg}


# ---- a buffer that requires grad, converted by Module.to / double / half -----------------------
# LlamaGen's VectorQuantizer registers ``nn.Parameter(torch.zeros(65536))`` as a buffer and, in
# training, shifts it in place. PyTorch converts buffers outside no_grad with ``Tensor.to``, so after
# ``.double()`` (or a move to the GPU) the buffer is a ToCopyBackward0 non-leaf that in-place writes
# may change; glassgrad kept a Parameter leaf there and refused the first write.


def _quantizer(nn, torch_like):
    class Quantizer(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(6, 3)
            self.register_buffer("used", nn.Parameter(torch_like.zeros(16)))

        def forward(self, z):  # z: (B, 3, H, W) -> same shape, the usage count, the losses
            z = z.permute(0, 2, 3, 1)
            flat = nn.functional.normalize(z.reshape(-1, 3), dim=-1)
            emb = nn.functional.normalize(self.embedding.weight, dim=-1)
            d = (flat**2).sum(1, keepdim=True) + (emb**2).sum(1) - 2 * flat @ emb.t()
            idx = d.argmin(1)
            n = idx.shape[0]
            self.used[:-n] = self.used[n:].clone()
            self.used[-n:] = idx
            z_q = emb[idx].view(z.shape)
            zn = nn.functional.normalize(z, dim=-1)
            loss = ((z_q - zn.detach()) ** 2).mean() + 0.25 * ((z_q.detach() - zn) ** 2).mean()
            out = zn + (z_q - zn).detach()
            return out.permute(0, 3, 1, 2), len(torch_like.unique(self.used)), loss

    return Quantizer


@pytest.mark.parametrize("convert", ["double", "to_float64", "half_then_double"])
def test_parameter_buffer_converted_then_written_in_place_as_pytorch(torch, convert):
    results = {}
    for name, lib in _libs(torch).items():
        lib.manual_seed(0)
        q = _quantizer(lib.nn, lib)()
        w = np.random.default_rng(RNG_SEED).standard_normal((6, 3)).astype(np.float32)
        q.load_state_dict({"embedding.weight": _t(lib, w)}, strict=False)
        if convert == "double":
            q.double()
        elif convert == "to_float64":
            q.to(lib.float64)
        else:
            q.half().double()
        z = _t(lib, np.random.default_rng(1).standard_normal((2, 3, 2, 2))).requires_grad_(True)
        out, usage, loss = q(z)
        (loss + out.sum()).backward()
        u = q.used
        results[name] = dict(
            out=out.detach().numpy(),
            grad=z.grad.numpy(),
            emb_grad=q.embedding.weight.grad.numpy(),
            used=u.detach().numpy(),
            usage=usage,
            meta=(
                type(u).__name__,
                u.requires_grad,
                u.is_leaf,
                type(u.grad_fn).__name__,
                str(u.dtype).split(".")[-1],
            ),
        )
    ours, theirs = results["glassgrad"], results["torch"]
    assert ours["meta"] == theirs["meta"]
    assert ours["usage"] == theirs["usage"]
    for k in ("out", "grad", "emb_grad", "used"):
        np.testing.assert_allclose(ours[k], theirs[k], rtol=1e-12, atol=1e-14, err_msg=k)


def test_buffer_conversion_under_no_grad_and_by_a_function_as_pytorch(torch):
    seen = {}
    for name, lib in _libs(torch).items():
        m = lib.nn.Linear(2, 2)
        m.register_buffer("u", lib.nn.Parameter(lib.ones(3)))
        kept = m.u
        m.double()
        (m.u * 2).sum().backward()  # the gradient reaches the Parameter the buffer was
        chain = m.u.grad_fn.name()
        with lib.no_grad():
            m.float()
        quiet = (type(m.u).__name__, m.u.requires_grad, m.u.is_leaf)
        m2 = lib.nn.Linear(2, 2)
        m2.register_buffer("u", lib.nn.Parameter(lib.ones(3)))
        m2._apply(lambda t: t.double())  # a program's own function: recorded for buffers only
        by_fn = (type(m2.u).__name__, m2.u.is_leaf, type(m2.weight).__name__, m2.weight.is_leaf)
        seen[name] = (kept.grad.numpy().tolist(), str(kept.grad.dtype).split(".")[-1], chain, quiet, by_fn)
    assert seen["glassgrad"] == seen["torch"]


# ---- copy.deepcopy refuses a computed tensor -----------------------------------------------------
# After ``.to(device)`` LlamaGen's ``ema = deepcopy(vq_model)`` meets that non-leaf buffer: PyTorch
# raises its sentence on any tensor that is not a graph leaf (an old weight_norm's weight too);
# glassgrad copied the graph.


def _deepcopy_cases(lib):
    p = lib.nn.Parameter(lib.ones(3))

    def module_with_computed_buffer():
        m = lib.nn.Linear(2, 2)
        m.register_buffer("u", lib.nn.Parameter(lib.ones(3)) * 1)
        return m

    def spectral_after_training_forward():
        m = lib.nn.utils.spectral_norm(lib.nn.Linear(3, 2))
        m(lib.ones(1, 3)).sum().backward()
        return m

    def spectral_after_no_grad_forward():
        m = lib.nn.utils.spectral_norm(lib.nn.Linear(3, 2)).eval()
        with lib.no_grad():
            m(lib.ones(1, 3))
        return m

    return {
        "computed_tensor": lambda: p * 2,
        "computed_in_memo_first": lambda: [p * 2] * 2,
        "module_with_computed_buffer": module_with_computed_buffer,
        "spectral_norm_after_forward": spectral_after_training_forward,
        "spectral_norm_after_no_grad_forward": spectral_after_no_grad_forward,
        "leaf_with_grad": lambda: p,
        "detached": lambda: (p * 2).detach(),
        "computed_without_grad": lambda: lib.ones(2) * 2,
    }


@pytest.mark.parametrize("case", list(_deepcopy_cases(gg)))
def test_deepcopy_of_a_non_leaf_raises_as_pytorch(torch, case):
    outcome = {}
    for name, lib in _libs(torch).items():
        lib.manual_seed(0)
        obj = _deepcopy_cases(lib)[case]()
        try:
            copy.deepcopy(obj)
            outcome[name] = "copied"
        except RuntimeError as e:
            outcome[name] = str(e)
    assert outcome["glassgrad"] == outcome["torch"]


def test_deepcopy_of_a_leaf_keeps_grad_as_pytorch(torch):
    grads = {}
    for name, lib in _libs(torch).items():
        t = _t(lib, [1.0, 2.0], grad=True)
        p = lib.nn.Parameter(_t(lib, [1.0, 2.0]))
        ((t + p) * 3).sum().backward()
        ct, cp = copy.deepcopy(t), copy.deepcopy(p)
        grads[name] = (ct.is_leaf, ct.requires_grad, ct.grad.numpy().tolist(), type(cp).__name__, cp.grad)
    assert grads["glassgrad"] == grads["torch"]
