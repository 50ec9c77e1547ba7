"""Round 46, group rev: reformer, performer, perceiver and memory-efficient attention on glassgrad.

* A custom ``autograd.Function`` whose forward changed a tensor in place after
  ``ctx.save_for_backward`` (memory-efficient-attention's cosine-sim ``FlashAttentionFunction``
  saves its output ``o`` and then normalises it with ``o.mul_(...)`` before returning it) raised
  "a tensor saved for backward was modified in place after forward" at backward: glassgrad took
  the saved tensors' versions when ``save_for_backward`` was called. PyTorch packs them when
  forward returns, so backward sees the changed values; a change after forward is still refused.
  (The same held for an input saved and then changed in place with ``mark_dirty``.)
* ``set_rng_state``/``Generator.set_state`` raised ``ValueError`` for every bad state, where PyTorch
  raises ``TypeError`` for what is no uint8 tensor ("RNG state must be a torch.ByteTensor") and
  ``RuntimeError`` for a uint8 tensor that is no state: now those (still ``ValueError`` too).

Also kept here: the reversible-block pattern all four programs share (a custom Function whose
backward re-runs forward under ``fork_rng`` + ``set_rng_state`` of the state recorded in forward,
with dropout on), against plain autograd in glassgrad and against PyTorch's own replay.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

RS = np.random.RandomState(46)


def _out_mutated(lib):
    class OutMutated(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            o = x * 2
            ctx.save_for_backward(x, o)
            o.mul_(3)  # after save_for_backward, still inside forward
            return o

        @staticmethod
        def backward(ctx, g):
            x, o = ctx.saved_tensors
            return g * o / x  # o is the saved output as returned: 6x, so the gradient is 6

    return OutMutated


def _temp_mutated(lib):
    class TempMutated(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            t = x + 1
            ctx.save_for_backward(t)
            t.add_(1)  # a saved intermediate changed before forward returns: backward reads x + 2
            return x * t

        @staticmethod
        def backward(ctx, g):
            (t,) = ctx.saved_tensors
            return g * t

    return TempMutated


def _styled_mutated(lib):
    class StyledMutated(lib.autograd.Function):  # PyTorch 2's style: setup_context saves
        @staticmethod
        def forward(x):
            return x * 2

        @staticmethod
        def setup_context(ctx, inputs, output):
            t = inputs[0] * 1
            ctx.save_for_backward(t)
            t.mul_(5)

        @staticmethod
        def backward(ctx, g):
            (t,) = ctx.saved_tensors
            return g * t

    return StyledMutated


def _saved_then_dirty(lib):
    class SavedThenDirty(lib.autograd.Function):  # the input saved, then doubled in place (mark_dirty)
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors  # the doubled input
            return g * x

    return lambda x: SavedThenDirty.apply(x.clone())  # a leaf cannot be changed in place: a clone


@pytest.mark.parametrize("make", [_out_mutated, _temp_mutated, _styled_mutated, _saved_then_dirty])
def test_function_saved_tensor_changed_inside_forward_matches_torch(torch, make):
    x0 = RS.uniform(0.5, 2.0, (3, 4))
    results = []
    for lib in (torch, gg):
        x = lib.tensor(x0, requires_grad=True)
        made = make(lib)
        y = getattr(made, "apply", made)(x)
        (y * lib.tensor(np.arange(12.0).reshape(3, 4))).sum().backward()
        results.append((y.detach().numpy(), x.grad.numpy()))
    np.testing.assert_array_equal(results[1][0], results[0][0])
    np.testing.assert_array_equal(results[1][1], results[0][1])


def test_function_saved_output_changed_after_forward_still_refused(torch):
    for lib, err in ((torch, RuntimeError), (gg, RuntimeError)):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = _out_mutated(lib).apply(x)
        with lib.no_grad():
            y.add_(1)
        with pytest.raises(err, match="modified by an inplace operation|modified in place"):
            y.sum().backward()


def test_function_saved_tensor_changed_inside_forward_hand_values():
    """Without PyTorch: the hand-derived gradient of y = 6x saved as o (do/dx = o / x = 6)."""
    x = gg.tensor([1.0, 2.0, 4.0], requires_grad=True)
    y = _out_mutated(gg).apply(x)
    y.sum().backward()
    np.testing.assert_array_equal(y.detach().numpy(), [6.0, 12.0, 24.0])
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 6.0, 6.0])
    x = gg.tensor([1.0, 3.0], requires_grad=True)
    _temp_mutated(gg).apply(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 5.0])  # the saved t is x + 2


@pytest.mark.parametrize("lib_name", ["torch", "glassgrad"])
def test_set_rng_state_error_classes_match_torch(torch, lib_name):
    lib = torch if lib_name == "torch" else gg
    for bad in (lib.zeros(3), [1, 2], lib.get_rng_state().to(lib.int64)):
        with pytest.raises(TypeError):
            lib.set_rng_state(bad)
        with pytest.raises(TypeError):
            lib.Generator().set_state(bad)
    with pytest.raises(RuntimeError):
        lib.set_rng_state(lib.zeros(3, dtype=lib.uint8))
    with pytest.raises(RuntimeError):
        lib.Generator().set_state(lib.zeros(3, dtype=lib.uint8))


def test_bad_rng_state_is_still_a_value_error_naming_the_call():
    with pytest.raises(ValueError, match=r"set_rng_state: .*got no uint8 tensor \(Tensor of float32\)"):
        gg.set_rng_state(gg.zeros(3))
    with pytest.raises(ValueError, match=r"Generator\.set_state: .*got a corrupt one \(Tensor of uint8\)"):
        gg.Generator().set_state(gg.zeros(3, dtype=gg.uint8))


def _reversible(lib):
    """Two coupled residual halves y1 = x1 + f(x2), y2 = x2 + g(y1) (f, g with dropout), whose
    backward reconstructs the inputs from the outputs and re-runs f and g with the forward's RNG."""

    class Replay(lib.nn.Module):
        def __init__(self, net):
            super().__init__()
            self.net = net
            self.state = None

        def forward(self, x, record=False, replay=False):
            if record:
                self.state = lib.get_rng_state()
            if not replay:
                return self.net(x)
            with lib.random.fork_rng(devices=[]):
                lib.set_rng_state(self.state)
                return self.net(x)

    class RevFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, f, g):
            x1, x2 = x.chunk(2, dim=-1)
            y1 = x1 + f(x2, record=True)
            y2 = x2 + g(y1, record=True)
            ctx.f, ctx.g = f, g
            y = lib.cat([y1, y2], dim=-1)
            ctx.save_for_backward(y.detach())
            return y

        @staticmethod
        def backward(ctx, dy):
            (y,) = ctx.saved_tensors
            y1, y2 = y.chunk(2, dim=-1)
            dy1, dy2 = dy.chunk(2, dim=-1)
            with lib.enable_grad():
                y1 = y1.detach().requires_grad_(True)
                gy1 = ctx.g(y1, replay=True)
                lib.autograd.backward(gy1, dy2)
            with lib.no_grad():
                x2 = y2 - gy1
                dx1 = dy1 + y1.grad
            with lib.enable_grad():
                x2 = x2.detach().requires_grad_(True)
                fx2 = ctx.f(x2, replay=True)
                lib.autograd.backward(fx2, dx1)
            with lib.no_grad():
                dx2 = dy2 + x2.grad
            return lib.cat([dx1, dx2], dim=-1), None, None

    def net(seed):
        lib.manual_seed(seed)
        return lib.nn.Sequential(lib.nn.Linear(3, 5), lib.nn.Tanh(), lib.nn.Dropout(0.4), lib.nn.Linear(5, 3))

    return Replay(net(1)).double(), Replay(net(2)).double(), RevFn


def _rev_run(lib, x0, reversible):
    f, g, rev_fn = _reversible(lib)
    x = lib.tensor(x0, requires_grad=True)
    lib.manual_seed(5)
    if reversible:
        y = rev_fn.apply(x, f, g)
    else:
        x1, x2 = x.chunk(2, dim=-1)
        y1 = x1 + f(x2)
        y = lib.cat([y1, x2 + g(y1)], dim=-1)
    (y * lib.tensor(np.linspace(-1.0, 2.0, y.numel()).reshape(y.shape))).sum().backward()
    grads = [x.grad.numpy()] + [p.grad.numpy() for m in (f, g) for p in m.parameters()]
    return y.detach().numpy(), grads


def test_reversible_replay_of_dropout_equals_plain_autograd(torch):
    x0 = RS.standard_normal((4, 7, 6))
    for lib in (gg, torch):  # PyTorch's replay is exact too: the same contract
        y_rev, g_rev = _rev_run(lib, x0, True)
        y_plain, g_plain = _rev_run(lib, x0, False)
        np.testing.assert_array_equal(y_rev, y_plain)
        for a, b in zip(g_rev, g_plain):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-14)
