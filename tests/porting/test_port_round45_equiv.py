"""Round 45, group equiv: escnn (steerable CNNs) and torchkbnufft (non-uniform FFTs), run with only
their imports changed.

torchkbnufft grids complex k-space data with ``index_add_`` on a complex tensor; glassgrad refused
it ("index_add: complex tensors are not supported"), and so every other write at indices
(``index_copy``, ``scatter``, ``scatter_add``, ``masked_scatter``), though their gradients only
move ``g`` about. They take complex tensors now, with PyTorch's values and gradients.
escnn keeps ``meshgrid`` views (stride 0) as buffers: ``load_state_dict`` into them raised NumPy's
bare "assignment destination is read-only"; it is now the load's ``RuntimeError`` naming the key,
as PyTorch's (whose ``copy_`` refuses such a view too). escnn's NormMaxPool views the result of a
``gather`` by an expanded index, which NumPy had laid out transposed (``view`` refused it); it is
row-major now, as PyTorch's. Found beside them: complex convolutions (PyTorch has them; glassgrad
refused complex input) and an ``alpha`` of a wider kind than ``add``/``sub``'s result, which
promoted it where PyTorch raises.
"""

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck
from glassgrad.errors import DTypeError

CDTYPES = ["complex128", "complex64"]


def _c(rng, shape, dtype):
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)


def _ops():
    """(name, f(lib, x, src) -> out, x shape, src shape) for each write at indices; the indices of
    the non-accumulating writes are distinct (a repeated one keeps an unspecified candidate)."""
    idx_rep = [0, 3, 3, 1, 0]
    idx_uni = [4, 0, 2]
    sc = [[0, 2, 1], [3, 0, 2]]
    mask = [
        [True, False, True],
        [False, False, True],
        [True, True, False],
        [False, True, True],
        [True, False, False],
    ]
    return [
        ("index_add", lambda L, x, s: x.index_add(0, L.tensor(idx_rep), s), (4, 3), (5, 3)),
        (
            "index_add_alpha",
            lambda L, x, s: L.index_add(x, 1, L.tensor(idx_rep), s, alpha=2.5),
            (3, 4),
            (3, 5),
        ),
        ("index_copy", lambda L, x, s: x.index_copy(0, L.tensor(idx_uni), s), (5, 3), (3, 3)),
        ("scatter", lambda L, x, s: L.scatter(x, 0, L.tensor(sc), s), (4, 3), (2, 3)),
        (
            "scatter_add",
            lambda L, x, s: x.scatter_add(0, L.tensor([[0, 2, 1], [0, 2, 2]]), s),
            (4, 3),
            (2, 3),
        ),
        ("masked_scatter", lambda L, x, s: x.masked_scatter(L.tensor(mask), s), (5, 3), (9,)),
    ]


@pytest.mark.parametrize("dtype", CDTYPES)
@pytest.mark.parametrize("op", _ops(), ids=lambda o: o[0])
def test_complex_writes_at_indices_match_pytorch(torch, op, dtype):
    # was: DTypeError "<op>: complex tensors are not supported (input 0 is complex128)"
    _, f, xs, ss = op
    rng = np.random.default_rng(45)
    x, s, g = _c(rng, xs, dtype), _c(rng, ss, dtype), _c(rng, xs, dtype)
    outs = []
    for L in (torch, gg):
        a = L.tensor(x, requires_grad=True)
        b = L.tensor(s, requires_grad=True)
        y = f(L, a, b)
        y.backward(L.tensor(g))
        outs.append([t.detach().numpy() for t in (y, a.grad, b.grad)])
        assert str(y.dtype).split(".")[-1] == dtype
    for want, got in zip(*outs):
        np.testing.assert_allclose(got, want, rtol=1e-6 if dtype == "complex64" else 1e-13, atol=1e-6)


