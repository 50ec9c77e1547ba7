"""Round 40, group seqtag: pytorch-crf's ``CRF``, flair's ``SequenceTagger``, skorch.

pytorch-crf builds its default mask as ``torch.ones_like(tags, dtype=torch.uint8)`` and steps its
forward and Viterbi recursions with ``torch.where(mask[i].unsqueeze(1), next_score, score)``:
PyTorch reads a uint8 condition as a mask (with a deprecation UserWarning) and refuses every
other non-bool dtype. Each test compares with PyTorch's CPU build.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import DTypeError


def _both(torch, arr, grad=False):
    g, t = gg.tensor(arr), torch.tensor(arr)
    if grad:
        g.requires_grad_(True)
        t.requires_grad_(True)
    return g, t


@pytest.mark.parametrize(
    ("cshape", "ashape", "bshape"),
    [((3, 4), (3, 4), (3, 4)), ((3, 1), (3, 4), (4,)), ((2, 1, 4), (3, 1), (1, 3, 4)), ((), (2, 3), (3,))],
)
def test_where_reads_a_uint8_condition_as_a_mask_with_gradients(torch, cshape, ashape, bshape):
    rng = np.random.default_rng(0)
    cond = rng.integers(0, 3, size=cshape).astype(np.uint8)  # 2 is true too
    a, b = rng.normal(size=ashape), rng.normal(size=bshape)
    ga, ta = _both(torch, a, grad=True)
    gb, tb = _both(torch, b, grad=True)
    gc, tc = _both(torch, cond)
    with pytest.warns(UserWarning, match="uint8"):
        got = gg.where(gc, ga, gb)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = torch.where(tc, ta, tb)
    np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
    w = rng.normal(size=want.shape)
    (got * gg.tensor(w)).sum().backward()
    (want * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(ga.grad.numpy(), ta.grad.numpy())
    np.testing.assert_array_equal(gb.grad.numpy(), tb.grad.numpy())


def test_where_uint8_condition_in_its_other_forms(torch):
    cond = np.array([[1, 0, 1], [0, 1, 1]], dtype=np.uint8)
    x = np.arange(6.0).reshape(2, 3)
    gc, tc = _both(torch, cond)
    gx, tx = _both(torch, x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pairs = [
            (gg.where(gc, gx, 0.0), torch.where(tc, tx, 0.0)),
            (gg.where(gc, 1.0, 0), torch.where(tc, 1.0, 0)),
            (gx.where(gc, -1.0), tx.where(tc, -1.0)),
            (gg.where(gc, gx, -gx, out=gg.empty(2, 3, dtype=gg.float64)),
             torch.where(tc, tx, -tx, out=torch.empty(2, 3, dtype=torch.float64))),
        ]  # fmt: skip
    for got, want in pairs:
        assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
        np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64", "float32", "float64"])
def test_where_refuses_other_non_bool_conditions_as_pytorch(torch, dtype):
    cond = np.array([1, 0, 1]).astype(dtype)
    x = np.ones(3)
    with pytest.raises(RuntimeError, match="boolean"):
        torch.where(torch.tensor(cond), torch.tensor(x), torch.tensor(x))
    with pytest.raises(DTypeError, match=f"where: .*got {dtype}"):
        gg.where(gg.tensor(cond), gg.tensor(x), gg.tensor(x))


def test_where_with_a_uint8_condition_passes_gradcheck():
    rng = np.random.default_rng(3)
    for cshape, ashape, bshape in [((4, 1), (1, 3), (4, 3)), ((2, 3), (3,), ()), ((5,), (2, 5), (1, 5))]:
        cond = gg.tensor(rng.integers(0, 2, size=cshape).astype(np.uint8))
        a = gg.tensor(rng.normal(size=ashape), requires_grad=True)
        b = gg.tensor(rng.normal(size=bshape), requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert gg.autograd.gradcheck(lambda x, y, c=cond: gg.where(c, x, y), (a, b))


def _crf_log_partition(lib, emissions, start, end, trans, mask):
    """pytorch-crf's ``_compute_normalizer``: the forward recursion stepped by ``where(mask)``."""
    score = start + emissions[0]
    for i in range(1, emissions.size(0)):
        nxt = score.unsqueeze(2) + trans + emissions[i].unsqueeze(1)
        nxt = lib.logsumexp(nxt, dim=1)
        score = lib.where(mask[i].unsqueeze(1), nxt, score)
    return lib.logsumexp(score + end, dim=1)


