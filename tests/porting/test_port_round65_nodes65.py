"""Round 65, a follow-up of the saved-tensor fuzz. ``torch.dist`` was ``norm(x - y)``: it saved the
difference, so a write into x or y before backward ran on where PyTorch's DistBackward0 (which
saves self, other and the result) raises; it is one primitive now, with PyTorch's norm_backward
(values, first and second derivatives, NaN where PyTorch's masked division gives 0 / 0), forward
AD and the node's name. In-place activations show PyTorch's node names (EluBackward1,
LeakyReluBackward1, ThresholdBackward1, RreluWithNoiseBackward1) and save what PyTorch's save; so
do log2/log10/exp2/deg2rad/rad2deg (composites, named as PyTorch's nodes) and log1p (Log1PBackward0)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad as gg

from .helpers import assert_same

TIGHT = {"rtol": 1e-12, "atol": 1e-14}
PS = [2.0, 1.0, 0.0, 3.0, 1.5, 0.5, -1.0, -0.5, math.inf, -math.inf]
SHAPES = {"same": ((3,), (3,)), "row": ((2, 3), (3,)), "outer": ((1, 3), (2, 1)), "scalar": ((), (4,))}


def _dense(t):
    """A gradient as an array (PyTorch's sgn backward gives a ZeroTensor, which has no storage)."""
    if t is None:
        return None
    if getattr(t, "_is_zerotensor", lambda: False)():
        return np.zeros(tuple(t.shape))
    return np.array(t.detach().tolist(), dtype=float)


def _inputs(shapes, case, seed=0):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    if case == "equal":  # x == y everywhere (broadcast): the norm's kink
        b = np.broadcast_to(a, np.broadcast_shapes(a.shape, b.shape)).copy()
        a = b.copy()
    elif case == "one_zero":  # one difference exactly 0
        a, b = np.array(a), np.array(b)
        a.flat[0], b.flat[0] = 0.25, 0.25
    return a, b


def _dist_grads(lib, p, shapes, case, create_graph):
    a, b = _inputs(shapes, case)
    x, y = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=p != 0)
    z = lib.dist(x, y, p)
    if p == 0:  # no gradient (PyTorch's other gradient is a neg of an undefined tensor: it raises)
        return [_dense(z), z.requires_grad]
    gx, gy = lib.autograd.grad(z * 1.7, (x, y), create_graph=create_graph)
    out = [_dense(z), _dense(gx), _dense(gy)]
    if create_graph:
        w = lib.tensor(np.random.default_rng(1).standard_normal(gx.shape))
        out += [_dense(h) for h in lib.autograd.grad((gx * w).sum(), (x, y))]
    return out


@pytest.mark.parametrize("case", ["random", "equal", "one_zero"])
@pytest.mark.parametrize("shapes", sorted(SHAPES))
@pytest.mark.parametrize("p", PS, ids=str)
def test_dist_values_and_gradients(torch, p, shapes, case):
    sh = SHAPES[shapes]
    assert_same(_dist_grads(gg, p, sh, case, False), _dist_grads(torch, p, sh, case, False), **TIGHT)


@pytest.mark.parametrize("case", ["random", "equal", "one_zero"])
@pytest.mark.parametrize("shapes", ["same", "row"])
@pytest.mark.parametrize("p", [p for p in PS if p != 0], ids=str)
def test_dist_second_derivatives(torch, p, shapes, case):
    """Including PyTorch's NaN at x == y (p > 1) and at a zero difference (p < 1)."""
    sh = SHAPES[shapes]
    assert_same(_dist_grads(gg, p, sh, case, True), _dist_grads(torch, p, sh, case, True), **TIGHT)


@pytest.mark.parametrize("p", PS, ids=str)
def test_dist_forward_ad(torch, p):
    rng = np.random.default_rng(2)
    a, b, ta, tb = (rng.standard_normal(s) for s in ((2, 3), (3,), (2, 3), (3,)))

    def program(lib):
        fw = lib.autograd.forward_ad
        with fw.dual_level():
            x = fw.make_dual(lib.tensor(a), lib.tensor(ta))
            y = fw.make_dual(lib.tensor(b), lib.tensor(tb))
            z = fw.unpack_dual(lib.dist(x, y, p))
            return [z.primal, z.tangent]

    assert_same(program(gg), program(torch), **TIGHT)


