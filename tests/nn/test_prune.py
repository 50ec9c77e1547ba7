"""nn.utils.prune against torch.nn.utils.prune: masks, state-dict keys, outputs and gradients for
the deterministic methods (l1, ln, global, custom_from_mask, identity, iterative pruning through
PruningContainer, remove); the random methods by their invariants; errors and roll-back."""

from __future__ import annotations

import importlib
import math

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
from glassgrad.autograd import gradcheck
from glassgrad.nn.utils import prune


@pytest.fixture
def torch(torch):
    """PyTorch with ``torch.nn.utils.prune`` loaded (it is not imported with ``torch.nn.utils``)."""
    importlib.import_module("torch.nn.utils.prune")
    return torch


LAYERS = {"Linear": ((6, 5), (3, 6)), "Conv2d": ((3, 4, 3), (2, 3, 5, 5)), "Conv1d": ((3, 6, 2), (2, 3, 7))}


def _pair(torch, layer, dtype=np.float32):
    args, _ = LAYERS[layer]
    ours, theirs = getattr(nn, layer)(*args), getattr(torch.nn, layer)(*args)
    if dtype == np.float64:
        ours, theirs = ours.double(), theirs.double()
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _same_module(torch, ours, theirs, layer, tol=1e-5):
    """Same state-dict keys and values, hooks, outputs and gradients of every parameter."""
    sd, tsd = ours.state_dict(), theirs.state_dict()
    assert list(sd) == list(tsd)
    for k in sd:
        np.testing.assert_allclose(sd[k]._data, tsd[k].numpy(), rtol=tol, atol=tol, err_msg=k)
    assert [type(h).__name__ for h in ours._forward_pre_hooks.values()] == [
        type(h).__name__ for h in theirs._forward_pre_hooks.values()
    ]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    x = np.random.default_rng(1).standard_normal(LAYERS[layer][1]).astype(sd[next(iter(sd))]._data.dtype)
    out, tout = ours(gg.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(out._data, tout.detach().numpy(), rtol=tol, atol=tol)
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    tparams = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(
            p.grad._data, tparams[name].grad.numpy(), rtol=1e-4, atol=1e-4, err_msg=name
        )


@pytest.mark.parametrize("amount", [0.3, 5, 0, 0.0, 1.0, 0.25])
@pytest.mark.parametrize("layer", ["Linear", "Conv2d"])
def test_l1_unstructured_matches_pytorch(torch, layer, amount):
    ours, theirs = _pair(torch, layer)
    assert prune.l1_unstructured(ours, "weight", amount=amount) is ours
    torch.nn.utils.prune.l1_unstructured(theirs, "weight", amount=amount)
    assert list(ours.state_dict()) == ["bias", "weight_orig", "weight_mask"]
    _same_module(torch, ours, theirs, layer)
    assert isinstance(ours.weight_orig, nn.Parameter) and "weight" not in ours._parameters
    assert ours.weight_mask.requires_grad is False and ours.weight.grad_fn is not None


@pytest.mark.parametrize("n", [1, 2, 3, math.inf, -math.inf, "fro", 0.5])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("layer", ["Linear", "Conv2d"])
def test_ln_structured_matches_pytorch(torch, layer, dim, n):
    ours, theirs = _pair(torch, layer)
    prune.ln_structured(ours, "weight", amount=0.5, n=n, dim=dim)
    if n == "fro" and layer == "Conv2d":  # PyTorch's 'fro' takes 2 dims only; ours is the 2-norm
        with pytest.raises(RuntimeError):
            torch.nn.utils.prune.ln_structured(theirs, "weight", amount=0.5, n=n, dim=dim)
        n = 2
    torch.nn.utils.prune.ln_structured(theirs, "weight", amount=0.5, n=n, dim=dim)
    _same_module(torch, ours, theirs, layer)


def test_ln_structured_nuclear_norm_matches_pytorch(torch):
    ours, theirs = _pair(torch, "Conv1d")
    prune.ln_structured(ours, "weight", amount=2, n="nuc", dim=0)
    torch.nn.utils.prune.ln_structured(theirs, "weight", amount=2, n="nuc", dim=0)
    _same_module(torch, ours, theirs, "Conv1d")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_iterative_pruning_matches_pytorch(torch, dtype):
    """custom mask -> l1 on what survives -> whole channels by L2 norm -> l1 again; one
    PruningContainer hook holding the history, as PyTorch."""
    ours, theirs = _pair(torch, "Conv2d", dtype)
    mask = (np.random.default_rng(3).random((4, 3, 3, 3)) > 0.3).astype(dtype)
    prune.custom_from_mask(ours, "weight", mask=gg.tensor(mask))
    torch.nn.utils.prune.custom_from_mask(theirs, "weight", mask=torch.tensor(mask))
    prune.l1_unstructured(ours, "bias", amount=1)
    torch.nn.utils.prune.l1_unstructured(theirs, "bias", amount=1)
    for step in [
        lambda p, m: p.l1_unstructured(m, "weight", amount=0.2),
        lambda p, m: p.ln_structured(m, "weight", amount=1, n=2, dim=0),
        lambda p, m: p.l1_unstructured(m, "weight", amount=7),
        lambda p, m: p.ln_structured(m, "weight", amount=0.5, n=1, dim=1),
    ]:
        step(prune, ours)
        step(torch.nn.utils.prune, theirs)
        np.testing.assert_array_equal(ours.weight_mask._data, theirs.weight_mask.numpy())
    hooks = [h for h in ours._forward_pre_hooks.values() if h._tensor_name == "weight"]
    assert len(hooks) == 1 and isinstance(hooks[0], prune.PruningContainer)
    assert [type(h).__name__ for h in hooks[0]] == [
        "CustomFromMask", "L1Unstructured", "LnStructured", "L1Unstructured", "LnStructured"
    ]  # fmt: skip
    assert len(hooks[0]) == 5 and isinstance(hooks[0][1], prune.L1Unstructured)
    _same_module(torch, ours, theirs, "Conv2d")
    prune.remove(ours, "weight")
    torch.nn.utils.prune.remove(theirs, "weight")
    _same_module(torch, ours, theirs, "Conv2d")
    assert list(ours.state_dict()) == ["bias_orig", "weight", "bias_mask"]


def _lenet(lib):
    nn_ = lib.nn
    return nn_.Sequential(
        nn_.Conv2d(1, 3, 3), nn_.ReLU(), nn_.Flatten(), nn_.Linear(3 * 6 * 6, 10), nn_.Linear(10, 4)
    )


@pytest.mark.parametrize("scores", [False, True])
def test_global_unstructured_matches_pytorch(torch, scores):
    ours, theirs = _lenet(gg), _lenet(torch)
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})
    # an already pruned tensor: its pruned entries stay pruned and do not count again
    prune.l1_unstructured(ours[4], "weight", amount=10)
    torch.nn.utils.prune.l1_unstructured(theirs[4], "weight", amount=10)
    names = [(0, "weight"), (3, "weight"), (4, "weight"), (0, "bias")]
    kwargs = {}
    if scores:
        s = np.random.default_rng(5).standard_normal((10, 108)).astype(np.float32)
        kwargs = {
            "ours": {(ours[3], "weight"): gg.tensor(s)},
            "theirs": {(theirs[3], "weight"): torch.tensor(s)},
        }
    prune.global_unstructured(
        [(ours[i], n) for i, n in names], pruning_method=prune.L1Unstructured, amount=0.3,
        importance_scores=kwargs.get("ours"),
    )  # fmt: skip
    torch.nn.utils.prune.global_unstructured(
        [(theirs[i], n) for i, n in names], pruning_method=torch.nn.utils.prune.L1Unstructured, amount=0.3,
        importance_scores=kwargs.get("theirs"),
    )  # fmt: skip
    sd, tsd = ours.state_dict(), theirs.state_dict()
    assert list(sd) == list(tsd)
    for k in sd:
        np.testing.assert_allclose(sd[k]._data, tsd[k].numpy(), err_msg=k)
    total = sum(int((getattr(ours[i], n) == 0).sum()) for i, n in names)
    assert total == round(0.3 * (10 * 108 + 4 * 10 + 3 * 9 + 3 - 10)) + 10
    x = np.random.default_rng(2).standard_normal((2, 1, 8, 8)).astype(np.float32)
    np.testing.assert_allclose(ours(gg.tensor(x))._data, theirs(torch.tensor(x)).detach().numpy(), atol=1e-5)


