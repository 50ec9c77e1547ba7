"""Round 27's self-supervised programs (docs/porting.md): MAE, SimSiam, Barlow Twins, MoCo v3.

Each test is a distilled repro of what one program does, held to PyTorch: Barlow Twins backprops
through an in-place ``all_reduce`` of its cross-correlation (PyTorch warns at every such backward and
passes the gradient through), MAE masks by argsorting noise and unshuffles with ``gather``, its
loss normalises pixels per patch, and Barlow Twins takes the off-diagonal through a flattened view.
"""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest

import glassgrad

from ..distributed.worlds import gg_world, torch_world

_PREFIX = "an autograd kernel was not registered to the Autograd key(s) but we are trying to backprop"


def _barlow_step(lib, z1, z2, collective):
    """Barlow Twins' loss: batch-normed cross-correlation, divided in place, all-reduced in place."""
    a = lib.tensor(z1, requires_grad=True)
    b = lib.tensor(z2, requires_grad=True)
    bn = lib.nn.BatchNorm1d(z1.shape[1], affine=False).double()
    c = bn(a).T @ bn(b)
    c.div_(z1.shape[0])
    if collective == "all_reduce":
        lib.distributed.all_reduce(c)
    else:
        lib.distributed.broadcast(c, 0)
    on_diag = lib.diagonal(c).add_(-1).pow_(2).sum()
    n = c.shape[0]
    off_diag = c.flatten()[:-1].view(n - 1, n + 1)[:, 1:].flatten().pow_(2).sum()
    loss = on_diag + 0.0051 * off_diag
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loss.backward()
    msgs = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    return loss.item(), a.grad.numpy(), b.grad.numpy(), msgs


@pytest.mark.parametrize(
    ("collective", "op"), [("all_reduce", "c10d::allreduce_"), ("broadcast", "c10d::broadcast_")]
)
def test_backprop_through_inplace_collective_warns_as_pytorch(torch, tmp_path, collective, op):
    rng = np.random.default_rng(0)
    z1, z2 = rng.standard_normal((2, 6, 4))
    with torch_world(torch, tmp_path):
        want = _barlow_step(torch, z1, z2, collective)
    with gg_world():
        got = _barlow_step(glassgrad, z1, z2, collective)
    assert got[0] == pytest.approx(want[0], rel=1e-12)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(got[2], want[2], rtol=1e-10, atol=1e-13)
    assert len(want[3]) == len(got[3]) == 1
    assert want[3][0].startswith(f"{op}: {_PREFIX}")
    assert got[3][0].startswith(f"{op}: {_PREFIX}")


def _quiet_cases(lib):
    """Collectives on tensors no gradient flows through: no warning in either library."""
    x = lib.ones(3, requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with lib.no_grad():
            lib.distributed.all_reduce(x)  # a leaf, but no graph is recorded
        plain = lib.ones(3)
        lib.distributed.all_reduce(plain)
        y = x * 3
        lib.distributed.all_reduce(y.detach())
        (x * 2).sum().backward()
        z = x * 3
        lib.distributed.all_reduce(z)  # warns only once a backward reaches z
        before = len(caught)
        (z * z).sum().backward()
        after = len(caught)
        leaf = lib.ones(2, requires_grad=True)
        lib.distributed.broadcast(leaf, 0)  # a leaf in grad mode: every later backward reaching it warns
        (leaf * 2).sum().backward()
        (leaf * 3).sum().backward()
    return before, after, len(caught), x.grad.tolist(), leaf.grad.tolist()


def test_collective_warning_only_on_backprop(torch, tmp_path):
    with torch_world(torch, tmp_path):
        want = _quiet_cases(torch)
    with gg_world():
        got = _quiet_cases(glassgrad)
    assert got == want == (0, 1, 3, [20.0, 20.0, 20.0], [5.0, 5.0])


def _mae_masked_loss(lib, imgs, noise, mask_ratio=0.75, p=2):
    """MAE's random_masking + decoder unshuffle + forward_loss(norm_pix_loss=True)."""
    x_img = lib.tensor(imgs, requires_grad=True)
    n, _, h, _ = imgs.shape
    g = h // p
    target = x_img.reshape(shape=(n, 3, g, p, g, p))
    target = lib.einsum("nchpwq->nhwpqc", target).reshape(shape=(n, g * g, p * p * 3))
    seq_len = g * g
    len_keep = int(seq_len * (1 - mask_ratio))
    ids_shuffle = lib.argsort(lib.tensor(noise), dim=1)
    ids_restore = lib.argsort(ids_shuffle, dim=1)
    ids_keep = ids_shuffle[:, :len_keep]
    kept = lib.gather(target * 0.5, dim=1, index=ids_keep.unsqueeze(-1).repeat(1, 1, target.shape[2]))
    mask_tokens = lib.zeros(1, 1, target.shape[2], dtype=lib.float64).repeat(n, seq_len - len_keep, 1)
    pred = lib.cat([kept, mask_tokens], dim=1)
    pred = lib.gather(pred, dim=1, index=ids_restore.unsqueeze(-1).repeat(1, 1, target.shape[2]))
    mask = lib.ones([n, seq_len])
    mask[:, :len_keep] = 0
    mask = lib.gather(mask, dim=1, index=ids_restore)
    mean = target.mean(dim=-1, keepdim=True)
    var = target.var(dim=-1, keepdim=True)
    target = (target - mean) / (var + 1.0e-6) ** 0.5
    loss = ((pred - target) ** 2).mean(dim=-1)
    loss = (loss * mask).sum() / mask.sum()
    loss.backward()
    back = lib.einsum("nhwpqc->nchpwq", pred.detach().reshape(shape=(n, g, g, p, p, 3)))
    return loss.item(), x_img.grad.numpy(), mask.numpy(), str(mask.dtype), back.reshape(n, 3, h, h).numpy()


def test_mae_masking_and_norm_pix_loss_match_pytorch(torch):
    rng = np.random.default_rng(1)
    imgs = rng.standard_normal((3, 3, 8, 8))
    noise = rng.random((3, 16))
    want = _mae_masked_loss(torch, imgs, noise)
    got = _mae_masked_loss(glassgrad, imgs, noise)
    assert got[0] == pytest.approx(want[0], rel=1e-13)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-11, atol=1e-14)
    np.testing.assert_array_equal(got[2], want[2])
    assert got[3].split(".")[-1] == want[3].split(".")[-1] == "float32"
    np.testing.assert_allclose(got[4], want[4], rtol=1e-13, atol=1e-15)


def _noop(rank):
    raise AssertionError("no process should start")


def test_multiprocessing_is_an_attribute_after_a_bare_import(torch):
    """Barlow Twins calls ``torch.multiprocessing.spawn(main_worker, (args,), ngpus)`` with only
    ``import torch`` at the top (0 GPUs on a CPU machine: no process, ``None``)."""
    code = "import glassgrad; print(glassgrad.multiprocessing.spawn.__name__, glassgrad.functional.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["spawn", "glassgrad.functional"]
    assert torch.multiprocessing.spawn(_noop, (), 0) is None
    assert glassgrad.multiprocessing.spawn(_noop, (), 0) is None
