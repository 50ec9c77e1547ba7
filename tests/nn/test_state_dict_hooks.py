"""State-dict hooks, ``_metadata`` and ``_load_from_state_dict`` overrides, against PyTorch.

Every parity test builds the same tree (``Linear``, then a ``Sequential`` of ``BatchNorm1d`` and
``Linear``) in both libraries, runs the same hooks on both, and compares what the hooks saw (module
paths, prefixes, keys, in call order) and what came out (keys, values, load results, errors).
"""

from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as gnn

BN = "1.0"  # the BatchNorm1d's path in the tree


def trees(torch):
    """(ours, theirs): the same tree in both libraries, with torch's weights copied into ours."""
    theirs = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.Sequential(torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2))
    )
    ours = gnn.Sequential(gnn.Linear(3, 4), gnn.Sequential(gnn.BatchNorm1d(4), gnn.Linear(4, 2)))
    with torch.no_grad():
        for p in theirs.parameters():
            p.normal_()
        theirs[1][0].running_var.uniform_(0.5, 2.0)
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def paths(root) -> dict:
    return {id(m): name for name, m in root.named_modules()}


def arrays(sd) -> dict:
    return {k: np.asarray(v.detach().numpy()) for k, v in sd.items()}


def torch_copy(torch, sd) -> OrderedDict:
    """Our state_dict as torch tensors, keeping ``_metadata``."""
    out = OrderedDict((k, torch.from_numpy(v.numpy().copy())) for k, v in sd.items())
    out._metadata = sd._metadata
    return out


def run_both(torch, register, action):
    """Register hooks with ``register(root, where, log)`` on both trees, run ``action(root, lib)``;
    returns ((our log, our result), (their log, their result))."""
    out = []
    for root, lib in zip(trees(torch), (gg, torch), strict=True):
        log: list = []
        register(root, paths(root), log)
        out.append((log, action(root, lib)))
    return out


def on_every_module(register_name, make_hook):
    def register(root, where, log):
        for m in root.modules():
            getattr(m, register_name)(make_hook(where, log))

    return register


def test_state_dict_pre_hook_parity(torch):
    def make(where, log):
        return lambda module, prefix, keep_vars: log.append((where[id(module)], prefix, keep_vars))

    def action(root, lib):
        return list(root.state_dict()), list(root[1].state_dict(prefix="x.", keep_vars=True))

    (ours, our_keys), (theirs, their_keys) = run_both(
        torch, on_every_module("register_state_dict_pre_hook", make), action
    )
    assert ours == theirs and our_keys == their_keys
    assert ours[:4] == [("", "", False), ("0", "0.", False), ("1", "1.", False), (BN, "1.0.", False)]
    assert ours[5:7] == [("1", "x.", True), (BN, "x.0.", True)]


def test_state_dict_post_hook_parity_sees_keys_and_metadata(torch):
    def make(where, log):
        def hook(module, sd, prefix, meta):
            log.append((where[id(module)], prefix, list(sd), sorted(meta), sorted(sd._metadata)))
            sd[prefix + "seen"] = sd[prefix + "weight"] if prefix + "weight" in sd else len(log)

        return hook

    (ours, our_sd), (theirs, their_sd) = run_both(
        torch, on_every_module("register_state_dict_post_hook", make), lambda root, lib: root.state_dict()
    )
    assert ours == theirs
    assert [entry[0] for entry in ours] == ["0", BN, "1.1", "1", ""]  # children first, then parents
    assert list(our_sd) == list(their_sd)
    for key in our_sd:
        ours_v, theirs_v = our_sd[key], their_sd[key]
        if isinstance(theirs_v, int):
            assert ours_v == theirs_v
        else:
            np.testing.assert_allclose(ours_v.numpy(), theirs_v.detach().numpy(), rtol=1e-6)


def test_public_post_hook_must_return_none_and_cannot_be_registered_privately(torch):
    for root in trees(torch):

        def hook(module, sd, prefix, meta):
            return {}

        root.register_state_dict_post_hook(hook)
        with pytest.raises(RuntimeError, match="post-hook"):
            root.state_dict()
        with pytest.raises(RuntimeError):
            root._register_state_dict_hook(hook)


def test_private_state_dict_hook_replaces_the_dict_only_at_the_root(torch):
    def register(root, where, log):
        root[1]._register_state_dict_hook(lambda m, sd, prefix, meta: {"child": 1})
        root._register_state_dict_hook(lambda m, sd, prefix, meta: OrderedDict(list(sd.items())[:2]))

    def action(root, lib):
        return list(root.state_dict()), list(root[1].state_dict())

    (_, ours), (_, theirs) = run_both(torch, register, action)
    assert ours == theirs == (["0.weight", "0.bias"], ["child"])


def test_metadata_parity(torch):
    ours, theirs = trees(torch)
    mine, other = ours.state_dict(), theirs.state_dict()
    assert list(mine._metadata) == list(other._metadata) == ["", "0", "1", BN, "1.1"]
    for prefix, meta in mine._metadata.items():
        if prefix != BN:  # see test_batchnorm_version_matches_pytorch
            assert meta == other._metadata[prefix]
    assert copy.deepcopy(mine)._metadata == mine._metadata
    plain = {}
    assert ours.state_dict(destination=plain) is plain and not hasattr(plain, "_metadata")