def test_identity_custom_mask_and_subclass_match_pytorch(torch):
    ours, theirs = _pair(torch, "Linear")
    prune.identity(ours, "bias")
    torch.nn.utils.prune.identity(theirs, "bias")
    _same_module(torch, ours, theirs, "Linear")

    def method(lib):  # the tutorial's custom method: prune every other surviving entry
        class FooBar(lib.nn.utils.prune.BasePruningMethod):
            PRUNING_TYPE = "unstructured"

            def compute_mask(self, t, default_mask):
                mask = default_mask.clone()
                mask.flatten()[::2] = 0
                return mask

        return FooBar

    ours, theirs = _pair(torch, "Conv2d")
    for _ in range(2):  # the second time it acts on what the first left
        method(gg).apply(ours, "weight")
        method(torch).apply(theirs, "weight")
    np.testing.assert_array_equal(ours.weight_mask._data, theirs.weight_mask.numpy())
    _same_module(torch, ours, theirs, "Conv2d")
    t = gg.tensor([[1.0, -3.0], [0.5, 2.0]])
    np.testing.assert_array_equal(
        prune.L1Unstructured(amount=2).prune(t)._data,
        torch.nn.utils.prune.L1Unstructured(amount=2).prune(torch.tensor(t._data)).numpy(),
    )


