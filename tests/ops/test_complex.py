"""Complex tensors against PyTorch: making them, printing them, and the values and gradients of
every complex-aware op (ops/complex.py), in complex64 and complex128, with broadcasting (complex
times real, llama's (1, T, 1, D/2) * (B, T, H, D/2)), size-1 and empty dims.

Each parity check runs one function on both libraries from the same NumPy inputs, takes a real
loss (a random weighting of the output, viewed as real when complex), backpropagates, and compares
the output and every input's gradient: PyTorch's convention is z.grad = dL/dx + i dL/dy."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import DTypeError, ShapeError

CDT = {np.complex64: np.float32, np.complex128: np.float64}
TOL = {np.complex64: dict(rtol=2e-5, atol=2e-6), np.complex128: dict(rtol=1e-11, atol=1e-12)}


def _array(rng, shape, dtype):
    """Values of ``dtype`` (complex or real) of ``shape``, away from 0 (div, abs and angle)."""
    if np.dtype(dtype).kind == "c":
        re, im = rng.uniform(0.3, 1.5, (2, *shape)) * rng.choice([-1, 1], (2, *shape))
        return (re + 1j * im).astype(dtype)
    return (rng.uniform(0.3, 1.5, shape) * rng.choice([-1, 1], shape)).astype(dtype)


def _run(lib, fn, arrays, weights):
    ts = [lib.tensor(a.copy()).requires_grad_() for a in arrays]
    out = fn(lib, *ts)
    real = lib.view_as_real(out) if out.is_complex() else out
    (real * lib.tensor(weights.astype(np.asarray(real.detach().numpy()).dtype))).sum().backward()
    grads = [None if t.grad is None else t.grad.numpy().copy() for t in ts]
    return out.detach().numpy().copy(), grads


def check(torch, fn, *arrays, tol=None, seed=0):
    """``fn(lib, *tensors)`` on both libraries: equal outputs (dtype included) and gradients."""
    arrays = [np.asarray(a) for a in arrays]
    with torch.no_grad():
        probe = fn(torch, *[torch.tensor(a) for a in arrays])
    shape = tuple(probe.shape) + ((2,) if probe.is_complex() else ())
    weights = np.random.default_rng(seed).normal(size=shape)
    ours, theirs = _run(gg, fn, arrays, weights), _run(torch, fn, arrays, weights)
    single = any(np.finfo(a.dtype).bits == 32 for a in (*arrays, ours[0]))  # float32 or complex64 anywhere
    tol = tol or TOL[np.complex64 if single else np.complex128]
    assert ours[0].dtype == theirs[0].dtype, (ours[0].dtype, theirs[0].dtype)
    assert ours[0].shape == theirs[0].shape
    np.testing.assert_allclose(ours[0], theirs[0], **tol)
    for i, (g, h) in enumerate(zip(ours[1], theirs[1])):
        assert (g is None) == (h is None), i
        if g is not None:
            assert g.dtype == h.dtype, (i, g.dtype, h.dtype)  # a real input's gradient is real
            np.testing.assert_allclose(g, h, err_msg=f"input {i}", **tol)
    return ours


DTYPES = [np.complex64, np.complex128]
PAIRS = [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((2, 1, 4), (1, 5, 1)),
    ((1, 6, 1, 4), (2, 6, 3, 4)),
    ((), (2,)),
    ((0, 3), (3,)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sa, sb", PAIRS)
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
@pytest.mark.parametrize("mix", ["cc", "cr", "rc"])
def test_arithmetic_matches_torch(torch, dtype, sa, sb, op, mix):
    rng = np.random.default_rng(1)
    a = _array(rng, sa, dtype if mix[0] == "c" else CDT[dtype])
    b = _array(rng, sb, dtype if mix[1] == "c" else CDT[dtype])
    check(torch, lambda lib, x, y: getattr(lib, op)(x, y), a, b)


@pytest.mark.parametrize("dtype", DTYPES)
def test_python_scalars_and_neg_match_torch(torch, dtype):
    z = _array(np.random.default_rng(2), (2, 3), dtype)
    check(torch, lambda lib, t: (2.0 - t) * 1j / (0.5 + 2j) + 3 * t - (-t) * 0.25, z)
    x = _array(np.random.default_rng(3), (4,), CDT[dtype])
    out = check(torch, lambda lib, t: t * 1j + 2j / (t + 3j), x)
    assert out[0].dtype == dtype  # a Python complex makes a float tensor complex of its precision


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "name, fn",
    [
        ("exp", lambda lib, z: z.exp()),
        ("abs", lambda lib, z: z.abs()),
        ("abs_fn", lambda lib, z: lib.abs(z)),
        ("angle", lambda lib, z: z.angle()),
        ("conj", lambda lib, z: z.conj() * z),
        ("conj_physical", lambda lib, z: lib.conj_physical(z) * z),
        ("real", lambda lib, z: z.real * z.imag),
        ("real_fn", lambda lib, z: lib.real(z) + 2 * lib.imag(z)),
        ("view_as_real", lambda lib, z: lib.view_as_real(z * z)),
        ("sum", lambda lib, z: (z * z).sum()),
        ("sum_dim", lambda lib, z: z.sum(1, keepdim=True) * z),
        ("mean", lambda lib, z: z.mean(0)),
        ("cumsum", lambda lib, z: z.cumsum(1)),
        ("neg", lambda lib, z: -z),
        ("to_complex128", lambda lib, z: z.to(lib.complex128) * z.to(lib.complex128)),
    ],
)
def test_unary_ops_match_torch(torch, dtype, name, fn):
    check(torch, fn, _array(np.random.default_rng(4), (3, 4), dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "fn",
    [
        lambda lib, z: z.reshape(4, 3),
        lambda lib, z: z.view(2, 6)[:, 1:5:2],
        lambda lib, z: z.flatten(),
        lambda lib, z: z.transpose(0, 1).contiguous(),
        lambda lib, z: z.permute(1, 0).unsqueeze(1).squeeze(1),
        lambda lib, z: z[:, None, :].expand(3, 2, 4),
        lambda lib, z: z[1] * z[:, 2:3],
        lambda lib, z: z[lib.tensor([0, 2, 2])],
        lambda lib, z: z[z.real > 0],
        lambda lib, z: lib.cat([z, z[:1]], 0),
        lambda lib, z: lib.stack([z, 2 * z], 1),
        lambda lib, z: z.clone(),
        lambda lib, z: lib.cat(z.chunk(2, 1)[::-1], 1) + z.unbind(0)[1],
        lambda lib, z: z.flip(0).roll(1, 1),
        lambda lib, z: z.repeat(2, 1).tril(),
        lambda lib, z: z.diagonal(),
        lambda lib, z: z.narrow(1, 1, 2).select(0, 2),
    ],
)
def test_shape_ops_match_torch(torch, dtype, fn):
    check(torch, fn, _array(np.random.default_rng(5), (3, 4), dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_cat_of_complex_and_real_matches_torch(torch, dtype):
    rng = np.random.default_rng(6)
    check(
        torch,
        lambda lib, z, x: lib.cat([z, x], 0) * 1j,
        _array(rng, (2, 3), dtype),
        _array(rng, (1, 3), CDT[dtype]),
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "sa, sb",
    [
        ((2, 3), (3, 4)),
        ((3,), (3,)),
        ((2, 3), (3,)),
        ((3,), (3, 2)),
        ((2, 2, 3), (3, 4)),
        ((2, 1, 2, 3), (3, 3, 2)),
    ],
)
def test_matmul_matches_torch(torch, dtype, sa, sb):
    rng = np.random.default_rng(7)
    check(torch, lambda lib, a, b: a @ b, _array(rng, sa, dtype), _array(rng, sb, dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_making_and_taking_apart_match_torch(torch, dtype):
    rng = np.random.default_rng(8)
    r, t = np.abs(_array(rng, (3, 1), dtype)), _array(rng, (4,), dtype)
    check(torch, lambda lib, a, b: lib.polar(a, b), r, t)
    check(torch, lambda lib, a, b: lib.complex(a, b) * lib.complex(b, a), r, t)
    check(
        torch, lambda lib, x: lib.view_as_complex(x) * lib.view_as_complex(x), _array(rng, (2, 3, 2), dtype)
    )
    check(torch, lambda lib, x: x.angle() + x, _array(rng, (5,), dtype))  # angle of a real: 0 or pi, grad 0


@pytest.mark.parametrize("dtype", DTYPES)
def test_cast_to_real_warns_and_keeps_the_real_part(torch, dtype):
    z = _array(np.random.default_rng(9), (3,), dtype)
    with pytest.warns(UserWarning, match="Casting complex values to real discards the imaginary part"):
        check(torch, lambda lib, t: t.float() * t.to(lib.float64).type_as(t.real), z, tol=TOL[np.complex64])


def test_rope_shapes_match_torch(torch):
    """llama's rotary embedding: (B, T, H, D) float viewed as (B, T, H, D/2) complex, times a
    (1, T, 1, D/2) table from polar, viewed back as real and flattened."""
    rng = np.random.default_rng(10)
    b, t, h, d = 2, 5, 3, 8

    def rope(lib, x, freqs):
        table = lib.polar(lib.ones_like(freqs), freqs).view(1, t, 1, d // 2)
        xc = lib.view_as_complex(x.float().reshape(*x.shape[:-1], -1, 2))
        return lib.view_as_real(xc * table).flatten(3).type_as(x)

    check(
        torch,
        rope,
        rng.normal(size=(b, t, h, d)).astype(np.float32),
        rng.normal(size=(t, d // 2)).astype(np.float32),
    )


# ------------------------------------------------------------------ making complex tensors
def test_complex_tensors_exist_with_pytorchs_dtypes_and_printing(torch):
    z = gg.tensor([1 + 2j, 3j])
    assert z.dtype == gg.complex64 and gg.cfloat is gg.complex64 and gg.cdouble is gg.complex128
    assert z.is_complex() and gg.is_complex(z) and not z.is_floating_point() and gg.complex64.is_complex
    assert repr(gg.complex64) == "glassgrad.complex64" and not gg.float32.is_complex
    cases = [
        [1 + 2j, 3j],
        [[1.5 + 2j, -3j], [0.25 - 1j, 1e-5 + 1j]],
        [[1 + 2j] * 30],
        [0j] * 30,
        [1e-5 + 1j, float("nan") + 1j],
        [-0.5 - 0.25j],
    ]
    for data in cases:
        for dt in ("complex64", "complex128"):
            ours = repr(gg.tensor(data, dtype=getattr(gg, dt)))
            assert ours == repr(torch.tensor(data, dtype=getattr(torch, dt))).replace(
                "torch.", "glassgrad."
            ), ours
    assert repr(gg.tensor(1 + 2j)) == "tensor(1.+2.j)"
    assert complex(gg.tensor(1 + 2j)) == 1 + 2j and gg.tensor([1 - 1j]).item() == 1 - 1j
    assert repr(gg.empty(0, dtype=gg.complex64)) == "tensor([], dtype=glassgrad.complex64)"
    assert repr(gg.tensor([1 + 1j], requires_grad=True)) == "tensor([1.+1.j], requires_grad=True)"
    assert repr(gg.tensor([-0.0, 1.0])) == repr(torch.tensor([-0.0, 1.0]))  # a -0. is not padded for


def test_default_complex_dtype_follows_the_default_float_dtype():
    assert gg.tensor(1 + 2j).dtype == gg.complex64
    assert gg.tensor([1, 2.5j]).dtype == gg.complex64
    assert gg.tensor(np.array([1j])).dtype == gg.complex128  # an ndarray keeps its dtype
    assert gg.full((2,), 1j).dtype == gg.complex64
    gg.set_default_dtype(gg.float64)
    try:
        assert gg.tensor(1 + 2j).dtype == gg.complex128 and gg.full((2,), 1j).dtype == gg.complex128
        assert repr(gg.tensor([1j])) == "tensor([0.+1.j])"  # complex128 is the default complex now
    finally:
        gg.set_default_dtype(gg.float32)


@pytest.mark.parametrize("dtype", [gg.complex64, gg.complex128])
def test_factories_make_complex_tensors(dtype):
    np_dt = dtype.np
    for make in (gg.zeros, gg.ones, gg.empty, gg.randn, gg.rand):
        t = make(2, 3, dtype=dtype)
        assert t.dtype == dtype and t.shape == (2, 3), make
    assert gg.full((2,), 1 + 2j, dtype=dtype).tolist() == [1 + 2j, 1 + 2j]
    like = gg.zeros(4, dtype=dtype)
    for make in (gg.zeros_like, gg.ones_like, gg.randn_like, gg.rand_like, gg.empty_like):
        assert make(like).dtype == dtype
    assert gg.as_tensor(np.ones(2, np_dt)).dtype == dtype and gg.from_numpy(np.ones(2, np_dt)).dtype == dtype
    z = gg.randn(40000, dtype=dtype).numpy()
    assert abs(z.real.var() - 0.5) < 0.02 and abs(z.imag.var() - 0.5) < 0.02  # E|z|^2 = 1, as PyTorch
    u = gg.rand(20000, dtype=dtype).numpy()
    for part in (u.real, u.imag):
        assert part.min() >= 0 and part.max() < 1 and abs(part.mean() - 0.5) < 0.02
    leaf = gg.zeros(2, dtype=dtype, requires_grad=True)
    assert leaf.requires_grad and gg.ones(2, dtype=dtype).requires_grad_().requires_grad


def test_randn_complex_is_reproducible_and_uses_the_generator():
    gg.manual_seed(3)
    a = gg.randn(5, dtype=gg.complex64)
    gg.manual_seed(3)
    assert np.array_equal(a.numpy(), gg.randn(5, dtype=gg.complex64).numpy())


@pytest.mark.parametrize(
    "a, b, expected",
    [
        (gg.ones(3, dtype=gg.float64), gg.tensor(1j), gg.complex128),  # float64 (3,) * complex64 ()
        (
            gg.ones(3),
            gg.tensor(1j, dtype=gg.complex128),
            gg.complex64,
        ),  # a 0-d complex: the float's precision
        (
            gg.ones(3, dtype=gg.complex64),
            gg.ones(3, dtype=gg.float64),
            gg.complex128,
        ),  # both with dims: widest
        (gg.ones(3, dtype=gg.complex64), gg.tensor(1.0, dtype=gg.float64), gg.complex64),
        (gg.ones(3), 1j, gg.complex64),
        (gg.ones(3, dtype=gg.float64), 1j, gg.complex128),
        (gg.ones(3, dtype=gg.int64), 1j, gg.complex64),
        (gg.ones(3, dtype=gg.complex64), 2.5, gg.complex64),
        (gg.ones(3, dtype=gg.complex128), np.complex64(1j), gg.complex128),
    ],
)
def test_promotion_follows_pytorch(torch, a, b, expected):
    assert (a * b).dtype == expected
    if isinstance(b, np.generic):
        return  # PyTorch 2.13 casts a NumPy complex scalar to real here (NumPy's ComplexWarning)
    ta = torch.tensor(a.numpy())
    tb = torch.tensor(b.numpy()) if isinstance(b, gg.Tensor) else b
    assert str((ta * tb).dtype).split(".")[-1] == expected.name


# ------------------------------------------------------------------ views
def test_view_as_complex_and_real_share_memory_and_versions():
    x = gg.tensor([[1.0, 2.0], [3.0, 4.0]])
    z = gg.view_as_complex(x)
    assert z.tolist() == [1 + 2j, 3 + 4j]
    x[0, 1] = 5.0  # through the float view's base
    assert z.tolist()[0] == 1 + 5j and z._version == x._version
    r = gg.view_as_real(z)
    r[1, 0] = -1.0
    assert x.tolist()[1] == [-1.0, 4.0] and r._version == x._version
    t = gg.zeros(3, 4, dtype=gg.complex64).t()  # a non-contiguous complex tensor
    assert gg.view_as_real(t).stride() == (2, 8, 1)
    assert gg.view_as_real(gg.tensor(1 + 2j)).tolist() == [1.0, 2.0]
    assert gg.view_as_complex(gg.zeros(0, 2)).shape == (0,)
    assert gg.view_as_complex(gg.zeros(1, 3)[:, 0:2]).shape == (1,)  # an odd stride of a size-1 dim is fine


@pytest.mark.parametrize(
    "make, error, words",
    [
        (lambda: gg.zeros(3, 3), ShapeError, "Tensor must have a last dimension of size 2"),
        (lambda: gg.zeros(3, 2).t(), ShapeError, "Tensor must have a last dimension of size 2"),
        (lambda: gg.zeros(2, 4)[:, ::2], ShapeError, "Tensor must have a last dimension with stride 1"),
        (lambda: gg.zeros(3, 3, 2).transpose(0, 1)[:, :, :], None, None),
        (lambda: gg.zeros(3, 5)[:, 1:3], ShapeError, "Tensor must have a stride divisible by 2"),
        (lambda: gg.zeros(6, 4)[:, 1:3], ShapeError, "Tensor must have a storage_offset divisible by 2"),
        (lambda: gg.zeros(4, 2)[1:], None, None),
        (lambda: gg.zeros(2, dtype=gg.int64), DTypeError, "view_as_complex"),
        (lambda: gg.zeros(2, dtype=gg.float16), DTypeError, "complex32"),
    ],
)
def test_view_as_complex_refuses_what_pytorch_refuses(torch, make, error, words):
    x = make()
    if error is None:
        assert gg.view_as_complex(x).shape == x.shape[:-1]
        return
    with pytest.raises(error, match=words):
        gg.view_as_complex(x)
    if x.dtype != gg.float16:
        with pytest.raises(RuntimeError):  # PyTorch refuses it too
            torch.view_as_complex(
                torch.tensor(np.zeros(x.shape, x.dtype.np)).as_strided(
                    x.shape, x.stride(), x.storage_offset()
                )
            )


def test_real_and_imag_are_writable_views():
    z = gg.tensor([1 + 2j, 3 + 4j])
    z.real.mul_(2)
    z.imag[0] = 9
    assert z.tolist() == [2 + 9j, 6 + 4j]
    z.real = gg.tensor([5.0, 6.0])
    z.imag = gg.tensor([0.5, 0.25])
    assert z.tolist() == [5 + 0.5j, 6 + 0.25j]
    x = gg.tensor([1.0, 2.0])
    assert x.real is x and gg.real(x) is x and x.conj() is x and gg.conj_physical(x) is x
    assert x.resolve_conj() is x and not z.conj().is_conj()
    with pytest.raises(DTypeError, match="imag is not implemented for tensors with non-complex dtypes"):
        x.imag  # noqa: B018
    with pytest.raises(DTypeError, match="view_as_real is only supported for complex tensors"):
        gg.view_as_real(x)
    for bad in (
        lambda: gg.polar(gg.ones(2), gg.ones(2, dtype=gg.float64)),
        lambda: gg.complex(gg.ones(2, dtype=gg.int64), gg.ones(2, dtype=gg.int64)),
    ):
        with pytest.raises(DTypeError):
            bad()
