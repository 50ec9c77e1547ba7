"""``init_device_mesh``/``DeviceMesh`` and ``get_default_backend_for_device`` against PyTorch 2.13
in a world of one process: the same answers, reprs and errors."""

from __future__ import annotations

import pytest

import glassgrad
import glassgrad.distributed as gdist
from glassgrad.distributed.device_mesh import DeviceMesh, init_device_mesh

from .worlds import error_of, mods


def _mesh_answers(lib):
    m = mods(lib)
    mesh = m.device_mesh.init_device_mesh("cpu", (1, 1), mesh_dim_names=("dp", "tp"))
    tp, dp = mesh["tp"], mesh["dp"]
    flat = m.device_mesh.init_device_mesh("cpu", (1,))
    out = [
        repr(mesh), str(mesh), repr(tp), repr(mesh["tp", "dp"]), repr(flat), repr(m.device_mesh.init_device_mesh("cpu", [1, 1])),
        mesh.size(), mesh.size(0), mesh.size(1), mesh.ndim, tuple(mesh.shape), mesh.mesh_dim_names, mesh.device_type,
        mesh.mesh.tolist(), str(mesh.mesh.dtype).split(".")[-1], tp.mesh.tolist(), tp.mesh_dim_names, tp.ndim,
        mesh.get_rank(), mesh.get_local_rank("tp"), mesh.get_local_rank(1), tp.get_local_rank(), dp.get_local_rank(),
        mesh.get_coordinate(), flat.get_local_rank(), flat.mesh_dim_names,
        tp == mesh["tp"], tp == dp, hash(tp) == hash(mesh["tp"]), len(mesh.get_all_groups()),
        m.dist.get_world_size(), m.dist.is_initialized(),
        repr(m.device_mesh.DeviceMesh("cpu", [0])), repr(m.device_mesh.DeviceMesh("cpu", [[0]], mesh_dim_names=("a", "b"))),
        repr(m.device_mesh.init_device_mesh("meta", (1,))),
    ]  # fmt: skip
    with flat:  # the current mesh, the default of distribute_tensor
        out.append(m.tensor.distribute_tensor(lib.ones(2)).device_mesh == flat)
    errors = [
        error_of(lambda: mesh["nope"]),
        error_of(lambda: flat["tp"]),
        error_of(lambda: mesh[0]),
        error_of(mesh.get_local_rank),
        error_of(mesh.get_local_rank, "nope"),
        error_of(mesh.get_group),
        error_of(mesh.size, 2),
        error_of(m.device_mesh.init_device_mesh, "cpu", (2,)),
        error_of(m.device_mesh.init_device_mesh, "cpu", (1,), mesh_dim_names=("x", "y")),
        error_of(m.device_mesh.init_device_mesh, "cpu", (1, 1), mesh_dim_names=("x", "x")),
        error_of(m.device_mesh.init_device_mesh, "cpu:0", (1,)),
        error_of(m.device_mesh.DeviceMesh, "cpu", [0, 1]),
        error_of(m.tensor.distribute_tensor, lib.ones(2)),
    ]
    return out, errors


# a phrase of PyTorch's message that glassgrad's (which also names the function) keeps
_PHRASES = [
    "Invalid mesh_dim_names ('nope',) specified. Valid mesh_dim_names are ['dp', 'tp']",
    "Cannot slice a DeviceMesh without mesh_dim_names!",
    "",
    "needs to be specified when device_mesh.ndim > 1",
    "Mesh dimension 'nope' does not exist.",
    "needs to be specified when device_mesh.ndim > 1",
    "",
    "Mesh should not be bigger than default world size 1, but found 2 ranks!",
    "mesh_shape and mesh_dim_names should have same length!",
    "Each mesh_dim_name must be unique.",
    "Device type with index is not supported but got cpu:0.",
    "Mesh should not be bigger than default world size 1, but found 2 ranks!",
    "No device mesh is currently active!",
]


def _same_errors(ours, theirs):
    assert len(ours) == len(theirs) == len(_PHRASES)
    for (t1, m1), (t2, m2), phrase in zip(ours, theirs, _PHRASES):
        assert t1 == t2, (t1, m1, t2, m2)
        assert phrase in m1 and phrase in m2, (phrase, m1, m2)


def test_device_mesh_answers_as_pytorch(torch, gworld, tworld):
    ours, our_errors = _mesh_answers(glassgrad)
    theirs, their_errors = _mesh_answers(torch)
    assert ours == theirs
    _same_errors(our_errors, their_errors)


def test_init_device_mesh_starts_the_default_group_as_pytorch(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    monkeypatch.delenv("RANK", raising=False)
    assert not gdist.is_initialized()
    try:
        mesh = init_device_mesh("cpu", (1,), mesh_dim_names=("tp",))
        # "undefined": PyTorch's name for a group started without a backend
        assert gdist.is_initialized() and gdist.get_backend() == "undefined"
        assert mesh.get_group() is None and mesh.get_group("tp") is None  # glassgrad's default group
        assert mesh["tp"]._get_root_mesh() is mesh and isinstance(mesh["tp"], DeviceMesh)
    finally:
        gdist.destroy_process_group()
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        mesh.get_rank()


def test_a_mesh_on_an_accelerator_is_refused():
    with pytest.raises(RuntimeError, match="init_device_mesh: expected device type 'cpu'.*got 'cuda'"):
        init_device_mesh("cuda", (1,))
    assert not gdist.is_initialized()


def test_a_group_started_without_a_backend_is_undefined_as_pytorch(torch, tmp_path, monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    monkeypatch.delenv("RANK", raising=False)
    gdist.init_process_group()
    ours = gdist.get_backend()
    gdist.destroy_process_group()
    store = torch.distributed.FileStore(str(tmp_path / "s"), 1)
    torch.distributed.init_process_group(store=store, rank=0, world_size=1)
    try:
        assert ours == torch.distributed.get_backend() == "undefined"
    finally:
        torch.distributed.destroy_process_group()


def _backends(lib):
    get = lib.distributed.get_default_backend_for_device
    out = [
        get(d)
        for d in ("cpu", "cpu:0", "cuda", "cuda:1", "xpu", "mps", lib.device("cpu"), lib.device("cuda", 0))
    ]
    errors = [error_of(get, d) for d in ("meta", "hip", lib.device("meta"), None, 3)]
    return out, [t for t, _ in errors], [m for _, m in errors[:3]]


def test_default_backend_for_device_as_pytorch(torch):
    ours, our_types, our_messages = _backends(glassgrad)
    theirs, their_types, their_messages = _backends(torch)
    assert ours == theirs == ["gloo", "gloo", "nccl", "nccl", "xccl", "gloo", "gloo", "nccl"]
    assert our_types == their_types == ["ValueError", "ValueError", "ValueError", "TypeError", "RuntimeError"]
    for mine, pytorch in zip(our_messages, their_messages):
        assert pytorch in mine  # "Default backend not registered for device : meta"