@pytest.mark.parametrize(
    "dtypes", ["float32", "float16", "float32_float64", "float16_float32", "float64_0d32"]
)
@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 1.5, 0.5, math.inf], ids=str)
def test_dist_dtypes(torch, p, dtypes):
    """float32 and float16 (its VJP rounded op by op, as PyTorch's), and promoted mixed dtypes, to
    the dtypes' rounding (sums of 20 terms in another order than PyTorch's reductions)."""
    da, db = {"float16_float32": ("float16", "float32"), "float32_float64": ("float32", "float64"),
              "float64_0d32": ("float64", "float32")}.get(dtypes, (dtypes, dtypes))  # fmt: skip
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((4, 5)), rng.standard_normal(() if dtypes.endswith("0d32") else (5,))

    def program(lib):
        x = lib.tensor(a, dtype=getattr(lib, da), requires_grad=True)
        y = lib.tensor(b, dtype=getattr(lib, db), requires_grad=True)
        z = lib.dist(x, y, p)
        z.backward()
        return [z, x.grad], y.grad

    ours, theirs = program(gg), program(torch)
    rtol = {"float16": 2e-3, "float32": 5e-7, "float64": 1e-15}
    assert_same(ours[0], theirs[0], rtol=max(rtol[da], rtol[db]), atol=0)
    assert_same(ours[1], theirs[1], rtol=rtol[db], atol=rtol[db])  # (a sum of four that cancels)


@pytest.mark.parametrize("target", ["x", "y", "x_view", "y_leaf", "result"])
@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, math.inf], ids=str)
def test_dist_write_before_backward_raises_as_pytorch(torch, p, target):
    def program(lib):
        xl, yl = (
            lib.tensor([1.0, 2.0, 3.0], requires_grad=True),
            lib.tensor([0.5, 1.0, -1.0], requires_grad=True),
        )
        x, y = xl * 1, yl * 1
        z = lib.dist(x, y if target != "y_leaf" else yl, p)
        with lib.no_grad():
            {"x": x, "y": y, "x_view": x[1:], "y_leaf": yl, "result": z}[target].add_(1.0)
        try:
            z.backward()
        except RuntimeError as e:
            return "modified by an inplace operation" in str(e) or "modified in place" in str(e)
        return "ran"

    assert program(gg) is True
    assert program(torch) is True


def test_dist_node_and_arguments_as_pytorch(torch):
    x = gg.tensor([1.0, -2.0], requires_grad=True)
    z = gg.dist(x, gg.tensor([0.5, 0.5]))
    assert z.grad_fn.name() == torch.dist(torch.ones(2, requires_grad=True), torch.zeros(2)).grad_fn.name()
    assert type(z.grad_fn).__name__ == "DistBackward0"
    assert gg.dist(x, x.detach() + 1, True).item() == torch.dist(torch.ones(2), torch.zeros(2), True).item()
    for lib in (gg, torch):
        t = lib.tensor([1.0, 2.0])
        with pytest.raises(TypeError, match="must be Tensor"):
            lib.dist(t, 2.0)
        with pytest.raises(TypeError, match="must be Number"):
            lib.dist(t, t, "fro")
        with pytest.raises(RuntimeError):
            lib.dist(lib.tensor([1, 2]), lib.tensor([3, 4]))  # integer: no norm
        with pytest.raises(RuntimeError):
            lib.dist(lib.zeros(0), lib.zeros(0), math.inf)  # no identity
        with pytest.raises(RuntimeError):
            lib.dist(lib.ones(2, 3), lib.ones(4))


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 1.5, 0.5, -1.0, math.inf, -math.inf], ids=str)
def test_dist_gradcheck(p):
    rng = np.random.default_rng(4)
    b = rng.standard_normal(3)
    # differences of distinct sizes, none near 0 (the kinks of p = 1, +-inf and p < 1)
    a = b + np.array([[0.37, -0.74, 1.11], [-1.48, 1.85, -2.22]])
    x, y = gg.tensor(a, requires_grad=True), gg.tensor(b, requires_grad=True)
    assert gg.autograd.gradcheck(lambda u, v: gg.dist(u, v, p), (x, y))
    assert gg.autograd.gradgradcheck(lambda u, v: gg.dist(u, v, p), (x, y))


# ---- in-place activations: PyTorch's node names, and what they save ---------------------------

