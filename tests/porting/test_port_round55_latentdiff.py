"""Round 55, CompVis latent diffusion (latent-diffusion and stable-diffusion's ``ldm``).

The code base ran unchanged against PyTorch (AutoencoderKL with its LPIPS/discriminator loss, the
UNet with cross-attention and gradient checkpointing, DDPM/LatentDiffusion losses, LitEma, the
DDIM, PLMS and DPM-Solver samplers); no glassgrad defect was found. These tests keep three of the
patterns it leans on, each checked against PyTorch:

- guided-diffusion's checkpoint ``Function``: forward runs the block under ``no_grad``, backward
  runs it again under ``enable_grad`` on detached inputs (through ``view_as``) and asks
  ``autograd.grad`` for the inputs' and the parameters' gradients with ``allow_unused``;
- ``LitEma``'s buffers: an int32 counter bumped with ``+=``, ``min`` of two 0-d tensors, shadow
  weights moved with ``sub_`` under ``no_grad``;
- the samplers' NumPy on tensors: ``np.sqrt``/``np.log``/``np.clip`` of a tensor, a tensor indexed
  by a NumPy integer array, ``np.asarray`` of a list of 0-d tensors and floats.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad


def _checkpointed_grads(lib, seed):
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
                shallow = [x.view_as(x) for x in ctx.input_tensors]
                outputs = ctx.run_function(*shallow)
            grads = lib.autograd.grad(
                outputs, ctx.input_tensors + ctx.input_params, output_grads, allow_unused=True
            )
            del ctx.input_tensors, ctx.input_params, outputs
            return (None, None) + grads

    rng = np.random.default_rng(seed)
    block = lib.nn.Sequential(
        lib.nn.GroupNorm(2, 4), lib.nn.SiLU(), lib.nn.Conv2d(4, 4, 3, padding=1)
    ).double()
    unused = lib.nn.Parameter(lib.zeros(3, dtype=lib.float64))
    with lib.no_grad():
        for p in block.parameters():
            p.copy_(lib.tensor(rng.uniform(-0.5, 0.5, tuple(p.shape))))
    x = lib.tensor(rng.standard_normal((2, 4, 5, 5))).requires_grad_(True)
    ctx_in = lib.tensor(rng.standard_normal((2, 4, 1, 1)))
    params = list(block.parameters()) + [unused]

    def run(a, c):
        return block(a) * c + a

    y = CheckpointFunction.apply(run, 2, x, ctx_in, *params)
    (y * lib.tensor(rng.standard_normal(tuple(y.shape)))).sum().backward()
    out = [y.detach().numpy(), x.grad.numpy()] + [p.grad.numpy() for p in block.parameters()]
    return out, unused.grad


def test_checkpoint_function_recomputes_like_pytorch(torch):
    got, unused_gg = _checkpointed_grads(glassgrad, 3)
    want, unused_pt = _checkpointed_grads(torch, 3)
    assert unused_gg is None and unused_pt is None
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-13)


def _ema_buffers(lib):
    model = lib.nn.Linear(3, 2)
    with lib.no_grad():
        model.weight.copy_(lib.arange(6.0).reshape(2, 3) / 10)
        model.bias.copy_(lib.tensor([0.5, -0.5]))
    holder = lib.nn.Module()
    holder.register_buffer("decay", lib.tensor(0.9999, dtype=lib.float32))
    holder.register_buffer("num_updates", lib.tensor(0, dtype=lib.int))
    for name, p in model.named_parameters():
        holder.register_buffer(name.replace(".", ""), p.clone().detach().data)
    seen = []
    for step in range(3):
        with lib.no_grad():
            model.weight.add_(0.25 * (step + 1))
        holder.num_updates += 1
        decay = min(holder.decay, (1 + holder.num_updates) / (10 + holder.num_updates))
        one_minus = 1.0 - decay
        with lib.no_grad():
            shadow = dict(holder.named_buffers())
            for name, p in model.named_parameters():
                s = shadow[name.replace(".", "")].type_as(p)
                s.sub_(one_minus * (s - p))
        seen.append(float(decay))
    state = holder.state_dict()
    return (
        seen,
        str(holder.num_updates.dtype).split(".")[-1],
        int(holder.num_updates),
        list(state),
        {k: v.numpy() for k, v in state.items()},
    )


def test_litema_buffers_like_pytorch(torch):
    got, want = _ema_buffers(glassgrad), _ema_buffers(torch)
    np.testing.assert_allclose(got[0], want[0], rtol=0, atol=0)
    assert got[1:4] == want[1:4] == ("int32", 3, ["decay", "num_updates", "weight", "bias"])
    for k in want[4]:
        assert got[4][k].dtype == want[4][k].dtype
        np.testing.assert_array_equal(got[4][k], want[4][k])


def _sampler_numpy(lib):
    alphas_cumprod = lib.tensor(np.cumprod(1 - np.linspace(1e-4, 2e-2, 12)), dtype=lib.float32)
    steps = np.asarray(list(range(0, 12, 3))) + 1
    alphas = alphas_cumprod[steps]
    prev = np.asarray([alphas_cumprod[0]] + alphas_cumprod[steps[:-1]].tolist())
    sigmas = 0.5 * np.sqrt((1 - prev) / (1 - alphas) * (1 - alphas / prev))
    logs = np.log(1.0 - alphas_cumprod)
    clipped = np.clip(lib.linspace(-1.0, 2.0, 7, dtype=lib.float64), a_min=0, a_max=0.999)
    return [
        (type(x).__module__.split(".")[0], np.asarray(x.numpy() if hasattr(x, "numpy") else x))
        for x in (alphas, prev, sigmas, logs, clipped)
    ]


@pytest.mark.filterwarnings("ignore:__array_wrap__ must accept context:DeprecationWarning")
def test_sampler_numpy_on_tensors_like_pytorch(torch):  # the warning is PyTorch's own
    got, want = _sampler_numpy(glassgrad), _sampler_numpy(torch)
    kinds = [w[0] for w in want]
    assert kinds == ["torch", "numpy", "torch", "torch", "torch"]
    assert [g[0] for g in got] == ["glassgrad", "numpy", "glassgrad", "glassgrad", "glassgrad"]
    for (_, g), (_, w) in zip(got, want, strict=True):
        assert g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=0)
