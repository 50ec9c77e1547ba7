"""``torch.distributed.tensor``'s factories (``zeros``, ``ones``, ``empty``, ``full``, ``rand``,
``randn``) against PyTorch 2.13 in a world of one process. distributed_shampoo's DDP distributor
imports ``zeros`` at module level (``from torch.distributed.tensor import DTensor, zeros``), so
the whole package failed to import without it (round 61)."""

from __future__ import annotations

import glassgrad

from .worlds import mods


def _layout(d):
    return [type(d).__name__, repr(d.placements), tuple(d.shape), str(d.dtype).split(".")[-1],
            d.requires_grad, d.is_leaf, d.grad_fn is None]  # fmt: skip


def _factory_answers(lib):
    m = mods(lib)
    t = m.tensor
    mesh = m.device_mesh.init_device_mesh("cpu", (1,))
    S, R = t.Shard, t.Replicate
    out = []
    for d in (
        t.zeros(2, 3, device_mesh=mesh),
        t.zeros((4,), device_mesh=mesh, placements=[S(0)], dtype=lib.float64),
        t.ones([2, 2], device_mesh=mesh, placements=[R()], requires_grad=True),
        t.full((3, 2), 7, device_mesh=mesh, placements=[S(1)]),
        t.full((2,), 0.5, device_mesh=mesh, dtype=lib.float64),
    ):
        out += _layout(d) + [d.full_tensor().tolist(), d.to_local().tolist()]
    out += _layout(t.empty(3, 1, device_mesh=mesh))
    with mesh:  # the active mesh is the default device_mesh
        out += _layout(t.zeros(2, placements=[S(0)]))
    # a gradient reaches a factory-made DTensor as it reaches any leaf
    w = t.ones(3, device_mesh=mesh, requires_grad=True)
    (w.to_local() * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
    out += [type(w.grad).__name__, w.grad.to_local().tolist()]
    return out


def test_dtensor_factories_as_pytorch(torch, gworld, tworld):
    assert _factory_answers(glassgrad) == _factory_answers(torch)


def test_dtensor_random_factories(gworld):
    # PyTorch 2.13 refuses rand/randn on a CPU mesh (its offset-based RNG tracker supports only
    # accelerator meshes: a bare AssertionError), which is the only mesh a CPU-only PyTorch has;
    # glassgrad's meshes are all CPU ones standing in for CUDA ones, so it draws from the default
    # generator. Pinned here: layout, dtype and the samples' ranges.
    t = mods(glassgrad).tensor
    mesh = mods(glassgrad).device_mesh.init_device_mesh("cpu", (1,))
    a = t.rand(2, 5, device_mesh=mesh, placements=[t.Shard(0)])
    b = t.randn(4, device_mesh=mesh, requires_grad=True, dtype=glassgrad.float64)
    assert _layout(a) == ["DTensor", "(Shard(dim=0),)", (2, 5), "float32", False, True, True]
    assert _layout(b) == ["DTensor", "(Replicate(),)", (4,), "float64", True, True, True]
    r = t.rand(2000, device_mesh=mesh).to_local().numpy()
    assert r.min() >= 0 and r.max() < 1 and abs(r.mean() - 0.5) < 0.05
    glassgrad.manual_seed(3)
    drawn = t.randn(5, device_mesh=mesh).to_local().tolist()
    glassgrad.manual_seed(3)
    assert drawn == glassgrad.randn(5).tolist()  # the default generator's draw


def test_dtensor_factories_refuse_what_pytorch_refuses(gworld):
    t = mods(glassgrad).tensor
    mesh = mods(glassgrad).device_mesh.init_device_mesh("cpu", (1,))
    for call, phrase in (
        (lambda: t.zeros(2), "No device mesh is currently active!"),  # no mesh given, none active
        (lambda: t.ones(2, device_mesh=mesh, placements=[t.Shard(0), t.Shard(0)]), "device_mesh.ndim"),
        (lambda: t.zeros(2, device_mesh=mesh, layout=glassgrad.sparse_coo), "layout value not supported!"),
    ):
        try:
            call()
        except (RuntimeError, ValueError) as e:
            assert phrase in str(e)
        else:
            raise AssertionError(f"expected an error with {phrase!r}")
