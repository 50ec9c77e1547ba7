"""Porting round 44, group nlp2: stanza (POS and NER taggers, the graph and transition dependency
parsers, the seq2seq lemmatizer) and RecBole (GRU4Rec, SASRec, BERT4Rec, BPR, LightGCN, NGCF and
others under its Trainer) run on glassgrad with only their imports changed.

- Every stanza model module imports ``stanza.models.constituency``'s feature dropout, a subclass
  of ``torch.autograd.function.InplaceFunction`` (PyTorch's legacy Function with an ``inplace``
  flag); glassgrad had no such name, so no stanza model imported.
- RecBole's data loaders answer ``dataset`` with the list of indices only while ``__iter__`` runs
  (a ``__getattribute__`` switch) and with their own dataset object afterwards. PyTorch's iterator
  reads its loader's dataset, sampler and collate function when it is made; glassgrad's read them at
  the first ``next()``, fetched from RecBole's dataset object and handed ``Interaction`` objects to
  ``collate_fn`` (every RecBole ``Trainer.fit`` failed with an index-dtype error).
- stanza's lemmatizer saves its dictionaries as gzipped ``bytes`` inside the checkpoint dict, which
  PyTorch's weights-only ``load`` accepts; glassgrad's ``save`` refused ``bytes`` (its own test
  ``test_dict_save_load_roundtrip`` failed). ``bytes``/``bytearray`` are now tagged base64 values.
"""

from __future__ import annotations

import gzip
import io
import json
import pickle

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import CheckpointError


def _inplace_double(lib):
    class Double(lib.autograd.function.InplaceFunction):
        @staticmethod
        def forward(ctx, x, inplace):
            if inplace:
                ctx.mark_dirty(x)
                return x.mul_(2)
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2, None

    return Double


@pytest.mark.parametrize("inplace", [False, True])
def test_inplace_function_subclass_matches_pytorch(torch, inplace):
    x = np.random.default_rng(0).standard_normal((3, 4))
    out = {}
    for name, lib in (("gg", gg), ("pt", torch)):
        op = _inplace_double(lib)
        leaf = lib.tensor(x, requires_grad=True)
        y = leaf.clone()
        z = op.apply(y, inplace)
        (z * lib.tensor(x)).sum().backward()
        out[name] = (z.detach().numpy(), leaf.grad.numpy(), z is y)
    np.testing.assert_array_equal(out["gg"][0], out["pt"][0])
    np.testing.assert_array_equal(out["gg"][1], out["pt"][1])
    assert out["gg"][2] == out["pt"][2]


def test_inplace_function_is_a_function_with_an_inplace_flag(torch):
    from glassgrad.autograd.function import Function, InplaceFunction

    assert issubclass(InplaceFunction, Function)
    for lib in (gg, torch):
        cls = lib.autograd.function.InplaceFunction
        with pytest.warns(DeprecationWarning):
            assert cls(inplace=True).inplace is True
        with pytest.warns(DeprecationWarning):
            assert cls().inplace is False


def _switching_loader(lib):
    """RecBole's pattern: `dataset` is the list of indices only while `__iter__` runs."""
    state = {"in_iter": False}

    class Records:
        def __getitem__(self, index):
            return {"item": np.asarray(index) * 10}

    class Loader(lib.utils.data.DataLoader):
        def __init__(self, records, n, batch_size):
            self._records = records
            super().__init__(dataset=list(range(n)), batch_size=batch_size, collate_fn=self.collate)

        def collate(self, index):
            return self._records[np.array(index)]["item"].tolist()

        def __iter__(self):
            state["in_iter"] = True
            res = super().__iter__()
            state["in_iter"] = False
            return res

        def __getattribute__(self, name):
            if name == "dataset" and not state["in_iter"]:
                name = "_records"
            return super().__getattribute__(name)

    return Loader(Records(), 7, 3)


def test_loader_reads_its_dataset_when_the_iterator_is_made(torch):
    got = {name: list(_switching_loader(lib)) for name, lib in (("gg", gg), ("pt", torch))}
    assert got["gg"] == got["pt"] == [[0, 10, 20], [30, 40, 50], [60]]


@pytest.mark.parametrize("stream", [False, True])
def test_collate_fn_changed_after_iter_leaves_the_running_iterator(torch, stream):
    got = {}
    for name, lib in (("gg", gg), ("pt", torch)):
        data = list(range(5))
        if stream:

            class Stream(lib.utils.data.IterableDataset):
                def __iter__(self):
                    return iter(range(5))

            data = Stream()
        loader = lib.utils.data.DataLoader(data, batch_size=2, collate_fn=lambda b: ("first", list(b)))
        it = iter(loader)
        loader.collate_fn = lambda b: ("second", list(b))
        got[name] = [*it, next(iter(loader))]
    assert got["gg"] == got["pt"]
    assert [b[0] for b in got["gg"]] == ["first"] * 3 + ["second"]


def _bytes_checkpoint():
    return {
        "dicts": gzip.compress(pickle.dumps({"NOUN": {"dogs": "dog"}})),
        "raw": b"\x00\xff\x10abc",
        "buf": bytearray(b"\x01\x02"),
        b"key": (b"x", [b"y"]),
        "w": np.arange(3.0),
    }


def test_bytes_save_and_load_as_pytorch_does(torch):
    got = {}
    for name, lib in (("gg", gg), ("pt", torch)):
        obj = _bytes_checkpoint()
        obj["w"] = lib.tensor(obj["w"])
        buf = io.BytesIO()
        lib.save(obj, buf)
        buf.seek(0)
        got[name] = lib.load(buf, weights_only=True)
    for k in ("dicts", "raw", "buf", b"key"):
        assert got["gg"][k] == got["pt"][k]
        assert type(got["gg"][k]) is type(got["pt"][k])
    assert type(got["gg"][b"key"][1][0]) is bytes
    assert pickle.loads(gzip.decompress(got["gg"]["dicts"])) == {"NOUN": {"dogs": "dog"}}
    np.testing.assert_array_equal(got["gg"]["w"].numpy(), got["pt"]["w"].numpy())


@pytest.mark.parametrize(
    "node",
    [
        {"__bytes__": 5, "mutable": False},
        {"__bytes__": "AAE=", "mutable": "no"},
        {"__bytes__": "not base64!", "mutable": False},
        {"__bytes__": "é", "mutable": False},
    ],
)
def test_corrupted_bytes_tags_are_checkpoint_errors(tmp_path, node):
    import safetensors.numpy as stn

    meta = {"glassgrad.format": "1", "glassgrad.structure": json.dumps({"v": node})}
    (tmp_path / "bad.pt").write_bytes(stn.save({}, metadata=meta))
    with pytest.raises(CheckpointError, match="bad.pt"):
        gg.load(tmp_path / "bad.pt")
