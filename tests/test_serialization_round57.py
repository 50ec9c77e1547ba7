"""Round 57, group serialize: what ``save``/``load`` lost or mixed up, each against PyTorch.

- A tensor stored once per object: the encoder knew tensors by ``id``, and a ``__getstate__``
  that hands over fresh tensors lets one die before the next is made at the same address, which
  was then written as the dead one (every object loaded the first one's values).
- An ``OrderedDict`` loaded as a plain dict without its attributes, so a ``state_dict``'s
  ``_metadata`` (module versions) was lost: a module that migrates old checkpoints by version
  migrated a current one again.
- ``Size`` loaded as a tuple, and a ``device`` could not be saved at all.
"""

from __future__ import annotations

import json
from collections import OrderedDict

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import CheckpointError


def _load(lib, path):
    return lib.load(path) if lib is gg else lib.load(path, weights_only=True)


class FreshState:
    """Pickles a new tensor each time (``__getstate__`` makes it), as a wrapper that saves
    a scaled copy or a ``detach().clone()`` of its weights does."""

    def __init__(self, v):
        self.v = v

    def __getstate__(self):
        return {"w": self.v * 1, "arr": np.full(2, float(self.v[0]))}


@pytest.mark.parametrize("lib_name", ["glassgrad", "torch"])
def test_fresh_tensors_from_getstate_each_keep_their_values(lib_name, torch, tmp_path):
    lib = gg if lib_name == "glassgrad" else torch
    objs = [FreshState(lib.full((3,), float(i), dtype=lib.float64)) for i in range(6)]
    path = tmp_path / "objs.pt"
    lib.save({"objs": objs}, path)
    with lib.serialization.safe_globals([FreshState]):
        # (PyTorch's weights-only loader refuses NumPy arrays; glassgrad's needs no pickle for them)
        back = (gg.load(path) if lib is gg else lib.load(path, weights_only=False))["objs"]
    assert [float(o.w[0]) for o in back] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert [float(o.arr[1]) for o in back] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


@pytest.mark.parametrize("lib_name", ["glassgrad", "torch"])
def test_ordered_dict_and_state_dict_metadata_come_back(lib_name, torch, tmp_path):
    lib = gg if lib_name == "glassgrad" else torch
    model = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.BatchNorm1d(3))
    sd = model.state_dict()
    od = OrderedDict([("b", 1), ("a", (2, 3))])
    od.note = "kept"
    path = tmp_path / "sd.pt"
    lib.save({"sd": sd, "od": od, "plain": {"x": 1}}, path)
    back = _load(lib, path)
    assert type(back["sd"]) is OrderedDict and type(back["od"]) is OrderedDict and type(back["plain"]) is dict
    assert list(back["sd"]) == list(sd)
    assert (
        back["sd"]._metadata == sd._metadata == {"": {"version": 1}, "0": {"version": 1}, "1": {"version": 2}}
    )
    assert list(back["od"].items()) == [("b", 1), ("a", (2, 3))] and back["od"].note == "kept"


def _versioned(lib):
    class Scaled(lib.nn.Module):
        """Version 2 stores ``weight`` doubled; loading a version-1 checkpoint doubles it."""

        _version = 2

        def __init__(self):
            super().__init__()
            self.weight = lib.nn.Parameter(lib.ones(3, dtype=lib.float64))

        def _load_from_state_dict(self, state_dict, prefix, local_metadata, *args):
            if local_metadata.get("version", 1) < 2:
                state_dict[prefix + "weight"] = state_dict[prefix + "weight"] * 2
            super()._load_from_state_dict(state_dict, prefix, local_metadata, *args)

    return lib.nn.Sequential(Scaled())


@pytest.mark.parametrize("lib_name", ["glassgrad", "torch"])
def test_saved_state_dict_is_not_migrated_again_on_load(lib_name, torch, tmp_path):
    lib = gg if lib_name == "glassgrad" else torch
    src = _versioned(lib)
    with lib.no_grad():
        src[0].weight.copy_(lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64))
    path = tmp_path / "v2.pt"
    lib.save(src.state_dict(), path)
    dst = _versioned(lib)
    dst.load_state_dict(_load(lib, path))
    np.testing.assert_array_equal(dst[0].weight.detach().numpy(), [1.0, 2.0, 3.0])
    old = OrderedDict(src.state_dict())  # a checkpoint without versions still migrates
    dst.load_state_dict(old)
    np.testing.assert_array_equal(dst[0].weight.detach().numpy(), [2.0, 4.0, 6.0])


@pytest.mark.parametrize("lib_name", ["glassgrad", "torch"])
def test_size_and_device_values_round_trip(lib_name, torch, tmp_path):
    lib = gg if lib_name == "glassgrad" else torch
    obj = {
        "shape": lib.zeros(2, 3).shape,
        "empty": lib.Size([]),
        "device": lib.device("cpu"),
        "by_device": {lib.device("cpu"): 1, lib.device("cuda", 1): 2},
        "shapes": [lib.Size([4])],
    }
    path = tmp_path / "values.pt"
    lib.save(obj, path)
    back = _load(lib, path)
    assert type(back["shape"]) is lib.Size and back["shape"] == (2, 3) and back["empty"] == ()
    assert type(back["shapes"][0]) is lib.Size
    assert type(back["device"]) is lib.device and back["device"] == lib.device("cpu")
    assert back["by_device"] == {lib.device("cpu"): 1, lib.device("cuda:1"): 2}


