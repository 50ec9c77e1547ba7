"""Round 27 (lucidrains/performer-pytorch and reformer-pytorch, their ``reversible.py``): a
reversible block stack written the way those programs write it. It subclasses
``torch.autograd.function.Function`` (glassgrad gave the library's internal op base there, whose
``ctx`` takes no attributes), saves and restores the RNG with ``torch.random.fork_rng`` (missing)
and ``torch.utils.checkpoint.get_device_states``/``set_device_states`` (missing), and reads
``torch.cuda._initialized`` (missing)."""

import numpy as np
import pytest

import glassgrad as gg


def reversible_stack(lib, weights, x_np, drop_p):
    """Two reversible blocks ``y1 = x1 + f(x2)``, ``y2 = x2 + g(y1)`` (f, g: Linear + dropout);
    backward recomputes the inputs from the outputs, replaying each block's RNG state."""
    from_fn = __import__(lib.__name__ + ".autograd.function", fromlist=["Function"])
    ckpt = __import__(lib.__name__ + ".utils.checkpoint", fromlist=["get_device_states"])

    class Deterministic(lib.nn.Module):
        def __init__(self, net):
            super().__init__()
            self.net = net

        def forward(self, x, record_rng=False, set_rng=False):
            if record_rng:
                self.cpu_state = lib.get_rng_state()
                if lib.cuda._initialized:
                    self.gpu_devices, self.gpu_states = ckpt.get_device_states(x)
            if not set_rng:
                return self.net(x)
            with lib.random.fork_rng(devices=[], enabled=True):
                lib.set_rng_state(self.cpu_state)
                ckpt.set_device_states([], [])
                return self.net(x)

    class Block(lib.nn.Module):
        def __init__(self, f, g):
            super().__init__()
            self.f, self.g = Deterministic(f), Deterministic(g)

        def forward(self, x):
            x1, x2 = lib.chunk(x, 2, dim=-1)
            with lib.no_grad():
                y1 = x1 + self.f(x2, record_rng=self.training)
                y2 = x2 + self.g(y1, record_rng=self.training)
            return lib.cat([y1, y2], dim=-1)

        def backward_pass(self, y, dy):
            y1, y2 = lib.chunk(y, 2, dim=-1)
            dy1, dy2 = lib.chunk(dy, 2, dim=-1)
            with lib.enable_grad():
                y1.requires_grad = True
                gy1 = self.g(y1, set_rng=True)
                lib.autograd.backward(gy1, dy2)
            with lib.no_grad():
                x2 = y2 - gy1
                dx1 = dy1 + y1.grad
                y1.grad = None
            with lib.enable_grad():
                x2.requires_grad = True
                fx2 = self.f(x2, set_rng=True)
                lib.autograd.backward(fx2, dx1, retain_graph=True)
            with lib.no_grad():
                x1 = y1 - fx2
                dx2 = dy2 + x2.grad
                x2.grad = None
                return lib.cat([x1, x2.detach()], dim=-1), lib.cat([dx1, dx2], dim=-1)

    class _Reversible(from_fn.Function):
        @staticmethod
        def forward(ctx, x, blocks, kwargs):
            ctx.kwargs = kwargs  # non-tensor ctx attributes, as the programs keep them
            for block in blocks:
                x = block(x)
            ctx.y = x.detach()
            ctx.blocks = blocks
            return x

        @staticmethod
        def backward(ctx, dy):
            y = ctx.y
            for block in ctx.blocks[::-1]:
                y, dy = block.backward_pass(y, dy)
            return dy, None, None

    def sub(w, b):
        lin = lib.nn.Linear(3, 3).double()
        with lib.no_grad():
            lin.weight.copy_(lib.tensor(w))
            lin.bias.copy_(lib.tensor(b))
        return lib.nn.Sequential(lin, lib.nn.Tanh(), lib.nn.Dropout(drop_p))

    blocks = lib.nn.ModuleList([Block(sub(*weights[i]), sub(*weights[i + 1])) for i in (0, 2)])
    x = lib.tensor(x_np, requires_grad=True)
    lib.manual_seed(0)
    out = _Reversible.apply(x, blocks, {"f_args": {}})
    (out * lib.tensor(np.linspace(-1, 1, out.numel()).reshape(out.shape))).sum().backward()
    grads = [p.grad.numpy() for p in blocks.parameters()]
    return out.detach().numpy(), x.grad.numpy(), grads


def weights_and_input():
    rng = np.random.default_rng(0)
    weights = [(rng.standard_normal((3, 3)), rng.standard_normal(3)) for _ in range(4)]
    return weights, rng.standard_normal((4, 6))


