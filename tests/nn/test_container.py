"""Containers: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn


class AddOne(nn.Module):
    def forward(self, x):
        return x + 1.0


class Times(nn.Module):
    def __init__(self, k: float) -> None:
        super().__init__()
        self.k = nn.Parameter(gg.tensor([k]))

    def forward(self, x):
        return x * self.k


def test_sequential_chains_forward_in_order():
    seq = nn.Sequential(AddOne(), Times(3.0), AddOne())
    assert seq(gg.tensor([1.0])).tolist() == [7.0]  # ((1 + 1) * 3) + 1
    assert len(seq) == 3 and [type(m).__name__ for m in seq] == ["AddOne", "Times", "AddOne"]
    assert list(seq.state_dict()) == ["1.k"]


def test_sequential_from_ordered_dict_keeps_names():
    seq = nn.Sequential(OrderedDict([("scale", Times(2.0)), ("shift", AddOne())]))
    assert list(seq._modules) == ["scale", "shift"]
    assert seq.scale is seq[0]
    assert list(seq.state_dict()) == ["scale.k"]
    assert seq(gg.tensor([2.0])).tolist() == [5.0]


def test_sequential_indexing_slicing_and_editing():
    a, b, c = Times(1.0), Times(2.0), Times(3.0)
    seq = nn.Sequential(a, b, c)
    assert seq[0] is a and seq[-1] is c
    with pytest.raises(IndexError):
        seq[3]
    tail = seq[1:]
    assert isinstance(tail, nn.Sequential) and list(tail) == [b, c]
    assert list(tail._modules) == ["1", "2"]  # slices keep the original keys, as PyTorch
    seq[1] = AddOne()
    assert isinstance(seq[1], AddOne)
    del seq[0]
    assert list(seq._modules) == ["0", "1"] and seq[1] is c  # renumbered after deletion
    seq.append(a)
    assert seq[2] is a and list(seq._modules) == ["0", "1", "2"]
    seq.insert(0, b)
    assert seq[0] is b and len(seq) == 4 and list(seq._modules) == ["0", "1", "2", "3"]
    seq.extend([c])
    assert seq[-1] is c
    assert seq.pop(0) is b and len(seq) == 4
    joined = nn.Sequential(a) + nn.Sequential(b)
    assert list(joined) == [a, b]
    with pytest.raises(TypeError):
        seq.insert(0, 3)


def test_sequential_state_dict_keys_match_torch():
    torch = pytest.importorskip("torch")

    def build(lib):
        return lib.Sequential(
            lib.Embedding(20, 8),
            lib.Linear(8, 16),
            lib.LayerNorm(16),
            lib.ReLU(),
            lib.Sequential(lib.Linear(16, 4), lib.BatchNorm1d(4)),
            lib.Dropout(0.2),
        )

    ours, theirs = build(nn), build(torch.nn)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    for k, v in theirs.state_dict().items():
        assert ours.state_dict()[k].shape == tuple(v.shape), k
        assert str(ours.state_dict()[k].dtype).split(".")[1] == str(v.dtype).split(".")[1], k
    assert list(ours[2:4]._modules) == list(theirs[2:4]._modules)


def test_module_list():
    layers = nn.ModuleList([Times(float(i)) for i in range(3)])
    assert len(layers) == 3 and [n for n, _ in layers.named_parameters()] == ["0.k", "1.k", "2.k"]
    x = gg.tensor([1.0])
    for layer in layers:
        x = layer(x)
    assert x.tolist() == [0.0]
    extra = Times(5.0)
    layers.append(extra)
    assert layers[-1] is extra and layers.index(extra) == 3
    layers.insert(1, AddOne())
    assert isinstance(layers[1], AddOne) and len(layers) == 5 and layers[4] is extra
    layers.extend([AddOne()])
    assert len(layers) == 6
    sub = layers[1:3]
    assert isinstance(sub, nn.ModuleList) and list(sub._modules) == ["0", "1"]  # renumbered, as PyTorch
    del layers[0]
    assert list(layers._modules) == [str(i) for i in range(5)]
    layers[0] = Times(9.0)
    assert layers[0].k.tolist() == [9.0]
    assert isinstance(layers.pop(-1), AddOne) and layers.pop(3) is extra and len(layers) == 3
    layers += [AddOne()]
    assert len(layers) == 4 and len(layers + nn.ModuleList([AddOne()])) == 5
    with pytest.raises(ValueError, match="not in the list"):
        layers.index(extra)
    with pytest.raises(TypeError, match="expected an iterable"):
        layers.extend(3)
    with pytest.raises(NotImplementedError):
        layers(x)


def test_module_list_repr_compresses_repeats_like_torch():
    torch = pytest.importorskip("torch")

    def build(lib):
        return lib.ModuleList(
            [lib.Linear(2, 2), lib.Linear(2, 2), lib.ReLU(), lib.Linear(2, 3), lib.Linear(2, 3)]
        )

    assert repr(build(nn)) == repr(build(torch.nn))
    assert repr(nn.ModuleList()) == repr(torch.nn.ModuleList()) == "ModuleList()"


def test_module_dict():
    heads = nn.ModuleDict({"a": Times(2.0), "b": AddOne()})
    assert list(heads) == ["a", "b"] and list(heads.keys()) == ["a", "b"] and len(heads) == 2
    assert "a" in heads and "z" not in heads
    assert [n for n, _ in heads.named_parameters()] == ["a.k"]
    heads["c"] = Times(3.0)
    assert heads["c"].k.tolist() == [3.0]
    heads.update([("d", AddOne())])
    assert list(heads.keys()) == ["a", "b", "c", "d"]
    assert isinstance(heads.pop("b"), AddOne) and "b" not in heads
    del heads["d"]
    assert [k for k, _ in heads.items()] == ["a", "c"] and len(list(heads.values())) == 2
    heads.clear()
    assert len(heads) == 0
    with pytest.raises(ValueError, match="ModuleDict update sequence element #0 has length 1; 2 is required"):
        heads.update([("x",)])


def test_module_dict_state_dict_keys_match_torch():
    torch = pytest.importorskip("torch")
    ours = nn.ModuleDict({"enc": nn.Linear(3, 4), "dec": nn.ModuleList([nn.Linear(4, 3), nn.LayerNorm(3)])})
    theirs = torch.nn.ModuleDict(
        {
            "enc": torch.nn.Linear(3, 4),
            "dec": torch.nn.ModuleList([torch.nn.Linear(4, 3), torch.nn.LayerNorm(3)]),
        }
    )
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)


def test_parameter_list_and_dict():
    torch = pytest.importorskip("torch")
    pl = nn.ParameterList([nn.Parameter(gg.zeros(2)), gg.ones(3)])
    assert all(isinstance(p, nn.Parameter) for p in pl) and len(pl) == 2
    pl.append(gg.zeros(1, 4))
    assert [tuple(p.shape) for p in pl] == [(2,), (3,), (1, 4)]
    tpl = torch.nn.ParameterList([torch.nn.Parameter(torch.zeros(2)), torch.ones(3), torch.zeros(1, 4)])
    assert list(pl.state_dict()) == list(tpl.state_dict()) == ["0", "1", "2"]
    assert repr(pl).replace("glassgrad.", "torch.") == repr(tpl)
    assert pl[-1] is pl[2] and len(pl[1:]) == 2
    with pytest.raises(RuntimeError, match="should not be called"):
        pl(1)

    pd = nn.ParameterDict({"scale": gg.ones(2), "shift": nn.Parameter(gg.zeros(2))})
    tpd = torch.nn.ParameterDict({"scale": torch.ones(2), "shift": torch.nn.Parameter(torch.zeros(2))})
    assert list(pd.state_dict()) == list(tpd.state_dict()) == ["scale", "shift"]
    assert repr(pd) == repr(tpd)  # the legacy type name (torch.FloatTensor), as PyTorch prints it
    assert isinstance(pd["scale"], nn.Parameter) and "shift" in pd and len(pd) == 2
    pd["extra"] = gg.zeros(1)
    assert list(pd.keys()) == ["scale", "shift", "extra"] and pd.get("none") is None
    assert pd.pop("extra").shape == (1,) and list(pd) == ["scale", "shift"]
    model = nn.Module()
    model.params = pd
    assert [n for n, _ in model.named_parameters()] == ["params.scale", "params.shift"]
    loaded = nn.ParameterDict({"scale": gg.zeros(2), "shift": gg.zeros(2)})
    loaded.load_state_dict({k: np.full(2, 3.0) for k in ("scale", "shift")})
    assert loaded["scale"].tolist() == [3.0, 3.0]