INPLACE = {
    "F.elu": lambda lib, x: lib.nn.functional.elu(x, inplace=True),
    "F.elu_": lambda lib, x: lib.nn.functional.elu_(x, 0.5),
    "nn.ELU": lambda lib, x: lib.nn.ELU(inplace=True)(x),
    "F.leaky_relu": lambda lib, x: lib.nn.functional.leaky_relu(x, 0.1, inplace=True),
    "F.leaky_relu_": lambda lib, x: lib.nn.functional.leaky_relu_(x, 0.2),
    "nn.LeakyReLU": lambda lib, x: lib.nn.LeakyReLU(0.1, inplace=True)(x),
    "F.threshold": lambda lib, x: lib.nn.functional.threshold(x, 0.1, 0.0, inplace=True),
    "F.threshold_": lambda lib, x: lib.nn.functional.threshold_(x, 0.1, 0.5),
    "nn.Threshold": lambda lib, x: lib.nn.Threshold(0.1, 0.5, inplace=True)(x),
    "F.rrelu_eval": lambda lib, x: lib.nn.functional.rrelu(x, training=False, inplace=True),
    "torch.rrelu_": lambda lib, x: lib.rrelu_(x),
    "F.hardtanh": lambda lib, x: lib.nn.functional.hardtanh(x, inplace=True),
    "nn.ReLU6": lambda lib, x: lib.nn.ReLU6(inplace=True)(x),
    "F.relu": lambda lib, x: lib.nn.functional.relu(x, inplace=True),
    "F.silu": lambda lib, x: lib.nn.functional.silu(x, inplace=True),
    "F.mish": lambda lib, x: lib.nn.functional.mish(x, inplace=True),
    "F.hardswish": lambda lib, x: lib.nn.functional.hardswish(x, inplace=True),
    "F.hardsigmoid": lambda lib, x: lib.nn.functional.hardsigmoid(x, inplace=True),
    "F.celu": lambda lib, x: lib.nn.functional.celu(x, inplace=True),
    "F.selu": lambda lib, x: lib.nn.functional.selu(x, inplace=True),
    "exp_": lambda lib, x: x.exp_(),
    "sigmoid_": lambda lib, x: x.sigmoid_(),
    "tanh_": lambda lib, x: x.tanh_(),
    "sqrt_": lambda lib, x: x.abs_().sqrt_(),
    "reciprocal_": lambda lib, x: x.reciprocal_(),
    "log2_": lambda lib, x: x.abs_().log2_(),
    "log10_": lambda lib, x: x.abs_().log10_(),
    "exp2_": lambda lib, x: x.exp2_(),
    "deg2rad_": lambda lib, x: x.deg2rad_(),
    "rad2deg_": lambda lib, x: x.rad2deg_(),
    "log1p_": lambda lib, x: x.abs_().log1p_(),
}


def _inplace_program(lib, form, write):
    a = lib.tensor(np.random.default_rng(5).uniform(-1.5, 1.5, 6), requires_grad=True)
    y = INPLACE[form](lib, a * 1.0)
    name = y.grad_fn.name()
    with lib.no_grad():
        if write == "result":
            y.add_(0.0)
        elif write == "result_view":
            y[2:].mul_(1.0)
    try:
        (y * y).sum().backward()
    except RuntimeError as e:
        return name, "modified by an inplace operation" in str(e) or "modified in place" in str(e)
    return name, a.grad


@pytest.mark.parametrize("write", ["none", "result", "result_view"])
@pytest.mark.parametrize("form", sorted(INPLACE))
def test_inplace_activation_node_name_and_saved_as_pytorch(torch, form, write):
    ours, theirs = _inplace_program(gg, form, write), _inplace_program(torch, form, write)
    assert ours[0] == theirs[0]
    assert_same(ours[1], theirs[1], **TIGHT)


@pytest.mark.parametrize("form", ["F.threshold_", "F.leaky_relu", "F.elu", "F.rrelu_eval"])
def test_inplace_activation_gradient_penalty(torch, form):
    """Under create_graph the renamed nodes keep their double backward (threshold's linked to its
    input, as PyTorch's threshold_backward)."""

    def program(lib):
        a = lib.tensor(np.random.default_rng(6).uniform(-1.5, 1.5, 6), requires_grad=True)
        w = lib.tensor(np.linspace(-1.0, 1.0, 6), requires_grad=True)
        y = INPLACE[form](lib, a * w)
        (g,) = lib.autograd.grad((y * y).sum(), a, create_graph=True)
        (g * g).sum().backward()
        return [a.grad, w.grad]

    assert_same(program(gg), program(torch), **TIGHT)


@pytest.mark.parametrize("op", ["log2", "log10", "exp2", "deg2rad", "rad2deg", "log1p"])
def test_math_node_names_as_pytorch(torch, op):
    def program(lib):
        x = lib.tensor([0.5, 2.0], dtype=lib.float64, requires_grad=True)
        y = getattr(lib, op)(x * 1.0)
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        if not g.requires_grad:  # deg2rad, rad2deg: linear, a constant gradient (in PyTorch too)
            return y.grad_fn.name(), type(y.grad_fn).__name__, [y, g]
        (h,) = lib.autograd.grad(g.sum(), x)
        return y.grad_fn.name(), type(y.grad_fn).__name__, [y, g, h]

    ours, theirs = program(gg), program(torch)
    assert ours[:2] == theirs[:2]
    assert_same(ours[2], theirs[2], **TIGHT)