def test_ordered_state_dict_keeps_its_safetensors_keys(tmp_path):
    pytest.importorskip("safetensors")  # (another reader of the file's tensors)
    import safetensors.numpy

    model = gg.nn.Sequential(gg.nn.Linear(2, 3), gg.nn.BatchNorm1d(3))
    path = tmp_path / "sd.safetensors"
    gg.save(model.state_dict(), path)
    assert sorted(safetensors.numpy.load_file(str(path))) == sorted(model.state_dict())


def _file_with_structure(path, structure):
    pytest.importorskip("safetensors")
    import safetensors.numpy

    meta = {"glassgrad.format": "1", "glassgrad.structure": json.dumps(structure)}
    safetensors.numpy.save_file({"t": np.zeros(2, dtype=np.float32)}, str(path), metadata=meta)


@pytest.mark.parametrize(
    "structure",
    [
        {"__device__": "nowhere"},
        {"__device__": 3},
        {"__size__": [2, "3"]},
        {"__odict__": [1, 2]},
        {"__odict__": {"a": 1}, "state": [1]},
    ],
    ids=["bad-device-name", "device-not-str", "size-not-ints", "odict-not-dict", "odict-state-not-dict"],
)
def test_corrupted_new_tags_name_the_file(structure, tmp_path):
    path = tmp_path / "bad.safetensors"
    _file_with_structure(path, {"x": structure})
    with pytest.raises(CheckpointError, match="bad.safetensors"):
        gg.load(path)


_LAYOUTS = {
    "channels_last": lambda lib, t: t.contiguous(memory_format=lib.channels_last),
    "channels_last_3d": lambda lib, t: t.reshape(1, 2, 3, 4, 5).contiguous(
        memory_format=lib.channels_last_3d
    ),
    "N1HW_channels_last": lambda lib, t: t[:, :1].contiguous(memory_format=lib.channels_last),
    "permuted": lambda lib, t: t.permute(3, 1, 0, 2),
    "complex_transposed": lambda lib, t: lib.complex(t[0, 0], t[0, 1]).t(),
    "flipped": lambda lib, t: t.flip(1),
}


@pytest.mark.parametrize("layout", sorted(_LAYOUTS))
def test_loaded_tensor_keeps_its_layout_as_torch(layout, torch, tmp_path):
    data = np.arange(120, dtype=np.float32).reshape(2, 3, 4, 5) - 60.5
    got = {}
    for lib in (gg, torch):
        t = _LAYOUTS[layout](lib, lib.tensor(data))
        path = tmp_path / f"{lib.__name__}.pt"
        lib.save({"t": t, "same": t, "array": t.numpy()}, path)
        back = gg.load(path) if lib is gg else lib.load(path, weights_only=False)
        assert back["t"] is back["same"]
        np.testing.assert_array_equal(back["t"].numpy(), t.numpy())
        np.testing.assert_array_equal(back["array"], t.numpy())
        contiguous = [back["t"].is_contiguous()]
        if back["t"].ndim == 4:
            contiguous.append(back["t"].is_contiguous(memory_format=lib.channels_last))
        got[lib] = (
            back["t"].stride(),
            contiguous,
            back["array"].strides,
            str(back["t"].dtype).split(".")[-1],
        )
    assert got[gg] == got[torch]


def test_layout_survives_mmap_and_stays_readable_by_safetensors(tmp_path):
    pytest.importorskip("safetensors")
    import safetensors.numpy

    data = np.arange(120, dtype=np.float64).reshape(2, 3, 4, 5)
    t = gg.tensor(data).contiguous(memory_format=gg.channels_last)
    path = tmp_path / "cl.safetensors"
    gg.save({"t": t}, path)
    mapped = gg.load(path, mmap=True)["t"]
    assert mapped.stride() == t.stride() and mapped.is_contiguous(memory_format=gg.channels_last)
    np.testing.assert_array_equal(mapped.numpy(), data)
    raw = safetensors.numpy.load_file(str(path))["t"]  # other readers see the logical values
    np.testing.assert_array_equal(raw, data)


@pytest.mark.parametrize(
    "strides",
    [[1, 1], [3, 1, 1], [-3, 1], [1, 3.0], [7, 1], "C", [2**62, 1], [1, 2**62]],
    ids=["overlapping", "wrong-rank", "negative", "float", "gapped", "not-a-list", "huge", "huge-last"],
)
def test_corrupted_strides_are_refused_naming_the_file(strides, tmp_path):
    pytest.importorskip("safetensors")
    import safetensors.numpy

    structure = {"t": {"__tensor__": "t", "strides": strides}}
    meta = {"glassgrad.format": "1", "glassgrad.structure": json.dumps(structure)}
    path = tmp_path / "strides.safetensors"
    safetensors.numpy.save_file({"t": np.zeros((2, 3), dtype=np.float32)}, str(path), metadata=meta)
    with pytest.raises(CheckpointError, match="strides.safetensors.*strides"):
        gg.load(path)
