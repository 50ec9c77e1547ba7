"""The object collectives (``broadcast_object_list``, ``all_gather_object``, ``gather_object``,
``scatter_object_list``) in a world of one, asked the same questions as PyTorch's gloo group.
Avalanche's ``DistributedHelper`` imports ``broadcast_object_list`` (porting round 43)."""

from __future__ import annotations

import pytest

import glassgrad.distributed as gdist
import glassgrad.distributed.distributed_c10d as gc10d

from .worlds import error_of, gg_world, torch_world

_NAMES = ("broadcast_object_list", "all_gather_object", "gather_object", "scatter_object_list")


def _session(lib):
    """Every call's result (the lists after it) and whether the receivers got copies."""
    dist = lib.distributed
    payload = {"step": 3, "loss": [0.5, 0.25]}
    out = {}
    objs = [payload, 7]
    out["broadcast_ret"] = dist.broadcast_object_list(objs, src=0)
    out["broadcast"] = (objs, objs[0] is payload)
    dist.broadcast_object_list(objs)  # src defaults to rank 0
    gathered = [None, None]
    dist.all_gather_object(gathered, payload)
    out["all_gather"] = (gathered, gathered[0] is payload)
    dst_list = [None]
    dist.gather_object(payload, dst_list, dst=0)
    out["gather"] = (dst_list, dst_list[0] is payload)
    scattered = [None, "kept"]
    dist.scatter_object_list(scattered, [payload], src=0)
    out["scatter"] = (scattered, scattered[0] is payload)
    return out


def test_object_collectives_match_pytorch_world_of_one(torch, tmp_path):
    with torch_world(torch, tmp_path) as t:
        want = _session(t)
    with gg_world() as g:
        got = _session(g)
    assert got == want
    # hand check of the values PyTorch gave: copies everywhere but the broadcast's source list
    assert want["all_gather"] == ([{"step": 3, "loss": [0.5, 0.25]}, None], False)
    assert want["broadcast"][1] is True


def _refusals(lib):
    dist = lib.distributed
    return [
        error_of(dist.broadcast_object_list, [1], src=1),
        error_of(dist.gather_object, 1, None, dst=0),
        error_of(dist.scatter_object_list, [], [1], src=0),
        error_of(dist.all_gather_object, [], 1),
    ]


def test_object_collective_refusals_match_pytorch(torch, tmp_path):
    with torch_world(torch, tmp_path) as t:
        want = _refusals(t)
    with gg_world() as g:
        got = _refusals(g)
    assert [kind for kind, _ in got] == [kind for kind, _ in want]
    assert "invalid root rank: 1" in got[0][1] and "invalid root rank: 1" in want[0][1]
    assert got[1][1] == want[1][1] and got[2][1] == want[2][1]


def test_scatter_object_list_input_size_refused(torch, tmp_path):
    with torch_world(torch, tmp_path) as t:
        kind, _ = error_of(t.distributed.scatter_object_list, [None], [1, 2], src=0)
    with gg_world():
        gkind, msg = error_of(gdist.scatter_object_list, [None], [1, 2], src=0)
    assert gkind == kind == "RuntimeError"
    assert "scatter_object_list" in msg and "size 2" in msg


@pytest.mark.parametrize("name", _NAMES)
def test_object_collectives_need_a_process_group(name):
    assert not gdist.is_initialized()
    args = {
        "broadcast_object_list": ([1],),
        "all_gather_object": ([None], 1),
        "gather_object": (1, [None]),
        "scatter_object_list": ([None], [1]),
    }[name]
    with pytest.raises(ValueError, match="init_process_group"):
        getattr(gdist, name)(*args)


@pytest.mark.parametrize("name", _NAMES)
def test_object_collectives_exported_where_pytorch_has_them(torch, name):
    assert getattr(gc10d, name) is getattr(gdist, name)
    assert name in gdist.__all__ and name in gc10d.__all__
    assert hasattr(torch.distributed, name) and hasattr(torch.distributed.distributed_c10d, name)