def test_reversible_function_matches_torch(torch):
    weights, x = weights_and_input()
    want = reversible_stack(torch, weights, x, drop_p=0.0)
    got = reversible_stack(gg, weights, x, drop_p=0.0)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12, atol=1e-12)
    for g, w in zip(got[2], want[2]):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


def test_reversible_with_dropout_replays_the_masks():
    """With dropout the rerun must draw the forward's masks again (fork_rng + set_rng_state), or
    the recomputed inputs and gradients are wrong: compare with the same stack run plainly."""
    weights, x = weights_and_input()
    out, gx, grads = reversible_stack(gg, weights, x, drop_p=0.5)
    # plain autograd through the same blocks with the same generator draws
    lins = []
    for w, b in weights:
        lin = gg.nn.Linear(3, 3).double()
        with gg.no_grad():
            lin.weight.copy_(gg.tensor(w))
            lin.bias.copy_(gg.tensor(b))
        lins.append(lin)
    drop = gg.nn.Dropout(0.5)
    xt = gg.tensor(x, requires_grad=True)
    gg.manual_seed(0)
    h = xt
    for f, g in ((lins[0], lins[1]), (lins[2], lins[3])):
        x1, x2 = gg.chunk(h, 2, dim=-1)
        y1 = x1 + drop(gg.tanh(f(x2)))
        y2 = x2 + drop(gg.tanh(g(y1)))
        h = gg.cat([y1, y2], dim=-1)
    (h * gg.tensor(np.linspace(-1, 1, h.numel()).reshape(h.shape))).sum().backward()
    np.testing.assert_allclose(out, h.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gx, xt.grad.numpy(), rtol=1e-12, atol=1e-12)
    plain = [p.grad.numpy() for lin in lins for p in lin.parameters()]
    for a, b in zip(grads, plain):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_autograd_function_path_is_the_user_function(torch):
    import glassgrad.autograd.function as fn

    assert torch.autograd.function.Function is torch.autograd.Function
    assert fn.Function is gg.autograd.Function
    assert fn.FunctionCtx is gg.autograd.function.FunctionCtx


def test_fork_rng_restores_the_generator(torch):
    for lib in (torch, gg):
        lib.manual_seed(3)
        plain = lib.rand(4).numpy()
        lib.manual_seed(3)
        with lib.random.fork_rng():
            inside = lib.rand(4).numpy()
        after = lib.rand(4).numpy()
        np.testing.assert_array_equal(inside, plain)
        np.testing.assert_array_equal(after, plain)  # the region's draws were undone
        lib.manual_seed(3)
        with lib.random.fork_rng(enabled=False):
            lib.rand(4)
        assert not np.array_equal(lib.rand(4).numpy(), plain)  # not forked: the stream moved on
        lib.manual_seed(3)
        with pytest.raises(KeyError), lib.random.fork_rng(devices=[]):
            lib.rand(4)
            raise KeyError("inside")
        np.testing.assert_array_equal(lib.rand(4).numpy(), plain)  # restored on an exception too


def test_fork_rng_refuses_accelerator_ids(torch):
    # PyTorch's CPU build: "Torch not compiled with CUDA enabled"
    with pytest.raises(AssertionError), torch.random.fork_rng(devices=[0]):
        pass
    with (
        pytest.raises(AssertionError, match=r"fork_rng\(devices=\[0\].*expected None or \[\]"),
        gg.random.fork_rng(devices=[0]),
    ):
        pass
    with gg.random.fork_rng(devices=[0], device_type="meta"):
        pass


def test_device_states_of_cpu_tensors_as_torch(torch):
    from torch.utils.checkpoint import get_device_states as t_get
    from torch.utils.checkpoint import set_device_states as t_set

    from glassgrad.utils.checkpoint import get_device_states, set_device_states

    want = t_get(torch.ones(2), [torch.zeros(3)], "x")
    assert get_device_states(gg.ones(2), [gg.zeros(3)], "x") == want == ([], [])
    assert set_device_states([], []) is None and t_set([], []) is None
    with pytest.raises(RuntimeError, match=r"set_device_states\(devices=\[0\]"):
        set_device_states([0], [gg.get_rng_state()])
    assert "get_device_states" in torch.utils.checkpoint.__all__
    assert "get_device_states" in gg.utils.checkpoint.__all__


def test_cuda_initialized_flag_as_torch(torch):
    assert gg.cuda._initialized is torch.cuda._initialized is False
