"""Round 37, Opacus (per-sample gradients and DP-SGD), each against PyTorch.

Opacus' hook-based grad samplers keep one activation per forward call of a layer and pop the last
one in each backward hook, so they rely on PyTorch's engine running, of the nodes whose gradient
is complete, the one created last first (its sequence number). glassgrad's engine walked ready
nodes last-in-first-out, so the backward hooks of an RNN cell's input layer (called once per time
step on data that needs no gradient) fired in forward order, and every per-sample gradient of
``DPLSTM``/``DPGRU``/``DPRNN``'s ``weight_ih`` was paired with the wrong time step. Opacus also
imports ``torch.distributed._tensor.experimental.implicit_replication``,
``torch.distributed._composable.fsdp``, ``torch.utils.data._utils.collate.default_collate`` and
``torch.utils.data.dataloader._collate_fn_t`` when it is imported.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad

W = np.array([[0.3, -0.2, 0.5], [0.1, 0.4, -0.3]])  # (out 2, in 3)
WH = np.array([[0.2, -0.6], [0.7, 0.1]])


def _cell_hook_order(lib, x_requires_grad):
    """A recurrence h = tanh(ih(x_t) + hh(h)) over 4 steps; the order in which the full backward
    hooks of ih and hh fire, and the grad_output each sees (rounded)."""
    ih, hh = lib.nn.Linear(3, 2).double(), lib.nn.Linear(2, 2, bias=False).double()
    with lib.no_grad():
        ih.weight.copy_(lib.tensor(W))
        ih.bias.fill_(0.1)
        hh.weight.copy_(lib.tensor(WH))
    seen = []
    for name, m in (("ih", ih), ("hh", hh)):
        m.register_full_backward_hook(
            lambda m, gi, go, name=name: seen.append((name, round(float(go[0].abs().sum()), 10)))
        )
    x = lib.tensor(np.arange(24.0).reshape(4, 2, 3) / 10.0, requires_grad=x_requires_grad)
    h = lib.zeros(2, 2, dtype=lib.float64)
    for xt in lib.unbind(x, 0):
        h = lib.tanh(ih(xt) + hh(h))
    (h**2).sum().backward()
    return seen


@pytest.mark.parametrize("x_requires_grad", [False, True])
def test_module_backward_hooks_of_a_recurrent_cell_fire_in_pytorchs_order(torch, x_requires_grad):
    # (with x needing no gradient the hooks of ih run when its output's gradient is known: both
    # libraries warn so)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = _cell_hook_order(glassgrad, x_requires_grad)
        want = _cell_hook_order(torch, x_requires_grad)
    assert [n for n, _ in got] == [n for n, _ in want]
    np.testing.assert_allclose([v for _, v in got], [v for _, v in want], rtol=1e-9)


def _branch_hook_order(lib):
    """Tensor hooks on two branches joined by one add: the branch made last runs first."""
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    order = []
    b = x * 3.0
    a = x.exp()
    c = b.sin()
    for name, t in (("a", a), ("b", b), ("c", c)):
        t.register_hook(lambda g, name=name: order.append(name))
    (a + c).sum().backward()
    d = x * 2.0
    e = (x + 1.0).log()
    for name, t in (("d", d), ("e", e)):
        t.register_hook(lambda g, name=name: order.append(name))
    lib.stack([d, e, d * e]).sum().backward()
    return order


def test_ready_nodes_run_newest_first_as_pytorch(torch):
    assert _branch_hook_order(glassgrad) == _branch_hook_order(torch)


def _per_sample_grads_by_pop(lib, x_np, w_np, wh_np):
    """A miniature of Opacus' hook-based sampler for an RNN cell's input layer: the forward hook
    pushes each call's input, the backward hook pops the last one and forms the per-sample
    gradient ``g_n a_nᵀ``, summed over the calls."""
    ih = lib.nn.Linear(3, 2, bias=False).double()
    hh = lib.nn.Linear(2, 2, bias=False).double()
    with lib.no_grad():
        ih.weight.copy_(lib.tensor(w_np))
        hh.weight.copy_(lib.tensor(wh_np))
    acts, total = [], []
    ih.register_forward_hook(lambda m, i, o: acts.append(i[0].detach()))

    def back(m, gi, go):
        a = acts.pop()
        total.append(lib.einsum("ni,nj->nij", go[0], a))

    ih.register_full_backward_hook(back)
    x = lib.tensor(x_np)  # (T, N, 3), data: no gradient wanted
    h = lib.zeros(x_np.shape[1], 2, dtype=lib.float64)
    for xt in lib.unbind(x, 0):
        h = lib.tanh(ih(xt) + hh(h))
    (h**2).sum().backward()
    return sum(total).numpy()


def test_pop_based_per_sample_gradients_of_a_recurrent_cell_match_pytorch(torch):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 4, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = _per_sample_grads_by_pop(glassgrad, x, W, WH)
        want = _per_sample_grads_by_pop(torch, x, W, WH)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    # and they are the per-sample gradients: sample n alone gives row n (hand check by autograd)
    for n in range(4):
        w = torch.tensor(W, requires_grad=True)
        wh = torch.tensor(WH)
        h = torch.zeros(1, 2, dtype=torch.float64)
        for t in range(5):
            h = torch.tanh(torch.tensor(x[t, n : n + 1]) @ w.T + h @ wh.T)
        (h**2).sum().backward()
        np.testing.assert_allclose(got[n], w.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_old_import_paths_opacus_reads(torch):
    import torch.distributed._composable.fsdp as tfsdp
    import torch.distributed._tensor.experimental as texp
    import torch.utils.data._utils.collate as tcollate
    import torch.utils.data.dataloader as tloader
    from glassgrad.utils.data import default_collate
    from glassgrad.utils.data._utils.collate import default_collate as collate_path
    from glassgrad.utils.data._utils.collate import default_convert
    from glassgrad.utils.data.dataloader import _collate_fn_t, _worker_init_fn_t

    from glassgrad.distributed import fsdp
    from glassgrad.distributed._composable import fsdp as composable_fsdp
    from glassgrad.distributed._tensor.experimental import implicit_replication as old
    from glassgrad.distributed.tensor.experimental import implicit_replication

    assert old is implicit_replication and callable(texp.implicit_replication)
    for name in ("fully_shard", "FSDPModule", "MixedPrecisionPolicy", "OffloadPolicy"):
        assert getattr(composable_fsdp, name) is getattr(fsdp, name) and hasattr(tfsdp, name)
    assert collate_path is default_collate and callable(tcollate.default_collate)
    assert default_convert is glassgrad.utils.data.default_convert
    assert str(_collate_fn_t) == str(tloader._collate_fn_t)
    assert str(_worker_init_fn_t) == str(tloader._worker_init_fn_t)


def test_implicit_replication_lets_a_dtensor_meet_a_plain_tensor(torch):
    import glassgrad.distributed as dist
    from glassgrad.distributed.tensor import Replicate, distribute_tensor
    from glassgrad.distributed.tensor.experimental import implicit_replication

    try:
        mesh = dist.init_device_mesh("cpu", (1,))
        d = distribute_tensor(glassgrad.tensor([1.0, 2.0]), mesh, [Replicate()])
        with implicit_replication():
            out = d * glassgrad.tensor([3.0, 4.0])
        assert out.tolist() == [3.0, 8.0]
    finally:
        dist.destroy_process_group()


def test_grad_fn_sequence_nr_orders_nodes_as_pytorch(torch):
    def numbers(lib):
        x = lib.ones(3, 2, requires_grad=True)
        a = x.sin()
        parts = a.unbind(0)
        b = parts[1].cos() * parts[0]
        nodes = [a.grad_fn, parts[0].grad_fn, b.grad_fn, b.grad_fn.next_functions[0][0]]
        nrs = [n._sequence_nr() for n in nodes]
        return sorted(range(len(nrs)), key=nrs.__getitem__), a.grad_fn.next_functions[0][0]._sequence_nr()

    assert numbers(glassgrad) == numbers(torch)
