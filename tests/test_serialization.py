"""save/load: safetensors files, Python types restored, atomic writes, clear errors, no pickle."""

from __future__ import annotations

import json
import os
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad import serialization
from glassgrad.errors import CheckpointError
from glassgrad.serialization import load, save


def _state_dict():
    rng = np.random.default_rng(0)
    return {
        "fc1.weight": gg.tensor(rng.standard_normal((8, 2)).astype(np.float32)),
        "fc1.bias": gg.tensor(rng.standard_normal(8).astype(np.float32)),
        "bn.running_mean": gg.zeros(8),
        "bn.num_batches_tracked": gg.tensor(7),
        "emb.weight": gg.tensor(rng.standard_normal((3, 4))),  # float64 stays float64
        "mask": gg.tensor([True, False]),
    }


def _optimizer_state():
    return {
        "state": {
            0: {"step": gg.tensor(3.0), "exp_avg": gg.ones(8, 2), "exp_avg_sq": gg.zeros(8, 2)},
            1: {"step": gg.tensor(3.0), "exp_avg": gg.ones(8), "exp_avg_sq": gg.zeros(8)},
            2: {"momentum_buffer": None},
        },
        "param_groups": [
            {
                "lr": 0.001,
                "betas": (0.9, 0.999),
                "eps": 1e-08,
                "weight_decay": 0,
                "amsgrad": False,
                "maximize": False,
                "foreach": None,
                "params": [0, 1, 2],
            }
        ],
    }


def _assert_same(a, b):
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, gg.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a._data, b._data)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _assert_same(a[k], b[k])
    elif isinstance(a, list | tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b)
    else:
        assert a == b


def test_state_dict_round_trip_keeps_keys_dtypes_order(tmp_path):
    sd = _state_dict()
    path = tmp_path / "model.safetensors"
    save(sd, path)
    out = load(path)
    _assert_same(out, sd)
    assert out["bn.num_batches_tracked"].dtype == gg.int64 and out["bn.num_batches_tracked"].shape == ()
    out["fc1.weight"]._data += 1  # loaded arrays are writable, own memory
    np.testing.assert_array_equal(out["fc1.weight"].numpy(), sd["fc1.weight"].numpy() + 1)


def test_plain_safetensors_reader_sees_the_state_dict_keys(tmp_path):
    from safetensors.numpy import load_file

    sd = _state_dict()
    save(sd, tmp_path / "m.safetensors")
    raw = load_file(tmp_path / "m.safetensors")
    assert set(raw) == set(sd)
    for k in sd:
        np.testing.assert_array_equal(raw[k], sd[k].numpy())


