"""Round 26, guided-diffusion and segment-anything: guided-diffusion's fp16_util imports
``torch._utils._flatten_dense_tensors`` / ``_unflatten_dense_tensors`` for its float32 master
weights and measures fp16 parameters with ``th.norm(p, p=2, dtype=th.float32)``; glassgrad had no
``_utils`` module and its ``norm`` took no ``dtype``; train_util imports DDP from
``torch.nn.parallel.distributed``, a path glassgrad lacked."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad
from glassgrad.errors import DTypeError


def _pair(torch, shapes, seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    return [torch.tensor(a) for a in arrays], [glassgrad.tensor(a) for a in arrays]


def test_flatten_unflatten_dense_tensors_match_torch(torch):
    from torch._utils import _flatten_dense_tensors as t_flat
    from torch._utils import _unflatten_dense_tensors as t_unflat

    from glassgrad._utils import _flatten_dense_tensors, _unflatten_dense_tensors

    ts, gs = _pair(torch, [(2, 3), (4,), (1, 1, 2)])
    tf, gf = t_flat(ts), _flatten_dense_tensors(gs)
    np.testing.assert_array_equal(gf.numpy(), tf.numpy())
    tu, gu = t_unflat(tf, ts), _unflatten_dense_tensors(gf, gs)
    assert isinstance(gu, tuple) and isinstance(tu, tuple)
    assert [tuple(g.shape) for g in gu] == [tuple(t.shape) for t in tu]
    # the pieces are views of the flat buffer, as torch's (master_params_to_model_params relies on it)
    gu[1][0] = 7.0
    tu[1][0] = 7.0
    np.testing.assert_array_equal(gf.numpy(), tf.numpy())
    # a single tensor is still copied, never returned as is
    one = glassgrad.ones(2, 2)
    flat = _flatten_dense_tensors([one])
    flat[0] = 3.0
    assert one[0, 0].item() == 1.0


def test_flatten_dense_tensors_is_differentiable():
    from glassgrad._utils import _flatten_dense_tensors

    a = glassgrad.ones(2, 2, requires_grad=True)
    b = glassgrad.ones(3, requires_grad=True)
    (_flatten_dense_tensors([a, b]) * glassgrad.arange(7.0)).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [[0.0, 1.0], [2.0, 3.0]])
    np.testing.assert_array_equal(b.grad.numpy(), [4.0, 5.0, 6.0])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_norm_dtype_casts_first_like_torch(torch, dtype):
    rng = np.random.default_rng(1)
    a = (rng.standard_normal((3, 4)) * 100).astype(np.float16)
    t = torch.norm(torch.tensor(a), p=2, dtype=getattr(torch, dtype))
    g = glassgrad.norm(glassgrad.tensor(a), p=2, dtype=getattr(glassgrad, dtype))
    assert str(g.dtype).split(".")[-1] == dtype == str(t.dtype).split(".")[-1]
    np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-6)
    m = glassgrad.tensor(a).norm(2, dim=1, dtype=getattr(glassgrad, dtype))
    np.testing.assert_allclose(
        m.numpy(), torch.tensor(a).norm(2, dim=1, dtype=getattr(torch, dtype)).numpy(), rtol=1e-6
    )


def test_norm_dtype_gradient_and_bad_dtype():
    x = glassgrad.randn(3, requires_grad=True)
    x.norm(dtype=glassgrad.float64).backward()
    assert x.grad.dtype == glassgrad.float32
    np.testing.assert_allclose(x.grad.numpy(), (x / x.norm()).detach().numpy(), rtol=1e-5)
    with pytest.raises(DTypeError, match="norm"):
        glassgrad.norm(glassgrad.randn(3), dtype=glassgrad.int64)


def test_nn_parallel_distributed_module_path(torch):
    """guided-diffusion's train_util: ``from torch.nn.parallel.distributed import
    DistributedDataParallel as DDP`` (the submodule path, not the package's re-export)."""
    import importlib

    from torch.nn.parallel.distributed import DistributedDataParallel as TorchDDP

    from glassgrad.nn.parallel.distributed import DistributedDataParallel

    assert TorchDDP is torch.nn.parallel.DistributedDataParallel
    assert DistributedDataParallel is glassgrad.nn.parallel.DistributedDataParallel
    assert (
        importlib.import_module("glassgrad.nn.parallel.distributed").DistributedDataParallel
        is DistributedDataParallel
    )
    assert glassgrad.nn.parallel.distributed.DistributedDataParallel is DistributedDataParallel
