"""The solve / inverse / determinant family (ops/linalg_solve.py, glassgrad/linalg_solve.py):
PyTorch parity of values and gradients, singular inputs and their errors, dtypes, empty shapes."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import DTypeError, ShapeError

DTYPES = ["float32", "float64"]


def _tol(dtype: str) -> dict:
    return {"rtol": 2e-4, "atol": 2e-4} if dtype == "float32" else {"rtol": 1e-8, "atol": 1e-10}


def _well(rng, shape: tuple) -> np.ndarray:
    """Random matrices with a dominant diagonal: well conditioned."""
    n = shape[-1]
    return rng.uniform(-1, 1, shape) + 2.0 * n * np.eye(n)


def _compare(torch, fn_gg, fn_t, arrays: list, dtype: str, seed: int = 0, grad: bool = True):
    """Run both libraries on the same inputs; compare the outputs and the inputs' gradients for a
    random upstream gradient."""
    rng = np.random.default_rng(seed)
    xs = [gg.tensor(a.astype(dtype), requires_grad=grad) for a in arrays]
    ts = [torch.tensor(a.astype(dtype), requires_grad=grad) for a in arrays]
    y, yt = fn_gg(*xs), fn_t(*ts)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), **_tol(dtype))
    assert str(y.dtype).split(".")[-1] == dtype
    if grad:
        w = rng.standard_normal(tuple(y.shape)).astype(dtype)
        (y * gg.tensor(w)).sum().backward()
        (yt * torch.tensor(w)).sum().backward()
        for x, t in zip(xs, ts):
            np.testing.assert_allclose(x.grad.detach().numpy(), t.grad.detach().numpy(), **_tol(dtype))


SOLVE_SHAPES = [
    ((3, 3), (3, 2)),
    ((3, 3), (3,)),  # a vector
    ((2, 3, 3), (2, 3)),  # a batch of vectors (B's shape is A's without the last dim)
    ((2, 3, 3), (3,)),
    ((2, 3, 3), (3, 2)),  # B broadcast over A's batch
    ((2, 1, 3, 3), (4, 3, 1)),  # both broadcast
    ((4, 4), (2, 4, 4)),  # B (2, 4, 4) is a batch of matrices, not of vectors
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("sa", "sb"), SOLVE_SHAPES)
def test_solve_matches_pytorch(torch, dtype, sa, sb):
    rng = np.random.default_rng(1)
    a, b = _well(rng, sa), rng.standard_normal(sb)
    _compare(torch, gg.linalg.solve, torch.linalg.solve, [a, b], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("sa", "sb"), [((3, 3), (2, 3)), ((2, 3, 3), (5, 3)), ((3, 3), (2, 4, 3))])
def test_solve_left_false_matches_pytorch(torch, dtype, sa, sb):
    rng = np.random.default_rng(2)
    a, b = _well(rng, sa), rng.standard_normal(sb)
    _compare(
        torch,
        lambda x, y: gg.linalg.solve(x, y, left=False),
        lambda x, y: torch.linalg.solve(x, y, left=False),
        [a, b],
        dtype,
    )


def test_solve_shape_errors(torch):
    with pytest.raises(ShapeError, match=r"linalg.solve: expected B \(\.\.\., 2, k\)"):
        gg.linalg.solve(gg.eye(2), gg.ones(3))
    with pytest.raises(ShapeError, match="linalg.solve: expected A to be square"):
        gg.linalg.solve(gg.ones(2, 3), gg.ones(2))
    with pytest.raises(ShapeError, match="for left=False, got the vector"):  # as PyTorch refuses
        gg.linalg.solve(gg.eye(3), gg.ones(3), left=False)
    with pytest.raises(RuntimeError):
        torch.linalg.solve(torch.eye(3), torch.ones(3), left=False)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (2, 1, 2, 2), (1, 1)])
def test_inv_det_slogdet_match_pytorch(torch, dtype, shape):
    rng = np.random.default_rng(3)
    a = _well(rng, shape) * np.where(rng.uniform(size=shape[:-2] + (1, 1)) < 0.5, -1.0, 1.0)
    _compare(torch, gg.linalg.inv, torch.linalg.inv, [a], dtype)
    _compare(torch, gg.linalg.det, torch.linalg.det, [a / shape[-1]], dtype)
    _compare(
        torch, lambda x: gg.linalg.slogdet(x).logabsdet, lambda x: torch.linalg.slogdet(x)[1], [a], dtype
    )
    sign = gg.linalg.slogdet(gg.tensor(a.astype(dtype))).sign
    np.testing.assert_array_equal(
        sign.detach().numpy(), torch.linalg.slogdet(torch.tensor(a)).sign.detach().numpy()
    )
    assert sign.dtype == getattr(gg, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_logdet_of_negative_and_singular_matrices(torch, dtype):
    # batch: det > 0, det < 0 (nan, zero gradient), as PyTorch
    a = np.array([[[2.0, 1.0], [1.0, 3.0]], [[0.0, 1.0], [1.0, 0.5]]])
    _compare(torch, gg.logdet, torch.logdet, [a], dtype)
    out = gg.tensor(a.astype(dtype)).logdet()
    assert np.isnan(out.detach().numpy()[1]) and np.isfinite(out.detach().numpy()[0])
    sing = gg.tensor([[1.0, 2.0], [2.0, 4.0]], dtype=getattr(gg, dtype), requires_grad=True)
    s, la = gg.slogdet(sing)
    assert s.item() == 0 and la.item() == -np.inf and gg.logdet(sing).item() == -np.inf
    la.backward()
    assert np.isinf(sing.grad.detach().numpy()).all()  # PyTorch: ±inf as well (signs may differ)


def test_det_of_singular_matrices_and_its_gradient(torch):
    # rank n-1: det 0, gradient the cofactor matrix adj(A)ᵀ = [[4, -2], [-2, 1]]
    a = gg.tensor([[1.0, 2.0], [2.0, 4.0]], dtype=gg.float64, requires_grad=True)
    d = gg.linalg.det(a)
    d.backward()
    assert d.item() == 0
    np.testing.assert_allclose(a.grad.detach().numpy(), [[4.0, -2.0], [-2.0, 1.0]], atol=1e-12)
    # PyTorch returns zeros at an exactly singular matrix (a deliberate difference: ours is the
    # limit of its gradient at nearby invertible matrices)
    at = torch.tensor([[1.0, 2.0], [2.0, 4.0 + 1e-9]], dtype=torch.float64, requires_grad=True)
    torch.linalg.det(at).backward()
    np.testing.assert_allclose(a.grad.detach().numpy(), at.grad.detach().numpy(), atol=1e-8)
    # rank n-2: every cofactor is 0; a batch mixing singular and invertible matrices
    b = np.stack([np.ones((3, 3)), np.diag([1.0, 2.0, 3.0]), [[1.0, 2, 3], [2, 4, 6], [1, 0, 1]]])
    x = gg.tensor(b, requires_grad=True)
    gg.det(x).sum().backward()
    cof_rank2 = np.array([[4.0, 4, -4], [-2, -2, 2], [0, 0, 0]])  # rank n-1: adj(A)ᵀ is not 0
    np.testing.assert_allclose(x.grad.detach().numpy()[0], np.zeros((3, 3)), atol=1e-12)
    np.testing.assert_allclose(x.grad.detach().numpy()[1], np.diag([6.0, 3.0, 2.0]), atol=1e-12)
    np.testing.assert_allclose(x.grad.detach().numpy()[2], cof_rank2, atol=1e-12)


@pytest.mark.parametrize("op", ["solve", "inv"])
def test_singular_solve_and_inv_raise_linalg_error(torch, op):
    a = np.stack([np.eye(2), [[1.0, 2.0], [2.0, 4.0]]])
    args = (gg.tensor(a),) + ((gg.ones(2, dtype=gg.float64),) if op == "solve" else ())
    with pytest.raises(gg.linalg.LinAlgError, match=rf"linalg.{op}: .*singular.*batch element \(1,\)") as e:
        getattr(gg.linalg, op)(*args)
    assert isinstance(e.value, RuntimeError) and "(2, 2, 2)" in str(e.value)
    targs = (torch.tensor(a),) + ((torch.ones(2, dtype=torch.float64),) if op == "solve" else ())
    with pytest.raises(torch.linalg.LinAlgError):
        getattr(torch.linalg, op)(*targs)
    with pytest.raises(gg.linalg.LinAlgError, match="linalg.inv"):
        gg.tensor([[1.0, 2.0], [2.0, 4.0]]).matrix_power(-1)


def test_solve_ex_and_inv_ex_report_info_as_pytorch(torch):
    a = np.stack([np.eye(3), [[1.0, 2, 3], [0, 0, 0], [1, 1, 1]], [[1.0, 2, 3], [2, 4, 6], [1, 1, 1]]])
    b = np.ones(3)
    res, info = gg.linalg.solve_ex(gg.tensor(a), gg.tensor(b))
    tres, tinfo = torch.linalg.solve_ex(torch.tensor(a), torch.tensor(b))
    np.testing.assert_array_equal(info.detach().numpy(), tinfo.detach().numpy())
    assert info.dtype == gg.int32 and res.shape == tuple(tres.shape)
    np.testing.assert_allclose(res.detach().numpy()[0], tres.detach().numpy()[0])
    inv, info = gg.linalg.inv_ex(gg.tensor(a))
    np.testing.assert_array_equal(
        info.detach().numpy(), torch.linalg.inv_ex(torch.tensor(a)).info.detach().numpy()
    )
    np.testing.assert_allclose(inv.detach().numpy()[0], np.eye(3))
    with pytest.raises(gg.linalg.LinAlgError, match="linalg.solve_ex"):
        gg.linalg.solve_ex(gg.tensor(a), gg.tensor(b), check_errors=True)
    with pytest.raises(gg.linalg.LinAlgError, match="linalg.inv_ex"):
        gg.linalg.inv_ex(gg.tensor(a), check_errors=True)
    # invertible inputs: info 0, a differentiable result
    x = gg.tensor(_well(np.random.default_rng(4), (2, 3, 3)), requires_grad=True)
    r, i = gg.linalg.solve_ex(x, gg.ones(2, 3, 1, dtype=gg.float64))
    assert i.tolist() == [0, 0] and r.requires_grad
    assert gg.linalg.inv_ex(x).info.tolist() == [0, 0]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [-3, -1, 0, 1, 2, 5])
def test_matrix_power_matches_pytorch(torch, dtype, n):
    a = _well(np.random.default_rng(5), (2, 3, 3)) / 6.0
    _compare(
        torch, lambda x: gg.linalg.matrix_power(x, n), lambda x: torch.linalg.matrix_power(x, n), [a], dtype
    )


def test_matrix_power_of_integers_and_errors(torch):
    a = gg.tensor([[1, 2], [3, 4]])
    assert a.matrix_power(3).tolist() == torch.tensor([[1, 2], [3, 4]]).matrix_power(3).tolist()
    assert gg.matrix_power(a, 0).tolist() == [[1, 0], [0, 1]]
    with pytest.raises(TypeError, match="linalg.matrix_power: expected an integer power"):
        gg.linalg.matrix_power(gg.eye(2), 1.5)
    with pytest.raises(ShapeError, match="linalg.matrix_power"):
        gg.linalg.matrix_power(gg.ones(2, 3), 2)
    x = gg.tensor([[np.nan, 1.0], [2.0, 3.0]])
    assert gg.linalg.matrix_power(x, 0).tolist() == [[1.0, 0.0], [0.0, 1.0]]  # I even for NaN entries


LSTSQ_SHAPES = [
    ((5, 3), (5, 2)),
    ((3, 3), (3, 2)),
    ((4, 3), (4,)),  # a vector
    ((2, 4, 3), (2, 4)),  # a batch of vectors (B has one dim less than A)
    ((2, 4, 3), (1, 4, 2)),
    ((2, 3, 5), (2, 3, 2)),  # wide: the minimum-norm solution
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("sa", "sb"), LSTSQ_SHAPES)
def test_lstsq_matches_pytorch(torch, dtype, sa, sb):
    rng = np.random.default_rng(6)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    _compare(
        torch,
        lambda x, y: gg.linalg.lstsq(x, y).solution,
        lambda x, y: torch.linalg.lstsq(x, y)[0],
        [a, b],
        dtype,
    )
    for driver in ["gels", "gelsy", "gelsd", "gelss"]:
        r = gg.linalg.lstsq(gg.tensor(a.astype(dtype)), gg.tensor(b.astype(dtype)), driver=driver)
        t = torch.linalg.lstsq(torch.tensor(a.astype(dtype)), torch.tensor(b.astype(dtype)), driver=driver)
        for ours, theirs in zip(r, t):
            assert (
                ours.shape == tuple(theirs.shape) and str(ours.dtype).split(".")[-1] == str(theirs.dtype)[6:]
            )
            np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-3, atol=1e-3)


def test_lstsq_rank_deficient_and_errors(torch):
    a = np.array([[1.0, 2.0], [2.0, 4.0], [1.0, 2.0]])
    r = gg.linalg.lstsq(gg.tensor(a), gg.ones(3, 1, dtype=gg.float64))
    t = torch.linalg.lstsq(torch.tensor(a), torch.ones(3, 1, dtype=torch.float64))
    np.testing.assert_allclose(r.solution.detach().numpy(), t.solution.detach().numpy())
    assert r.rank.item() == t.rank.item() == 1
    assert gg.linalg.lstsq(gg.zeros(4, 3), gg.ones(4, 2)).rank.item() == 0
    assert gg.linalg.lstsq(gg.randn(4, 3), gg.randn(4, 2), rcond=0.9).rank.item() < 3
    with pytest.raises(ValueError, match="linalg.lstsq: expected driver"):
        gg.linalg.lstsq(gg.eye(2), gg.eye(2), driver="foo")
    with pytest.raises(ShapeError, match="linalg.lstsq"):
        gg.linalg.lstsq(gg.ones(4, 3), gg.ones(3, 2))
    with pytest.raises(ShapeError, match="linalg.lstsq"):
        gg.linalg.lstsq(gg.ones(4, 3), gg.ones(2, 4, 2))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_ex_matches_pytorch(torch, dtype, upper):
    x = np.random.default_rng(7).standard_normal((2, 3, 3))
    a = x @ x.swapaxes(-1, -2) + 3 * np.eye(3)
    _compare(
        torch,
        lambda m: gg.linalg.cholesky_ex(m, upper=upper).L,
        lambda m: torch.linalg.cholesky_ex(m, upper=upper).L,
        [a],
        dtype,
    )
    bad = np.stack([a[0], [[1.0, 2, 0], [2, 1, 0], [0, 0, 1]], [[4.0, 2, 1], [2, 1, 0], [1, 0, 3]]])
    low, info = gg.linalg.cholesky_ex(gg.tensor(bad.astype(dtype)), upper=upper)
    tlow, tinfo = torch.linalg.cholesky_ex(torch.tensor(bad.astype(dtype)), upper=upper)
    np.testing.assert_array_equal(info.detach().numpy(), tinfo.detach().numpy())
    assert info.dtype == gg.int32
    np.testing.assert_allclose(low.detach().numpy()[0], tlow.detach().numpy()[0], **_tol(dtype))
    with pytest.raises(gg.linalg.LinAlgError, match="linalg.cholesky_ex: .*order 2"):
        gg.linalg.cholesky_ex(gg.tensor(bad), check_errors=True)
    for lib in (gg, torch):  # cholesky itself raises the same type as PyTorch's
        with pytest.raises(lib.linalg.LinAlgError):
            lib.linalg.cholesky(lib.tensor(bad))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_solve_and_inverse_match_pytorch(torch, dtype, upper):
    rng = np.random.default_rng(8)
    low = np.tril(rng.uniform(-1, 1, (2, 3, 3))) + 3 * np.eye(3)
    fac = low.swapaxes(-1, -2) if upper else low
    b = rng.standard_normal((3, 2))
    _compare(torch, lambda l: gg.cholesky_solve(gg.tensor(b.astype(dtype)), l, upper), lambda l: torch.cholesky_solve(torch.tensor(b.astype(dtype)), l, upper), [fac], dtype, grad=False)  # fmt: skip
    _compare(torch, lambda l: gg.cholesky_inverse(l[0], upper), lambda l: torch.cholesky_inverse(l[0], upper), [fac], dtype, grad=False)  # fmt: skip
    # gradients: PyTorch's, that of (L Lᴴ)⁻¹ B in all of L (its unread triangle too, round 65)
    lg, lt = gg.tensor(fac, requires_grad=True), torch.tensor(fac, requires_grad=True)
    bg, bt = gg.tensor(b, requires_grad=True), torch.tensor(b, requires_grad=True)
    (gg.cholesky_solve(bg, lg, upper) ** 2).sum().backward()
    (torch.cholesky_solve(bt, lt, upper) ** 2).sum().backward()
    np.testing.assert_allclose(lg.grad.detach().numpy(), lt.grad.detach().numpy(), rtol=1e-8)
    np.testing.assert_allclose(bg.grad.detach().numpy(), bt.grad.detach().numpy(), rtol=1e-8)
    x = gg.tensor(fac[0], requires_grad=True)
    x.cholesky_inverse(upper).sum().backward()
    xt = torch.tensor(fac[0], requires_grad=True)
    xt.cholesky_inverse(upper).sum().backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), xt.grad.detach().numpy(), rtol=1e-8)
    with pytest.raises(ShapeError, match="cholesky_solve: expected B"):
        gg.cholesky_solve(gg.ones(3), gg.eye(3))


def test_vander_tensorinv_tensorsolve_match_pytorch(torch):
    _compare(
        torch,
        gg.linalg.vander,
        torch.linalg.vander,
        [np.array([[0.0, 2.0, -3.0], [1.0, 0.5, 0.0]])],
        "float64",
    )
    _compare(torch, lambda x: gg.linalg.vander(x, N=5), lambda x: torch.linalg.vander(x, N=5), [np.array([0.0, 2.0])], "float32")  # fmt: skip
    assert (
        gg.linalg.vander(gg.tensor([1, 2, 3])).tolist()
        == torch.linalg.vander(torch.tensor([1, 2, 3])).tolist()
    )
    with pytest.raises(ValueError, match="linalg.vander: expected N greater than 1"):
        gg.linalg.vander(gg.ones(2), N=1)
    rng = np.random.default_rng(9)
    a = _well(rng, (6, 6)).reshape(2, 3, 6)
    _compare(
        torch,
        lambda x: gg.linalg.tensorinv(x, ind=2),
        lambda x: torch.linalg.tensorinv(x, ind=2),
        [a],
        "float64",
    )
    b = rng.standard_normal((2, 3))
    a4 = _well(rng, (6, 6)).reshape(2, 3, 2, 3)
    _compare(torch, gg.linalg.tensorsolve, torch.linalg.tensorsolve, [a4, b], "float64")
    a5 = np.moveaxis(a4, -1, 0)  # (3, 2, 3, 2): dims=(0,) moves its first dim back to the end
    _compare(
        torch,
        lambda x, y: gg.linalg.tensorsolve(x, y, dims=(0,)),
        lambda x, y: torch.linalg.tensorsolve(x, y, dims=(0,)),
        [a5, b],
        "float64",
    )
    with pytest.raises(ShapeError, match="linalg.tensorinv"):
        gg.linalg.tensorinv(gg.ones(2, 3), ind=1)


@pytest.mark.parametrize(
    "op", ["solve", "inv", "det", "slogdet", "lstsq", "cholesky_ex", "inv_ex", "solve_ex"]
)
def test_integer_and_half_inputs_are_refused(op):
    fn = getattr(gg.linalg, op)
    for dtype in (gg.int64, gg.float16):
        a = gg.eye(2).to(dtype)
        args = (a, a) if op in ("solve", "lstsq", "solve_ex") else (a,)
        # (the forms that take complex too say so: "a float32, float64, complex64 or complex128 input")
        with pytest.raises(DTypeError, match=rf"linalg.{op}: expected a float32(,| or) float64.* input, got"):
            fn(*args)
    with pytest.raises(DTypeError, match="one dtype"):
        gg.linalg.solve(gg.eye(2), gg.ones(2, dtype=gg.float64))


def test_empty_batches_and_0x0_matrices(torch):
    for shape in [(0, 0), (2, 0, 0), (0, 3, 3)]:
        a, t = gg.zeros(*shape), torch.zeros(*shape)
        np.testing.assert_array_equal(gg.linalg.det(a).detach().numpy(), torch.linalg.det(t).detach().numpy())
        assert gg.linalg.inv(a).shape == tuple(torch.linalg.inv(t).shape)
        s, la = gg.linalg.slogdet(a)
        np.testing.assert_array_equal(s.detach().numpy(), torch.linalg.slogdet(t).sign.detach().numpy())
        np.testing.assert_array_equal(la.detach().numpy(), torch.linalg.slogdet(t).logabsdet.detach().numpy())
        b, tb = gg.zeros(*shape[:-1]), torch.zeros(*shape[:-1])
        assert gg.linalg.solve(a, b).shape == tuple(torch.linalg.solve(t, tb).shape)
        assert gg.linalg.solve_ex(a, b).info.shape == tuple(torch.linalg.solve_ex(t, tb).info.shape)
    assert gg.linalg.det(gg.zeros(0, 0)).item() == 1.0
    r = gg.linalg.lstsq(gg.zeros(0, 4, 3), gg.ones(0, 4, 2))
    assert r.solution.shape == (0, 3, 2) and r.rank.shape == (0,)


def test_top_level_names_and_methods():
    a = gg.tensor([[2.0, 1.0], [1.0, 3.0]])
    assert gg.inverse(a).allclose(a.inverse()) and gg.det(a).item() == pytest.approx(a.det().item())
    assert a.logdet().item() == pytest.approx(np.log(5.0)) and a.slogdet().sign.item() == 1.0
    assert gg.slogdet(a).logabsdet.item() == pytest.approx(np.log(5.0))
    assert a.matrix_power(2).allclose(a @ a) and gg.matrix_power(a, -1).allclose(gg.linalg.inv(a))
    low = gg.linalg.cholesky(a)
    assert gg.ones(2, 1).cholesky_solve(low).allclose(gg.linalg.solve(a, gg.ones(2, 1)), atol=1e-6)
    assert low.cholesky_inverse().allclose(gg.linalg.inv(a), atol=1e-6)
    assert issubclass(gg.linalg.LinAlgError, RuntimeError)
