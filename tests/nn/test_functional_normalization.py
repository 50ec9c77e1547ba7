"""F.layer_norm, F.batch_norm (training with running-stat updates, evaluation), F.normalize and
F.cosine_similarity: PyTorch parity, the fused ops against their composites, and errors."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.errors import ShapeError
from tests.nn.test_functional_parity import DTYPES, TOL, check


# ------------------------------------------------------------------ layer_norm
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("shape", "normalized"),
    [((4, 5), (5,)), ((4, 5), 5), ((2, 3, 4), (3, 4)), ((2, 3, 4), (4,)), ((6,), [6])],
)
@pytest.mark.parametrize("affine", ["none", "weight", "both"])
@pytest.mark.parametrize("eps", [1e-5, 0.1])
def test_layer_norm_parity(torch, dtype, shape, normalized, affine, eps):
    TF = torch.nn.functional
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape) * 3 + 1
    ns = (normalized,) if isinstance(normalized, int) else tuple(normalized)
    params = [rng.standard_normal(ns) for _ in range({"none": 0, "weight": 1, "both": 2}[affine])]
    check(
        lambda x, *p: F.layer_norm(x, ns, *p, eps=eps),  # (a lone int is PyTorch's TypeError)
        lambda x, *p: TF.layer_norm(x, ns, *p, eps=eps),
        x,
        *params,
        dtype=dtype,
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_layer_norm_over_one_element_gives_the_bias(torch, dtype):
    """One normalised element: x - mean is exactly 0, so y = bias and x, weight get zero gradient.

    (PyTorch's float32 kernel leaves rounding noise of ~1e-5 in x - mean here, so this is checked
    against the exact answer; float64 parity with PyTorch is checked too.)
    """
    TF = torch.nn.functional
    rng = np.random.default_rng(6)
    x, w, b = (
        gg.tensor(a.astype(dtype), requires_grad=True)
        for a in (rng.standard_normal((3, 1)) * 3 + 1, rng.standard_normal(1), rng.standard_normal(1))
    )
    out = F.layer_norm(x, (1,), w, b)
    np.testing.assert_array_equal(out._data, np.broadcast_to(b._data, (3, 1)))
    out.sum().backward()
    assert (x.grad._data == 0).all() and (w.grad._data == 0).all() and (b.grad._data == 3).all()
    if dtype == np.float64:
        check(
            lambda *a: F.layer_norm(a[0], (1,), *a[1:]),
            lambda *a: TF.layer_norm(a[0], (1,), *a[1:]),
            x._data,
            w._data,
            b._data,
        )


def _layer_norm_composite(x, k, weight, bias, eps):
    dims = tuple(range(x.ndim - k, x.ndim))
    mean = x.mean(dims, keepdim=True)
    centered = x - mean
    var = (centered * centered).mean(dims, keepdim=True)
    return centered / (var + eps).sqrt() * weight + bias


def _batch_norm_composite(x, weight, bias, eps):
    dims = (0, *range(2, x.ndim))
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    mean = x.mean(dims, keepdim=True)
    centered = x - mean
    var = (centered * centered).mean(dims, keepdim=True)
    return centered / (var + eps).sqrt() * weight.reshape(shape) + bias.reshape(shape)


@pytest.mark.parametrize(
    ("op", "shape", "param_shape"),
    [
        ("layer", (4, 6), (6,)),
        ("layer", (2, 3, 4), (3, 4)),
        ("batch", (8, 3), (3,)),
        ("batch", (4, 3, 5), (3,)),
        ("batch", (2, 3, 4, 4), (3,)),
    ],
)
def test_fused_normalization_equals_composite(op, shape, param_shape):
    rng = np.random.default_rng(1)
    x_np = rng.standard_normal(shape) * 2 + 0.5
    w_np, b_np = rng.standard_normal(param_shape), rng.standard_normal(param_shape)
    ins = [[gg.tensor(a, requires_grad=True) for a in (x_np, w_np, b_np)] for _ in range(2)]
    if op == "layer":
        fused = F.layer_norm(ins[0][0], param_shape, ins[0][1], ins[0][2])
        comp = _layer_norm_composite(ins[1][0], len(param_shape), ins[1][1], ins[1][2], eps=1e-5)
    else:
        fused = F.batch_norm(ins[0][0], None, None, ins[0][1], ins[0][2], training=True)
        comp = _batch_norm_composite(*ins[1], eps=1e-5)
    np.testing.assert_allclose(fused._data, comp._data, rtol=1e-12, atol=1e-12)
    up = gg.tensor(rng.standard_normal(shape))
    fused.backward(up)
    comp.backward(up)
    for a, b in zip(ins[0], ins[1]):
        np.testing.assert_allclose(a.grad._data, b.grad._data, rtol=1e-10, atol=1e-10)
    assert fused.grad_fn.name() == (
        "NativeLayerNormBackward0" if op == "layer" else "NativeBatchNormBackward0"
    )


def test_layer_norm_errors():
    x = gg.randn(2, 3, 4)
    with pytest.raises(
        ShapeError,
        match=r"layer_norm: expected input of shape \(\*, 3\) for normalized_shape \(3,\), got \(2, 3, 4\)",
    ):
        F.layer_norm(x, (3,))
    with pytest.raises(ShapeError, match=r"layer_norm: expected weight of shape \(4,\), got \(3,\)"):
        F.layer_norm(x, (4,), gg.ones(3))
    with pytest.raises(ShapeError, match=r"layer_norm: expected bias of shape \(3, 4\), got \(4,\)"):
        F.layer_norm(x, (3, 4), None, gg.ones(4))


# ------------------------------------------------------------------ batch_norm
BN_SHAPES = [(6, 3), (4, 3, 5), (2, 3, 4, 5)]


def _stats(rng, c, dtype):
    return rng.standard_normal(c).astype(dtype), rng.uniform(0.5, 2.0, c).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", BN_SHAPES)
@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize("momentum", [0.1, 0.7])
def test_batch_norm_training_updates_running_stats_like_torch(torch, dtype, shape, affine, momentum):
    TF = torch.nn.functional
    rng = np.random.default_rng(2)
    c = shape[1]
    rm, rv = _stats(rng, c, dtype)
    g_rm, g_rv, t_rm, t_rv = gg.tensor(rm), gg.tensor(rv), torch.tensor(rm), torch.tensor(rv)
    params = [rng.standard_normal(c), rng.standard_normal(c)] if affine else []
    for step in range(2):  # two updates of the running averages
        x = rng.standard_normal(shape) * 2 + step
        check(
            lambda x, *p: F.batch_norm(x, g_rm, g_rv, *p, training=True, momentum=momentum, eps=1e-3),
            lambda x, *p: TF.batch_norm(x, t_rm, t_rv, *p, training=True, momentum=momentum, eps=1e-3),
            x,
            *params,
            dtype=dtype,
            seed=step,
        )
        for g, t in ((g_rm, t_rm), (g_rv, t_rv)):
            assert g.dtype == gg.tensor(np.zeros(1, dtype)).dtype and not g.requires_grad
            np.testing.assert_allclose(g._data, t.numpy(), rtol=TOL[dtype], atol=TOL[dtype])
    # evaluation with the statistics just learned
    x = rng.standard_normal(shape)
    check(
        lambda x, *p: F.batch_norm(x, g_rm, g_rv, *p, training=False, eps=1e-3),
        lambda x, *p: TF.batch_norm(x, t_rm, t_rv, *p, training=False, eps=1e-3),
        x,
        *params,
        dtype=dtype,
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", BN_SHAPES)
def test_batch_norm_training_without_running_stats(torch, dtype, shape):
    TF = torch.nn.functional
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal(shape), rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
    check(
        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
        lambda x, w, b: TF.batch_norm(x, None, None, w, b, training=True),
        x,
        w,
        b,
        dtype=dtype,
    )


def test_batch_norm_eval_leaves_running_stats_alone():
    rm, rv = gg.zeros(3), gg.ones(3)
    x = gg.randn(4, 3)
    out = F.batch_norm(x, rm, rv, training=False)
    np.testing.assert_allclose(out._data, x._data / np.sqrt(1 + 1e-5), rtol=1e-6)
    assert (rm._data == 0).all() and (rv._data == 1).all()


def test_batch_norm_errors():
    with pytest.raises(
        ValueError,
        match=r"batch_norm: expected more than 1 value per channel when training, got input \(1, 3\)",
    ):
        F.batch_norm(gg.randn(1, 3), None, None, training=True)
    with pytest.raises(
        ValueError, match="batch_norm: expected running_mean and running_var in evaluation mode"
    ):
        F.batch_norm(gg.randn(4, 3), None, None, training=False)
    with pytest.raises(
        ShapeError, match=r"batch_norm: expected weight of shape \(3,\) for input \(4, 3, 2\), got \(2,\)"
    ):
        F.batch_norm(gg.randn(4, 3, 2), None, None, gg.ones(2), training=True)
    with pytest.raises(ShapeError, match=r"batch_norm: expected input of shape \(N, C, \*\), got \(3,\)"):
        F.batch_norm(gg.randn(3), gg.zeros(3), gg.ones(3))


# ------------------------------------------------------------------ normalize, cosine_similarity
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("p", "dim"), [(2.0, 1), (1.0, 1), (3.0, -1), (2.0, 0)])
def test_normalize_parity(torch, dtype, p, dim):
    TF = torch.nn.functional
    x = np.random.default_rng(4).standard_normal((4, 5, 3))
    x[1, :, 2] = 0.0  # a zero vector along dim 1 stays zero
    check(lambda a: F.normalize(a, p, dim), lambda a: TF.normalize(a, p, dim), x, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("s1", "s2", "dim"),
    [((5, 4), (5, 4), 1), ((2, 3, 4), (2, 3, 4), -1), ((5, 4), (1, 4), 1), ((3, 4), (4,), -1)],
)
def test_cosine_similarity_parity(torch, dtype, s1, s2, dim):
    TF = torch.nn.functional
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal(s1), rng.standard_normal(s2)
    check(
        lambda a, b: F.cosine_similarity(a, b, dim),
        lambda a, b: TF.cosine_similarity(a, b, dim),
        a,
        b,
        dtype=dtype,
    )


def test_cosine_similarity_with_a_zero_vector_is_zero_like_torch(torch):
    TF = torch.nn.functional
    a = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]])
    b = np.array([[1.0, 0.0, 0.0], [2.0, 4.0, 6.0]])
    out = check(lambda a, b: F.cosine_similarity(a, b), lambda a, b: TF.cosine_similarity(a, b), a, b)
    np.testing.assert_allclose(out._data, [0.0, 1.0], atol=1e-12)


def test_layer_norm_refuses_a_weight_of_another_dtype():
    import glassgrad as gg
    import glassgrad.nn.functional as F
    from glassgrad.errors import DTypeError

    with pytest.raises(
        DTypeError,
        match="layer_norm: mixed dtype: expected parameters of the input's dtype float32, got float64",
    ):
        F.layer_norm(gg.randn(2, 3), (3,), gg.ones(3).double())


def test_layer_norm_float16_and_linear_bias_grad_float16_accumulate_accurately():
    """float16 keeps NumPy's reductions (which accumulate in float32), not a float16 matmul."""
    rng = np.random.default_rng(3)
    x64 = rng.standard_normal((4, 2048)) * 2 + 100  # a large mean over many elements
    x = gg.tensor(x64.astype(np.float16), requires_grad=True)
    out = F.layer_norm(x, (2048,))
    xr = x64.astype(np.float16).astype(np.float64)
    want = (xr - xr.mean(-1, keepdims=True)) / np.sqrt(xr.var(-1, keepdims=True) + 1e-5)
    assert out.dtype == gg.float16
    np.testing.assert_allclose(out._data.astype(np.float64), want, atol=2e-2)
    lin = gg.nn.Linear(3, 2).half()
    g = np.full((4096, 2), 0.5, dtype=np.float16)
    lin(gg.ones(4096, 3, dtype=gg.float16)).backward(gg.tensor(g))
    assert lin.bias.grad._data.tolist() == [2048.0, 2048.0]  # exact; a float16 running sum stalls at 1024
