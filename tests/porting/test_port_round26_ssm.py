"""Round 26, state-space models: mamba-minimal's ``model.double()`` runs an einsum of a float64
delta and a float32 A (``A = -exp(A_log.float())``), which PyTorch promotes because no index is
summed; state-spaces/mamba's ``selective_scan_ref`` with a complex A and S4D's kernel run complex
einsums. glassgrad refused both (one dtype, real only)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad
from glassgrad.errors import DTypeError

# (equation, shapes, dtypes): the pairs PyTorch 2.13 multiplies without summing promote; the
# ones that sum a shared index of size > 1 raise
CASES = [
    ("bdl,dn->bdln", [(2, 3, 4), (3, 5)], ["float64", "float32"]),
    ("ij,k->ik", [(2, 3), (4,)], ["float64", "float32"]),
    ("ij,jk->ik", [(2, 1), (1, 4)], ["float64", "float32"]),
    ("i,i,i->", [(3,), (3,), (3,)], ["float32", "float64", "float64"]),
    ("ij,jk->ijk", [(2, 3), (3, 4)], ["float32", "int64"]),
    ("...i,i->...i", [(2, 3), (3,)], ["float64", "float32"]),
    ("bdl,bnl,bdl->bdln", [(2, 3, 4), (2, 5, 4), (2, 3, 4)], ["float32", "complex64", "float32"]),
    ("ij,j->i", [(2, 3), (3,)], ["float64", "float32"]),
    ("i,i,i->", [(3,), (3,), (3,)], ["float64", "float64", "float32"]),
    ("ij,jk->ik", [(2, 3), (3, 4)], ["float32", "int64"]),
]


def _operands(lib, shapes, names, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for shape, name in zip(shapes, names):
        a = rng.standard_normal(shape) + (1j * rng.standard_normal(shape) if "complex" in name else 0)
        t = lib.tensor(
            a.astype(name) if "int" not in name else rng.integers(0, 3, shape), dtype=getattr(lib, name)
        )
        out.append(t.requires_grad_() if t.is_floating_point() or t.is_complex() else t)
    return out


@pytest.mark.parametrize("eq,shapes,names", CASES)
def test_einsum_mixed_dtypes_match_torch(torch, eq, shapes, names):
    t_ops, g_ops = _operands(torch, shapes, names), _operands(glassgrad, shapes, names)
    try:
        expected = torch.einsum(eq, *t_ops)
    except RuntimeError:
        with pytest.raises(DTypeError, match="einsum: expected scalar type"):
            glassgrad.einsum(eq, *g_ops)
        return
    got = glassgrad.einsum(eq, *g_ops)
    assert str(got.dtype).split(".")[1] == str(expected.dtype).split(".")[1]
    np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=1e-6, atol=1e-6)
    w = np.random.default_rng(1).standard_normal(tuple(expected.shape))
    (expected * torch.tensor(w)).real.sum().backward()
    (got * glassgrad.tensor(w)).real.sum().backward()
    for t, g in zip(t_ops, g_ops):
        if t.requires_grad:
            assert g.grad.dtype == g.dtype  # each operand's gradient in its own dtype
            np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_complex_einsum_gradients_match_torch(torch):
    """S4D's kernel: ``2 * einsum('hn, hnl -> hl', C, exp(K)).real`` with complex C and K."""
    shapes, names = [(3, 4), (3, 4, 5)], ["complex128", "complex128"]
    t_ops, g_ops = _operands(torch, shapes, names), _operands(glassgrad, shapes, names)
    t_out = 2 * torch.einsum("hn, hnl -> hl", t_ops[0], torch.exp(t_ops[1])).real
    g_out = 2 * glassgrad.einsum("hn, hnl -> hl", g_ops[0], glassgrad.exp(g_ops[1])).real
    np.testing.assert_allclose(g_out.detach().numpy(), t_out.detach().numpy(), rtol=1e-12)
    w = np.random.default_rng(2).standard_normal((3, 5))
    (t_out * torch.tensor(w)).sum().backward()
    (g_out * glassgrad.tensor(w)).sum().backward()
    for t, g in zip(t_ops, g_ops):
        np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_einsum_mixed_dtype_error_names_the_index():
    a, b = glassgrad.ones(2, 3, dtype=glassgrad.float64), glassgrad.ones(3)
    with pytest.raises(DTypeError, match="einsum: expected scalar type float64 but found float32.*'j'"):
        glassgrad.einsum("ij,j->i", a, b)


