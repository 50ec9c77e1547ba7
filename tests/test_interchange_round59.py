"""Round 59, group interchange: checkpoints between glassgrad and PyTorch, each against PyTorch.

- Tensors that share memory (a view saved beside its base, two views of one tensor, tied weights
  in a ``state_dict``) loaded as separate copies, where ``torch.save``/``torch.load`` keep them
  views of one storage: a write through one did not show in the others
  (``serialization_sharing.py``).
- complex64: ``safetensors.torch.save_file`` writes safetensors' own ``C64``, which ``load``
  refused ("NumPy cannot hold"), and ``save`` wrote complex64 as ``(..., 2)`` float32 pairs, which
  PyTorch's ``load_file`` read as float32 of another shape (``serialization_complex.py``).
- A truncated or damaged file raised ``CheckpointError``, a ``ValueError`` only, where PyTorch
  raises ``RuntimeError``: a resume's ``except (RuntimeError, EOFError)`` that skips a damaged
  checkpoint crashed instead (``CorruptCheckpointError`` in ``errors.py``).
"""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import serialization_complex
from glassgrad.errors import CheckpointError


def _views(lib, name):
    """A base and views of it (row, transpose, strided slice, diagonal, flat window) and of a second
    tensor, as a ``dict`` of name -> tensor; ``name`` picks which of them are saved."""
    b = lib.arange(24.0, dtype=lib.float64).reshape(4, 6)
    x = lib.ones(5, dtype=lib.float32)
    every = {
        "b": b,
        "row": b[1],
        "t": b.t(),
        "s": b[:, ::2],
        "d": b.diagonal(),
        "flat": b.view(-1)[5:11],
        "x": x,
        "xv": x[1:4],
        "own": b[2:] * 1,
    }
    keep = {
        "all": list(every),
        "views_only": ["row", "t", "flat"],
        "row_and_tail": ["row"],
    }[name]
    out = {k: every[k] for k in keep}
    if name == "row_and_tail":  # no base saved: offsets count from the start of its memory
        out["tail"] = b[1, 2:]
    return out


def _round_trip(lib, obj, path, **load_kw):
    lib.save(obj, path)
    return lib.load(path, **load_kw) if lib is gg else lib.load(path, weights_only=True)


def _state(loaded):
    return {k: (v.numpy().copy(), v.stride(), v.storage_offset()) for k, v in loaded.items()}


def _assert_same(ours, theirs, offsets=True):
    assert ours.keys() == theirs.keys()
    for k in theirs:
        np.testing.assert_array_equal(ours[k][0], theirs[k][0], err_msg=k)
        assert ours[k][1] == theirs[k][1], k
        assert not offsets or ours[k][2] == theirs[k][2], k


@pytest.mark.parametrize("name", ["all", "views_only", "row_and_tail"])
@pytest.mark.parametrize("mmap", [False, True])
def test_views_saved_together_load_sharing_memory(name, mmap, torch, tmp_path):
    for writer in ("first", "last"):  # a write through the base shows in views, and back
        got = {}
        for lib in (gg, torch):
            kw = {"mmap": True} if mmap and lib is gg else {}
            loaded = _round_trip(lib, _views(lib, name), tmp_path / f"{lib.__name__}.ckpt", **kw)
            keys = list(loaded)
            target = loaded[keys[0] if writer == "first" else keys[-1]]
            target[(0,) * target.dim()] = -5.0
            target.mul_(3)  # an in-place op, not only item writes
            got[lib] = _state(loaded)
        # PyTorch saves the whole storage; glassgrad counts offsets from the start of the memory
        # only when that fits in the file's data (not here: the base's first row is not saved).
        _assert_same(got[gg], got[torch], offsets=name != "row_and_tail")