@pytest.mark.parametrize("mask_dtype", ["uint8", "bool"])
def test_crf_forward_recursion_with_a_byte_mask_matches_pytorch(torch, mask_dtype):
    rng = np.random.default_rng(7)
    steps, batch, tags = 5, 3, 4
    em = rng.normal(size=(steps, batch, tags))
    start, end, trans = (
        rng.uniform(-0.1, 0.1, tags),
        rng.uniform(-0.1, 0.1, tags),
        rng.normal(size=(tags, tags)),
    )
    lengths = np.array([5, 2, 1])
    mask = (np.arange(steps)[:, None] < lengths[None, :]).astype(mask_dtype)
    outs, grads = [], []
    for lib in (gg, torch):
        leaves = [lib.tensor(v, requires_grad=True) for v in (em, start, end, trans)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            z = _crf_log_partition(lib, *leaves, lib.tensor(mask))
        z.sum().backward()
        outs.append(z.detach().numpy())
        grads.append([p.grad.numpy() for p in leaves])
    np.testing.assert_allclose(outs[0], outs[1], rtol=0, atol=1e-12)
    for g, t in zip(*grads):
        np.testing.assert_allclose(g, t, rtol=0, atol=1e-12)


# --- skorch's SkorchDoctor lists parameters in the order their gradient hooks fire -------------
# PyTorch's F.linear is addmm(b, x, W.t()) (behind a view for inputs that are not 2-d): a hooked
# bias is ready before the weight, whose gradient passes TBackward0 first. glassgrad's Linear is
# one node; the engine makes its hooked leaves ready in PyTorch's order.


def _hook_order(lib, bias, shape, x_leaf):
    lib.manual_seed(0)
    layer = lib.nn.Linear(3, 2, bias=bias, dtype=lib.float64)
    x = lib.randn(*shape, dtype=lib.float64, requires_grad=x_leaf)
    order = []
    named = (
        [("weight", layer.weight)] + ([("bias", layer.bias)] if bias else []) + ([("x", x)] if x_leaf else [])
    )
    for name, t in named:
        t.register_hook(lambda g, name=name: order.append(name))
        t.register_post_accumulate_grad_hook(lambda t, name=name: order.append(name + "+"))
    layer(x).sum().backward()
    return order


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(4, 3), (2, 4, 3), (3,)])
@pytest.mark.parametrize("x_leaf", [True, False])
def test_linear_leaf_hooks_fire_in_pytorchs_order(torch, bias, shape, x_leaf):
    assert _hook_order(gg, bias, shape, x_leaf) == _hook_order(torch, bias, shape, x_leaf)


def _module_hook_order(lib, make, inputs):
    lib.manual_seed(0)
    module = make(lib)
    order = []
    for name, p in module.named_parameters():
        p.register_hook(lambda g, name=name: order.append(name))
    out = module(*[lib.tensor(a) for a in inputs])
    (out[0] if isinstance(out, tuple) else out).sum().backward()
    return order


_MODULES = {
    "mlp": (lambda lib: lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2)), [(5, 3)]),
    "mlp_3d": (
        lambda lib: lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 2)),
        [(2, 5, 3)],
    ),
    "bilinear": (lambda lib: lib.nn.Bilinear(3, 3, 2), [(2, 3), (2, 3)]),
    "mha": (lambda lib: lib.nn.MultiheadAttention(4, 2), [(3, 1, 4)] * 3),
}


@pytest.mark.parametrize("name", sorted(_MODULES))
def test_parameter_hooks_of_modules_built_on_linear_fire_in_pytorchs_order(torch, name):
    make, shapes = _MODULES[name]
    rng = np.random.default_rng(1)
    inputs = [rng.normal(size=s).astype(np.float32) for s in shapes]
    assert _module_hook_order(gg, make, inputs) == _module_hook_order(torch, make, inputs)


def test_linear_gradients_unchanged_by_hook_order(torch):
    rng = np.random.default_rng(2)
    x, w, b = rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 3)), rng.normal(size=2)
    grads = []
    for lib in (gg, torch):
        ts = [lib.tensor(a, requires_grad=True) for a in (x, w, b)]
        seen = []
        for t in ts:
            t.register_hook(lambda g: seen.append(g.clone()))
        (lib.nn.functional.linear(*ts) ** 2).sum().backward()
        grads.append([t.grad.numpy() for t in ts])
    for g, t in zip(*grads):
        np.testing.assert_allclose(g, t, rtol=1e-13, atol=1e-13)
