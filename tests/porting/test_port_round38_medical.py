"""Porting round 38, group medical: MONAI's ``MetaTensor`` and transforms, and TorchIO, run on
glassgrad with only their imports changed.

- MONAI's ``set_determinism`` reads ``torch.backends.flags_frozen()``; its ``DataLoader`` seeds its
  transforms from ``torch.random.default_generator``.
- MONAI registers ``collate_meta_tensor_fn`` in ``default_collate_fn_map``; it calls
  ``collate_tensor_fn``, which went back to the map (RecursionError) and stacked subclass
  instances into a plain Tensor; PyTorch's stacks with the public ``torch.stack``, so the batch is
  the subclass (its ``__torch_function__`` makes it).
- ``MetaTensor.__torch_function__`` loops over ``range(ret.n_fields)`` of a ``torch.return_types``
  result (``torch.max(x, 0)``, ``torch.sort``): PyTorch's are structseqs.
- TorchIO's ``in_torch_loader`` looks for ``torch.utils.data.dataloader._SingleProcessDataLoaderIter``
  on the stack; its ``GridAggregator`` calls ``torch.hann_window(np.uint16(n))``.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.data import DataLoader, Dataset
from glassgrad.data import dataloader as gg_dataloader


def np_of(t):
    return np.array(t.detach().numpy())


# ----------------------------------------------------------------------------- backends flags
def _flag_story(lib):
    """What MONAI's set_determinism and a frozen-flags program see, step by step."""
    b = lib.backends
    b.cudnn.enabled, b.cudnn.benchmark, b.cudnn.deterministic = True, False, False  # (other tests set them)
    seen = [b.flags_frozen()]
    b.disable_global_flags()
    seen.append(b.flags_frozen())

    def try_set(name, value):
        try:
            setattr(b.cudnn, name, value)
            return "set"
        except RuntimeError as e:
            return "not allowed to set" in str(e) and "flags() context manager" in str(e)

    seen.append(try_set("benchmark", True))
    b.cudnn.some_user_attribute = 1  # not a flag: always settable
    with b.cudnn.flags(enabled=False, benchmark=True, deterministic=True):
        seen.append((b.cudnn.enabled, b.cudnn.benchmark, b.cudnn.deterministic))
    seen.append((b.cudnn.enabled, b.cudnn.benchmark, b.cudnn.deterministic))
    # MONAI's set_determinism sets this by name: in PyTorch it unfreezes nothing (the functions
    # read another globals dict than the module object's), so neither does glassgrad's
    b.__allow_nonbracketed_mutation_flag = True
    seen.append(b.flags_frozen())
    seen.append(try_set("deterministic", True))
    del b.cudnn.some_user_attribute
    return seen


def _unfreeze():
    gg.backends._FLAGS["mutable"] = True
    torch = pytest.importorskip("torch")
    torch.backends.flags_frozen.__globals__["_" + "_allow_nonbracketed_mutation_flag"] = True


def test_backends_global_flags_match_pytorch(torch):
    try:
        assert _flag_story(gg) == _flag_story(torch) == [
            False, True, True, (False, True, True), (True, False, False), True, True,
        ]  # fmt: skip
    finally:
        _unfreeze()
    assert not gg.backends.flags_frozen() and not torch.backends.flags_frozen()
    gg.backends.cudnn.deterministic = False  # settable again


def test_cudnn_flags_restore_on_error():
    before = (gg.backends.cudnn.enabled, gg.backends.cudnn.benchmark)
    with pytest.raises(KeyError), gg.backends.cudnn.flags(enabled=False, benchmark=True):
        raise KeyError("inside")
    assert (gg.backends.cudnn.enabled, gg.backends.cudnn.benchmark) == before
    import glassgrad.backends.cudnn as cudnn_module  # the same module object, by import

    assert cudnn_module is gg.backends.cudnn


# ----------------------------------------------------------------------------- default_generator
def test_random_default_generator_is_the_global_one(torch):
    assert gg.random.default_generator is gg.default_generator
    assert isinstance(torch.random.default_generator, torch.Generator)
    # MONAI's DataLoader: draw a seed from it, then put its initial seed back
    for lib in (gg, torch):
        g = lib.random.default_generator
        lib.manual_seed(5)
        init = g.initial_seed()
        seed = lib.empty((), dtype=lib.int64).random_(generator=g).item()
        g.manual_seed(init)
        assert init == 5 and isinstance(seed, int) and seed >= 0
        a = lib.rand(3)
        lib.manual_seed(5)
        assert np.array_equal(np_of(a), np_of(lib.rand(3)))


