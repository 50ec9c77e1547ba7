"""Round 62, the lifetime hunt: what a program no longer uses must be freed, by reference counting,
as PyTorch frees it.

- Hook handles held their tables and the hook itself strongly: a removed hook (and whatever its
  closure held) lived as long as the handle, and a module's, tensor's or node's hooks outlived
  the module, tensor or node when the program kept the handle (PyTorch's handles hold their
  tables weakly).
- A base tensor kept an entry per view it ever had (dead weak references, pruned only from 1024
  on): an input sliced per time step or a weight cut per forward grew every step.
- ``GradScaler.scale(loss)`` made a function <-> cell cycle per step (PyTorch's short cut for one
  tensor makes none).
- ``save`` leaked the temporary file's descriptor when setting its mode failed.
- ``torch.utils.weak`` (``WeakTensorKeyDictionary``, ``WeakIdRef``) was missing.
"""

from __future__ import annotations

import copy
import gc
import importlib
import os
import weakref

import numpy as np
import pytest

import glassgrad as gg

LIBS = ["glassgrad", "torch"]


@pytest.fixture(params=LIBS)
def lib(request):
    return gg if request.param == "glassgrad" else request.getfixturevalue("torch")


class _Payload:
    """What a hook's closure holds; a weak reference to it tells whether the hook still lives."""


def _hooked(lib, kind: str):
    """A module, a payload held only by a hook of ``kind`` on it, and the hook's handle."""
    m = lib.nn.Linear(3, 2)
    p = _Payload()
    register = {
        "forward": lambda: m.register_forward_hook(lambda mod, i, o, p=p: None),
        "forward_pre": lambda: m.register_forward_pre_hook(lambda mod, i, p=p: None),
        "full_backward": lambda: m.register_full_backward_hook(lambda mod, gi, go, p=p: None),
        "full_backward_pre": lambda: m.register_full_backward_pre_hook(lambda mod, go, p=p: None),
        "state_dict_pre": lambda: m.register_state_dict_pre_hook(lambda *a, p=p: None),
        "load_state_dict_post": lambda: m.register_load_state_dict_post_hook(lambda *a, p=p: None),
        "tensor": lambda: m.weight.register_hook(lambda g, p=p: None),
        "post_accumulate_grad": lambda: m.weight.register_post_accumulate_grad_hook(lambda t, p=p: None),
    }[kind]
    handle = register()
    m(lib.ones(2, 3, requires_grad=True)).sum().backward()  # the hooks ran once
    return m, weakref.ref(p), handle


HOOK_KINDS = [
    "forward",
    "forward_pre",
    "full_backward",
    "full_backward_pre",
    "state_dict_pre",
    "load_state_dict_post",
    "tensor",
    "post_accumulate_grad",
]


@pytest.mark.parametrize("kind", HOOK_KINDS)
def test_removed_hook_dies_while_its_handle_lives(lib, kind):
    m, payload, handle = _hooked(lib, kind)
    assert payload() is not None
    handle.remove()
    assert payload() is None
    handle.remove()  # a second remove does nothing, as PyTorch's
    m(lib.ones(2, 3)).sum()


@pytest.mark.parametrize("kind", HOOK_KINDS)
def test_hooks_die_with_their_module_while_the_handle_lives(lib, kind):
    m, payload, handle = _hooked(lib, kind)
    gc.disable()  # freed by reference counting, not by the cyclic GC
    try:
        del m
        assert payload() is None
        handle.remove()  # harmless once its table is gone
    finally:
        gc.enable()


@pytest.mark.parametrize("which", ["register_hook", "register_prehook"])
def test_node_hooks_die_with_their_graph_while_the_handle_lives(lib, which):
    x = lib.ones(3, requires_grad=True)
    y = x.exp()
    p = _Payload()
    payload = weakref.ref(p)
    handle = getattr(y.grad_fn, which)(lambda *a, p=p: None)
    del p
    gc.disable()
    try:
        y.sum().backward()
        del y
        assert payload() is None
    finally:
        gc.enable()
    handle.remove()


def test_removed_hooks_no_longer_run():
    # the handle's weak hold still finds the hook to remove, and only that one
    calls = []
    x = gg.ones(2, requires_grad=True)
    keep = x.register_hook(lambda g: calls.append("keep"))
    gone = x.register_hook(lambda g: calls.append("gone"))
    gone.remove()
    (x * 2).sum().backward()
    assert calls == ["keep"]
    keep.remove()
    m = gg.nn.Linear(2, 2)
    with m.register_forward_hook(lambda *a: calls.append("fwd")):
        m(gg.ones(1, 2))
    m(gg.ones(1, 2))
    assert calls == ["keep", "fwd"]


