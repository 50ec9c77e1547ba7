"""Round 59's forward-mode hunt, against PyTorch: the decompositions and fused recurrent layers
that had no forward rule (SVD, QR, pinv, matrix_exp, lstsq, RNN/GRU/LSTM, scatter_reduce's
prod/amax/amin), eigh's and cholesky's tangent of a dA that is not symmetric (a jacfwd basis
matrix), a tangent PyTorch makes differentiable (reverse mode through it refuses instead of
dropping terms), and Python's ``x[key] op= v`` on a dual tensor."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.autograd.forward_ad as fwAD
from glassgrad.errors import GraphError

RTOL, ATOL = 1e-10, 1e-12


def _fw(lib):
    if lib is gg:
        return fwAD
    import torch.autograd.forward_ad as tfw

    return tfw


def _np(t):
    return np.asarray(t.detach().numpy() if hasattr(t, "detach") else t.numpy())


def _jvp(lib, fn, xs, vs):
    """(outputs, tangents) of fn at xs along vs, through dual_level/make_dual/unpack_dual."""
    fw = _fw(lib)
    with fw.dual_level():
        out = fn(lib, *(fw.make_dual(lib.tensor(x), lib.tensor(v)) for x, v in zip(xs, vs)))
        outs = out if isinstance(out, tuple) else (out,)
        unpacked = [fw.unpack_dual(o) for o in outs]
        return [_np(u.primal) for u in unpacked], [
            None if u.tangent is None else _np(u.tangent) for u in unpacked
        ]


def _central(fn, xs, vs, eps=1e-6):
    plus = fn(gg, *(gg.tensor(x + eps * v) for x, v in zip(xs, vs)))
    minus = fn(gg, *(gg.tensor(x - eps * v) for x, v in zip(xs, vs)))
    plus = plus if isinstance(plus, tuple) else (plus,)
    minus = minus if isinstance(minus, tuple) else (minus,)
    return [(_np(p) - _np(m)) / (2 * eps) for p, m in zip(plus, minus)]


def _sign_fixed(lib, m, ref):
    """Columns of m with the sign making ref's entries positive (a gauge both libraries share)."""
    return m * lib.sign(ref)


# fmt: off
DECOMPOSITIONS = {
    "svdvals": (lambda L, a: L.linalg.svdvals(a), [(4, 3)]),
    "svd_U": (lambda L, a: (lambda r: _sign_fixed(L, r.U, r.U[..., :1, :]))(L.linalg.svd(a, full_matrices=False)), [(2, 4, 3)]),
    "svd_Vh": (lambda L, a: (lambda r: _sign_fixed(L, r.Vh, r.Vh[..., :, :1]))(L.linalg.svd(a, full_matrices=False)), [(3, 5)]),
    "svd_full_matrices": (lambda L, a: (lambda r: (_sign_fixed(L, r.U[..., :3], r.U[..., :1, :3]), r.S))(L.linalg.svd(a)), [(2, 5, 3)]),
    "qr_complete_R": (lambda L, a: L.linalg.qr(a, mode="complete").R.abs(), [(3, 5)]),
    "lstsq_wide": (lambda L, a, b: L.linalg.lstsq(a, b).solution, [(3, 5), (3, 2)]),
    "matrix_norm_nuc": (lambda L, a: L.linalg.matrix_norm(a, "nuc"), [(3, 4)]),
    "cond": (lambda L, a: L.linalg.cond(a), [(3, 3)]),
    "qr_R": (lambda L, a: (lambda r: r.R * L.sign(L.diagonal(r.R, dim1=-2, dim2=-1))[..., None])(L.linalg.qr(a)), [(4, 3)]),
    "qr_Q": (lambda L, a: (lambda r: r.Q * L.sign(L.diagonal(r.R, dim1=-2, dim2=-1))[..., None, :])(L.linalg.qr(a)), [(2, 4, 3)]),
    "pinv": (lambda L, a: L.linalg.pinv(a), [(2, 3, 5)]),
    "matrix_exp": (lambda L, a: L.linalg.matrix_exp(a), [(2, 3, 3)]),
    "lstsq": (lambda L, a, b: L.linalg.lstsq(a, b).solution, [(5, 3), (5, 2)]),
    "scatter_reduce_amax": (
        lambda L, a, s: L.scatter_reduce(a, 1, L.tensor([[0, 0], [1, 3], [2, 0]]), s, "amax", include_self=False),
        [(3, 4), (3, 2)],
    ),
    "scatter_reduce_amin": (
        lambda L, a, s: L.scatter_reduce(a, 1, L.tensor([[0, 0], [1, 3], [2, 0]]), s, "amin"),
        [(3, 4), (3, 2)],
    ),
}
# fmt: on


