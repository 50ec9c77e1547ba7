"""Module.state_dict and load_state_dict: keys, order, sharing, dtypes, strictness, assign, and
weights moved from a PyTorch module and back."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
from tests.nn.small_modules import Net, Scale


# ------------------------------------------------------------------ state_dict
def test_state_dict_keys_order_and_sharing():
    net = Net()
    sd = net.state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == ["scale", "first.w", "first.b", "first.count", "second.w", "second.b", "second.count"]
    assert type(sd["first.w"]) is gg.Tensor and not sd["first.w"].requires_grad
    sd["first.w"]._data[0] = 7.0  # values share the parameters' arrays
    assert net.first.w.tolist()[0] == 7.0
    kept = net.state_dict(keep_vars=True)
    assert kept["first.w"] is net.first.w
    assert next(iter(net.state_dict(prefix="m."))) == "m.scale"


def test_load_state_dict_copies_values_keeping_dtype():
    src, dst = Net(), Net()
    with gg.no_grad():
        src.first.w.copy_(gg.tensor([1.0, 2.0, 3.0]))
    w_before = dst.first.w
    arr_before = dst.first.w._data
    result = dst.load_state_dict(src.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    assert dst.first.w is w_before and dst.first.w._data is arr_before  # copied in, not rebound
    assert dst.first.w.tolist() == [1.0, 2.0, 3.0]
    src.first.w._data[0] = 100.0
    assert dst.first.w.tolist()[0] == 1.0  # a copy
    # NumPy float64 arrays go in as float32 (the parameter's dtype is kept)
    dst.load_state_dict({k: np.asarray(v.numpy(), dtype=np.float64) for k, v in src.state_dict().items()})
    assert dst.first.w.dtype == gg.float32


def test_load_state_dict_accepts_array_likes():
    class ArrayLike:
        def __init__(self, a):
            self.a = a

        def __array__(self, dtype=None, copy=None):
            return self.a

    m = Scale()
    m.load_state_dict({"w": ArrayLike(np.full(3, 2.0)), "b": [1.0, 1.0, 1.0], "count": np.array([4.0])})
    assert m.w.tolist() == [2.0] * 3 and m.b.tolist() == [1.0] * 3 and m.count.tolist() == [4.0]


def test_load_state_dict_strict_lists_every_problem_in_one_message():
    m = Net()
    sd = {k: v.numpy().copy() for k, v in m.state_dict().items()}
    del sd["first.b"], sd["second.count"]
    sd["third.w"] = np.zeros(3)
    sd["first.w"] = np.zeros((2, 3))
    with pytest.raises(RuntimeError) as err:
        m.load_state_dict(sd)
    msg = str(err.value)
    assert msg == (
        "Error(s) in loading state_dict for Net:\n\t"
        'Missing key(s) in state_dict: "first.b", "second.count". \n\t'
        'Unexpected key(s) in state_dict: "third.w". \n\t'
        "size mismatch for first.w: copying a param with shape glassgrad.Size([2, 3]) from checkpoint, "
        "the shape in current model is glassgrad.Size([3])."
    )


def test_load_state_dict_non_strict_reports_keys_but_shape_mismatch_still_fails():
    m = Scale()
    res = m.load_state_dict({"w": np.full(3, 5.0), "zzz": np.zeros(1)}, strict=False)
    assert res.missing_keys == ["b", "count"] and res.unexpected_keys == ["zzz"]
    assert m.w.tolist() == [5.0] * 3
    with pytest.raises(
        RuntimeError, match=r"size mismatch for w: copying a param with shape glassgrad.Size\(\[4\]\)"
    ):
        m.load_state_dict({"w": np.zeros(4)}, strict=False)
    with pytest.raises(
        RuntimeError,
        match='While copying the parameter named "w", expected torch.Tensor or Tensor-like object',
    ):
        m.load_state_dict({"w": "abc", "b": np.zeros(3), "count": np.zeros(1)})
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        m.load_state_dict([("w", np.zeros(3))])


def test_load_state_dict_assign_rebinds():
    m = Scale()
    arr = np.full(3, 9.0, dtype=np.float32)
    m.load_state_dict({"w": arr, "b": np.zeros(3, np.float32), "count": np.zeros(1, np.float32)}, assign=True)
    assert m.w.tolist() == [9.0] * 3 and isinstance(m.w, nn.Parameter)


def test_load_state_dict_from_torch_module_and_back():
    torch = pytest.importorskip("torch")

    class TNet(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.first = torch.nn.Linear(3, 4)
            self.seq = torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(4, 2))

    class GNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.first = nn.Linear(3, 4)
            self.seq = nn.Sequential(nn.ReLU(), nn.Linear(4, 2))

    t, g = TNet(), GNet()
    assert list(g.state_dict()) == list(t.state_dict())
    g.load_state_dict(t.state_dict())  # torch tensors (requiring grad or not) go straight in
    for k, v in t.state_dict().items():
        np.testing.assert_array_equal(g.state_dict()[k].numpy(), v.numpy())
    g2 = GNet()
    t.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in g2.state_dict().items()})
    np.testing.assert_array_equal(t.seq[1].weight.detach().numpy(), g2.seq[1].weight.detach().numpy())