def test_batchnorm_version_matches_pytorch(torch):
    ours, theirs = trees(torch)
    assert ours.state_dict()._metadata[BN] == theirs.state_dict()._metadata[BN]


def load_pre_log(where, log):
    def hook(module, sd, prefix, meta, strict, missing, unexpected, errors):
        meta = {k: v for k, v in meta.items() if k != "version"}  # BatchNorm's differs (see above)
        log.append((where[id(module)], prefix, sorted(sd), meta, strict, list(missing), list(unexpected)))

    return hook


@pytest.mark.parametrize("with_metadata", [True, False])
@pytest.mark.parametrize("assign", [False, True])
def test_load_pre_hook_parity(torch, with_metadata, assign):
    def action(root, lib):
        sd = root.state_dict()
        if not with_metadata:
            sd = dict(sd)
        del sd["1.1.bias"]
        sd["1.extra"] = sd["0.bias"]
        return tuple(root.load_state_dict(sd, strict=False, assign=assign))

    (ours, our_res), (theirs, their_res) = run_both(
        torch, on_every_module("register_load_state_dict_pre_hook", load_pre_log), action
    )
    assert ours == theirs and our_res == their_res == (["1.1.bias"], ["1.extra"])
    assert [entry[:2] for entry in ours] == [
        ("", ""),
        ("0", "0."),
        ("1", "1."),
        (BN, "1.0."),
        ("1.1", "1.1."),
    ]
    assert ours[2][3] == ({"assign_to_params_buffers": True} if assign else {})


@pytest.mark.parametrize("with_module", [False, True])
def test_private_load_pre_hook_with_and_without_module(torch, with_module):
    def register(root, where, log):
        def hook(*args):
            log.append(where[id(args[0])] if with_module else args[1])

        root[1]._register_load_state_dict_pre_hook(hook, with_module=with_module)

    (ours, _), (theirs, _) = run_both(
        torch, register, lambda root, lib: root.load_state_dict(root.state_dict())
    )
    assert ours == theirs == ["1" if with_module else "1."]


def test_load_pre_hook_renames_old_keys(torch):
    def rename(module, sd, prefix, *rest):
        for name in ("weight", "bias"):
            if prefix + "old_" + name in sd:
                sd[prefix + name] = sd.pop(prefix + "old_" + name)

    def register(root, where, log):
        root[1][1].register_load_state_dict_pre_hook(rename)

    def action(root, lib):
        sd = {k.replace("1.1.", "1.1.old_"): v.clone() for k, v in root.state_dict().items()}
        with lib.no_grad():
            root[1][1].weight.zero_()
        return tuple(root.load_state_dict(sd)), arrays(root.state_dict())

    (_, (our_res, our_sd)), (_, (their_res, their_sd)) = run_both(torch, register, action)
    assert our_res == their_res == ([], [])
    assert np.abs(our_sd["1.1.weight"]).sum() > 0
    for key, value in their_sd.items():
        np.testing.assert_allclose(our_sd[key], value, rtol=1e-6)


def test_load_post_hook_parity_and_clearing_keys_makes_strict_pass(torch):
    def make(where, log):
        return lambda module, keys: log.append(
            (where[id(module)], list(keys.missing_keys), list(keys.unexpected_keys))
        )

    def clear(module, keys):
        keys.missing_keys.clear()
        keys.unexpected_keys.clear()

    def register(root, where, log):
        on_every_module("register_load_state_dict_post_hook", make)(root, where, log)
        root.register_load_state_dict_post_hook(clear)

    def action(root, lib):
        sd = dict(root.state_dict())
        sd["1.0.weight_old"] = sd.pop("1.0.weight")
        return tuple(root.load_state_dict(sd))

    (ours, our_res), (theirs, their_res) = run_both(torch, register, action)
    assert ours == theirs and our_res == their_res == ([], [])
    assert ours[:2] == [("0", [], []), (BN, ["1.0.weight"], ["1.0.weight_old"])]
    assert [entry[0] for entry in ours] == ["0", BN, "1.1", "1", ""]


def test_load_post_hook_adding_a_key_fails_strict_and_must_return_none(torch):
    for root in trees(torch):
        sd = root.state_dict()
        handle = root[1].register_load_state_dict_post_hook(
            lambda m, keys: keys.unexpected_keys.append("bogus")
        )
        with pytest.raises(RuntimeError, match="bogus"):
            root.load_state_dict(sd)
        assert tuple(root.load_state_dict(sd, strict=False)) == ([], ["bogus"])
        handle.remove()
        root.register_load_state_dict_post_hook(lambda m, keys: keys)
        with pytest.raises(AssertionError):
            root.load_state_dict(sd)


def test_strict_errors_name_the_same_keys(torch):
    for root in trees(torch):
        sd = dict(root.state_dict())
        sd["1.1.weight_v0"] = sd.pop("1.1.weight")
        with pytest.raises(RuntimeError) as err:
            root.load_state_dict(sd)
        assert "1.1.weight" in str(err.value) and "1.1.weight_v0" in str(err.value)


