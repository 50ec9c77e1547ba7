"""Review of the CTC loss and the state-dict hooks: long float32 sequences against a float64
reference, strided log_probs with retain_graph and no_grad, hook order over nested and shared
modules against PyTorch, and a load pre-hook copied after its module died."""

from __future__ import annotations

import copy
import gc

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
import glassgrad.nn.functional as F


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _log_softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


# ------------------------------------------------------------------ CTC
def test_long_float32_sequences_match_the_float64_loss_and_gradient():
    # 400 steps of peaked distributions: probabilities far below float32's range, in log space
    rng = np.random.default_rng(0)
    lp = _log_softmax(rng.standard_normal((400, 3, 6)) * 5).astype(np.float32)
    targets = gg.tensor(rng.integers(1, 6, size=(3, 120)))
    out = {}
    for dtype in (np.float32, np.float64):
        x = gg.tensor(lp.astype(dtype), requires_grad=True)
        loss = F.ctc_loss(x, targets, [400, 300, 350], [50, 0, 120], reduction="sum")
        loss.backward()
        out[dtype] = loss.item(), x.grad.numpy().astype(np.float64)
    assert np.isfinite(out[np.float64][0])
    np.testing.assert_allclose(out[np.float32][0], out[np.float64][0], rtol=1e-6)
    # PyTorch's float32 gradient is off by about 1e-3 here (its recursions run in float32)
    np.testing.assert_allclose(out[np.float32][1], out[np.float64][1], atol=1e-6)


def test_strided_log_probs_retain_graph_and_no_grad_match_torch(torch):
    base = _log_softmax(np.random.default_rng(1).standard_normal((3, 7, 5)))  # (N, T, C)
    tg, il, tl = [[1, 2], [3, 4], [2, 2]], [7, 6, 5], [2, 2, 2]
    a, b = gg.tensor(base, requires_grad=True), torch.tensor(base, requires_grad=True)
    ours = F.ctc_loss(a.transpose(0, 1), gg.tensor(tg), il, tl)  # (N, T, C) -> (T, N, C), a view
    theirs = torch.nn.functional.ctc_loss(b.transpose(0, 1), torch.tensor(tg), il, tl)
    for _ in range(2):  # the second backward accumulates
        ours.backward(retain_graph=True)
        theirs.backward(retain_graph=True)
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-12)
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-12)
    with gg.no_grad():
        quiet = F.ctc_loss(a.transpose(0, 1), gg.tensor(tg), il, tl)
    assert not quiet.requires_grad and quiet.item() == ours.item()


# ------------------------------------------------------------------ state-dict hooks
def _tree(lib):
    shared = lib.Linear(2, 2)
    return lib.Sequential(
        lib.Linear(3, 2),
        lib.ModuleList([lib.BatchNorm1d(2), lib.ReLU(), shared]),
        lib.ModuleDict({"a": lib.Sequential(lib.Linear(2, 2)), "b": shared}),
    )


def _record(model) -> list:
    calls: list = []
    for _, mod in model.named_modules(remove_duplicate=False):  # the shared Linear gets two of each
        mod.register_state_dict_pre_hook(lambda m, prefix, keep: calls.append(("pre", prefix)))
        mod.register_state_dict_post_hook(
            lambda m, sd, prefix, meta: calls.append(("post", prefix, dict(meta)))
        )
        mod.register_load_state_dict_pre_hook(
            lambda m, sd, prefix, meta, *rest: calls.append(("load_pre", prefix, sorted(sd), dict(meta)))
        )
        mod.register_load_state_dict_post_hook(
            lambda m, keys: calls.append(("load_post", type(m).__name__, list(keys.missing_keys)))
        )
    sd = model.state_dict()
    del sd["1.0.num_batches_tracked"]  # a version-2 BatchNorm: missing, seen by the post-hooks
    model.load_state_dict(sd, strict=False)
    return [calls, list(sd), dict(sd._metadata)]


def test_hooks_over_nested_and_shared_modules_match_torch(torch):
    assert _record(_tree(nn)) == _record(_tree(torch.nn))


def test_a_load_pre_hook_of_a_deleted_module_cannot_be_copied():
    seen = []
    model = nn.Linear(2, 2)
    model.register_load_state_dict_pre_hook(lambda module, *rest: seen.append(module))
    hook = next(iter(model._load_state_dict_pre_hooks.values()))
    del model
    gc.collect()
    # PyTorch refuses too; the copy must not turn into a hook that is called without its module
    with pytest.raises(RuntimeError, match="module alive"):
        copy.deepcopy(hook)
    assert seen == []