def test_state_dict_moves_both_ways(torch):
    ours, theirs = _pair(torch, "Conv2d")
    prune.ln_structured(ours, "weight", amount=1, n=2, dim=0)
    torch.nn.utils.prune.ln_structured(theirs, "weight", amount=1, n=2, dim=0)
    donor = torch.nn.Conv2d(3, 4, 3)
    torch.nn.utils.prune.random_structured(donor, "weight", amount=2, dim=1)
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in donor.state_dict().items()})
    theirs.load_state_dict(donor.state_dict())
    _same_module(torch, ours, theirs, "Conv2d")  # the forward hook recomputes weight from the loaded pair


@pytest.mark.parametrize("amount", [0.3, 7, 0.0])
def test_random_unstructured_invariants(amount):
    m = nn.Linear(10, 6)
    gg.manual_seed(0)
    prune.random_unstructured(m, "weight", amount=amount)
    first = m.weight_mask._data.copy()
    k = amount if isinstance(amount, int) else round(amount * 60)
    assert int((first == 0).sum()) == k and set(np.unique(first)) <= {0.0, 1.0}
    np.testing.assert_array_equal((m.weight._data == 0), first == 0)
    prune.random_unstructured(m, "weight", amount=0.5)  # half of the survivors
    second = m.weight_mask._data
    assert np.all(second[first == 0] == 0)
    assert int((second == 0).sum()) == k + round(0.5 * (60 - k))
    m2 = nn.Linear(10, 6)
    gg.manual_seed(0)
    prune.random_unstructured(m2, "weight", amount=amount)
    np.testing.assert_array_equal(m2.weight_mask._data, first)  # repeatable under manual_seed


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_random_structured_invariants(dim):
    m = nn.Conv2d(4, 6, 3)
    prune.random_structured(m, "weight", amount=0.5, dim=dim)
    mask = np.moveaxis(m.weight_mask._data, dim, 0).reshape(m.weight.shape[dim], -1)  # (C, rest)
    whole = mask.min(axis=1) == mask.max(axis=1)
    assert whole.all() and int((mask[:, 0] == 0).sum()) == round(0.5 * m.weight.shape[dim])
    prune.random_structured(m, "weight", amount=1, dim=dim)  # one more of the surviving channels
    mask2 = np.moveaxis(m.weight_mask._data, dim, 0).reshape(m.weight.shape[dim], -1)
    assert np.all(mask2[mask[:, 0] == 0] == 0)
    assert int((mask2[:, 0] == 0).sum()) == round(0.5 * m.weight.shape[dim]) + 1


def test_training_keeps_pruned_entries_zero():
    m = nn.Linear(5, 3)
    prune.l1_unstructured(m, "weight", amount=0.4)
    opt = gg.optim.SGD(m.parameters(), lr=0.5)
    zero = m.weight_mask._data == 0
    for _ in range(3):
        opt.zero_grad()
        m(gg.randn(4, 5)).pow(2).sum().backward()
        assert np.all(m.weight_orig.grad._data[zero] == 0)
        opt.step()
    m(gg.randn(1, 5))  # the pre-hook refreshes weight from the updated weight_orig
    assert np.all(m.weight._data[zero] == 0)
    np.testing.assert_allclose(m.weight._data, m.weight_orig._data * m.weight_mask._data)
    assert prune.is_pruned(nn.Sequential(nn.ReLU(), m)) and not prune.is_pruned(nn.Linear(2, 2))


def test_pruned_forward_gradcheck():
    m = nn.Linear(4, 3).double()
    prune.ln_structured(m, "weight", amount=1, n=1, dim=0)
    x = gg.randn(2, 4, dtype=gg.float64, requires_grad=True)

    def fn(x, w_orig, b):
        m.weight_orig, m.bias = w_orig, b
        return m(x)

    assert gradcheck(fn, (x, m.weight_orig, m.bias))


