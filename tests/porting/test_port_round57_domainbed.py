"""Round 57, DomainBed (facebookresearch) and FFJORD (rtqichen) on torchdiffeq (rtqichen).

DomainBed's algorithms (ERM, IRM, VREx, MLDG, DANN, ANDMask, Fish, ... 33 of them, MLP featurizer)
and FFJORD's toy training (CNFs through ``odeint_adjoint``, Hutchinson and brute-force divergence)
gave PyTorch's losses, gradients and parameters. torchdiffeq's implicit Runge-Kutta methods
(``trapezoid``, ``gl6``, ``radauIIA5`` ...) stopped on glassgrad: their Broyden iteration wraps
``torch.linalg.solve`` in ``except torch._C._LinAlgError`` and glassgrad's ``_C`` had no such name,
so a singular Jacobian became an ``AttributeError``. ``_C`` now holds PyTorch's C++-defined error
classes as the same classes as their public names. DomainBed's ``Nonparametric.icdf`` hands a float
to ``Normal.icdf``: PyTorch raises ``TypeError`` (from ``torch.erfinv``), glassgrad raised
``AttributeError``; ``Normal``, ``Cauchy`` and ``Exponential`` icdf now call the functions as
PyTorch does.

The other tests pin the patterns these programs are built from (written fresh here): IRM's penalty
through ``autograd.grad(create_graph=True)`` on a dummy scale, FFJORD's Hutchinson and brute-force
divergences under a second backward, and MLDG's first-order meta-gradient on a deep copy.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

import glassgrad as gg

# ---- torch._C's error classes --------------------------------------------------------------------

_C_ERRORS = [
    ("_LinAlgError", lambda lib: lib.linalg.LinAlgError),
    ("OutOfMemoryError", lambda lib: lib.OutOfMemoryError),
    ("_DistError", lambda lib: lib.distributed.DistError),
    ("_DistStoreError", lambda lib: lib.distributed.DistStoreError),
    ("_DistNetworkError", lambda lib: lib.distributed.DistNetworkError),
]


@pytest.mark.parametrize("name, public", _C_ERRORS, ids=[n for n, _ in _C_ERRORS])
def test_C_error_classes_are_the_public_ones(torch, name, public):
    for lib in (torch, gg):
        cls = getattr(lib._C, name)
        assert cls is public(lib)
        assert issubclass(cls, RuntimeError)


def _broyden(lib, a, b, max_iters=30, tol=1e-12):
    """torchdiffeq's implicit step: Broyden's method on F(k) = tanh(A k) + k - b, J from identity;
    a singular Jacobian stops the iteration (``except torch._C._LinAlgError``)."""
    k = lib.zeros(b.shape[0], dtype=lib.float64)
    f = lib.tanh(a @ k) + k - b
    jac = lib.ones_like(f).diag()
    stopped = False
    for _ in range(max_iters):
        if lib.linalg.norm(f, 2) < tol:
            break
        try:
            s = -lib.linalg.solve(jac, f)
        except lib._C._LinAlgError:
            stopped = True
            break
        k = k + s
        newf = lib.tanh(a @ k) + k - b
        z, f = newf - f, newf
        jac = jac + lib.outer(z - lib.linalg.vecdot(jac, s), s) / lib.dot(s, s)
    return k.numpy(), stopped


def test_broyden_iteration_matches_torch(torch):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((4, 4)) * 0.5, rng.standard_normal(4)
    k_gg, stop_gg = _broyden(gg, gg.tensor(a), gg.tensor(b))
    k_t, stop_t = _broyden(torch, torch.tensor(a), torch.tensor(b))
    assert stop_gg == stop_t is False
    np.testing.assert_allclose(k_gg, k_t, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("lib_name", ["torch", "glassgrad"])
def test_singular_solve_is_caught_as_C_LinAlgError(torch, lib_name):
    lib = torch if lib_name == "torch" else gg
    jac = lib.zeros(3, 3, dtype=lib.float64)  # a Broyden update that zeroed the Jacobian
    with pytest.raises(lib._C._LinAlgError):
        lib.linalg.solve(jac, lib.ones(3, dtype=lib.float64))


def test_C_unknown_name_lists_the_error_classes():
    with pytest.raises(AttributeError, match="_LinAlgError"):
        gg._C._NoSuchError  # noqa: B018


# ---- icdf of a float -----------------------------------------------------------------------------


def _dists(lib):
    t = lambda v: lib.tensor(v, dtype=lib.float64)  # noqa: E731
    return {
        "Normal": lib.distributions.Normal(t([0.0, 1.5]), t([1.0, 0.5])),
        "Cauchy": lib.distributions.Cauchy(t([0.0, 1.5]), t([1.0, 0.5])),
        "Exponential": lib.distributions.Exponential(t([1.0, 2.5])),
    }


@pytest.mark.parametrize("dist", ["Normal", "Cauchy", "Exponential"])
def test_icdf_of_a_float_is_a_type_error_as_torch(torch, dist):
    for lib in (torch, gg):
        with pytest.raises(TypeError):
            _dists(lib)[dist].icdf(0.75)


@pytest.mark.parametrize("dist", ["Normal", "Cauchy", "Exponential"])
def test_icdf_values_and_gradients_match_torch(torch, dist):
    q = np.array([[0.1, 0.6], [0.75, 0.3]])
    out = []
    for lib in (torch, gg):
        value = lib.tensor(q, requires_grad=True)
        x = _dists(lib)[dist].icdf(value)
        x.sum().backward()
        out.append((x.detach().numpy(), value.grad.numpy()))
    np.testing.assert_allclose(out[1][0], out[0][0], rtol=1e-13)
    np.testing.assert_allclose(out[1][1], out[0][1], rtol=1e-12)


# ---- the programs' autograd patterns against PyTorch ----------------------------------------------


def _mlp(lib, ws):
    net = lib.nn.Sequential(lib.nn.Linear(3, 5), lib.nn.Tanh(), lib.nn.Linear(5, 2)).double()
    with lib.no_grad():
        for p, w in zip(net.parameters(), ws):
            p.copy_(lib.tensor(w))
    return net


def _weights(seed):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) * 0.7 for s in [(5, 3), (5,), (2, 5), (2,)]]


def _irm_step(lib, ws, envs):
    """IRM: per-environment NLL plus the squared gradient of each half-batch loss at a dummy scale
    (autograd.grad with create_graph=True), then one backward through both."""
    net = _mlp(lib, ws)
    nll, penalty = 0.0, 0.0
    for x, y in envs:
        logits = net(lib.tensor(x))
        y = lib.tensor(y)
        scale = lib.tensor(1.0, dtype=lib.float64).requires_grad_()
        loss_1 = lib.nn.functional.cross_entropy(logits[::2] * scale, y[::2])
        loss_2 = lib.nn.functional.cross_entropy(logits[1::2] * scale, y[1::2])
        grad_1 = lib.autograd.grad(loss_1, [scale], create_graph=True)[0]
        grad_2 = lib.autograd.grad(loss_2, [scale], create_graph=True)[0]
        penalty = penalty + (grad_1 * grad_2).sum()
        nll = nll + lib.nn.functional.cross_entropy(logits, y)
    loss = (nll + 10.0 * penalty) / len(envs)
    loss.backward()
    return [loss.item()] + [p.grad.numpy() for p in net.parameters()]


def test_irm_penalty_gradients_match_torch(torch):
    rng = np.random.default_rng(3)
    envs = [(rng.standard_normal((6, 3)), rng.integers(0, 2, 6)) for _ in range(3)]
    ws = _weights(4)
    for a, b in zip(_irm_step(gg, ws, envs), _irm_step(torch, ws, envs)):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-14)


def _cnf_divergences(lib, ws, y0, e0):
    """FFJORD's ODEfunc: dy = f(t, y) with t concatenated; the Hutchinson estimate eᵀ(∂f/∂y)e and the
    brute-force trace, each by autograd.grad(create_graph=True), then a loss on both backpropagated."""
    net = _mlp(lib, ws)
    y = lib.tensor(y0).requires_grad_(True)
    t = lib.tensor(0.3, dtype=lib.float64)
    dy = net(lib.cat([y, t.expand(y.shape[0], 1)], 1))
    e = lib.tensor(e0)
    e_dzdx = lib.autograd.grad(dy, y, e, create_graph=True)[0]
    approx = (e_dzdx * e).view(y.shape[0], -1).sum(dim=1)
    brute = 0.0
    for i in range(y.shape[1]):
        brute = brute + lib.autograd.grad(dy[:, i].sum(), y, create_graph=True)[0].contiguous()[:, i]
    loss = (dy**2).mean() + approx.pow(2).mean() + brute.mean()
    loss.backward()
    return [approx.detach().numpy(), brute.detach().numpy(), y.grad.numpy()] + [
        p.grad.numpy() for p in net.parameters()
    ]


def test_cnf_hutchinson_and_brute_force_divergence_match_torch(torch):
    rng = np.random.default_rng(5)
    ws = _weights(6)
    y0, e0 = rng.standard_normal((4, 2)), rng.standard_normal((4, 2))
    for a, b in zip(_cnf_divergences(gg, ws, y0, e0), _cnf_divergences(torch, ws, y0, e0)):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-14)


def _mldg_step(lib, ws, pairs):
    """MLDG's first-order meta step: a deep copy takes an inner SGD step on env i, its gradient on
    env j (autograd.grad, allow_unused) is added into the original's .grad."""
    net = _mlp(lib, ws)
    opt = lib.optim.Adam(net.parameters(), lr=1e-2)
    opt.zero_grad()
    for p in net.parameters():
        if p.grad is None:
            p.grad = lib.zeros_like(p)
    for (xi, yi), (xj, yj) in pairs:
        inner = copy.deepcopy(net)
        inner_opt = lib.optim.Adam(inner.parameters(), lr=1e-2)
        inner_obj = lib.nn.functional.cross_entropy(inner(lib.tensor(xi)), lib.tensor(yi))
        inner_opt.zero_grad()
        inner_obj.backward()
        for p_tgt, p_src in zip(net.parameters(), inner.parameters()):
            p_tgt.grad.data.add_(p_src.grad.data / len(pairs))
        inner_opt.step()
        loss_j = lib.nn.functional.cross_entropy(inner(lib.tensor(xj)), lib.tensor(yj))
        grad_j = lib.autograd.grad(loss_j, inner.parameters(), allow_unused=True)
        for p, g in zip(net.parameters(), grad_j):
            p.grad.data.add_(0.5 * g.data / len(pairs))
    opt.step()
    return [p.detach().numpy() for p in net.parameters()]


def test_mldg_meta_step_matches_torch(torch):
    rng = np.random.default_rng(7)
    batches = [(rng.standard_normal((5, 3)), rng.integers(0, 2, 5)) for _ in range(3)]
    pairs = [(batches[i], batches[(i + 1) % 3]) for i in range(3)]
    ws = _weights(8)
    for a, b in zip(_mldg_step(gg, ws, pairs), _mldg_step(torch, ws, pairs)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
