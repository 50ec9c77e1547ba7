"""PyTorch's once-per-process UserWarning for a tensor made from a list holding ndarrays
("Creating a tensor from a list of numpy.ndarrays is extremely slow ..."), given by ``tensor``,
``as_tensor``, ``Tensor``/``LongTensor`` and ``new_tensor`` (udlbook 12_4: ``torch.tensor([next_token])``
with ``next_token`` from ``np.random.choice``). The cases that warn or not are PyTorch 2.13's."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import inference


@pytest.fixture
def fresh(monkeypatch):
    monkeypatch.setattr(inference, "_NDARRAY_LIST_WARNED", [False])


def _warnings(make):
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        out = make()
    return out, [w for w in rec if "list of numpy.ndarrays" in str(w.message)]


@pytest.mark.parametrize(
    "make",
    [
        lambda: gg.tensor([np.array([1, 2])]),
        lambda: gg.tensor((np.array([1, 2]),)),
        lambda: gg.tensor([[1, 2], np.array([3, 4])]),
        lambda: gg.tensor([[np.array([1, 2]), [3, 4]]]),
        lambda: gg.tensor([1, np.array(2)]),
        lambda: gg.as_tensor([np.array([1, 2])]),
        lambda: gg.Tensor([np.array([1.0, 2.0])]),
        lambda: gg.LongTensor([np.array([1, 2])]),
        lambda: gg.zeros(2).new_tensor([np.array([1.0, 2.0])]),
    ],
)
def test_a_list_holding_ndarrays_warns_once_at_the_callers_line(fresh, make):
    t, rec = _warnings(make)
    assert len(rec) == 1 and rec[0].category is UserWarning
    assert rec[0].filename == __file__  # the user's line, not glassgrad's
    _, again = _warnings(make)
    assert again == []  # once per process, as TORCH_WARN_ONCE
    assert t.shape[-1] == 2


@pytest.mark.parametrize(
    "make",
    [
        lambda: gg.tensor(np.array([[1, 2]])),  # an ndarray itself
        lambda: gg.tensor([np.float64(1.0), 2.0]),  # NumPy scalars
        lambda: gg.tensor([np.zeros((0,))]),  # an ndarray without elements
        lambda: gg.tensor([[1, 2], [3, 4]]),
        lambda: gg.tensor([gg.tensor(1), gg.tensor([2])]),
    ],
)
def test_no_warning_without_an_ndarray_of_elements_in_a_list(fresh, make):
    _, rec = _warnings(make)
    assert rec == []


def test_values_and_dtypes_match_pytorch(fresh, torch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for data in (
            [np.array([1, 2]), np.array([3, 4])],
            [np.array([1.5], dtype=np.float64)],
            [1, np.array(2)],
        ):
            want, got = torch.tensor(data), gg.tensor(data)
            assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
            np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize(
    "build",
    [
        lambda lib: [lib.tensor([1.0]), lib.tensor([2.0])],
        lambda lib: [lib.tensor([[1.0]]), lib.tensor(2.0)],
        lambda lib: [[lib.tensor([1.0])], [lib.tensor(2)]],
        lambda lib: [lib.tensor([1], dtype=lib.int32), lib.tensor([2], dtype=lib.int16)],
        lambda lib: (lib.tensor(1.0, dtype=lib.float64), 2, np.float32(3.0)),
    ],
)
def test_a_one_element_tensor_in_a_list_is_a_number_as_in_pytorch(torch, build):
    ours, theirs = gg.tensor(build(gg)), torch.tensor(build(torch))
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_a_larger_tensor_in_a_list_is_refused_as_in_pytorch(torch):
    for lib in (gg, torch):
        with pytest.raises(ValueError):
            lib.tensor([lib.tensor([1.0, 2.0]), lib.tensor([3.0, 4.0])])
        with pytest.raises(TypeError):  # an integer one: refused as an index there
            lib.tensor([lib.tensor([1, 2])])
