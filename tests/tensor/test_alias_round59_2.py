"""Round 59, aliasing, part 2 (part 1: ``test_alias_round59.py``).

- ``copy.deepcopy`` copies a tensor's whole memory once per call, so copied views and their base
  (or two slices of one buffer) still share memory, at the same offsets; glassgrad copied each
  tensor's elements apart.
- ``x.new(t)`` is an alias of ``t`` (a view, ``_base`` t); glassgrad gave ``t`` itself.
- batch norm's train-mode update of the running statistics leaves their versions alone (PyTorch's
  kernel), and eval-mode batch norm's backward reads them at backward; glassgrad bumped them and
  used the values of the forward, so a graph with an eval-mode then a train-mode pass got another
  gradient.
- ``t.set_(storage, storage_offset, size, stride)`` views a storage's memory (glassgrad raised
  NotImplementedError); past the storage's end it is refused (PyTorch grows the storage).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg

LIBS = ["glassgrad", "torch"]


def _lib(name, torch):
    return gg if name == "glassgrad" else torch


def _np(t) -> np.ndarray:
    return np.array(t.detach().tolist())


# ---- deepcopy keeps memory shared between the tensors it copies ----------------------------------
@pytest.mark.parametrize("name", LIBS)
def test_deepcopy_keeps_views_sharing_memory(torch, name):
    import copy

    L = _lib(name, torch)
    x = L.arange(6.0, dtype=L.float64).view(2, 3)
    pieces = {
        "row": x[1],
        "base": x,
        "t": x.t(),
        "detach": x.detach(),
        "tail": x.view(-1)[2:],
        "expand": x.expand(2, 2, 3),
        "bits": x.view(L.int64),
    }
    got = copy.deepcopy(pieces)
    assert (
        got["tail"].storage_offset() == 2 and got["t"].stride() == (1, 3) and got["row"].storage_offset() == 3
    )
    assert all(t._base is None for t in got.values())
    got["base"].fill_(-1.0)
    for k in ("row", "t", "detach", "tail", "expand"):
        assert bool((got[k] == -1).all()), k
    assert got["bits"][0, 0].item() == np.array(-1.0).view(np.int64)
    np.testing.assert_array_equal(_np(x), np.arange(6.0).reshape(2, 3))  # the originals untouched
    with pytest.raises(RuntimeError):
        got["expand"].add_(1.0)  # still an expanded (overlapping) tensor


@pytest.mark.parametrize("name", LIBS)
def test_deepcopy_of_a_view_alone_copies_its_whole_memory(torch, name):
    import copy

    L = _lib(name, torch)
    x = L.arange(12.0, dtype=L.float64).view(3, 4)
    y = copy.deepcopy(x[1:, 2])
    assert y.storage_offset() == 6 and y.stride() == (4,) and y.untyped_storage().nbytes() == 96
    np.testing.assert_array_equal(_np(y), [6.0, 10.0])
    y.add_(1.0)
    np.testing.assert_array_equal(_np(x[1:, 2]), [6.0, 10.0])


# ---- x.new(t): an alias of t -------------------------------------------------------------------
@pytest.mark.parametrize("name", LIBS)
def test_new_of_a_tensor_is_an_alias_view(torch, name):
    L = _lib(name, torch)
    t = L.ones(3, dtype=L.float64)
    y = L.zeros(2, dtype=L.float64).new(t)
    assert y is not t and y._base is t and y._is_view()
    y[0] = 5.0
    assert t[0].item() == 5.0 and t._version == 1
    leaf = L.ones(3, dtype=L.float64, requires_grad=True)
    h = leaf * 2
    z = L.zeros(1, dtype=L.float64).new(h)
    assert z.requires_grad and z._base is h
    (z * L.tensor([1.0, 2.0, 3.0], dtype=L.float64)).sum().backward()
    np.testing.assert_array_equal(_np(leaf.grad), [2.0, 4.0, 6.0])


# ---- batch norm's running statistics: written without a version bump -----------------------------
def _bn_eval_then_train(L):
    bn = L.nn.BatchNorm1d(3).double()
    x = L.tensor(np.arange(12.0).reshape(4, 3) ** 1.5, requires_grad=True)
    bn.eval()
    y1 = bn(x)
    bn.train()
    y2 = bn(x * 2)  # updates running_mean/var in place, as PyTorch's kernel: versions stay
    versions = (bn.running_mean._version, bn.running_var._version)
    (y1 * L.arange(12.0, dtype=L.float64).view(4, 3)).sum().add((y2 * y2).sum()).backward()
    return versions, _np(x.grad), _np(bn.weight.grad), _np(bn.bias.grad)


def test_batch_norm_eval_backward_reads_updated_running_stats_as_torch(torch):
    got, want = _bn_eval_then_train(gg), _bn_eval_then_train(torch)
    assert got[0] == want[0] == (0, 0)
    for a, b in zip(got[1:], want[1:], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", LIBS)
def test_batch_norm_eval_backward_refuses_a_user_change_of_running_var(torch, name):
    L = _lib(name, torch)
    bn = L.nn.BatchNorm1d(3).double().eval()
    x = L.ones(4, 3, dtype=L.float64, requires_grad=True)
    y = bn(x)
    bn.running_var.fill_(4.0)  # a user's in-place change moves the version: backward refuses
    with pytest.raises(RuntimeError, match="modified"):
        y.sum().backward()


@pytest.mark.parametrize("name", LIBS)
def test_instance_norm_running_stats_update_moves_the_version(torch, name):
    L = _lib(name, torch)
    norm = L.nn.InstanceNorm1d(3, track_running_stats=True).double()
    mean, var = norm.running_mean, norm.running_var
    norm(L.tensor(np.arange(24.0).reshape(2, 3, 4)))
    assert (mean._version, var._version) == (1, 1) and norm.running_mean is mean


# ---- set_(storage, offset, size, stride) ---------------------------------------------------------
@pytest.mark.parametrize("name", LIBS)
def test_set_storage_views_the_memory(torch, name):
    L = _lib(name, torch)
    x = L.arange(12.0).view(3, 4)
    storage = x.untyped_storage()
    y = L.tensor([]).set_(storage, 2, (2, 2), (4, 1))
    assert y._version == 1 and y.storage_offset() == 2 and y._base is None
    np.testing.assert_array_equal(_np(y), [[2.0, 3.0], [6.0, 7.0]])
    y[0, 0] = -1.0
    assert x[0, 2].item() == -1.0 and x._version == 0
    assert tuple(L.tensor([]).set_(storage).shape) == (12,)
    assert tuple(L.tensor([], dtype=L.int32).set_(storage).shape) == (12,)
    z = L.tensor([]).set_(source=storage, storage_offset=0, size=(3,), stride=(2,))
    np.testing.assert_array_equal(_np(z), [0.0, -1.0, 4.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TypedStorage's deprecation
        typed = x.storage()
    assert tuple(L.tensor([]).set_(typed, 4, (4,)).shape) == (4,)
    with pytest.raises(RuntimeError):
        L.tensor([], dtype=L.float64).set_(typed)  # a typed storage of another dtype


def test_set_storage_past_the_end_is_refused():
    x = gg.arange(12.0)
    with pytest.raises(RuntimeError, match="reaches past the storage's 12 elements"):
        gg.tensor([]).set_(x.untyped_storage(), 10, (2, 2), (4, 1))
