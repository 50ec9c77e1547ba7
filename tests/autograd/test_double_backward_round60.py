"""Round 60's differential fuzz of second derivatives through ``nn.functional``: double backward,
Hessian-vector products, ``func.hessian`` and ``jvp(grad)``, gradient penalties, in glassgrad and
in PyTorch, both raising or both giving the same values.

Found: layers linear in their input whose PyTorch backward is an op of its own that reads the input
(convolutions, average and adaptive-average pooling, "area" resizing, eval batch/instance norm,
grid_sample, reflect/replicate padding, nll_loss) give, under ``create_graph``, a first-order
gradient that requires grad even when the incoming gradient and the weights are constants, so an
HVP or penalty through such a layer alone is zeros in PyTorch; glassgrad's gradient did not
require grad and the second ``grad`` raised. And celu's gradient: PyTorch's derivative formula
takes 1 / alpha with alpha rounded to float32, its forward the exact 1 / alpha, so glassgrad's
first and second derivatives were ~1e-8 off PyTorch's in float64 for an alpha such as 1.7.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

RNG = np.random.default_rng(60)
TARGET = np.array([1, 0, 3, 2, 1])
TARGET_2D = RNG.integers(0, 4, (2, 3, 3))


def _f(lib):
    return lib.nn.functional


def _interp_area(lib, x, size):
    return _f(lib).interpolate(x, size=size, mode="area")


# (input shape, the layer as a function of x alone: weights and targets are constants)
LINEAR_IN_X = {
    "conv1d": ((2, 4, 7), lambda lib, x, c: _f(lib).conv1d(x, c((4, 2, 3)), c((4,)), stride=2, groups=2)),
    "conv2d": (
        (1, 3, 5, 4),
        lambda lib, x, c: _f(lib).conv2d(x, c((2, 3, 3, 3)), None, padding=1, dilation=1),
    ),
    "conv3d": ((1, 2, 4, 3, 3), lambda lib, x, c: _f(lib).conv3d(x, c((2, 2, 2, 2, 2)), c((2,)))),
    "conv_transpose1d": ((2, 3, 4), lambda lib, x, c: _f(lib).conv_transpose1d(x, c((3, 2, 3)), stride=2)),
    "conv_transpose2d": (
        (1, 2, 3, 3),
        lambda lib, x, c: _f(lib).conv_transpose2d(x, c((2, 2, 2, 2)), c((2,))),
    ),
    "conv_transpose3d": ((1, 2, 2, 2, 2), lambda lib, x, c: _f(lib).conv_transpose3d(x, c((2, 1, 2, 2, 2)))),
    "avg_pool1d": ((2, 3, 7), lambda lib, x, c: _f(lib).avg_pool1d(x, 3, 2, 1)),
    "avg_pool2d": ((1, 2, 5, 5), lambda lib, x, c: _f(lib).avg_pool2d(x, 2, ceil_mode=True)),
    "avg_pool3d": ((1, 2, 4, 4, 3), lambda lib, x, c: _f(lib).avg_pool3d(x, 2, count_include_pad=False)),
    "adaptive_avg_pool1d": ((2, 3, 7), lambda lib, x, c: _f(lib).adaptive_avg_pool1d(x, 3)),
    "adaptive_avg_pool2d": ((1, 2, 5, 4), lambda lib, x, c: _f(lib).adaptive_avg_pool2d(x, (3, 2))),
    "adaptive_avg_pool3d": ((1, 2, 4, 3, 3), lambda lib, x, c: _f(lib).adaptive_avg_pool3d(x, 2)),
    "interpolate_area_1d": ((2, 2, 5), lambda lib, x, c: _interp_area(lib, x, (3,))),
    "interpolate_area_2d": ((1, 2, 5, 4), lambda lib, x, c: _interp_area(lib, x, (3, 3))),
    "batch_norm_eval": (
        (4, 3, 5),
        lambda lib, x, c: _f(lib).batch_norm(
            x, c((3,)), c((3,)).abs() + 0.5, c((3,)), c((3,)), training=False
        ),
    ),
    "instance_norm_running_stats": (
        (2, 3, 4, 4),
        lambda lib, x, c: _f(lib).instance_norm(x, c((3,)), c((3,)).abs() + 1, use_input_stats=False),
    ),
    "grid_sample_input": (
        (1, 2, 4, 5),
        lambda lib, x, c: _f(lib).grid_sample(x, c((1, 3, 2, 2)).tanh() * 1.1, align_corners=False),
    ),
    "grid_sample_3d": (
        (1, 2, 3, 3, 2),
        lambda lib, x, c: _f(lib).grid_sample(
            x, c((1, 2, 2, 1, 3)).tanh(), mode="nearest", align_corners=True
        ),
    ),
    "pad_reflect_1d": ((2, 3, 5), lambda lib, x, c: _f(lib).pad(x, (2, 1), mode="reflect")),
    "pad_reflect_2d": ((1, 2, 4, 5), lambda lib, x, c: _f(lib).pad(x, (1, 2, 2, 1), mode="reflect")),
    "pad_replicate_2d": ((1, 2, 4, 5), lambda lib, x, c: _f(lib).pad(x, (1, 2, 2, 1), mode="replicate")),
    "pad_replicate_3d": (
        (1, 1, 3, 3, 3),
        lambda lib, x, c: _f(lib).pad(x, (1, 1, 0, 2, 1, 0), mode="replicate"),
    ),
    "nll_loss": ((5, 4), lambda lib, x, c: _f(lib).nll_loss(x, lib.tensor(TARGET), c((4,)).abs())),
    "cross_entropy_all_ignored": (
        (3, 4),
        lambda lib, x, c: _f(lib).cross_entropy(x, lib.tensor([-100, -100, -100]), reduction="sum"),
    ),
    "nll_loss_2d_sum": (
        (2, 4, 3, 3),
        lambda lib, x, c: _f(lib).nll_loss(x, lib.tensor(TARGET_2D), reduction="sum"),
    ),
}

# linear layers whose PyTorch backward does not read the input: a constant first-order gradient
CONSTANT_IN_X = {
    "linear": ((3, 4), lambda lib, x, c: _f(lib).linear(x, c((5, 4)), c((5,)))),
    "pad_constant": ((1, 2, 4, 5), lambda lib, x, c: _f(lib).pad(x, (1, 2, 2, 1))),
    "pad_circular": ((1, 2, 4, 5), lambda lib, x, c: _f(lib).pad(x, (1, 2, 2, 1), mode="circular")),
    "adaptive_avg_pool2d_to_one": ((1, 2, 5, 4), lambda lib, x, c: _f(lib).adaptive_avg_pool2d(x, 1)),
    "adaptive_avg_pool1d_to_one": ((2, 3, 5), lambda lib, x, c: _f(lib).adaptive_avg_pool1d(x, 1)),
    "interpolate_bilinear": (
        (1, 2, 3, 4),
        lambda lib, x, c: _f(lib).interpolate(x, size=(5, 5), mode="bilinear"),
    ),
    "pixel_shuffle": ((1, 4, 2, 3), lambda lib, x, c: _f(lib).pixel_shuffle(x, 2)),
}


def _consts(lib, seed):
    rng = np.random.default_rng(seed)
    return lambda shape: lib.tensor(rng.standard_normal(shape))


def _hvp(lib, shape, fn):
    """(x's first-order gradient under create_graph, whether it requires grad, grad(<it, v>, x)
    with allow_unused: None where PyTorch's double backward gives the input no gradient)."""
    rng = np.random.default_rng(1)
    x = lib.tensor(rng.standard_normal(shape), requires_grad=True)
    out = fn(lib, x, _consts(lib, 2))
    c = lib.tensor(rng.standard_normal(tuple(out.shape)))
    (g,) = lib.autograd.grad((out * c).sum(), x, create_graph=True)
    if not g.requires_grad:
        return g.detach().numpy(), False, None
    (h,) = lib.autograd.grad((g * lib.tensor(rng.standard_normal(shape))).sum(), x, allow_unused=True)
    return g.detach().numpy(), True, None if h is None else h.detach().numpy()


# PyTorch's double backward of these gives the input None (unused), of the others zeros
UNUSED = {"batch_norm_eval", "instance_norm_running_stats", "grid_sample_input", "grid_sample_3d"}


@pytest.mark.parametrize("name", sorted(LINEAR_IN_X))
def test_hvp_through_a_layer_whose_backward_reads_its_input(torch, name):
    shape, fn = LINEAR_IN_X[name]
    g, req, h = _hvp(gg, shape, fn)
    tg, treq, th = _hvp(torch, shape, fn)
    np.testing.assert_allclose(g, tg, rtol=1e-12, atol=1e-14)
    assert req and treq
    if name.startswith("conv") or name in UNUSED:
        assert h is None and th is None
    else:
        np.testing.assert_array_equal(h, th)
        assert not h.any()


@pytest.mark.parametrize(
    "name", ["conv2d", "conv3d", "conv_transpose2d", "batch_norm_eval", "grid_sample_input", "grid_sample_3d"]
)
def test_the_input_free_gradient_node_is_named_as_torchs(torch, name):
    shape, fn = LINEAR_IN_X[name]
    names = []
    for lib in (gg, torch):
        x = lib.zeros(shape, dtype=lib.float64, requires_grad=True)
        (g,) = lib.autograd.grad(fn(lib, x, _consts(lib, 2)).sum(), x, create_graph=True)
        names.append(g.grad_fn.name())
    assert names[0] == names[1]


@pytest.mark.parametrize("op", ["conv2d", "batch_norm_eval"])
def test_second_grad_of_weight_and_bias_gradients_is_unused_as_in_torch(torch, op):
    """Only the weight and bias require grad: their first-order gradients are linear in the
    constant input, require grad (PyTorch's backward node takes them) and have no second derivative."""
    rng = np.random.default_rng(4)
    res = []
    for lib in (gg, torch):
        if op == "conv2d":
            x, w, b = (
                lib.tensor(rng.standard_normal((1, 2, 4, 4))),
                lib.ones(3, 2, 3, 3, dtype=lib.float64),
                lib.zeros(3, dtype=lib.float64),
            )
            w.requires_grad_(), b.requires_grad_()
            y = _f(lib).conv2d(x, w, b)
        else:
            x, w, b = (
                lib.tensor(rng.standard_normal((4, 3, 5))),
                lib.ones(3, dtype=lib.float64),
                lib.zeros(3, dtype=lib.float64),
            )
            w.requires_grad_(), b.requires_grad_()
            y = _f(lib).batch_norm(x, lib.zeros(3, dtype=lib.float64), lib.ones(3, dtype=lib.float64), w, b)
        gw, gb = lib.autograd.grad(y.sum(), (w, b), create_graph=True)
        seconds = lib.autograd.grad(gw.sum() + gb.sum(), (x.requires_grad_(), w, b), allow_unused=True)
        res.append((gw.requires_grad, gb.requires_grad, [s is None for s in seconds]))
    assert res[0] == res[1] == (True, True, [True, True, True])


@pytest.mark.parametrize("name", sorted(CONSTANT_IN_X))
def test_a_layer_whose_backward_ignores_its_input_keeps_a_constant_gradient(torch, name):
    shape, fn = CONSTANT_IN_X[name]
    g, req, _ = _hvp(gg, shape, fn)
    tg, treq, _ = _hvp(torch, shape, fn)
    np.testing.assert_allclose(g, tg, rtol=1e-12, atol=1e-14)
    assert req is treq is False


def test_hessian_of_a_conv_head_with_respect_to_the_input_matches_torch(torch):
    """An influence/PINN-style Hessian of a loss through conv -> avg pool -> tanh w.r.t. the input."""
    rng = np.random.default_rng(3)
    x0, w0 = rng.standard_normal((1, 2, 4, 4)), rng.standard_normal((3, 2, 2, 2))

    def hess(lib):
        x = lib.tensor(x0, requires_grad=True)
        y = _f(lib).avg_pool2d(_f(lib).conv2d(x, lib.tensor(w0)), 3).tanh().sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        rows = [lib.autograd.grad(gi, x, retain_graph=True)[0].detach().numpy() for gi in g.reshape(-1)]
        return np.stack(rows)

    np.testing.assert_allclose(hess(gg), hess(torch), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize(
    ("mode", "pads", "shape"),
    [
        ("reflect", (1, 1), (1, 2, 4)),
        ("reflect", (1, 1, 1, 1), (1, 2, 4, 4)),
        ("reflect", (1, 1, 1, 1, 1, 1), (1, 1, 3, 3, 3)),
        ("replicate", (2, 0), (2, 4)),
        ("replicate", (1, 0, 0, 1), (1, 2, 4, 4)),
        ("replicate", (0, 1, 1, 0, 1, 1), (1, 1, 3, 3, 3)),
        ("circular", (1, 1, 1, 1), (1, 2, 4, 4)),
    ],
)
def test_pad_node_names_match_torch(torch, mode, pads, shape):
    names = []
    for lib in (gg, torch):
        x = lib.zeros(shape, requires_grad=True)
        names.append(_f(lib).pad(x, pads, mode=mode).grad_fn.name())
    if mode == "circular":  # PyTorch's copies into slices: CopySlices
        assert names[0] == "IndexPadBackward0"
    else:
        assert names[0] == names[1]


@pytest.mark.parametrize("shape", [(5, 4), (2, 4, 3, 3), (4,)])
def test_nll_loss_node_name_matches_torch(torch, shape):
    names = []
    for lib in (gg, torch):
        x = lib.zeros(shape, requires_grad=True)
        t = lib.zeros(shape[:1] + shape[2:] if len(shape) > 1 else (), dtype=lib.int64)
        names.append(_f(lib).nll_loss(x, t).grad_fn.name())
    assert names[0] == names[1]


CELU = {
    "celu": lambda lib, x, a: _f(lib).celu(x, a),
    "celu_inplace": lambda lib, x, a: _f(lib).celu(x * 1.0, a, inplace=True),
    "CELU_module": lambda lib, x, a: lib.nn.CELU(a)(x),
}


@pytest.mark.parametrize("alpha", [1.7, 0.3, 1.0, 2.5, 1e-3])
@pytest.mark.parametrize("name", sorted(CELU))
def test_celu_first_and_second_derivatives_take_torchs_float32_alpha(torch, name, alpha):
    """PyTorch's celu derivative: elu_backward with input scale 1 / float32(alpha); the forward
    divides by the exact alpha. The difference (~1e-8 for alpha 1.7) must not show in float64."""
    rng = np.random.default_rng(5)
    x0, v, w = rng.standard_normal(12) * 2, rng.standard_normal(12), rng.standard_normal(12)
    res = []
    for lib in (gg, torch):
        x = lib.tensor(x0, requires_grad=True)
        y = CELU[name](lib, x, alpha)
        (g,) = lib.autograd.grad(y, x, lib.tensor(v), create_graph=True)
        (h,) = lib.autograd.grad((g * lib.tensor(w)).sum(), x)
        res.append((y.detach().numpy(), g.detach().numpy(), h.numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-300)


def test_celu_forward_mode_takes_torchs_float32_alpha(torch):
    rng = np.random.default_rng(6)
    x0, t0 = rng.standard_normal(10) * 2, rng.standard_normal(10)
    outs = [
        lib.func.jvp(lambda x, lib=lib: _f(lib).celu(x, 1.7), (lib.tensor(x0),), (lib.tensor(t0),))[1].numpy()
        for lib in (gg, torch)
    ]
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-14)