def test_complex_inplace_gridding_as_torchkbnufft(torch):
    # torchkbnufft's adjoint interpolation: coefficients times data, added into a flat complex grid
    rng = np.random.default_rng(7)
    data, coef = _c(rng, (2, 30), "complex128"), _c(rng, (30,), "complex128")
    idx = rng.integers(0, 12, 30)
    w = _c(rng, (2, 12), "complex128")
    res = []
    for L in (torch, gg):
        d = L.tensor(data, requires_grad=True)
        grid = L.zeros(2, 12, dtype=L.complex128)
        grid.index_add_(1, L.tensor(idx), d * L.tensor(coef))
        loss = (grid * L.tensor(w).conj()).real.sum() + (grid.abs() ** 2).sum()
        loss.backward()
        res.append((grid.detach().numpy(), d.grad.numpy()))
    np.testing.assert_allclose(res[1][0], res[0][0], rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(res[1][1], res[0][1], rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("seed", range(4))
def test_complex_writes_gradcheck(seed):
    # random shapes; masked_scatter's mask broadcasts against the input
    rng = np.random.default_rng(seed)
    n, m, k = (int(v) for v in rng.integers(2, 5, 3))
    x = gg.tensor(_c(rng, (n, m), "complex128"), requires_grad=True)
    idx = gg.tensor(rng.integers(0, n, k))
    src = gg.tensor(_c(rng, (k, m), "complex128"), requires_grad=True)
    assert gradcheck(lambda a, b: a.index_add(0, idx, b, alpha=0.5), (x, src))
    uni = gg.tensor(rng.permutation(n)[: min(k, n)])
    src2 = gg.tensor(_c(rng, (len(uni), m), "complex128"), requires_grad=True)
    assert gradcheck(lambda a, b: a.index_copy(0, uni, b), (x, src2))
    sidx = gg.tensor(rng.integers(0, n, (k, m)))
    src3 = gg.tensor(_c(rng, (k, m), "complex128"), requires_grad=True)
    assert gradcheck(lambda a, b: a.scatter_add(0, sidx, b), (x, src3))
    perm = gg.tensor(np.stack([rng.permutation(n) for _ in range(m)], 1)[: min(k, n)])
    assert gradcheck(lambda a, b: a.scatter(0, perm, b[: perm.shape[0]]), (x, src3))
    mask = gg.tensor(rng.random((1, m)) < 0.6)
    src4 = gg.tensor(_c(rng, (n * m,), "complex128"), requires_grad=True)
    assert gradcheck(lambda a, b: a.masked_scatter(mask, b), (x, src4))


def test_index_add_complex_alpha_gradient_is_conjugated():
    # d(alpha * s)/ds pulls g back as conj(alpha) * g (the convention of every complex gradient);
    # PyTorch 2.13 multiplies by alpha itself there, and its own gradcheck of this call fails
    rng = np.random.default_rng(3)
    x = gg.tensor(_c(rng, (4, 3), "complex128"), requires_grad=True)
    s = gg.tensor(_c(rng, (5, 3), "complex128"), requires_grad=True)
    idx = gg.tensor([0, 2, 2, 3, 0])
    g = _c(rng, (4, 3), "complex128")
    x.index_add(0, idx, s, alpha=2 - 1j).backward(gg.tensor(g))
    np.testing.assert_allclose(s.grad.numpy(), g[[0, 2, 2, 3, 0]] * (2 + 1j), rtol=1e-15)
    np.testing.assert_allclose(x.grad.numpy(), g, rtol=0)
    assert gradcheck(lambda a, b: a.index_add(0, idx, b, alpha=2 - 1j), (x, s))


def test_index_add_complex_alpha_real_input_refused(torch):
    with pytest.raises(RuntimeError):  # PyTorch: "value cannot be converted to type float ..."
        torch.zeros(3).index_add(0, torch.tensor([0]), torch.ones(1), alpha=1j)
    with pytest.raises(DTypeError, match=r"index_add: expected a real alpha for a glassgrad.float32 input"):
        gg.zeros(3).index_add(0, gg.tensor([0]), gg.ones(1), alpha=1j)


def test_load_state_dict_into_a_stride0_buffer_is_the_loads_error(torch):
    # escnn's BlocksBasisExpansion registers meshgrid(...)[k].reshape(-1) (a stride-0 view) as a buffer
    for L in (torch, gg):
        a, _ = L.meshgrid([L.arange(1), L.arange(4)], indexing="ij")
        m = L.nn.Module()
        m.register_buffer("o", a.reshape(-1))
        with pytest.raises(RuntimeError, match='While copying the parameter named "o"'):
            m.load_state_dict({"o": L.zeros(4, dtype=L.long)})
    # a writable buffer still loads, and a non-strict load of the other keys works around the view
    m = gg.nn.Module()
    m.register_buffer("w", gg.zeros(3))
    m.register_buffer("o", gg.arange(1).expand(4))
    res = m.load_state_dict({"w": gg.ones(3)}, strict=False)
    assert res.missing_keys == ["o"] and m.w.tolist() == [1.0, 1.0, 1.0]


def _conv_cases():
    return [
        ("conv1d", dict(stride=2, padding=1, dilation=2, groups=2), (2, 4, 9), (6, 2, 3), (6,)),
        ("conv2d", dict(padding="same"), (2, 3, 5, 6), (4, 3, 3, 3), (4,)),
        ("conv3d", dict(stride=(1, 2, 1)), (1, 2, 4, 5, 3), (3, 2, 2, 2, 2), (3,)),
        ("conv_transpose1d", dict(stride=2, output_padding=1), (2, 3, 5), (3, 2, 3), (2,)),
        ("conv_transpose2d", dict(stride=2, padding=1, groups=2), (1, 4, 3, 4), (4, 3, 3, 3), (6,)),
        ("conv_transpose3d", dict(), (1, 2, 3, 2, 3), (2, 2, 2, 2, 2), None),
    ]


@pytest.mark.parametrize("dtype", CDTYPES)
@pytest.mark.parametrize("case", _conv_cases(), ids=lambda c: c[0])
def test_complex_convolutions_match_pytorch(torch, case, dtype):
    # was: DTypeError "conv1d: expected a floating-point or integer input, got glassgrad.complex128"
    name, kw, xs, ws, bs = case
    rng = np.random.default_rng(11)
    x, w = _c(rng, xs, dtype), _c(rng, ws, dtype)
    b = None if bs is None else _c(rng, bs, dtype)
    res = []
    for L in (torch, gg):
        args = [L.tensor(a, requires_grad=True) for a in (x, w) + (() if b is None else (b,))]
        y = getattr(L.nn.functional, name)(*args, **kw)
        g = _c(np.random.default_rng(12), tuple(y.shape), dtype)
        y.backward(L.tensor(g))
        assert str(y.dtype).split(".")[-1] == dtype
        res.append([y.detach().numpy()] + [a.grad.numpy() for a in args])
    tol = 1e-5 if dtype == "complex64" else 1e-13  # PyTorch adds with Gauss's three products
    for want, got in zip(*res):
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max())


def test_complex_conv_module_and_errors(torch):
    rng = np.random.default_rng(2)
    x = _c(rng, (2, 2, 6, 5), "complex64")
    outs = []
    for L in (torch, gg):
        L.manual_seed(0)
        m = L.nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular", dtype=L.complex64)
        assert m.weight.dtype == L.complex64 and m.bias.dtype == L.complex64
        outs.append(m)
    outs[1].load_state_dict({k: gg.tensor(v.detach().numpy()) for k, v in outs[0].state_dict().items()})
    want = outs[0](torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(outs[1](gg.tensor(x)).detach().numpy(), want, rtol=1e-5, atol=1e-5)
    with pytest.raises(DTypeError, match="conv2d: expected input, weight and bias of one dtype"):
        gg.nn.functional.conv2d(gg.tensor(x), gg.ones(3, 2, 3, 3))


@pytest.mark.parametrize("seed", range(3))
def test_complex_convolutions_gradcheck(seed):
    rng = np.random.default_rng(100 + seed)
    n, cin, cout, h, w = (int(v) for v in rng.integers(1, 4, 5))
    k = int(rng.integers(1, 3))
    x = gg.tensor(_c(rng, (n, cin, h + k, w + k), "complex128"), requires_grad=True)
    wt = gg.tensor(_c(rng, (cout, cin, k, k), "complex128"), requires_grad=True)
    b = gg.tensor(_c(rng, (cout,), "complex128"), requires_grad=True)
    F = gg.nn.functional
    assert gradcheck(lambda a, c, d: F.conv2d(a, c, d, padding=1), (x, wt, b))
    wt_t = gg.tensor(_c(rng, (cin, cout, k, k), "complex128"), requires_grad=True)
    assert gradcheck(lambda a, c, d: F.conv_transpose2d(a, c, d, stride=2), (x, wt_t, b))
    x1 = gg.tensor(_c(rng, (n, cin, h + 3), "complex128"), requires_grad=True)
    w1 = gg.tensor(_c(rng, (cout, cin, k), "complex128"), requires_grad=True)
    assert gradcheck(lambda a, c: F.conv1d(a, c, dilation=2), (x1, w1))


def test_gather_result_is_row_major_as_pytorch(torch):
    # escnn's NormMaxPool: x.view(b, -1, s, hw).gather(3, idx.expand(-1, -1, s, -1)).view(b, -1, ho, wo)
    # raised "view: expected a shape expressible over the input's strides": NumPy laid the result
    # of an expanded (or transposed) index out in the index's order; PyTorch's is a new row-major tensor
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 9, 2, 64))
    idx = rng.integers(0, 64, (3, 9, 1, 32))
    idx_t = rng.integers(0, 64, (2, 5))
    res = []
    for L in (torch, gg):
        a = L.tensor(x, requires_grad=True)
        y = a.gather(3, L.tensor(idx).expand(-1, -1, 2, -1))
        z = y.view(3, -1, 8, 8)
        t = a[0, 0].T.gather(0, L.tensor(idx_t).T)
        u = L.take_along_dim(a, L.tensor(idx).expand(-1, -1, 2, -1), 3)
        (z.sum() + (t * t).sum() + u.sum()).backward()
        res.append(
            (z.detach().numpy(), tuple(y.stride()), tuple(t.stride()), tuple(u.stride()), a.grad.numpy())
        )
    np.testing.assert_array_equal(res[1][0], res[0][0])
    assert res[1][1:4] == res[0][1:4]
    np.testing.assert_allclose(res[1][4], res[0][4], rtol=1e-15)


