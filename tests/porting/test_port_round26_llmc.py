"""Names llm.c's ``train_gpt2.py`` imports at its top (round 26): ``torch._inductor.config``
(set before ``torch.compile``) and ``torch.distributed.optim.ZeroRedundancyOptimizer`` (used with
``--zero_stage 1``). Both are held to PyTorch 2.13 over a world of one process."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad
import glassgrad.distributed as gdist


def test_inductor_config_reads_sets_and_refuses_unknown_names(torch):
    import torch._inductor.config as tconfig

    import glassgrad._inductor.config as gconfig

    for name in ("coordinate_descent_tuning", "max_autotune", "fx_graph_cache", "freezing"):
        assert getattr(gconfig, name) == getattr(tconfig, name)
    assert hasattr(gconfig, "coordinate_descent_tuning")
    gconfig.coordinate_descent_tuning = True  # llm.c's `--compile 1` branch
    assert gconfig.coordinate_descent_tuning is True
    gconfig.coordinate_descent_tuning = False
    for mod in (gconfig, tconfig):
        with pytest.raises(AttributeError, match="nonexistent_setting does not exist"):
            mod.nonexistent_setting = 1
        with pytest.raises(AttributeError, match="nonexistent_setting does not exist"):
            _ = mod.nonexistent_setting


def _zero_run(lib, dist, zero_cls):
    w0 = np.linspace(-1.0, 1.0, 6, dtype=np.float32)
    a = lib.nn.Parameter(lib.tensor(w0[:4].reshape(2, 2)))
    b = lib.nn.Parameter(lib.tensor(w0[4:]))
    with pytest.raises(ValueError, match="has not been initialized"):
        zero_cls([a], lib.optim.AdamW, lr=0.1)
    dist.init_process_group("gloo", rank=0, world_size=1)
    try:
        opt = zero_cls([a], lib.optim.AdamW, lr=1e-2, betas=(0.9, 0.95), weight_decay=0.1)
        opt.add_param_group({"params": [b], "weight_decay": 0.0})
        out = [isinstance(opt, lib.optim.Optimizer), dict(opt.defaults), len(opt.param_groups)]
        for step in range(3):
            opt.zero_grad(set_to_none=True)
            ((a * a).sum() + (b * 3).sum()).backward()
            for group in opt.param_groups:  # llm.c sets the lr through param_groups
                group["lr"] = 1e-2 / (step + 1)
            opt.step()
        with pytest.raises(RuntimeError, match="has not been consolidated"):
            opt.state_dict()
        opt.consolidate_state_dict(to=0)
        groups = opt.state_dict()["param_groups"]
        out += [[g["lr"] for g in groups], [g["params"] for g in groups]]
        out += [a.detach().numpy().copy(), b.detach().numpy().copy()]
    finally:
        dist.destroy_process_group()
    return out


def test_zero_redundancy_optimizer_world_of_one_matches_torch(torch, monkeypatch):
    from torch.distributed.optim import ZeroRedundancyOptimizer as TZero

    from glassgrad.distributed.optim import ZeroRedundancyOptimizer as GZero

    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    monkeypatch.setenv("MASTER_PORT", "29541")
    t = _zero_run(torch, torch.distributed, TZero)
    g = _zero_run(glassgrad, gdist, GZero)
    assert t[:3] == g[:3]
    assert t[3] == pytest.approx(g[3]) and t[4] == g[4]
    np.testing.assert_allclose(g[5], t[5], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(g[6], t[6], rtol=1e-6, atol=1e-7)