@pytest.mark.parametrize(
    "eq,shapes,complex_",
    [
        ("hn,hnl->hl", [(2, 3), (2, 3, 4)], [True, True]),  # S4D's kernel
        ("bdl,bnl,bdl->bdln", [(2, 3, 4), (2, 2, 4), (2, 3, 4)], [False, True, False]),  # mamba's complex B
    ],
)
def test_complex_einsum_double_backward(eq, shapes, complex_):
    """The complex twin has a recorded rule: create_graph=True works through it (gradgradcheck
    sees complex inputs through their real views)."""
    from glassgrad.autograd import gradgradcheck

    rng = np.random.default_rng(3)
    xs = [
        glassgrad.tensor(rng.standard_normal(s) + (1j * rng.standard_normal(s) if c else 0)).requires_grad_()
        for s, c in zip(shapes, complex_)
    ]
    assert gradgradcheck(lambda *a: glassgrad.einsum(eq, *a), xs)


_RP = np.random.default_rng(5)
_Z, _W = (
    _RP.standard_normal(4) + 1j * _RP.standard_normal(4),
    _RP.standard_normal(4) + 1j * _RP.standard_normal(4),
)
_R = np.abs(_RP.standard_normal(4)) + 0.5
POW = {
    "z**2": (lambda m, a: a**2, [_Z]),
    "z**3.5": (lambda m, a: a**3.5, [_Z]),
    "z**-1": (lambda m, a: m.pow(a, -1), [_Z]),
    "2**z": (lambda m, a: 2.0**a, [_Z]),
    "z**0.5j": (lambda m, a: a**0.5j, [_Z]),
    "z**w": (lambda m, a, b: a**b, [_Z, _W]),
    "real**w": (lambda m, a, b: a**b, [-_R, _W]),  # a negative real base: the principal ln
    "z**real": (lambda m, a, b: a**b, [_Z, _R]),
}


@pytest.mark.parametrize("name", sorted(POW))
def test_complex_pow_matches_torch_to_second_order(torch, name):
    """S4's ``omega ** torch.arange(L)`` (complex base): pow had no complex twin. Values, gradients
    (create_graph) and the gradients of a weighted sum of those gradients, as PyTorch's."""
    fn, arrays = POW[name]
    w = np.random.default_rng(6).standard_normal(4)
    results = []
    for lib in (torch, glassgrad):
        xs = [lib.tensor(a).requires_grad_() for a in arrays]
        y = fn(lib, *xs)
        firsts = lib.autograd.grad((y * lib.tensor(w)).real.sum(), xs, create_graph=True)
        total = sum((f * lib.tensor(w)).real.sum() for f in firsts)
        seconds = lib.autograd.grad(total, xs)
        results.append([t.detach().numpy() for t in (y, *firsts, *seconds)])
    # 2 ** z: PyTorch's second order takes ln 2 in float32 (2.7e-9 relative); glassgrad's in float64
    rtol = 1e-8 if name == "2**z" else 1e-10
    for got, expected in zip(results[1], results[0]):
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=1e-12)


def test_complex_pow_gradgradcheck_and_s4_omega(torch):
    from glassgrad.autograd import gradgradcheck

    for name in ("z**w", "real**w", "2**z"):
        fn, arrays = POW[name]
        assert gradgradcheck(
            lambda *xs: fn(glassgrad, *xs), [glassgrad.tensor(a).requires_grad_() for a in arrays]
        )
    t = torch.tensor(np.exp(-2j * np.pi / 8), dtype=torch.complex64) ** torch.arange(0, 5)
    g = glassgrad.tensor(np.exp(-2j * np.pi / 8), dtype=glassgrad.complex64) ** glassgrad.arange(0, 5)
    assert g.dtype == glassgrad.complex64
    np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-6, atol=1e-6)