def test_weights_move_both_ways_with_torch(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file, save_file

    sd = _state_dict()
    save(sd, tmp_path / "ours.safetensors")
    theirs = load_file(tmp_path / "ours.safetensors")
    assert theirs["bn.num_batches_tracked"].dtype == torch.int64
    np.testing.assert_array_equal(theirs["fc1.weight"].numpy(), sd["fc1.weight"].numpy())
    save_file({"w": torch.arange(6.0).reshape(2, 3), "n": torch.tensor(2)}, tmp_path / "t.safetensors")
    back = load(tmp_path / "t.safetensors")  # no glassgrad metadata: a dict of tensors
    assert set(back) == {"w", "n"} and back["n"].dtype == gg.int64
    np.testing.assert_array_equal(back["w"].numpy(), np.arange(6.0).reshape(2, 3))


def test_optimizer_state_dict_restores_python_types(tmp_path):
    st = _optimizer_state()
    save(st, tmp_path / "opt.safetensors")
    out = load(tmp_path / "opt.safetensors")
    _assert_same(out, st)
    assert list(out["state"]) == [0, 1, 2] and isinstance(next(iter(out["state"])), int)
    g = out["param_groups"][0]
    assert g["betas"] == (0.9, 0.999) and isinstance(g["betas"], tuple)
    assert isinstance(g["weight_decay"], int) and g["foreach"] is None and g["amsgrad"] is False


def test_nested_checkpoint_and_odd_values(tmp_path):
    w = gg.ones(2, 3)
    obj = {
        "model": _state_dict(),
        "optimizer": _optimizer_state(),
        "epoch": 4,
        "rng": {"bit_generator": "PCG64", "state": {"state": 2**127 + 3, "inc": 2**100}},
        "np_scalar": np.float32(1.5),
        "np_int": np.int64(-3),
        "array": np.arange(4, dtype=np.int32),
        "floats": [float("inf"), -0.0, float("nan"), 1e-300],
        "shared_a": w,
        "shared_b": w,
        "empty": gg.zeros(0, 4),
        ("tuple", 1): "tuple key",
        2.5: "float key",
        "__tuple__": "a key that looks like a tag",
        "a/b": gg.ones(1),
        "a": {"b": gg.zeros(1)},
        "grad": gg.ones(2, requires_grad=True),
    }
    save(obj, tmp_path / "c.safetensors")
    out = load(tmp_path / "c.safetensors")
    _assert_same(out, obj)
    assert out["shared_a"] is out["shared_b"]
    assert isinstance(out["np_scalar"], np.float32) and isinstance(out["np_int"], np.int64)
    assert out["rng"]["state"]["state"] == 2**127 + 3
    assert out["grad"].requires_grad and not out["empty"].requires_grad
    assert np.signbit(out["floats"][1])


def test_top_level_tensor_and_list(tmp_path):
    save(gg.arange(5), tmp_path / "t")
    _assert_same(load(tmp_path / "t"), gg.arange(5))
    save([gg.ones(2), 3, "x"], tmp_path / "l")
    _assert_same(load(tmp_path / "l"), [gg.ones(2), 3, "x"])


def test_file_objects(tmp_path):
    with open(tmp_path / "f", "wb") as f:
        save({"a": gg.ones(3)}, f)
    with open(tmp_path / "f", "rb") as f:
        _assert_same(load(f), {"a": gg.ones(3)})


def test_unsupported_objects_are_refused_not_pickled(tmp_path):
    with pytest.raises(TypeError, match=r"got object at opt/x"):
        save({"opt": {"x": object()}}, tmp_path / "bad")
    with pytest.raises(TypeError, match="lambda|function"):
        save({"f": lambda: 0}, tmp_path / "bad")
    assert not os.path.exists(tmp_path / "bad")


def test_saving_a_whole_module_or_optimizer_points_at_state_dict(tmp_path):
    model = gg.nn.Linear(2, 1)
    for obj in (model, gg.optim.SGD(model.parameters())):
        with pytest.raises(TypeError, match=r"at the top level; save its state_dict\(\) instead"):
            save(obj, tmp_path / "m")
    assert not os.path.exists(tmp_path / "m")


def test_save_into_a_missing_folder_names_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"no such folder {tmp_path / 'nope'}$"):
        save({"a": gg.ones(1)}, tmp_path / "nope" / "x.safetensors")


def test_save_writes_through_a_symlink_as_torch_save_does(tmp_path):
    target = tmp_path / "runs" / "epoch3.safetensors"
    target.parent.mkdir()
    save({"a": gg.zeros(2)}, target)
    link = tmp_path / "latest.safetensors"
    link.symlink_to(target)
    save({"a": gg.ones(2)}, link)
    assert link.is_symlink()  # the link stays a link ...
    _assert_same(load(target), {"a": gg.ones(2)})  # ... and the file it points to is updated
    assert sorted(os.listdir(target.parent)) == ["epoch3.safetensors"]


