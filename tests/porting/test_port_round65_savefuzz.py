"""Round 65, a differential fuzz of ``save``/``load`` against PyTorch 2.13 (random nested objects
of every dtype, views, parameters, saved to paths, file objects and buffers, loaded with each
``map_location``, ``weights_only`` and ``mmap``):

- a namedtuple, a ``Counter``, a ``defaultdict`` and any subclass of tuple, list, dict or
  ``OrderedDict`` loaded as the plain container: what was saved was silently lost (a namedtuple's
  fields, a Counter's methods, a defaultdict's factory). They load as their class now, made as
  pickle makes them; with ``weights_only=True`` only when allowed, as PyTorch (which allows
  ``Counter`` by default);
- an open file saved without complaint (its ``__dict__`` holds ``mode``); pickle refuses it;
- loading a folder raised an ``OSError`` that was no ``IsADirectoryError``, PyTorch's kind.
"""

from __future__ import annotations

import collections
import io
import pickle

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.serialization import safe_globals

Stats = collections.namedtuple("Stats", "loss weights")


class Bag(dict):
    pass


class Rows(list):
    pass


class Ordered(collections.OrderedDict):
    pass


def _roundtrip(lib, obj, **kw):
    buf = io.BytesIO()
    lib.save(obj, buf)
    buf.seek(0)
    return lib.load(buf, **kw)


def _plain(obj):
    """A comparable form: container classes by name, tensors as (dtype, NumPy values)."""
    if hasattr(obj, "detach"):
        return (str(obj.dtype).rsplit(".", 1)[-1], obj.detach().numpy().tolist())
    if isinstance(obj, tuple | list):
        return (type(obj).__name__, [_plain(v) for v in obj])
    if isinstance(obj, dict):
        extra = getattr(obj, "default_factory", None)
        return (type(obj).__name__, extra, [(k, _plain(v)) for k, v in obj.items()])
    return obj


def _cases(lib):
    w = lib.tensor(np.arange(6.0).reshape(2, 3))
    return {
        "namedtuple": Stats(0.5, [w, lib.tensor([1, 2], dtype=lib.int8)]),
        "nested_namedtuple": {"s": (Stats(1, Stats(2, w)),)},
        "counter": collections.Counter({"the": 3, "a": 1}),
        "defaultdict": collections.defaultdict(list, {"x": [w], 3: []}),
        "dict_subclass": Bag(a=w, b={"c": 1}),
        "list_subclass": Rows([w, 2, "x"]),
        "ordereddict_subclass": Ordered([("z", w), ("a", 1)]),
    }


@pytest.mark.parametrize("name", sorted(_cases(gg)))
def test_container_subclasses_load_as_their_class_as_pytorch(torch, name):
    want = _plain(_roundtrip(torch, _cases(torch)[name], weights_only=False))
    have = _plain(_roundtrip(gg, _cases(gg)[name], weights_only=False))
    assert have == want


def test_loaded_namedtuple_keeps_fields_and_sharing():
    w = gg.ones(3)
    out = _roundtrip(gg, {"a": Stats(1.5, w), "b": w}, weights_only=False)
    assert type(out["a"]) is Stats and out["a"].loss == 1.5
    assert out["a"].weights is out["b"]


def test_defaultdict_keeps_its_factory_and_attributes():
    d = Bag(k=1)
    d.note = "kept"
    out = _roundtrip(gg, {"d": collections.defaultdict(dict), "bag": d}, weights_only=False)
    assert out["d"].default_factory is dict and out["d"]["new"] == {}
    assert type(out["bag"]) is Bag and out["bag"].note == "kept" and out["bag"] == {"k": 1}


@pytest.mark.parametrize("name", ["namedtuple", "dict_subclass", "list_subclass", "defaultdict"])
def test_weights_only_refuses_a_container_class_not_allowed_as_pytorch(torch, name):
    with pytest.raises(pickle.UnpicklingError):
        _roundtrip(torch, _cases(torch)[name], weights_only=True)
    with pytest.raises(pickle.UnpicklingError, match="allowed global"):
        _roundtrip(gg, _cases(gg)[name], weights_only=True)


def test_weights_only_allows_counter_and_an_allowed_namedtuple(torch):
    assert _plain(_roundtrip(gg, _cases(gg)["counter"])) == _plain(
        _roundtrip(torch, _cases(torch)["counter"])
    )
    with torch.serialization.safe_globals([Stats]):
        want = _plain(_roundtrip(torch, _cases(torch)["namedtuple"]))
    with safe_globals([Stats]):
        have = _plain(_roundtrip(gg, _cases(gg)["namedtuple"]))
    assert have == want


def test_a_crafted_container_reference_is_refused():
    buf = io.BytesIO()
    gg.save({"s": Stats(1, 2)}, buf)
    raw = buf.getvalue().replace(b"Stats", b"Stack")  # a name that is no tuple class here
    with pytest.raises(gg.serialization.CheckpointError):
        gg.load(io.BytesIO(raw), weights_only=False)


def test_an_open_file_is_refused_at_save_as_pickle(torch, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("x")
    with open(path) as f:
        with pytest.raises(TypeError):
            torch.save({"f": f}, io.BytesIO())
        with pytest.raises(TypeError, match="TextIOWrapper at f"):
            gg.save({"f": f}, io.BytesIO())


@pytest.mark.parametrize("mmap", [False, True])
def test_loading_a_folder_raises_is_a_directory_error_as_pytorch(torch, tmp_path, mmap):
    with pytest.raises(IsADirectoryError):
        torch.load(tmp_path, mmap=mmap)
    with pytest.raises(IsADirectoryError, match="is a folder"):
        gg.load(tmp_path, mmap=mmap)
    with pytest.raises(gg.serialization.CheckpointError):
        gg.load(tmp_path, mmap=mmap)