def test_tied_state_dict_entries_stay_tied(torch, tmp_path):
    """An embedding and an output layer sharing one weight: both ``state_dict`` keys load as one
    memory in PyTorch, so an in-place change of one entry is the other's."""

    def run(lib):
        lib.manual_seed(0)
        emb, head = lib.nn.Embedding(5, 3), lib.nn.Linear(3, 5, bias=False)
        head.weight = emb.weight
        model = lib.nn.ModuleDict({"emb": emb, "head": head})
        state = model.state_dict()
        state["emb.weight"].copy_(lib.from_numpy(np.arange(15.0, dtype=np.float32).reshape(5, 3)))
        loaded = _round_trip(lib, state, tmp_path / f"{lib.__name__}.ckpt")
        loaded["emb.weight"].add_(1.0)
        return loaded["head.weight"].numpy().copy()

    np.testing.assert_array_equal(run(gg), run(torch))


def test_shared_views_stay_plain_tensors_for_safetensors_readers(torch, tmp_path):
    """The file still holds each tensor's own values under its key (PyTorch's ``load_file``)."""
    from safetensors.torch import load_file

    saved = _views(gg, "all")
    gg.save(saved, tmp_path / "g.safetensors")
    read = load_file(str(tmp_path / "g.safetensors"))
    assert read.keys() == saved.keys()
    for k, v in saved.items():
        np.testing.assert_array_equal(read[k].numpy(), v.numpy(), err_msg=k)


def test_views_far_apart_in_a_large_base_load_as_copies(torch, tmp_path):
    """Two rows far apart of an unsaved base: sharing would need memory beyond what the file
    holds, so they load unshared, with PyTorch's values."""
    for lib in (gg, torch):
        b = lib.arange(6000.0).reshape(1000, 6)
        loaded = _round_trip(lib, {"a": b[0], "z": b[999]}, tmp_path / f"{lib.__name__}.ckpt")
        np.testing.assert_array_equal(loaded["a"].numpy(), np.arange(6.0))
        np.testing.assert_array_equal(loaded["z"].numpy(), np.arange(5994.0, 6000.0))


def _rewrite_storages(path, change):
    """The file at ``path`` with its ``glassgrad.storages`` record replaced by ``change(record)``."""
    data = path.read_bytes()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + n])
    record = json.loads(header["__metadata__"]["glassgrad.storages"])
    header["__metadata__"]["glassgrad.storages"] = json.dumps(change(record))
    new = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(new)) + new + data[8 + n :])


@pytest.mark.parametrize(
    "change",
    [
        lambda r: {**r, "sizes": [10**15]},  # more memory than the file holds
        lambda r: {**r, "sizes": r["sizes"] * 8},  # so in all
        lambda r: {**r, "sizes": "x"},
        lambda r: {**r, "views": {k: [0, 10**6, s] for k, (_, _, s) in r["views"].items()}},
        lambda r: {**r, "views": {k: [5, o, s] for k, (_, o, s) in r["views"].items()}},
        lambda r: {**r, "views": {k: [b, o, [2**50] * len(s)] for k, (b, o, s) in r["views"].items()}},
        lambda r: {**r, "views": {k: [b, o, s[:-1]] for k, (b, o, s) in r["views"].items()}},
        lambda r: {**r, "views": {k: [b, -8, s] for k, (b, _, s) in r["views"].items()}},
    ],
    ids=[
        "huge_block",
        "blocks_past_the_data",
        "bad_sizes",
        "past_the_end",
        "no_such_block",
        "huge_strides",
        "rank",
        "negative",
    ],
)
def test_corrupted_sharing_records_are_refused(change, tmp_path):
    path = tmp_path / "c.safetensors"
    gg.save(_views(gg, "all"), path)
    _rewrite_storages(path, change)
    for mmap in (False, True):
        with pytest.raises(CheckpointError, match="glassgrad.storages"):
            gg.load(path, mmap=mmap)


# ---- complex64 ----------------------------------------------------------------------------------
def _complex(shape):
    rng = np.random.default_rng(1)
    return np.asarray(rng.standard_normal(shape) + 1j * rng.standard_normal(shape), dtype=np.complex64)


@pytest.mark.parametrize("shape", [(3, 4), (), (0, 3)])
@pytest.mark.parametrize("mmap", [False, True])
def test_complex64_from_pytorchs_safetensors_loads(shape, mmap, torch, tmp_path):
    from safetensors.torch import save_file

    z = _complex(shape)
    save_file({"w": torch.from_numpy(z)}, str(tmp_path / "t.safetensors"))
    w = gg.load(tmp_path / "t.safetensors", mmap=mmap)["w"]
    assert w.dtype == gg.complex64 and tuple(w.shape) == shape
    np.testing.assert_array_equal(w.numpy(), z)