def test_errors_match_pytorch_classes(torch):
    for bad, kind in [
        (-1, ValueError),
        (1.5, ValueError),
        (-0.1, ValueError),
        ("a", TypeError),
        (None, TypeError),
    ]:
        with pytest.raises(kind):
            prune.L1Unstructured(amount=bad)
        with pytest.raises(kind):
            torch.nn.utils.prune.L1Unstructured(amount=bad)
    m = nn.Linear(3, 2)
    before = (list(m.state_dict()), m.weight._data.copy())
    with pytest.raises(ValueError, match="at most"):
        prune.l1_unstructured(m, "weight", amount=7)  # more than its 6 entries
    with pytest.raises(ValueError):  # structured pruning of a vector
        prune.ln_structured(m, "bias", amount=1, n=2, dim=0)
    with pytest.raises(IndexError):
        prune.random_structured(m, "weight", amount=1, dim=2)
    with pytest.raises(ValueError, match="shape"):
        prune.l1_unstructured(m, "weight", amount=1, importance_scores=gg.ones(3))
    # every failure rolled back: the module is as it was
    assert list(m.state_dict()) == before[0] and isinstance(m.weight, nn.Parameter)
    np.testing.assert_array_equal(m.weight._data, before[1])
    assert not m._forward_pre_hooks
    prune.l1_unstructured(m, "weight", amount=1)
    with pytest.raises(ValueError, match="at most"):
        prune.l1_unstructured(m, "weight", amount=6)  # only 5 survive
    (hook,) = m._forward_pre_hooks.values()  # the old hook is back, not a container
    assert type(hook) is prune.L1Unstructured and int((m.weight_mask == 0).sum()) == 1
    prune.l1_unstructured(m, "weight", amount=1)
    with pytest.raises(ValueError, match="at most"):
        prune.l1_unstructured(m, "weight", amount=5)  # only 4 survive
    (hook,) = m._forward_pre_hooks.values()
    assert isinstance(hook, prune.PruningContainer) and len(hook) == 2
    with pytest.raises(ValueError, match="pruned"):
        prune.remove(m, "bias")
    with pytest.raises(TypeError):
        prune.global_unstructured([(m, "bias")], pruning_method=prune.LnStructured, amount=1, n=2)
    with pytest.raises(TypeError):
        prune.global_unstructured(
            [(m, "bias")], pruning_method=prune.L1Unstructured, importance_scores=[], amount=1
        )
    with pytest.raises(TypeError):
        prune.global_unstructured(3, pruning_method=prune.L1Unstructured, amount=1)
    container = prune.PruningContainer(prune.Identity())
    with pytest.raises(TypeError):
        container.add_pruning_method("l1")
    other = prune.Identity()
    other._tensor_name = "bias"
    with pytest.raises(ValueError):
        container.add_pruning_method(other)


@pytest.mark.parametrize("method", ["l1", "ln"])
def test_importance_scores_match_pytorch(torch, method):
    ours, theirs = _pair(torch, "Conv2d")
    s = np.random.default_rng(7).standard_normal((4, 3, 3, 3)).astype(np.float32)
    if method == "l1":
        prune.l1_unstructured(ours, "weight", amount=0.4, importance_scores=gg.tensor(s))
        torch.nn.utils.prune.l1_unstructured(theirs, "weight", amount=0.4, importance_scores=torch.tensor(s))
    else:
        prune.ln_structured(ours, "weight", amount=2, n=1, dim=1, importance_scores=gg.tensor(s))
        torch.nn.utils.prune.ln_structured(
            theirs, "weight", amount=2, n=1, dim=1, importance_scores=torch.tensor(s)
        )
    np.testing.assert_array_equal(ours.weight_mask._data, theirs.weight_mask.numpy())
    _same_module(torch, ours, theirs, "Conv2d")


def test_refused_importance_scores_leave_the_container_as_it_was():
    m = nn.Linear(3, 2)
    prune.l1_unstructured(m, "weight", amount=1)
    prune.l1_unstructured(m, "weight", amount=1)
    (container,) = m._forward_pre_hooks.values()
    with pytest.raises(ValueError, match="shape"):
        prune.l1_unstructured(m, "weight", amount=1, importance_scores=gg.ones(2, 2))
    assert list(m._forward_pre_hooks.values()) == [container] and len(container) == 2
    assert int((m.weight_mask == 0).sum()) == 2


def test_pruning_a_missing_tensor_is_a_type_error():
    m = nn.Linear(3, 2, bias=False)
    with pytest.raises(TypeError, match="bias"):
        prune.l1_unstructured(m, "bias", amount=1)
    assert not m._forward_pre_hooks and list(m.state_dict()) == ["weight"]


def test_global_unstructured_takes_pairs_as_lists(torch):
    ours, theirs = _pair(torch, "Linear")
    scores = np.random.default_rng(3).standard_normal((5, 6)).astype(np.float32)
    prune.global_unstructured(
        [[ours, "weight"], [ours, "bias"]],
        pruning_method=prune.L1Unstructured,
        importance_scores={(ours, "weight"): gg.tensor(scores)},
        amount=7,
    )
    torch.nn.utils.prune.global_unstructured(
        [[theirs, "weight"], [theirs, "bias"]],
        pruning_method=torch.nn.utils.prune.L1Unstructured,
        importance_scores={(theirs, "weight"): torch.tensor(scores)},
        amount=7,
    )
    _same_module(torch, ours, theirs, "Linear")