def migrating(base, lib):
    """A Linear whose checkpoints before version 2 named its weight ``w``."""

    class Migrating(base):
        _version = 2

        def _load_from_state_dict(self, sd, prefix, meta, strict, missing, unexpected, errors):
            version = meta.get("version", None)
            if (version is None or version < 2) and prefix + "w" in sd:
                sd[prefix + "weight"] = sd.pop(prefix + "w")
            super()._load_from_state_dict(sd, prefix, meta, strict, missing, unexpected, errors)

    return lib.nn.Sequential(lib.nn.Linear(2, 2), Migrating(2, 3))


def test_overridden_load_from_state_dict_migrates_a_renamed_key(torch):
    results = []
    for base, lib in ((gnn.Linear, gg), (torch.nn.Linear, torch)):
        root = migrating(base, lib)
        seen: list = []
        root[1].register_load_state_dict_pre_hook(lambda m, sd, prefix, *rest: seen.append(sorted(sd)))
        new = root.state_dict()
        assert new._metadata["1"] == {"version": 2}
        old = OrderedDict((k.replace("1.weight", "1.w"), v.clone() * 0 + 0.5) for k, v in new.items())
        res = root.load_state_dict(old)  # no metadata: version None, an old checkpoint
        old._metadata = OrderedDict({"1": {"version": 2}})  # claims the new layout, so no migration
        with pytest.raises(RuntimeError):
            root.load_state_dict(old)
        results.append((tuple(res), seen, float(root[1].weight.detach().sum())))
    assert results[0] == results[1]
    assert results[0][1][0] == ["1.bias", "1.weight"]  # the override renamed before super()'s hooks


def test_removal_through_the_handle(torch):
    for root in trees(torch):
        calls: list = []
        handles = [
            root.register_state_dict_pre_hook(lambda *a: calls.append("pre")),
            root.register_state_dict_post_hook(lambda *a: calls.append("post")),
            root._register_state_dict_hook(lambda *a: calls.append("private")),
            root.register_load_state_dict_pre_hook(lambda *a: calls.append("load_pre")),
            root._register_load_state_dict_pre_hook(lambda *a: calls.append("load_pre_private")),
            root.register_load_state_dict_post_hook(lambda *a: calls.append("load_post")),
        ]
        root.load_state_dict(root.state_dict())
        assert calls == ["pre", "post", "private", "load_pre", "load_pre_private", "load_post"]
        for handle in handles:
            handle.remove()
            handle.remove()  # a second remove is harmless
        calls.clear()
        root.load_state_dict(root.state_dict())
        assert calls == []


def test_hooks_survive_deepcopy_bound_to_the_copy(torch):
    for root in trees(torch):
        seen: list = []
        root[1].register_state_dict_pre_hook(lambda m, prefix, keep: seen.append(("pre", m)))
        root[1].register_state_dict_post_hook(lambda m, sd, prefix, meta: seen.append(("post", m)))
        root[1].register_load_state_dict_pre_hook(lambda m, *rest: seen.append(("load_pre", m)))
        root[1].register_load_state_dict_post_hook(lambda m, keys: seen.append(("load_post", m)))
        handle = root[1].register_state_dict_pre_hook(lambda m, prefix, keep: seen.append(("removed", m)))
        clone = copy.deepcopy(root)
        handle.remove()  # the handle holds the original's table, not the copy's
        clone.load_state_dict(clone.state_dict())
        assert [kind for kind, _ in seen] == ["pre", "removed", "post", "load_pre", "load_post"]
        assert all(m is clone[1] for _, m in seen)


def test_state_dict_hooks_stay_off_the_forward_path():
    m = gnn.Linear(2, 2)
    m.register_state_dict_pre_hook(lambda *a: None)
    m.register_state_dict_post_hook(lambda *a: None)
    m.register_load_state_dict_pre_hook(lambda *a: None)
    m.register_load_state_dict_post_hook(lambda *a: None)

    def refuse(*args):
        raise AssertionError("the hooked call path ran for state-dict hooks")

    m._call_with_hooks = refuse
    assert m(gg.ones(1, 2)).shape == (1, 2)


def test_bound_method_as_public_post_hook(torch):
    """A deliberate difference: PyTorch marks the hook function itself and so refuses a bound
    method (AttributeError); glassgrad wraps it and runs it."""

    class Counter:
        def __init__(self):
            self.n = 0

        def hook(self, module, sd, prefix, meta):
            self.n += 1

    counter = Counter()
    with pytest.raises(AttributeError):
        torch.nn.Linear(1, 1).register_state_dict_post_hook(counter.hook)
    root = gnn.Linear(1, 1)
    handle = root.register_state_dict_post_hook(counter.hook)
    with pytest.raises(RuntimeError):  # the wrapper carries the public mark
        root._register_state_dict_hook(next(iter(root._state_dict_hooks.values())))
    root.state_dict()
    handle.remove()
    root.state_dict()
    assert counter.n == 1