@pytest.mark.parametrize("layout", ["plain", "transposed", "0-d"])
def test_complex64_saved_by_glassgrad_reads_as_complex64_in_pytorch(layout, torch, tmp_path):
    from safetensors.torch import load_file

    z = gg.from_numpy(_complex(() if layout == "0-d" else (3, 4)))
    z = z.t() if layout == "transposed" else z
    gg.save({"w": z, "nested": [z * 2]}, tmp_path / "g.safetensors")
    read = load_file(str(tmp_path / "g.safetensors"))
    assert read["w"].dtype == torch.complex64 and read["w"].shape == tuple(z.shape)
    np.testing.assert_array_equal(read["w"].numpy(), z.numpy())
    back = gg.load(tmp_path / "g.safetensors")
    assert back["w"].dtype == gg.complex64 and back["w"].stride() == z.stride()
    np.testing.assert_array_equal(back["nested"][0].numpy(), (z * 2).numpy())


def test_complex_as_float_pairs_still_loads(monkeypatch, tmp_path):
    """Files written as (..., 2) pairs (earlier versions; complex128 always) load complex."""
    monkeypatch.setattr(serialization_complex, "_NATIVE", [False])
    z64, z128 = gg.from_numpy(_complex((2, 3))), gg.from_numpy(_complex((2, 3)).astype(np.complex128))
    gg.save({"a": z64, "b": z128}, tmp_path / "old.safetensors")
    monkeypatch.setattr(serialization_complex, "_NATIVE", [True])
    back = gg.load(tmp_path / "old.safetensors")
    assert back["a"].dtype == gg.complex64 and back["b"].dtype == gg.complex128
    np.testing.assert_array_equal(back["a"].numpy(), z64.numpy())
    np.testing.assert_array_equal(back["b"].numpy(), z128.numpy())


# ---- a damaged file is a RuntimeError, as PyTorch's ----------------------------------------------
def _resume(lib, path, mmap):
    """A training script's resume: a damaged checkpoint is skipped, as PyTorch raises for one."""
    try:
        return lib.load(path, weights_only=True, mmap=mmap)
    except (RuntimeError, EOFError):
        return None


_CUTS = {
    "half": lambda b: b[: len(b) // 2],
    "first_4_bytes": lambda b: b[:4],
    "last_10_bytes_lost": lambda b: b[:-10],
    "empty": lambda b: b"",
}


@pytest.mark.parametrize("cut", list(_CUTS))
@pytest.mark.parametrize("mmap", [False, True])
def test_a_truncated_checkpoint_is_skipped_by_a_resume_as_in_pytorch(cut, mmap, torch, tmp_path):
    for lib in (gg, torch):
        path = tmp_path / f"{lib.__name__}.ckpt"
        lib.save({"w": lib.ones(300), "epoch": 3}, path)
        path.write_bytes(_CUTS[cut](path.read_bytes()))
        assert _resume(lib, path, mmap) is None
    with pytest.raises(CheckpointError, match="glassgrad.ckpt"):  # still glassgrad's kind, naming the file
        gg.load(tmp_path / "glassgrad.ckpt", mmap=mmap)


def test_a_missing_file_or_a_refused_class_is_no_runtime_error(torch, tmp_path):
    """Only damage is a RuntimeError: a missing file is FileNotFoundError and a class that
    weights-only loading refuses is UnpicklingError, in both libraries."""
    import argparse
    import pickle

    for lib in (gg, torch):
        with pytest.raises(FileNotFoundError) as missing:
            lib.load(tmp_path / "nothing.ckpt", weights_only=True)
        path = tmp_path / f"{lib.__name__}.ckpt"
        lib.save({"args": argparse.Namespace(lr=0.1)}, path)
        with pytest.raises(pickle.UnpicklingError) as refused:
            lib.load(path, weights_only=True)
        assert not isinstance(missing.value, RuntimeError) and not isinstance(refused.value, RuntimeError)
