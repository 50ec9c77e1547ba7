"""Round 65, a differential fuzz of the convolutions (1-3 dims, transposed, groups, padding modes,
layouts, second derivatives, forward AD, vmap). Pinned here, each against PyTorch: an input with
no channels gives a result with no channels (PyTorch's empty-input path), so the bias enters no
output and gets a zero gradient (glassgrad answered the weight's filters, the bias broadcast);
the weight gradients ``autograd.grad`` hands back are contiguous, first order and with
``create_graph=True``, so the flattening of Hessian-vector-product code (``g.view(-1)``) runs
(glassgrad's were transposed views, and ``view`` raised).
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

from .helpers import assert_same

TIGHT = {"rtol": 1e-12, "atol": 1e-12}


def _t(lib, shape, seed, grad=True):
    return lib.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=grad)


def _conv(lib, nd, transposed):
    return getattr(lib.nn.functional, f"conv_transpose{nd}d" if transposed else f"conv{nd}d")


# ---- an input with no channels ---------------------------------------------------------------


def _no_channels(lib, nd, groups, batch, unbatched):
    x = _t(lib, ((() if unbatched else (batch,)) + (0,) + (5,) * nd), 0)
    w, b = _t(lib, (4, 0, *(2,) * nd), 1), _t(lib, (4,), 2)
    y = _conv(lib, nd, False)(x, w, b, stride=2, padding=1, groups=groups)
    grads = lib.autograd.grad(y.sum() + (b * b).sum(), [x, w, b])
    return [tuple(y.shape), y, *grads]


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize(("batch", "unbatched"), [(3, False), (0, False), (1, True)])
def test_an_input_with_no_channels_gives_no_output_channels(torch, nd, groups, batch, unbatched):
    ours, theirs = (_no_channels(lib, nd, groups, batch, unbatched) for lib in (gg, torch))
    assert_same(ours, theirs, **TIGHT)


def test_no_channels_through_the_module(torch):
    def program(lib):
        conv = lib.nn.Conv2d(0, 3, 3, padding=1).double()
        with lib.no_grad():
            conv.bias.copy_(lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64))
        y = conv(lib.ones(2, 0, 4, 4, dtype=lib.float64))
        y.sum().backward()
        return [tuple(y.shape), conv.bias.grad]

    with pytest.warns(UserWarning):  # kaiming init of a weight with no elements, in both
        theirs = program(torch)
    with pytest.warns(UserWarning):
        ours = program(gg)
    assert_same(ours, theirs, **TIGHT)


# ---- contiguous weight gradients, flattened with view(-1) -----------------------------------


def _weight_shape(nd, transposed, groups):
    return (4, 6 // groups, *(3,) * nd) if transposed else (6, 4 // groups, *(3,) * nd)


def _hvp(lib, nd, transposed, groups, create_graph):
    """Hessian-vector-product code: flatten ``autograd.grad``'s gradients with ``view(-1)``."""
    x = _t(lib, (2, 4, *(4,) * nd), 0)
    w = _t(lib, _weight_shape(nd, transposed, groups), 1)
    b = _t(lib, (6,), 2)
    y = _conv(lib, nd, transposed)(x, w, b, stride=2, padding=1, groups=groups)
    grads = lib.autograd.grad((y * y).sum(), [x, w, b], create_graph=create_graph)
    strides = [tuple(g.stride()) for g in grads]
    flat = lib.cat([g.view(-1) for g in grads])
    if not create_graph:
        return [strides, flat]
    v = lib.tensor(np.random.default_rng(3).standard_normal(tuple(flat.shape)))
    return [strides, flat, *lib.autograd.grad((flat * v).sum(), [x, w, b])]


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("transposed", [False, True], ids=["conv", "transposed"])
@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("create_graph", [False, True], ids=["first", "create_graph"])
def test_weight_gradients_are_contiguous_and_view_flattens_them(torch, nd, transposed, groups, create_graph):
    ours, theirs = (_hvp(lib, nd, transposed, groups, create_graph) for lib in (gg, torch))
    assert_same(ours, theirs, **TIGHT)


def test_module_weight_gradient_of_a_short_conv1d_views(torch):
    """A short Conv1d (rows below the direct path's length) took the transposed product."""

    def program(lib):
        lib.manual_seed(0)
        conv = lib.nn.Conv1d(4, 4, 3).double()
        with lib.no_grad():
            conv.weight.copy_(_t(lib, (4, 4, 3), 5, grad=False))
            conv.bias.copy_(_t(lib, (4,), 6, grad=False))
        y = conv(_t(lib, (3, 4, 10), 7, grad=False))
        gw, gb = lib.autograd.grad(y.pow(2).sum(), [conv.weight, conv.bias])
        return [gw.is_contiguous(), gw.view(-1), gb]

    ours, theirs = (program(lib) for lib in (gg, torch))
    assert_same(ours, theirs, **TIGHT)
