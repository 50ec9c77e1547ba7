"""Round 63, the view/in-place fuzz: minimised programs where glassgrad differed from PyTorch.

- ``fill_``/``zero_`` of a view whose places share memory other than through a zero stride
  (``unfold``'s overlapping windows, the diagonal of an expanded row) raised "read-only view":
  NumPy cannot reopen a stride-trick view (its base is a ``DummyArray``), so
  ``memory_overlap.writable_alias`` now rebuilds the alias over the array owning the memory.
- ``fill_`` of a 0-dim tensor value was refused over every read-only view; PyTorch refuses it only
  where a stride is 0 (its internal-overlap check), and writes the value through the others.
- ``autograd.grad(..., create_graph=True)`` through a view whose dtype differs from its base's
  (``c.real`` of a complex tensor, ``view_as_complex`` of a float one) changed in place raised
  "as_strided: backward returned a gradient of shape (4, 2)": the recorded rules of the rebased
  view's nodes (``as_strided``, ``CopySlices``, now ``autograd/recorded_rules_views.py``) placed the
  gradient in float pairs and never turned it back into the complex side's dtype, as the
  first-order rules do.
- ``requires_grad_()`` on a view made in no_grad mode of a tensor that requires grad (or made
  before the base's ``requires_grad_()``) left it a view whose gradient the engine drops: its
  ``.grad`` stayed None. PyTorch sets the view's own flag and fills its ``.grad`` as a leaf's.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg

LIBS = ["glassgrad", "torch"]


@pytest.fixture(params=LIBS)
def lib(request):
    return gg if request.param == "glassgrad" else request.getfixturevalue("torch")


def _views(T, base):
    return {
        "unfold": base.unfold(0, 2, 1),  # (2, 4, 2): the windows share row 1
        "diag_of_expand": base[:1].expand(4, 4).diagonal(),  # stride 5 over 4 elements: (4,)
        "unfold_of_slice": base[:, 1:].unfold(1, 2, 1),
    }


VALUES = {
    "number": lambda T, b: 0.5,
    "tensor": lambda T, b: T.tensor(3.0, dtype=T.float64),
    "own": lambda T, b: b[2, 3],
}


@pytest.mark.parametrize("view", ["unfold", "diag_of_expand", "unfold_of_slice"])
@pytest.mark.parametrize("value", sorted(VALUES))
def test_fill_through_overlapping_view_matches_torch(torch, view, value):
    got = []
    for T in (gg, torch):
        base = T.tensor(np.arange(12.0).reshape(3, 4))
        v = _views(T, base)[view]
        v.fill_(VALUES[value](T, base))
        got.append((base.numpy().copy(), v.numpy().copy(), base._version))
    np.testing.assert_array_equal(got[0][0], got[1][0])
    np.testing.assert_array_equal(got[0][1], got[1][1])
    assert got[0][2] == got[1][2]


@pytest.mark.parametrize("view", ["unfold", "diag_of_expand"])
def test_zero_through_overlapping_view_matches_torch(torch, view):
    got = []
    for T in (gg, torch):
        base = T.tensor(np.arange(1.0, 13.0).reshape(3, 4))
        _views(T, base)[view].zero_()
        got.append(base.numpy().copy())
    np.testing.assert_array_equal(got[0], got[1])


def test_fill_view_of_recorded_tensor_no_grad_then_backward(torch):
    """The fuzz's program: an unfold of a recorded tensor filled under no_grad, then used."""
    out = []
    for T in (gg, torch):
        w = T.tensor(np.linspace(-1.0, 1.0, 12).reshape(3, 4), requires_grad=True)
        y = w * 1.5
        windows = y.unfold(0, 2, 1)
        with T.no_grad():
            windows.fill_(0.5)
        (y.sin() * T.tensor(np.arange(12.0).reshape(3, 4))).sum().backward()
        out.append((y.detach().numpy().copy(), w.grad.numpy().copy()))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-15)
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-13)


def test_fill_tensor_value_over_zero_stride_refused(lib):
    """PyTorch writes a number through expand's view but refuses a tensor value there."""
    base = lib.tensor(np.arange(12.0).reshape(3, 4))
    row = base[:1].expand(3, 4)
    row.fill_(0.5)
    np.testing.assert_array_equal(base.numpy()[0], np.full(4, 0.5))
    with pytest.raises(RuntimeError):
        row.fill_(lib.tensor(3.0, dtype=lib.float64))