def test_handles_pickle_and_copy_with_their_module(lib):
    # the handles hold their tables weakly; a module keeping its handle still pickles and copies,
    # and the copy's handle removes the copy's hook only
    import pickle

    calls = []
    m = lib.nn.Linear(2, 2)
    m.handle = m.register_forward_hook(_Recorder(calls))
    for twin in (pickle.loads(pickle.dumps(m)), copy.deepcopy(m)):
        twin.handle.remove()
        twin(lib.ones(1, 2))
        m(lib.ones(1, 2))
        assert twin.register_forward_hook(_Recorder([])).id > twin.handle.id  # no id taken twice
    assert len(calls) == 2


class _Recorder:
    """A forward hook that pickles (a module-level class) and counts its calls."""

    def __init__(self, calls: list) -> None:
        self.calls = calls

    def __call__(self, *args: object) -> None:
        self.calls.append(1)


# ------------------------------------------------------------- a base viewed at every step


def _dead_weakrefs() -> int:
    # (type(), not isinstance: that reads __class__, which some lazy objects in a process warn on)
    return sum(1 for o in gc.get_objects() if issubclass(type(o), weakref.ReferenceType) and o() is None)


def test_a_base_sliced_every_step_keeps_no_growing_table(lib):
    # an RNN loop's x[t] per time step and a weight's .t() per forward, with a loss log (which
    # moves the addresses of later views, so their ids are new): a table entry per view made
    # was a dead weak reference left per view, 2400 in 300 steps (pruned only from 1024 on)
    x = lib.tensor(np.random.default_rng(0).standard_normal((8, 3)))
    w = lib.tensor(np.random.default_rng(1).standard_normal((3, 3)), requires_grad=True)
    history = []

    def step():
        h = x[0] @ w.t()
        for t in range(1, 4):
            h = (x[t] + h) @ w.t()
        h.sum().backward()
        history.append(h.detach().sum())

    for _ in range(10):
        step()
    gc.collect()
    base, worst = _dead_weakrefs(), 0
    for i in range(300):
        step()
        if i % 50 == 49:
            worst = max(worst, _dead_weakrefs() - base)
    assert worst < 120


def test_views_of_a_base_stay_live_and_rebased_after_pruning():
    # the pruning drops dead entries only: every live view is still rebased by an in-place change
    x = gg.arange(40.0).requires_grad_()
    base = x * 1
    live = [base[i : i + 2] for i in range(0, 40, 2)]
    for i in range(200):  # dead views between the live ones, past several prunes
        base[i % 40 : i % 40 + 1]
    base.mul_(3)
    (sum(v.sum() * (k + 1) for k, v in enumerate(live))).backward()
    want = np.repeat(np.arange(1.0, 21.0), 2) * 3
    np.testing.assert_array_equal(x.grad.numpy(), want)
    assert [v.tolist() for v in live[:2]] == [[0.0, 3.0], [6.0, 9.0]]


# ---------------------------------------------------------------------- GradScaler.scale(loss)


def _scaler_run(lib, steps: int):
    """A scaled training loop's model, optimizer and scaler after ``steps`` steps, and the step."""
    m = lib.nn.Linear(3, 1)
    with lib.no_grad():
        m.weight.copy_(lib.tensor([[0.5, -1.0, 2.0]]))
        m.bias.fill_(0.25)
    opt = lib.optim.SGD(m.parameters(), lr=0.1)
    scaler = lib.amp.GradScaler("cpu", init_scale=256.0)
    x = lib.tensor([[1.0, 2.0, 3.0], [0.5, -1.0, 4.0]])

    def step():
        opt.zero_grad()
        scaler.scale(m(x).sum()).backward()
        scaler.step(opt)
        scaler.update()

    for _ in range(steps):
        step()
    return m, x, scaler, step


def test_grad_scaler_scale_makes_no_cycle(lib):
    # the garbage a step leaves, saved and searched for the scaler's own objects: a whole-suite run
    # can leave unrelated one-off cyclic garbage in the same window (140 objects once under xdist)
    _, _, _, step = _scaler_run(lib, 2)
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        step()
        gc.collect()
        mine = [
            o
            for o in gc.garbage
            if "GradScaler" in getattr(o, "__qualname__", "") or isinstance(o, lib.Tensor)
        ]
        assert mine == []
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


