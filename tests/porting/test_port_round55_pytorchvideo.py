"""Round 55, PyTorchVideo's models/layers/transforms and SlowFast's model builders.

Two classes of defect stopped the programs with ``torch`` mapped to glassgrad:

- a custom ``autograd.Function``'s ``ctx.save_for_backward`` refused anything but Tensors at once.
  PyTorch checks what was saved only when the Function's node is recorded (grad mode on and an
  input requiring grad), so ``torch.fx.symbolic_trace`` of a model using PyTorchVideo's
  ``SwishFunction`` (X3D) passes Proxies through it; glassgrad raised
  ``TypeError: save_for_backward: expected Tensors or None, got Proxy``.
- ``torch._C._distributed_c10d`` did not exist: PyTorchVideo's ``layers/distributed.py`` does
  ``from torch._C._distributed_c10d import ProcessGroup`` (imported by ``layers/__init__``), so
  ``import pytorchvideo.layers`` failed.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad
import glassgrad.distributed as gdist


def _swish(lib):
    """PyTorchVideo's ``SwishFunction`` and ``Swish`` module (layers/swish.py), written fresh."""

    class SwishFunction(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            result = x * lib.sigmoid(x)
            ctx.save_for_backward(x)
            return result

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            s = lib.sigmoid(x)
            return grad_output * (s * (1 + x * (1 - s)))

    class Swish(lib.nn.Module):
        def forward(self, x):
            return SwishFunction.apply(x)

    return SwishFunction, Swish


def _keeper(lib):
    class Keep(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, extra):
            ctx.save_for_backward(extra)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2, None

    return Keep


def _outcome(lib, fn):
    try:
        out = fn()
    except TypeError:
        return "TypeError"
    return np.asarray(out.detach().numpy() if hasattr(out, "detach") else out).tolist()


@pytest.mark.parametrize(
    "case",
    ["numbers", "tensor_no_grad_str", "tensor_no_grad_int", "no_grad_mode", "recorded_str", "recorded_none"],
)
def test_save_for_backward_checked_only_when_recorded(torch, case):
    def run(lib):
        keep = _keeper(lib)
        if case == "numbers":
            return _outcome(lib, lambda: keep.apply(3.0, 4.0))
        if case == "tensor_no_grad_str":
            return _outcome(lib, lambda: keep.apply(lib.ones(2), "a"))
        if case == "tensor_no_grad_int":
            return _outcome(lib, lambda: keep.apply(lib.ones(2), 5))
        if case == "no_grad_mode":
            with lib.no_grad():
                return _outcome(lib, lambda: keep.apply(lib.ones(2, requires_grad=True), "a"))
        if case == "recorded_none":
            return _outcome(lib, lambda: keep.apply(lib.ones(2, requires_grad=True), None))
        return _outcome(lib, lambda: keep.apply(lib.ones(2, requires_grad=True), "a"))

    assert run(glassgrad) == run(torch)


def test_save_for_backward_refusal_names_the_function():
    keep = _keeper(glassgrad)
    with pytest.raises(TypeError, match=r"Keep: save_for_backward: expected Tensors or None, got str"):
        keep.apply(glassgrad.ones(2, requires_grad=True), "a")


def test_saved_tensor_still_version_checked():
    keep = _keeper(glassgrad)
    x = glassgrad.ones(2, requires_grad=True)
    saved = glassgrad.ones(2)
    y = keep.apply(x, saved)
    saved.add_(1.0)
    y.sum().backward()  # Keep.backward never reads saved_tensors: nothing to refuse
    assert x.grad.tolist() == [2.0, 2.0]


def test_fx_trace_through_custom_function_matches_torch(torch):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((4, 3))
    b = rng.standard_normal(4)
    x = rng.standard_normal((5, 3))

    def build(lib):
        _, swish = _swish(lib)
        lin = lib.nn.Linear(3, 4).double()
        with lib.no_grad():
            lin.weight.copy_(lib.tensor(w))
            lin.bias.copy_(lib.tensor(b))
        return lib.nn.Sequential(lin, swish())

    tm, gm = build(torch), build(glassgrad)
    tg, gg_ = torch.fx.symbolic_trace(tm), glassgrad.fx.symbolic_trace(gm)
    t_ops = [n.op for n in tg.graph.nodes]
    g_ops = [n.op for n in gg_.graph.nodes]
    assert g_ops == t_ops  # placeholder, call_module, call_function (sigmoid), call_function (mul), output
    expected = tg(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(gg_(glassgrad.tensor(x)).detach().numpy(), expected, rtol=0, atol=1e-14)
    # the eager module still records the Function and its backward (hand derivation of swish')
    xt = glassgrad.tensor(x, requires_grad=True)
    gm(xt).sum().backward()
    z = x @ w.T + b
    s = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(xt.grad.numpy(), (s * (1 + z * (1 - s))) @ w, rtol=1e-12, atol=1e-12)


def test_distributed_c10d_module_shares_the_classes(torch):
    from glassgrad._C._distributed_c10d import ProcessGroup

    from glassgrad.c10d_names import SHARED

    assert ProcessGroup is gdist.ProcessGroup
    c10d = glassgrad._C._distributed_c10d
    for name in SHARED:
        assert getattr(c10d, name) is getattr(gdist, name)
        # and they are the very classes PyTorch shares between the two modules
        assert getattr(torch._C._distributed_c10d, name) is getattr(torch.distributed, name)
    assert sorted(SHARED) == dir(c10d)


def test_distributed_c10d_unknown_name_is_clear():
    with pytest.raises(AttributeError, match=r"glassgrad._C._distributed_c10d' has no attribute 'Backend'"):
        glassgrad._C._distributed_c10d.Backend  # noqa: B018