def test_atomic_write_leaves_old_file_intact_on_crash(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    save({"w": gg.ones(1000)}, path)
    before = path.read_bytes()

    def crash_midway(f, data):
        f.write(data[: len(data) // 2])
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(serialization, "_write_bytes", crash_midway)
    with pytest.raises(OSError, match="simulated"):
        save({"w": gg.zeros(1000), "step": 2}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]  # no temporary file left behind
    _assert_same(load(path), {"w": gg.ones(1000)})


def test_atomic_write_cleans_up_when_fsync_fails(tmp_path, monkeypatch):
    path = tmp_path / "new.safetensors"

    def bad_fsync(fd):
        raise OSError("fsync failed (simulated)")

    monkeypatch.setattr(serialization.os, "fsync", bad_fsync)
    with pytest.raises(OSError, match="simulated"):
        save({"w": gg.ones(3)}, path)
    assert os.listdir(tmp_path) == []


def test_saved_file_gets_the_usual_permissions(tmp_path):
    path = tmp_path / "p.safetensors"
    umask = os.umask(0o022)
    try:
        save({"a": gg.ones(1)}, path)
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644  # not mkstemp's private 0o600
    os.chmod(path, 0o640)
    save({"a": gg.ones(2)}, path)
    assert path.stat().st_mode & 0o777 == 0o640  # an existing file keeps its mode


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="no such") as info:
        load(tmp_path / "nope.safetensors")
    assert isinstance(info.value, FileNotFoundError) and "nope.safetensors" in str(info.value)


@pytest.mark.parametrize("cut", [3, 20, -1, -100])
def test_truncated_file_raises_checkpoint_error_naming_path(tmp_path, cut):
    path = tmp_path / "t.safetensors"
    save({"model": _state_dict(), "epoch": 1}, path)
    raw = path.read_bytes()
    path.write_bytes(raw[:cut])
    with pytest.raises(CheckpointError, match="truncated") as info:
        load(path)
    assert str(path) in str(info.value)


def _rewrite_header(path, edit):
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    edit(header)
    new = json.dumps(header).encode()
    new += b" " * (-len(new) % 8)
    path.write_bytes(struct.pack("<Q", len(new)) + new + raw[8 + n :])


def test_corrupted_files(tmp_path):
    path = tmp_path / "c.safetensors"
    path.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}")
    with pytest.raises(CheckpointError, match="corrupted header"):
        load(path)
    path.write_bytes(os.urandom(64))
    with pytest.raises(CheckpointError):
        load(path)

    save({"a": gg.ones(2), "n": 1}, path)
    _rewrite_header(
        path, lambda h: h["__metadata__"].update({"glassgrad.structure": '{"a": {"__tensor__": "zz"}}'})
    )
    with pytest.raises(CheckpointError, match="'zz'"):
        load(path)
    save({"a": gg.ones(2)}, path)
    _rewrite_header(path, lambda h: h["__metadata__"].update({"glassgrad.structure": "{broken"}))
    with pytest.raises(CheckpointError, match="structure"):
        load(path)
    save({"a": gg.ones(2)}, path)
    _rewrite_header(path, lambda h: h["a"].update({"dtype": "XX"}))
    with pytest.raises(CheckpointError, match="corrupted"):
        load(path)
    save({"a": gg.ones(2)}, path)
    _rewrite_header(path, lambda h: h["a"].pop("data_offsets"))
    with pytest.raises(CheckpointError, match="data_offsets"):
        load(path)


def test_torch_save_files_get_a_hint(tmp_path):
    import pickle
    import zipfile

    path = tmp_path / "model.pt"
    with zipfile.ZipFile(path, "w") as z:  # torch.save's format since PyTorch 1.6
        z.writestr("archive/data.pkl", pickle.dumps({"w": [1.0]}, protocol=2))
    with pytest.raises(CheckpointError, match=r"model.pt: .*looks like a torch.save file"):
        load(path)
    path.write_bytes(pickle.dumps({"w": [1.0]}, protocol=2))  # the legacy format
    with pytest.raises(CheckpointError, match="looks like a torch.save file"):
        load(path)
    path.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}")
    with pytest.raises(CheckpointError) as info:
        load(path)
    assert "torch.save" not in str(info.value)


def test_a_dtype_numpy_lacks_is_named_not_called_corrupted(tmp_path):
    # bfloat16 checkpoints (common from PyTorch) are valid safetensors files NumPy cannot hold.
    path = tmp_path / "bf16.safetensors"
    save({"w": gg.ones(2), "b": gg.ones(2)}, path)

    def as_bf16(h):
        h["w"].update({"dtype": "BF16", "shape": [4]})  # the same 8 bytes, read as 4 bfloat16s

    _rewrite_header(path, as_bf16)
    with pytest.raises(CheckpointError, match=r"tensor 'w' has dtype BF16, which NumPy") as info:
        load(path)
    assert "corrupted" not in str(info.value)


def test_missing_safetensors_gives_install_hint(monkeypatch, tmp_path):
    import builtins
    import sys

    real_import = builtins.__import__

    def no_safetensors(name, *args, **kwargs):
        if name.startswith("safetensors"):
            raise ImportError("No module named 'safetensors'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_safetensors)
    for mod in [m for m in sys.modules if m.startswith("safetensors")]:
        monkeypatch.delitem(sys.modules, mod)
    with pytest.raises(ImportError, match="pip install"):
        save({"a": gg.ones(1)}, tmp_path / "x")


_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    st.text(max_size=5),
    st.builds(
        lambda shape, dt, seed: gg.tensor(np.random.default_rng(seed).standard_normal(shape).astype(dt)),
        st.lists(st.integers(0, 3), max_size=3).map(tuple),
        st.sampled_from([np.float32, np.float64, np.int64, np.int32, np.bool_]),
        st.integers(0, 2**16),
    ),
)
_keys = st.one_of(st.text(max_size=6), st.integers(-5, 5))
_objects = st.recursive(
    _leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(_keys, inner, max_size=3),
    ),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(obj=st.dictionaries(_keys, _objects, max_size=4))
def test_round_trip_property(tmp_path_factory, obj):
    path = tmp_path_factory.mktemp("prop") / "x.safetensors"
    save(obj, path)
    _assert_same(load(path), obj)