def _alpha_cases():
    return [
        ("int_float", lambda L: L.ones(3, dtype=L.int64).add(L.ones(3, dtype=L.int64), alpha=0.5)),
        ("int_float_one", lambda L: L.add(L.ones(3, dtype=L.int32), L.ones(3, dtype=L.int32), alpha=1.0)),
        (
            "int_np_float",
            lambda L: L.ones(3, dtype=L.int64).sub(L.ones(3, dtype=L.int64), alpha=np.float64(2)),
        ),
        (
            "int_0d_float",
            lambda L: L.ones(3, dtype=L.int64).add(L.ones(3, dtype=L.int64), alpha=L.tensor(0.5)),
        ),
        ("real_complex", lambda L: L.add(L.ones(3), L.ones(3), alpha=1j)),
        ("real_complex_inplace", lambda L: L.ones(3).sub_(L.ones(3), alpha=2j)),
        ("int_bool", lambda L: L.ones(3, dtype=L.int64).sub(L.ones(3, dtype=L.int64), alpha=True)),
        ("int_with_float_other", lambda L: L.ones(3, dtype=L.int64).add(2.5, alpha=2)),
        ("float_float", lambda L: L.ones(3).add(L.ones(3, dtype=L.float64), alpha=0.5)),
        ("complex_other", lambda L: L.ones(3).add(L.ones(3, dtype=L.complex64), alpha=1j)),
        ("bool_bool", lambda L: L.ones(3, dtype=L.bool).add(L.ones(3, dtype=L.bool), alpha=True)),
        ("int_np_int", lambda L: L.ones(3, dtype=L.int64).add(L.ones(3, dtype=L.int64), alpha=np.int64(3))),
    ]


