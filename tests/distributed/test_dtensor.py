"""Placements and ``DTensor`` (``distribute_tensor``, ``from_local``, ``to_local``, ``full_tensor``,
``redistribute``) against PyTorch 2.13 in a world of one process, and what glassgrad's DTensor
keeps working: autograd through it, its gradients, copies, state dicts."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import glassgrad
from glassgrad.distributed.tensor import (
    DTensor,
    DTensorParameter,
    Partial,
    Replicate,
    Shard,
    distribute_tensor,
)

from .worlds import error_of, mods


def _placements(lib):
    t = mods(lib).tensor
    S, R, P = t.Shard, t.Replicate, t.Partial
    return [
        [repr(p) for p in (S(0), S(-1), R(), P(), P("avg"), P("max"))],
        [str(p) for p in (S(1), R(), P(), P("avg"))],
        [S(0) == S(0), S(0) == S(1), R() == R(), P() == P("sum"), P() == P("avg"), S(0) == R()],
        [hash(S(2)) == hash(S(2)), hash(R()) == hash(R()), len({S(0), S(0), R(), P()})],
        [S(0).is_shard(), S(0).is_shard(0), S(0).is_shard(1), S(0).is_replicate(), R().is_replicate(),
         R().is_shard(), P().is_partial(), P().is_partial("sum"), P().is_partial("avg"), S(3).dim, P().reduce_op],
        error_of(S, "a")[0],
        isinstance(S(0), t.Placement),
    ]  # fmt: skip


def test_placements_as_pytorch(torch):
    assert _placements(glassgrad) == _placements(torch)


def _shares(lib, a, b):
    if lib is glassgrad:
        return bool(np.shares_memory(a.detach().numpy(), b.detach().numpy()))
    return a.data_ptr() == b.data_ptr()


def _dtensor_answers(lib):
    m = mods(lib)
    S, R, P = m.tensor.Shard, m.tensor.Replicate, m.tensor.Partial
    mesh = m.device_mesh.init_device_mesh("cpu", (1,))
    DT, dist_t = m.tensor.DTensor, m.tensor.distribute_tensor
    t = lib.arange(6.0).reshape(2, 3).requires_grad_()
    out = []
    for pl in ([R()], [S(0)], [S(1)], [S(-1)], [P()]):
        d = dist_t(t, mesh, pl)
        out += [type(d).__name__, d.placements, tuple(d.shape), d.is_leaf, d.requires_grad, d.grad_fn is None,
                _shares(lib, d.to_local(), t), d.full_tensor().tolist()]  # fmt: skip
    d = dist_t(t, mesh, [S(0)])
    out += [
        repr(dist_t(lib.tensor([1.0, 2.0]), mesh, [S(0)])),
        d.device_mesh == mesh,
        dist_t(d, mesh, [S(0)]).placements,
    ]
    local = d.to_local()
    out += [
        type(local).__name__,
        local.requires_grad,
        local.is_leaf,
        type(d.detach()).__name__,
        d.detach().requires_grad,
    ]
    (local * 3).sum().backward()
    out += [type(d.grad).__name__, d.grad.placements, d.grad.to_local().tolist(), t.grad is None]
    x = lib.ones(2, requires_grad=True)
    dx = DT.from_local(x, mesh)
    out += [type(dx).__name__, dx.placements, dx.is_leaf, _shares(lib, dx.to_local(), x)]
    (dx.to_local() * lib.tensor([2.0, 5.0])).sum().backward()
    out.append(x.grad.tolist())
    y = lib.ones(2, 3)
    out += [DT.from_local(y, mesh, [S(-1)]).placements, DT.from_local(y, mesh, [P()]).full_tensor().tolist()]
    r = d.redistribute(mesh, [R()])
    out += [
        r.placements,
        r.to_local().tolist(),
        d.redistribute(placements=[R()]).placements,
        r.redistribute(mesh, [R()]).placements,
    ]
    out = [
        repr(v) if isinstance(v, tuple) and v and hasattr(v[0], "is_shard") else v for v in out
    ]  # placements
    errors = [
        error_of(d.redistribute, mesh, [P()]),
        error_of(dist_t, lib.ones(2), mesh, [S(0), S(0)]),
        error_of(dist_t, lib.ones(2), mesh, [S(1)]),
        error_of(dist_t, d, mesh, [R()]),
        error_of(DT.from_local, lib.ones(2)),
    ]
    return out, errors


_PHRASES = [
    "Can not redistribute from S(0) to P(sum), redistributing to Partial is for internal use only!",
    "`placements` must have the same length as `device_mesh.ndim`! Found placements length: 2, and device_mesh.ndim: 1.",
    "Dimension out of range (expected to be in range of [-1, 0], but got 1)",
    "Cannot distribute a DTensor with placements (Shard(dim=0),) to a different placements",
    "No device mesh is currently active!",
]


def test_dtensor_answers_as_pytorch(torch, gworld, tworld):
    ours, our_errors = _dtensor_answers(glassgrad)
    theirs, their_errors = _dtensor_answers(torch)
    assert ours == theirs
    for (t1, m1), (t2, m2), phrase in zip(our_errors, their_errors, _PHRASES):
        assert t1 == t2 and phrase in m1 and phrase in m2, (t1, m1, t2, m2)


def test_a_dtensor_parameter_is_a_parameter_and_a_dtensor(gworld):
    mesh = gworld.distributed.init_device_mesh("cpu", (1,))
    lin = gworld.nn.Linear(3, 2)
    from glassgrad.distributed.tensor.parallel import ColwiseParallel, parallelize_module

    parallelize_module(lin, mesh, ColwiseParallel())
    w = lin.weight
    assert isinstance(w, DTensor) and isinstance(w, gworld.nn.Parameter) and type(w) is DTensorParameter
    assert w.is_leaf and w.requires_grad and [n for n, _ in lin.named_parameters()] == ["weight", "bias"]
    assert all(type(v) is DTensor for v in lin.state_dict().values())  # detach() keeps a DTensor
    twin = copy.deepcopy(lin)
    assert type(twin.weight) is DTensorParameter and twin.weight.placements == (Shard(0),)
    assert (
        not np.shares_memory(twin.weight.detach().numpy(), w.detach().numpy())
        and twin.weight.device_mesh == mesh
    )
    lin(gworld.ones(4, 3)).sum().backward()
    g = w.grad
    assert type(g) is DTensor and g.placements == (Shard(0),) and w.grad is g  # the same object each time
    lin(gworld.ones(4, 3)).sum().backward()  # accumulates into it
    assert w.grad is g and g.tolist() == [[8.0] * 3] * 2  # 2 backwards of 4 rows of ones
    lin.zero_grad()
    assert w.grad is None
    lin.load_state_dict({"weight": gworld.zeros(2, 3), "bias": gworld.ones(2)})
    assert (
        lin.weight is w and w.tolist() == [[0.0] * 3] * 2 and lin(gworld.ones(1, 3)).tolist() == [[1.0, 1.0]]
    )


def test_dtensor_refusals_say_what_to_do(gworld):
    mesh = gworld.distributed.init_device_mesh("cpu", (1,))
    with pytest.raises(TypeError, match="DTensor: make one with DTensor.from_local"):
        DTensor(gworld.ones(2))
    with pytest.raises(
        ValueError, match=r"from_local: in a world of one process the global shape is the local one"
    ):
        DTensor.from_local(gworld.ones(2), mesh, [Shard(0)], shape=(4,))
    d = distribute_tensor(gworld.ones(2), mesh, [Replicate()])
    with pytest.raises(NotImplementedError, match="Cross device mesh"):
        d.redistribute(gworld.distributed.init_device_mesh("cpu", (1,), mesh_dim_names=("x",)), [Replicate()])
    with pytest.raises(RuntimeError, match="placements is needed"):
        d.redistribute(mesh)
    with pytest.raises(RuntimeError, match="Can not redistribute from R to P"):
        d.redistribute(mesh, [Partial()])