def test_grad_scaler_scale_values(torch):
    got = []
    for lib in (gg, torch):
        m, x, scaler, _ = _scaler_run(lib, 0)
        one = scaler.scale(m(x).sum())  # the first call makes the scale
        pair = scaler.scale([m(x).sum(), (m(x).mean(),)])  # several outputs: the general path
        assert one.dtype == lib.float32 and one.requires_grad
        assert isinstance(pair, list) and isinstance(pair[1], tuple)
        one.backward()
        got.append([one.item(), pair[0].item(), pair[1][0].item(), m.weight.grad.numpy().tolist()])
    assert got[0] == got[1]


# ------------------------------------------------------------------------- save's descriptors


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd") or not hasattr(os, "fchmod"), reason="Linux only")
def test_save_failing_to_set_the_mode_closes_its_file(tmp_path, monkeypatch):
    pytest.importorskip("safetensors")
    path = tmp_path / "model.safetensors"
    gg.save({"w": gg.ones(3)}, path)
    old = path.read_bytes()

    def refuse(fd, mode):
        raise PermissionError(1, "Operation not permitted")

    before = len(os.listdir("/proc/self/fd"))
    monkeypatch.setattr(os, "fchmod", refuse)
    for _ in range(3):
        with pytest.raises(PermissionError, match="save: .*model.safetensors"):
            gg.save({"w": gg.zeros(3)}, path)
    monkeypatch.undo()
    assert len(os.listdir("/proc/self/fd")) == before
    assert path.read_bytes() == old and sorted(os.listdir(tmp_path)) == ["model.safetensors"]


# ------------------------------------------------------------------------------ torch.utils.weak


def _weak(lib):
    return importlib.import_module(f"{lib.__name__}.utils.weak")


def test_weak_tensor_key_dictionary_goes_by_identity(lib):
    weak = _weak(lib)
    assert lib.utils.weak is weak and weak.WeakTensorKeyDictionary is weak.WeakIdKeyDictionary
    d = weak.WeakTensorKeyDictionary()
    a, b = lib.zeros(2), lib.zeros(2)  # equal values, two keys
    d[a] = "a"
    d[b] = "b"
    assert (len(d), d[a], d[b], a in d, 5 in d, d.get(lib.zeros(2), "none")) == (
        2,
        "a",
        "b",
        True,
        False,
        "none",
    )
    assert d.setdefault(a, "x") == "a" and [v for _, v in d.items()] == ["a", "b"]
    assert list(d.values()) == ["a", "b"] and all(k is a or k is b for k in d)
    with pytest.raises(KeyError):
        d[lib.ones(1)]
    gc.disable()
    try:
        del b  # the entry goes with its key, by reference counting
        assert len(d) == 1 and next(iter(d.keys())) is a
    finally:
        gc.enable()
    assert d.pop(a) == "a" and len(d) == 0
    with pytest.raises(KeyError):
        d.popitem()


def test_weak_tensor_key_dictionary_copies_and_merges(lib):
    weak = _weak(lib)
    a, b = lib.ones(1), lib.ones(1)
    d = weak.WeakTensorKeyDictionary({a: [1]})
    d.update([(b, [2])])
    c = copy.copy(d)
    deep = copy.deepcopy(d)
    assert c == d and deep == d and c is not d
    assert deep[a] == [1] and deep[a] is not d[a] and next(iter(deep.keys())) is a  # keys kept, values copied
    merged = d | {lib.ones(1): [3]}
    assert len(merged) == 2 and len(d) == 2  # the unnamed key died at once
    d |= {a: [4]}
    assert d[a] == [4] and isinstance(merged, weak.WeakIdKeyDictionary)
    for key in list(d):  # deleting while walking the keys
        del d[key]
    assert len(d) == 0


def test_weak_id_ref_hashes_and_compares_by_identity(lib):
    weak = _weak(lib)
    t, u = lib.zeros(3), lib.zeros(3)
    r1, r2, r3 = weak.WeakIdRef(t), weak.WeakIdRef(t), weak.WeakIdRef(u)
    assert hash(r1) == id(t) and r1 == r2 and (r1 == r3) is False and r1() is t
    dead = weak.WeakIdRef(lib.zeros(1))
    assert dead() is None and dead == dead and (dead == weak.WeakIdRef(lib.zeros(1))) is False
    ref = weak.TensorWeakRef(t)
    assert ref() is t
    del t, r1, r2
    assert ref() is None


def test_tensor_weak_ref_refuses_what_is_not_a_tensor():
    with pytest.raises(TypeError, match="TensorWeakRef: expected a glassgrad Tensor, got list"):
        gg.utils.weak.TensorWeakRef([1])