@pytest.mark.parametrize("case", _alpha_cases(), ids=lambda c: c[0])
def test_add_sub_alpha_of_a_wider_kind_is_refused_as_pytorch(torch, case):
    # was: the number promoted the result (int64 + 0.5 * int64 gave float32; real + 1j * real complex64)
    _, f = case
    try:
        want = f(torch)
    except RuntimeError as e:
        phrase = str(e).split(".")[0]
        with pytest.raises(RuntimeError, match=phrase):
            f(gg)
        return
    got = f(gg)
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("dtype", CDTYPES)
def test_complex_sparse_mm_matches_pytorch(torch, dtype):
    # was: DTypeError "sparse_mm: complex tensors are not supported (input 0 is complex128)"
    rng = np.random.default_rng(9)
    idx = np.array([[0, 1, 1, 3, 0], [2, 0, 3, 1, 2]])  # (0, 2) twice: summed
    vals, d, g = _c(rng, (5,), dtype), _c(rng, (4, 3), dtype), _c(rng, (4, 3), dtype)
    res = []
    for L in (torch, gg):
        v = L.tensor(vals, requires_grad=True)
        dd = L.tensor(d, requires_grad=True)
        s = L.sparse_coo_tensor(L.tensor(idx), v, (4, 4))
        y = L.sparse.mm(s, dd)
        y.backward(L.tensor(g))
        res.append(
            (y.detach().numpy(), v.grad.numpy(), dd.grad.numpy(), s.coalesce().to_dense().detach().numpy())
        )
    tol = 1e-6 if dtype == "complex64" else 1e-14
    for want, got in zip(*res):
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("seed", range(3))
def test_complex_sparse_mm_gradcheck(seed):
    rng = np.random.default_rng(seed)
    m, k, n, nnz = (int(v) for v in rng.integers(1, 5, 4))
    idx = gg.tensor(np.stack([rng.integers(0, m, nnz), rng.integers(0, k, nnz)]))
    v = gg.tensor(_c(rng, (nnz,), "complex128"), requires_grad=True)
    d = gg.tensor(_c(rng, (k, n), "complex128"), requires_grad=True)
    assert gradcheck(lambda a, b: gg.sparse.mm(gg.sparse_coo_tensor(idx, a, (m, k)), b), (v, d))
    assert gradcheck(lambda a: gg.sparse_coo_tensor(idx, a, (m, k)).coalesce().to_dense(), (v,))