def test_read_only_numpy_source_stays_refused():
    """The rebuilt alias is made only when the array owning the memory is writable (NumPy's rule)."""
    a = np.arange(12.0).reshape(3, 4).copy()  # owns its memory
    a.flags.writeable = False
    with warnings.catch_warnings():  # (PyTorch's "not writable" warning, given once a process)
        warnings.simplefilter("ignore", UserWarning)
        t = gg.from_numpy(a)
    with pytest.raises(RuntimeError, match="read-only"):
        t.unfold(0, 2, 1).fill_(1.0)
    np.testing.assert_array_equal(a, np.arange(12.0).reshape(3, 4))


def _grads(T, loss, inputs, then):
    gs = T.autograd.grad(loss, inputs, create_graph=True)
    then(gs).backward()
    return [g.detach().numpy().copy() for g in gs] + [t.grad.numpy().copy() for t in inputs]


def test_real_view_of_complex_constant_copied_double_backward(torch):
    """The fuzz's program: ``v.real.copy_(u * 0.5)`` into a complex constant, then grad of grad."""
    out = []
    for T in (gg, torch):
        u = T.tensor(np.arange(1.0, 5.0), requires_grad=True)
        v = T.tensor(np.arange(4.0) - 1j * np.arange(4.0))
        r = v.real
        r.copy_(u * 0.5)
        loss = (r.pow(2) * T.tensor([1.0, -2.0, 3.0, 0.5], dtype=T.float64)).sum()
        out.append(_grads(T, loss, [u], lambda gs: gs[0].pow(2).sum()))
        out[-1].append(v.detach().numpy().copy())
    for a, b in zip(*out, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-13)


def test_real_view_of_complex_changed_in_place_double_backward(torch):
    rng = np.random.default_rng(1)
    c0 = rng.standard_normal((3, 2)) + 1j * rng.standard_normal((3, 2))
    w0 = rng.standard_normal((3, 2))
    out = []
    for T in (gg, torch):
        z = T.tensor(c0, requires_grad=True)
        w = T.tensor(w0, requires_grad=True)
        c = z * 1.5
        c.real.mul_(w)
        loss = (T.view_as_real(c) ** 2).sum()
        out.append(_grads(T, loss, [z, w], lambda gs: T.view_as_real(gs[0]).sin().sum() + gs[1].sum()))
    for a, b in zip(*out, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_complex_view_of_float_changed_in_place_double_backward(torch):
    rng = np.random.default_rng(2)
    x0 = rng.standard_normal((3, 2, 2))
    w0 = rng.standard_normal((3, 2)) + 1j * rng.standard_normal((3, 2))
    out = []
    for T in (gg, torch):
        x = T.tensor(x0, requires_grad=True)
        w = T.tensor(w0, requires_grad=True)
        y = x * 2.0
        T.view_as_complex(y).mul_(w)
        loss = (y**3).sum()
        out.append(_grads(T, loss, [x, w], lambda gs: gs[0].sum() + T.view_as_real(gs[1]).pow(2).sum()))
    for a, b in zip(*out, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.parametrize("part", ["row", "imag"])
@pytest.mark.parametrize("then_off", [False, True], ids=["on", "on_off"])
def test_requires_grad_on_no_grad_view_makes_a_leaf(torch, part, then_off):
    out = []
    for T in (gg, torch):
        x = T.tensor(np.arange(6.0).reshape(2, 3) + (1j if part == "imag" else 0), requires_grad=True)
        with T.no_grad():
            v = x.imag if part == "imag" else x[1]
        v.requires_grad_()
        if then_off:
            v.requires_grad_(False)
        (v.sin() * 2).sum().backward()
        out.append((v.requires_grad, v.is_leaf, None if v.grad is None else v.grad.numpy().copy(), x.grad))
    (rg, leaf, g, xg), (rg_t, leaf_t, g_t, xg_t) = out
    assert (rg, leaf, xg) == (rg_t, leaf_t, xg_t)
    assert (g is None) == (g_t is None)
    if g is not None:
        np.testing.assert_allclose(g, g_t, rtol=1e-14)


def test_requires_grad_on_view_made_before_base_requires_grad(torch):
    out = []
    for T in (gg, torch):
        y = T.tensor(np.arange(6.0).reshape(2, 3))
        early = y[0]
        y.requires_grad_()
        early.requires_grad_()
        (early * 3).sum().backward()
        out.append((early.grad.numpy().copy(), y.grad))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    assert out[0][1] is None and out[1][1] is None
