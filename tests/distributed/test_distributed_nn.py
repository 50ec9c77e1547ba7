"""``torch.distributed.nn.functional`` (distributed/nn/functional.py) against PyTorch in a world of
one process: values, identity gradients, the FutureWarnings of the five deprecated ones, and the
refusal before ``init_process_group``."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.distributed.nn.functional as gfn

# group=None: PyTorch's functions take group.WORLD as a default bound when the module was first
# imported, which another test's (destroyed) process group may have been
G = {"group": None}
CALLS = {
    "broadcast": lambda f, x: f.broadcast(x, 0, **G),
    "gather": lambda f, x: f.gather(x, **G)[0],
    "scatter": lambda f, x: f.scatter([x], **G),
    "reduce": lambda f, x: f.reduce(x, 0, **G),
    "reduce_scatter": lambda f, x: f.reduce_scatter(x.detach().clone(), [x], **G),
    "all_gather": lambda f, x: f.all_gather(x, **G)[0],
    "all_to_all": lambda f, x: f.all_to_all([x.detach().clone()], [x], **G)[0],
    "all_to_all_single": lambda f, x: f.all_to_all_single(x.detach().clone(), x, **G),
    "all_reduce": lambda f, x: f.all_reduce(x, **G),
}


def _run(lib, fn_module, store, name, x):
    lib.distributed.init_process_group("gloo", init_method=f"file://{store}", rank=0, world_size=1)
    try:
        t = lib.tensor(x, requires_grad=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            y = CALLS[name](fn_module, t)
        (y * lib.tensor(np.arange(x.size, dtype=x.dtype).reshape(x.shape))).sum().backward()
        said = [(w.category, str(w.message).split(" is deprecated")[0]) for w in caught]
        return y.detach().numpy(), t.grad.numpy(), y.is_contiguous(), y.data_ptr() != t.data_ptr(), said
    finally:
        lib.distributed.destroy_process_group()


@pytest.mark.parametrize("name", sorted(CALLS))
def test_collective_matches_torch(torch, tmp_path, name):
    import torch.distributed.nn.functional as tfn

    x = np.random.default_rng(0).standard_normal((3, 4))
    ours = _run(gg, gfn, tmp_path / "ours", name, x)
    theirs = _run(torch, tfn, tmp_path / "theirs", name, x)
    np.testing.assert_array_equal(ours[0], x)  # one process: the value itself
    np.testing.assert_array_equal(ours[0], theirs[0])
    np.testing.assert_array_equal(ours[1], theirs[1])  # the gradient passes through unchanged
    assert ours[2:4] == theirs[2:4] == (True, True)  # a new contiguous tensor
    assert [c for c, _ in ours[4]] == [c for c, _ in theirs[4] if c is FutureWarning]
    assert [m for _, m in ours[4]] == [m for c, m in theirs[4] if c is FutureWarning]


def test_collectives_need_a_process_group():
    with pytest.raises(ValueError, match="init_process_group"):
        gfn.gather(gg.ones(2))


def test_package_names():
    import glassgrad.distributed.nn as dnn

    assert dnn.all_gather is gfn.all_gather and dnn.all_reduce is gfn.all_reduce


@pytest.mark.parametrize("name", ["reduce_scatter", "all_to_all", "all_to_all_single"])
def test_collectives_fill_the_callers_outputs(torch, tmp_path, name):
    import torch.distributed.nn.functional as tfn

    calls = {
        "reduce_scatter": lambda f, out, x: f.reduce_scatter(out, [x], group=None),
        "all_to_all": lambda f, out, x: f.all_to_all([out], [x], group=None),
        "all_to_all_single": lambda f, out, x: f.all_to_all_single(out, x, group=None),
    }
    for lib, fn_module in ((gg, gfn), (torch, tfn)):
        lib.distributed.init_process_group(
            "gloo", init_method=f"file://{tmp_path / lib.__name__}", rank=0, world_size=1
        )
        try:
            out = lib.zeros(3, dtype=lib.float64)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                calls[name](fn_module, out, lib.arange(3, dtype=lib.float64))
            np.testing.assert_array_equal(out.numpy(), [0.0, 1.0, 2.0])
        finally:
            lib.distributed.destroy_process_group()