def _addc_cases():
    i = [1, 2, -3]
    return [
        ("mul_int_float", lambda L: L.tensor(i).addcmul(L.tensor(i), L.tensor(i), value=1.7)),
        ("mul_int_neg_float", lambda L: L.addcmul(L.tensor(i), L.tensor(i), L.tensor(i), value=-1.7)),
        ("mul_int_half", lambda L: L.tensor(i).addcmul_(L.tensor(i), L.tensor(i), value=0.5)),
        ("mul_real_complex", lambda L: L.ones(3).addcmul(L.ones(3), L.ones(3), value=1j)),
        ("div_int_int", lambda L: L.tensor(i).addcdiv(L.tensor(i), L.tensor(i))),
        ("div_float_int_int", lambda L: L.ones(3).addcdiv(L.tensor(i), L.tensor(i), value=0.5)),
        ("div_int_float", lambda L: L.tensor(i).addcdiv(L.tensor(i).float(), L.tensor(i))),
        ("div_real_complex", lambda L: L.ones(3).addcdiv(L.ones(3), L.ones(3), value=2j)),
        ("mul_float", lambda L: L.ones(3).addcmul(L.ones(3), L.full((3,), 2.0), value=0.25)),
        ("mul_complex", lambda L: L.ones(3, dtype=L.complex64).addcmul(L.ones(3), L.ones(3), value=1j)),
    ]


@pytest.mark.parametrize("case", _addc_cases(), ids=lambda c: c[0])
def test_addcmul_addcdiv_value_kinds_as_pytorch(torch, case):
    # was: a float value promoted integer tensors, a complex one real tensors, addcdiv of integers divided
    _, f = case
    try:
        want = f(torch)
    except RuntimeError as e:
        with pytest.raises(RuntimeError, match=str(e).split(" ")[0]):
            f(gg)
        return
    got = f(gg)
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_array_equal(got.numpy(), want.numpy())
