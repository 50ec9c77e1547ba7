"""Round 60, integration re-run: the six batteries of the round's groups re-run at the merged HEAD.

No battery case that matched at a group's end differs after the merge. One cross-group change
turned up in maxfix's int/number sweep: ``renorm`` became one op (nanprop2) whose ``float(p)``
took a one-element or grad-requiring tensor for ``p`` / ``maxnorm`` where PyTorch's Scalar
parser raises a TypeError, and its range errors were ValueErrors where PyTorch raises
RuntimeError. The other tests pin pairs of this round's changes that meet only after the merge:
nanprop's non-finite paths (resize and adaptive-pool taps, eps floors, renorm's backward) under
doublebwd's ``create_graph`` links, and mixeddtype's integer promotion of ``cosine_similarity``
beside nanprop's overflow floor, each against PyTorch in float64.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

# ---- renorm reads p and maxnorm as PyTorch's Scalar parser --------------------------------------

_X = np.linspace(-2.0, 3.0, 12).reshape(3, 4)


def _taken(lib):
    return {
        "int": 2,
        "float": 1.5,
        "bool": True,
        "numpy float": np.float64(1.5),
        "numpy int": np.int64(3),
        "0-d tensor": lib.tensor(1.5, dtype=lib.float64),
        "0-d int tensor": lib.tensor(2),
    }


def _refused(lib):
    return {
        "0-d tensor requiring grad": lib.tensor(1.5, dtype=lib.float64, requires_grad=True),
        "one-element tensor": lib.tensor([1.5], dtype=lib.float64),
        "two-element tensor": lib.tensor([1.5, 2.0], dtype=lib.float64),
        "None": None,
        "str": "2",
    }


def _renorm_args(which, v):
    return (v, 0, 1.0) if which == "p" else (2, 0, v)


@pytest.mark.parametrize("which", ["p", "maxnorm"])
@pytest.mark.parametrize("kind", list(_taken(gg)))
def test_renorm_scalar_arguments_taken_as_torch(torch, which, kind):
    for call in ("method", "function"):
        out = {}
        for lib in (torch, gg):
            x = lib.tensor(_X, requires_grad=True)
            args = _renorm_args(which, _taken(lib)[kind])
            y = x.renorm(*args) if call == "method" else lib.renorm(x, *args)
            (y * lib.tensor(np.cos(np.arange(12.0)).reshape(3, 4))).sum().backward()
            out[lib] = (y.detach().numpy(), x.grad.numpy())
        for a, b in zip(out[gg], out[torch], strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("which", ["p", "maxnorm"])
@pytest.mark.parametrize("kind", list(_refused(gg)))
def test_renorm_scalar_arguments_refused_as_torch(torch, which, kind):
    with pytest.raises(TypeError, match="must be Number"):
        torch.tensor(_X).renorm(*_renorm_args(which, _refused(torch)[kind]))
    with pytest.raises(TypeError, match=rf"^renorm\(\): argument '{which}' must be Number"):
        gg.tensor(_X).renorm(*_renorm_args(which, _refused(gg)[kind]))
    with pytest.raises(TypeError, match=rf"^renorm\(\): argument '{which}' must be Number"):
        gg.renorm(gg.tensor(_X), *_renorm_args(which, _refused(gg)[kind]))


@pytest.mark.parametrize(
    "args, words",
    [
        ((2 + 0j, 0, 1.0), "p must be real-valued"),
        ((2, 0, 1 + 0j), "maxnorm must be real-valued"),
        ((0, 0, 1.0), "non-positive-norm not supported"),
        ((-1.5, 0, 1.0), "non-positive-norm not supported"),
        ((2, 0, -1.0), "expected maxnorm to be >= 0"),
    ],
    ids=["complex p", "complex maxnorm", "p 0", "p negative", "maxnorm negative"],
)
def test_renorm_range_errors_are_runtime_errors_as_torch(torch, args, words):
    with pytest.raises(RuntimeError, match=words):
        torch.tensor(_X).renorm(*args)
    with pytest.raises(RuntimeError, match=f"^renorm: {words}"):
        gg.tensor(_X).renorm(*args)


# ---- nanprop's non-finite paths under doublebwd's create_graph ----------------------------------


def _with_non_finite(*shape):
    a = np.sin(np.arange(float(np.prod(shape))) * 1.7).reshape(shape) * 2.0
    flat = a.reshape(-1)
    flat[1], flat[5], flat[9] = np.inf, -np.inf, np.nan
    return a


def _F(lib):
    return lib.nn.functional


_GRID = np.linspace(-1.3, 1.3, 24).reshape(1, 3, 4, 2)

_SECOND_ORDER = {
    "adaptive_avg_pool1d": (_with_non_finite(1, 2, 11), lambda L, x: _F(L).adaptive_avg_pool1d(x, 4)),
    "adaptive_avg_pool2d": (_with_non_finite(1, 2, 7, 6), lambda L, x: _F(L).adaptive_avg_pool2d(x, (3, 4))),
    "adaptive_avg_pool3d": (
        _with_non_finite(1, 1, 5, 4, 6),
        lambda L, x: _F(L).adaptive_avg_pool3d(x, (2, 3, 4)),
    ),
    "area": (_with_non_finite(1, 2, 7, 6), lambda L, x: _F(L).interpolate(x, size=(3, 4), mode="area")),
    "bilinear": (
        _with_non_finite(1, 2, 4, 5),
        lambda L, x: _F(L).interpolate(x, scale_factor=2, mode="bilinear"),
    ),
    "bicubic": (_with_non_finite(1, 2, 4, 5), lambda L, x: _F(L).interpolate(x, size=(7, 9), mode="bicubic")),
    "bicubic antialias": (
        _with_non_finite(1, 2, 8, 9),
        lambda L, x: _F(L).interpolate(x, size=(3, 4), mode="bicubic", antialias=True),
    ),
    "trilinear": (
        _with_non_finite(1, 1, 3, 4, 3),
        lambda L, x: _F(L).interpolate(x, size=(5, 6, 4), mode="trilinear"),
    ),
    "grid_sample zeros": (
        _with_non_finite(1, 1, 4, 5),
        lambda L, x: _F(L).grid_sample(x, L.tensor(_GRID), align_corners=False),
    ),
    "gaussian_nll var inf": (
        np.array([[0.5, np.inf, 2.0]]),
        lambda L, v: _F(L).gaussian_nll_loss(
            L.tensor([[0.1, 0.2, 0.3]]), L.tensor([[1.0, 0.0, 2.0]]), v, reduction="none"
        ),
    ),
    "renorm p1": (np.cos(np.arange(12.0) * 0.9).reshape(4, 3) * 3.0, lambda L, x: x.renorm(1, 0, 1.0)),
    "renorm p2": (np.cos(np.arange(12.0) * 0.9).reshape(4, 3) * 3.0, lambda L, x: x.renorm(2, 0, 1.0)),
    "renorm p3": (np.cos(np.arange(12.0) * 0.9).reshape(4, 3) * 3.0, lambda L, x: x.renorm(3, 1, 2.0)),
}


def _second_order(lib, a, fn):
    """Output, gradient of <f, v> (create_graph) and gradient of <grad, w>, all w.r.t. x; the last
    is "constant" where the first gradient does not require grad (PyTorch's linear resizes)."""
    x = lib.tensor(a, requires_grad=True)
    y = fn(lib, x)
    v = lib.tensor(np.linspace(-1.0, 1.0, y.numel()).reshape(tuple(y.shape)) + 0.3)
    (g1,) = lib.autograd.grad((y * v).sum(), x, create_graph=True)
    if not g1.requires_grad:
        return [y.detach().numpy(), g1.numpy(), "constant"]
    w = lib.tensor(np.linspace(0.5, -1.0, g1.numel()).reshape(tuple(g1.shape)))
    (g2,) = lib.autograd.grad((g1 * w).sum(), x, allow_unused=True)
    return [y.detach().numpy(), g1.detach().numpy(), None if g2 is None else g2.numpy()]


@pytest.mark.parametrize("name", list(_SECOND_ORDER))
def test_non_finite_inputs_second_order_as_torch(torch, name):
    a, fn = _SECOND_ORDER[name]
    ours, theirs = _second_order(gg, a, fn), _second_order(torch, a, fn)
    for o, t in zip(ours, theirs, strict=True):
        if t is None or isinstance(t, str):  # no second gradient, or a constant first one
            assert type(o) is type(t) and o == t
        else:
            np.testing.assert_array_equal(np.isnan(o), np.isnan(t))
            np.testing.assert_allclose(o, t, rtol=1e-10, atol=1e-13)


# ---- mixeddtype's integer promotion beside nanprop's eps floor ----------------------------------


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_cosine_similarity_integer_partner_and_overflowed_norm_as_torch(torch, dtype):
    big = 3e38 if dtype == "float32" else 1e308
    a = np.array([[1.0, -2.0, 0.5, 3.0], [big, big, 1.0, 2.0], [0.0, 0.0, 0.0, 0.0]])
    b = np.arange(12).reshape(3, 4) - 5
    out = {}
    for lib in (torch, gg):
        x = lib.tensor(a.astype(dtype), requires_grad=True)
        y = lib.nn.functional.cosine_similarity(x, lib.tensor(b))
        y.sum().backward()
        assert str(y.dtype).split(".")[-1] == dtype
        out[lib] = (y.detach().numpy(), x.grad.numpy())
    for o, t in zip(out[gg], out[torch], strict=True):
        np.testing.assert_array_equal(np.isnan(o), np.isnan(t))
        np.testing.assert_allclose(o, t, rtol=1e-12 if dtype == "float64" else 2e-6, atol=1e-30)