# ----------------------------------------------------------------------------- collate of subclasses
def _tagged_class(lib):
    """A MetaTensor-like subclass: a ``tag`` carried through ops by ``__torch_function__``."""

    class Tagged(lib.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            ret = super().__torch_function__(func, types, args, kwargs or {})
            tags = [a.tag for a in args if isinstance(a, cls) and hasattr(a, "tag")]
            if isinstance(ret, cls) and tags and not hasattr(ret, "tag"):
                ret.tag = tags[0]
            return ret

    return Tagged


def _make_tagged(lib, cls, arr, tag):
    t = lib.tensor(arr).as_subclass(cls)
    t.tag = tag
    return t


def _collate_story(lib):
    collate = pytest.importorskip(f"{lib.__name__}.utils.data._utils.collate")
    cls = _tagged_class(lib)

    def collate_tagged(batch, *, collate_fn_map=None):  # MONAI's collate_meta_tensor_fn, in short
        out = collate.collate_tensor_fn(batch)
        out.tags = [b.tag for b in batch]
        return out

    rs = np.random.RandomState(0)
    items = [_make_tagged(lib, cls, rs.rand(2, 3), f"t{i}") for i in range(3)]
    plain = lib.utils.data.default_collate(items)  # unregistered: still stacked as the subclass
    collate.default_collate_fn_map[cls] = collate_tagged
    try:
        batch = lib.utils.data.default_collate([{"img": t, "n": i} for i, t in enumerate(items)])
        loader = lib.utils.data.DataLoader(items, batch_size=2)
        loaded = [(type(b).__name__, b.tags, np_of(b)) for b in loader]
    finally:
        del collate.default_collate_fn_map[cls]
    return (
        type(plain).__name__,
        np_of(plain),
        type(batch["img"]).__name__,
        batch["img"].tags,
        np_of(batch["img"]),
        np_of(batch["n"]).tolist(),
        loaded,
    )


def test_registered_subclass_collate_calls_collate_tensor_fn(torch):
    got, want = _collate_story(gg), _collate_story(torch)
    assert got[0] == want[0] == "Tagged"
    np.testing.assert_array_equal(got[1], want[1])
    assert got[2:4] == want[2:4] == ("Tagged", ["t0", "t1", "t2"])
    np.testing.assert_array_equal(got[4], want[4])
    assert got[5] == want[5] == [0, 1, 2]
    assert [(n, t) for n, t, _ in got[6]] == [(n, t) for n, t, _ in want[6]]
    for (_, _, a), (_, _, b) in zip(got[6], want[6], strict=True):
        np.testing.assert_array_equal(a, b)


def test_builtin_collate_fns_do_not_consult_the_map():
    from glassgrad.utils.data._utils import collate

    calls = []

    def spy(batch, *, collate_fn_map=None):
        calls.append(len(batch))
        return collate.collate_tensor_fn(batch)

    collate.default_collate_fn_map[gg.Tensor] = spy  # a library overriding the Tensor entry
    try:
        out = collate.collate_tensor_fn([gg.ones(2), gg.zeros(2)])
        assert calls == [] and out.shape == (2, 2)
        assert collate.collate_float_fn([1.0, 2.0]).dtype == gg.float64
        assert collate.collate_int_fn([1, 2]).dtype == gg.int64
        assert collate.collate_numpy_array_fn([np.ones(2), np.ones(2)]).shape == (2, 2)
    finally:
        collate.default_collate_fn_map[gg.Tensor] = collate.collate_tensor_fn


def test_collated_subclass_keeps_the_graph():
    cls = _tagged_class(gg)
    w = gg.tensor([1.0, 2.0], dtype=gg.float64, requires_grad=True)
    items = [(w * k).as_subclass(cls) for k in (1.0, 3.0)]
    batch = gg.utils.data.default_collate(items)
    assert type(batch) is cls
    batch.sum().backward()
    np.testing.assert_allclose(np_of(w.grad), [4.0, 4.0])


# ----------------------------------------------------------------------------- return_types counts
@pytest.mark.parametrize(
    "name, call",
    [
        ("max", lambda L, x: L.max(x, 0)),
        ("min", lambda L, x: x.min(1, keepdim=True)),
        ("sort", lambda L, x: L.sort(x, -1)),
        ("topk", lambda L, x: L.topk(x, 2)),
        ("kthvalue", lambda L, x: L.kthvalue(x, 2, 0)),
        ("aminmax", lambda L, x: L.aminmax(x)),
        ("median", lambda L, x: x.median(0)),
    ],
)
def test_return_types_have_structseq_counts(torch, name, call):
    x = np.random.RandomState(1).rand(3, 4)
    got, want = call(gg, gg.tensor(x)), call(torch, torch.tensor(x))
    assert (got.n_fields, got.n_sequence_fields, got.n_unnamed_fields) == (
        want.n_fields,
        want.n_sequence_fields,
        want.n_unnamed_fields,
    )
    assert type(got).n_fields == type(want).n_fields == len(want)


def _monai_like_max(lib):
    """MONAI's MetaTensor: a structseq result's items get the metadata, field by field."""

    class Meta(lib.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            ret = super().__torch_function__(func, types, args, kwargs or {})
            rt = getattr(lib.return_types, getattr(func, "__name__", ""), None)
            if isinstance(rt, type) and isinstance(ret, rt):
                for idx in range(ret.n_fields):
                    ret[idx].meta = {"from": func.__name__}
            return ret

    x = lib.tensor(np.arange(12.0).reshape(3, 4)).as_subclass(Meta)
    out = [lib.max(x, 0), lib.sort(x, 1, descending=True)]
    return [(type(r).__name__, [(type(v).__name__, v.meta, np_of(v).tolist()) for v in r]) for r in out]


def test_subclass_reading_n_fields_matches_pytorch(torch):
    assert _monai_like_max(gg) == _monai_like_max(torch)


# ----------------------------------------------------------------------------- loader iterator classes
class _StackProbe(Dataset):
    """TorchIO's in_torch_loader: is an iterator of a DataLoader on the call stack?"""

    def __init__(self, classes):
        self.classes = classes

    def __len__(self):
        return 2

    def __getitem__(self, i):
        found = any(type(f.frame.f_locals.get("self")) in self.classes for f in inspect.stack())
        return np.float64(found)


def test_loader_iterator_class_names_match_pytorch(torch):
    mod = torch.utils.data.dataloader
    for name in ("_BaseDataLoaderIter", "_SingleProcessDataLoaderIter", "_MultiProcessingDataLoaderIter"):
        assert isinstance(getattr(gg_dataloader, name), type), name
    assert issubclass(gg_dataloader._SingleProcessDataLoaderIter, gg_dataloader._BaseDataLoaderIter)
    assert issubclass(gg_dataloader._MultiProcessingDataLoaderIter, gg_dataloader._BaseDataLoaderIter)
    found = []
    for lib_mod, ds_base in ((gg_dataloader, None), (mod, torch.utils.data.Dataset)):
        classes = (lib_mod._SingleProcessDataLoaderIter, lib_mod._MultiProcessingDataLoaderIter)
        probe = _StackProbe(classes)
        if ds_base is not None:  # a torch Dataset for torch's loader
            probe = type("P", (ds_base,), {k: getattr(_StackProbe, k) for k in ("__len__", "__getitem__")})()
            probe.classes = classes
            it = iter(torch.utils.data.DataLoader(probe, batch_size=None))
        else:
            it = iter(DataLoader(probe, batch_size=None))
        assert isinstance(it, lib_mod._SingleProcessDataLoaderIter)
        assert len(it) == 2
        found.append([float(v) for v in it])
    assert found[0] == found[1] == [1.0, 1.0]
    assert not _StackProbe(classes)[0]  # outside a loader: not found


# ----------------------------------------------------------------------------- window lengths
WINDOWS = ["hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window"]


@pytest.mark.parametrize("name", WINDOWS)
@pytest.mark.parametrize("length", [np.uint16(10), np.int64(7), np.int32(1), np.uint8(0)])
def test_window_length_takes_numpy_integers(torch, name, length):
    for periodic in (True, False):
        got = getattr(gg, name)(length, periodic, dtype=gg.float64)
        want = getattr(torch, name)(length, periodic, dtype=torch.float64)
        assert got.shape == tuple(want.shape)
        np.testing.assert_allclose(np_of(got), np_of(want), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", WINDOWS)
def test_window_length_takes_an_integer_tensor(torch, name):
    got, want = getattr(gg, name)(gg.tensor(6)), getattr(torch, name)(torch.tensor(6))
    np.testing.assert_allclose(np_of(got), np_of(want), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", WINDOWS)
@pytest.mark.parametrize("bad", [4.0, True, np.float64(4.0)])
def test_window_length_refuses_floats_and_bools(torch, name, bad):
    with pytest.raises(TypeError) as want:
        getattr(torch, name)(bad)
    with pytest.raises(TypeError, match=rf"{name}\(\): argument 'window_length' .* must be int, not") as got:
        getattr(gg, name)(bad)
    assert str(got.value).split(", not ")[-1] == str(want.value).split(", not ")[-1]


@pytest.mark.parametrize("name", WINDOWS)
def test_window_length_refuses_negative(name):
    with pytest.raises(ValueError, match=rf"{name}: expected a non-negative int window_length, got -3"):
        getattr(gg, name)(-3)