@pytest.mark.parametrize("name", sorted(DECOMPOSITIONS))
def test_rules_from_the_recorded_vjp_match_torch(torch, name):
    fn, shapes = DECOMPOSITIONS[name]
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal(s) for s in shapes]
    vs = [rng.standard_normal(s) for s in shapes]
    want_p, want_t = _jvp(torch, fn, xs, vs)
    got_p, got_t = _jvp(gg, fn, xs, vs)
    for wp, wt, gp, gt, fd in zip(want_p, want_t, got_p, got_t, _central(fn, xs, vs)):
        np.testing.assert_allclose(gp, wp, rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(gt, wt, rtol=1e-9, atol=1e-11)
        np.testing.assert_allclose(gt, fd, rtol=1e-5, atol=1e-7)


def test_scatter_reduce_prod_tangent_is_the_derivative():
    """PyTorch 2.13 drops this tangent (None); glassgrad's is the derivative, zero factors
    included (PyTorch's backward formula, round 64), except where two zeros from src reach one
    place: refused by name, as PyTorch's double backward refuses it."""
    fn = lambda L, a, s: L.scatter_reduce(a, 1, L.tensor([[0, 0], [1, 3], [2, 0]]), s, "prod")  # noqa: E731
    rng = np.random.default_rng(1)
    a, s = rng.standard_normal((3, 4)), rng.standard_normal((3, 2))
    va, vs = rng.standard_normal((3, 4)), rng.standard_normal((3, 2))
    for zero in (None, ("a", 1, 1), ("s", 0, 0)):  # none, one in x, then one in src as well
        if zero:
            {"a": a, "s": s}[zero[0]][zero[1:]] = 0.0
        (_,), (tangent,) = _jvp(gg, fn, [a, s], [va, vs])
        np.testing.assert_allclose(tangent, _central(fn, [a, s], [va, vs])[0], rtol=1e-7, atol=1e-9)
    s[0, 1] = 0.0  # row 0: both of src's entries go to place 0
    with pytest.raises(NotImplementedError, match="'scatter_reduce' with these inputs.*Double backward"):
        _jvp(gg, fn, [a, s], [va, vs])


@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
@pytest.mark.parametrize(
    "opts", [{}, {"num_layers": 2, "bidirectional": True, "batch_first": True}], ids=["one", "bi2"]
)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_recurrent_layers_jvp_input_state_and_weights(torch, kind, opts, dtype):
    """func.jvp through a recurrent layer with tangents on its input, h0 and every weight; the
    reference is PyTorch in float64 (its float32 LSTM has no forward AD on CPU: mkldnn)."""
    rng = np.random.default_rng(2)
    layers = 2 * opts.get("num_layers", 1) if opts.get("bidirectional") else 1
    x = rng.standard_normal((2, 5, 4) if opts.get("batch_first") else (5, 2, 4)).astype(dtype)
    h0 = rng.standard_normal((layers, 2, 3)).astype(dtype)
    results = []
    for lib, run_dtype in ((torch, "float64"), (gg, dtype)):
        lib.manual_seed(0)
        m = getattr(lib.nn, kind)(4, 3, **opts).to(getattr(lib, run_dtype))
        names = [n for n, _ in m.named_parameters()]
        ps = {
            n: lib.tensor(
                np.random.default_rng(i).uniform(-0.5, 0.5, tuple(p.shape)).astype(dtype),
                dtype=getattr(lib, run_dtype),
            )
            for i, (n, p) in enumerate(m.named_parameters())
        }
        ts = {
            n: lib.tensor(
                np.random.default_rng(10 + i).standard_normal(tuple(ps[n].shape)).astype(dtype),
                dtype=getattr(lib, run_dtype),
            )
            for i, n in enumerate(names)
        }

        def f(p, x, h, lib=lib, m=m):
            out = lib.func.functional_call(m, p, (x, (h, h * 0.5) if kind == "LSTM" else h))
            return out[0], out[1][0] if kind == "LSTM" else out[1]

        cast = getattr(lib, run_dtype)
        prim = (ps, lib.tensor(x, dtype=cast), lib.tensor(h0, dtype=cast))
        tang = (ts, lib.tensor(x[::-1].copy(), dtype=cast), lib.tensor(h0 * 0.3, dtype=cast))
        out, tan = lib.func.jvp(f, prim, tang)
        results.append([_np(o) for o in out + tan])
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == "float64" else dict(rtol=2e-4, atol=1e-5)
    for w, g in zip(*results):
        assert g.dtype == np.dtype(dtype)
        np.testing.assert_allclose(g, w, **tol)


def _sym(n, seed):
    m = np.random.default_rng(seed).standard_normal((n, n))
    return m + m.T


def _spd(n, seed):
    m = np.random.default_rng(seed).standard_normal((n, n))
    return m @ m.T + n * np.eye(n)


# fmt: off
SYMMETRIC_INPUT = {
    "eigvalsh": (lambda L, a: L.linalg.eigvalsh(a), _sym),
    "eigvalsh_U": (lambda L, a: L.linalg.eigvalsh(a, UPLO="U"), _sym),
    "eigh_vectors": (lambda L, a: (lambda e: _sign_fixed(L, e.eigenvectors, e.eigenvectors[..., :1, :]))(L.linalg.eigh(a)), _sym),
    "cholesky": (lambda L, a: L.linalg.cholesky(a), _spd),
    "cholesky_upper": (lambda L, a: L.linalg.cholesky(a, upper=True), _spd),
    "cholesky_ex": (lambda L, a: L.linalg.cholesky_ex(a).L, _spd),
}
# fmt: on


@pytest.mark.parametrize("name", sorted(SYMMETRIC_INPUT))
@pytest.mark.parametrize("tangent", ["asymmetric", "symmetric"])
def test_symmetric_input_ops_take_the_tangent_as_given(torch, name, tangent):
    """PyTorch's eigh/cholesky JVP uses dA as given (V^T dA V; L^-1 dA L^-T), not the symmetric
    matrix read from one triangle of it: a jacfwd basis matrix e_ij is not symmetric."""
    fn, make = SYMMETRIC_INPUT[name]
    a = make(4, 3)
    v = np.random.default_rng(4).standard_normal((4, 4))
    v = v + v.T if tangent == "symmetric" else v
    (wp,), (wt,) = _jvp(torch, fn, [a], [v])
    (gp,), (gt,) = _jvp(gg, fn, [a], [v])
    np.testing.assert_allclose(gp, wp, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(gt, wt, rtol=1e-9, atol=1e-11)


def test_jacfwd_of_eigvalsh_and_logdet_via_cholesky(torch):
    a, s = _sym(4, 5), _spd(4, 6)
    for f in (
        lambda L, m: L.linalg.eigvalsh(m),
        lambda L, m: 2 * L.linalg.cholesky(m).diagonal(dim1=-2, dim2=-1).log().sum(),
    ):
        for m in (a, s) if f.__code__.co_names.count("eigvalsh") else (s,):
            want = torch.func.jacfwd(lambda x: f(torch, x))(torch.tensor(m)).numpy()
            got = gg.func.jacfwd(lambda x: f(gg, x))(gg.tensor(m)).numpy()
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11)


def test_jvp_agrees_with_vjp_for_eigvalsh():
    """<g, J t> = <J^T g, t> for any t: forward and reverse mode use one Jacobian."""
    a = gg.tensor(_sym(4, 7))
    rng = np.random.default_rng(8)
    t, g = rng.standard_normal((4, 4)), rng.standard_normal(4)
    with fwAD.dual_level():
        jt = fwAD.unpack_dual(gg.linalg.eigvalsh(fwAD.make_dual(a, gg.tensor(t)))).tangent.numpy()
    x = a.clone().requires_grad_()
    (gg.linalg.eigvalsh(x) * gg.tensor(g)).sum().backward()
    np.testing.assert_allclose(np.sum(jt * g), np.sum(x.grad.numpy() * t), rtol=1e-12)


# --- a tangent PyTorch makes differentiable -------------------------------------------------


def _reverse_through_tangent(lib, tangent_requires_grad):
    fw = _fw(lib)
    rng = np.random.default_rng(9)
    x = lib.tensor(rng.standard_normal((3, 4)), requires_grad=not tangent_requires_grad)
    v = lib.tensor(rng.standard_normal((3, 4)), requires_grad=tangent_requires_grad)
    with fw.dual_level():
        d = fw.make_dual(x, v)
        y = (d.sin() * d).sum(1)
        t = fw.unpack_dual(y).tangent
        given = fw.unpack_dual(d).tangent
        flags = (t.requires_grad, given.requires_grad, given is v)
        (t.sum() + y.sum()).backward()
    return flags


@pytest.mark.parametrize("tangent_requires_grad", [False, True], ids=["primal_grad", "tangent_grad"])
def test_reverse_through_a_tangent_refuses_instead_of_dropping_terms(torch, tangent_requires_grad):
    want = _reverse_through_tangent(torch, tangent_requires_grad)
    with pytest.raises(GraphError, match="forward-mode tangents are constants"):
        _reverse_through_tangent(gg, tangent_requires_grad)
    fw = fwAD
    x = gg.tensor(np.ones(3), requires_grad=not tangent_requires_grad)
    v = gg.tensor(np.ones(3), requires_grad=tangent_requires_grad)
    with fw.dual_level():
        d = fw.make_dual(x, v)
        got = (
            fw.unpack_dual(d.exp()).tangent.requires_grad,
            fw.unpack_dual(d).tangent.requires_grad,
            fw.unpack_dual(d).tangent is v,
        )
    assert got == want


def test_tangent_without_a_graph_stays_plain(torch):
    """Module parameters that require grad, but no_grad, or a detached primal: constants, as PyTorch's."""
    rng = np.random.default_rng(10)
    x, v = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    flags = []
    for lib in (torch, gg):
        fw = _fw(lib)
        lib.manual_seed(0)
        lin = lib.nn.Linear(3, 2).double()
        with fw.dual_level():
            d = fw.make_dual(lib.tensor(x), lib.tensor(v))
            with lib.no_grad():
                t_nograd = fw.unpack_dual(lin(d)).tangent
            t_plain = fw.unpack_dual(d.exp()).tangent
            flags.append(
                (t_nograd.requires_grad, t_plain.requires_grad, fw.unpack_dual(lin(d)).tangent.requires_grad)
            )
    assert flags[0] == flags[1]


def test_func_jvp_still_records_what_fwad_refuses(torch):
    rng = np.random.default_rng(11)
    x0, v0 = rng.standard_normal(4), rng.standard_normal(4)
    grads = []
    for lib in (torch, gg):
        x = lib.tensor(x0, requires_grad=True)
        out, t = lib.func.jvp(lambda z: (z.sin() * z).sum(), (x,), (lib.tensor(v0),))
        (t + out).backward()
        grads.append(_np(x.grad))
    np.testing.assert_allclose(grads[1], grads[0], rtol=RTOL, atol=ATOL)


# --- Python's x[key] op= v on a dual tensor -------------------------------------------------


def _augmented(name):
    def col(y, d, s):
        y[:, 0] += d[:, 1]

    def row(y, d, s):
        y[1] *= s

    def block(y, d, s):
        y[0, 1:3] -= d[2, :2] * 2

    def ellipsis(y, d, s):
        y[..., 2] /= d[:, 0] ** 2 + 1

    def twice(y, d, s):
        y[2] += 1.0
        y[1:] **= 2

    def loop(y, d, s):
        for i in range(3):
            y[i] += y[i - 1] * 0.5

    return {"col": col, "row": row, "block": block, "ellipsis": ellipsis, "twice": twice, "loop": loop}[name]


@pytest.mark.parametrize("name", ["col", "row", "block", "ellipsis", "twice", "loop"])
def test_augmented_assignment_into_a_dual_tensor(torch, name):
    rng = np.random.default_rng(12)
    a, v, s = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.standard_normal(4)
    results = []
    for lib in (torch, gg):
        fw = _fw(lib)
        with fw.dual_level():
            d = fw.make_dual(lib.tensor(a), lib.tensor(v))
            sd = fw.make_dual(lib.tensor(s), lib.tensor(np.ones(4)))
            y = d.clone()
            _augmented(name)(y, d, sd)
            p, t = fw.unpack_dual(y)
            results.append((_np(p), _np(t)))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=RTOL, atol=ATOL)


def test_write_through_another_view_before_the_augmented_assignment_still_refuses():
    """Row 1 changed through a view first: the recorded tangent is stale there, so x[0] += ...
    must not reuse it (the documented refusal, never a silently stale tangent)."""
    with fwAD.dual_level():
        y = fwAD.make_dual(gg.tensor(np.ones((3, 4))), gg.tensor(np.ones((3, 4)))).clone()
        y[1].mul_(2)
        with pytest.raises(RuntimeError, match="changed in place in a way forward AD cannot follow"):
            y[0] += 1.0
