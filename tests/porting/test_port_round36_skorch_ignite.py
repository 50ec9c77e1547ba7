"""Round 36, pytorch-ignite (pytorch/ignite): its ``ReduceLROnPlateauScheduler`` replaces the
scheduler's ``_reduce_lr`` with a function taking PyTorch's ``epoch``, and ``idist`` calls
``dist._rank_not_in_group``."""

import numpy as np

import glassgrad
import glassgrad.distributed as gdist


def _plateau_run(lib):
    p = lib.nn.Parameter(lib.ones(2))
    opt = lib.optim.SGD([p], lr=1.0)
    sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=0)
    seen = []

    def reduce_lr(epoch):  # ignite's replacement: records the epoch, halves the lr
        seen.append(epoch)
        for group in opt.param_groups:
            group["lr"] = group["lr"] * sched.factor

    sched._reduce_lr = reduce_lr
    lrs = []
    for metric in (1.0, 2.0, 3.0, 0.5, 0.7):
        sched.step(metric)
        lrs.append(opt.param_groups[0]["lr"])
    return seen, lrs, sched.last_epoch


def test_plateau_calls_reduce_lr_with_the_epoch_as_torch(torch):
    assert _plateau_run(glassgrad) == _plateau_run(torch)


def test_plateau_reduces_as_torch_without_an_override(torch):
    out = []
    for lib in (glassgrad, torch):
        p = lib.nn.Parameter(lib.ones(2))
        opt = lib.optim.SGD([{"params": [p]}, {"params": [lib.nn.Parameter(lib.ones(1))], "lr": 0.1}], lr=1.0)
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.3, patience=1, min_lr=[0.2, 0.01])
        lrs = []
        for metric in (5.0, 5.0, 5.0, 4.0, 4.0, 4.0, 4.0):
            sched.step(metric)
            lrs.append([g["lr"] for g in opt.param_groups])
        out.append(np.array(lrs))
    np.testing.assert_allclose(out[0], out[1], rtol=1e-15)


def test_rank_not_in_group_as_torch(torch):
    import torch.distributed as tdist

    for group in (None, gdist.GroupMember.NON_GROUP_MEMBER, gdist.GroupMember.WORLD):
        assert gdist._rank_not_in_group(group) == tdist.distributed_c10d._rank_not_in_group(group)


def test_save_takes_pytorchs_keywords(torch, tmp_path):
    """ignite's DiskSaver passes ``_use_new_zipfile_serialization``; the file is safetensors either way."""
    import inspect

    assert list(inspect.signature(glassgrad.save).parameters) == list(
        inspect.signature(torch.save).parameters
    )
    path = tmp_path / "ckpt.pt"
    glassgrad.save({"w": glassgrad.ones(2)}, path, _use_new_zipfile_serialization=False, pickle_protocol=4)
    assert glassgrad.load(path)["w"].tolist() == [1.0, 1.0]


def test_zero_consolidation_on_another_rank_sends_and_keeps_nothing_here():
    """PyTorch's ZeRO with one rank and ``to=1`` only sends its shard; this rank's ``state_dict``
    then refuses (ignite's Checkpoint(save_on_rank=1) calls it so and saves nothing here)."""
    import pytest

    from glassgrad.distributed.optim import ZeroRedundancyOptimizer

    gdist.init_process_group("gloo", rank=0, world_size=1)
    try:
        opt = ZeroRedundancyOptimizer(
            [glassgrad.nn.Parameter(glassgrad.ones(2))], glassgrad.optim.SGD, lr=0.1
        )
        opt.consolidate_state_dict(to=1)
        with pytest.raises(RuntimeError, match="has not been consolidated on this rank"):
            opt.state_dict()
        opt.consolidate_state_dict(to=0)
        assert opt.state_dict()["param_groups"][0]["lr"] == 0.1
    finally:
        gdist.destroy_process_group()
