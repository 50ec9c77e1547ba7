"""Round 65, a differential fuzz of in-place writes into what an op saved for backward. PyTorch
raises "modified by an inplace operation" exactly when an op saved the written tensor; glassgrad's
ops that kept less than PyTorch's (softplus, layer_norm's input and bias, batch/instance/group
norm's input, gather's and cummax/cummin's input, selu_'s result) ran on with the gradient of the
forward as it ran. Pinned here: raise-or-not as PyTorch, for the ops that save and for the ones
that do not (sort, topk, msort, max, batch norm's bias); selu_ as one node saving its result, with
PyTorch's values and first and second derivatives; F.unfold's 1x1 result a writable tensor of its
own (it was im2col's read-only view: relu_ on it raised)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

from .helpers import assert_same

TIGHT = {"rtol": 1e-12, "atol": 1e-12}


def _t(lib, *shape, seed=0, grad=True):
    return lib.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=grad)


# ---- ops that save their input (or bias, or result): a write before backward raises --------

SAVING = {
    "softplus": lambda lib, x, w, b: lib.nn.functional.softplus(x),
    "softplus_beta": lambda lib, x, w, b: lib.nn.functional.softplus(x, beta=2.0),
    "layer_norm": lambda lib, x, w, b: lib.nn.functional.layer_norm(x, (4,)),
    "layer_norm_affine": lambda lib, x, w, b: lib.nn.functional.layer_norm(x, (4,), w, b),
    "batch_norm": lambda lib, x, w, b: lib.nn.functional.batch_norm(x, None, None, w, b, training=True),
    "instance_norm": lambda lib, x, w, b: lib.nn.functional.instance_norm(x.unsqueeze(0))[0],
    "group_norm": lambda lib, x, w, b: lib.nn.functional.group_norm(x.unsqueeze(0), 3)[0],
    "gather": lambda lib, x, w, b: lib.gather(x, 1, lib.tensor([[0, 3], [1, 1], [2, 0]])),
    "gather_0d": lambda lib, x, w, b: lib.gather(x[0, 1], 0, lib.tensor(0)),
    "cummax": lambda lib, x, w, b: x.cummax(1).values,
    "cummin": lambda lib, x, w, b: lib.cummin(x, 0).values,
}

WRITES = {
    "add_": lambda t: t.add_(0.25),
    "setitem": lambda t: t.__setitem__((0,) * t.ndim, 0.5),
    "view_mul_": lambda t: t[1].mul_(2.0),
    "copy_": lambda t: t.copy_(t.flip(0)),
}


def _write_then_backward(lib, op, write, target):
    x, w, b = _t(lib, 3, 4), _t(lib, 4, seed=1), _t(lib, 4, seed=2)
    y = SAVING[op](lib, x, w, b)
    with lib.no_grad():
        WRITES[write]({"x": x, "w": w, "b": b}[target])
    try:
        (y * y).sum().backward()
    except RuntimeError as e:
        return "raised", "modified by an inplace operation" in str(e) or "modified in place" in str(e)
    return "ran", [x.grad, w.grad, b.grad]


@pytest.mark.parametrize("write", sorted(WRITES))
@pytest.mark.parametrize("op", sorted(SAVING))
def test_write_into_saved_input_raises_as_pytorch(torch, op, write):
    theirs = _write_then_backward(torch, op, write, "x")
    ours = _write_then_backward(gg, op, write, "x")
    assert theirs == ("raised", True)  # the premise: PyTorch's node saved its input
    assert ours == ("raised", True)


@pytest.mark.parametrize(
    ("op", "target"),
    [("layer_norm_affine", "b"), ("layer_norm_affine", "w"), ("batch_norm", "w"), ("batch_norm", "b")],
)
def test_norm_parameters_saved_as_pytorch(torch, op, target):
    """layer_norm's node saves weight and bias; batch_norm's saves weight, not bias."""
    theirs = _write_then_backward(torch, op, "add_", target)
    ours = _write_then_backward(gg, op, "add_", target)
    assert ours[0] == theirs[0]
    if theirs[0] == "ran":
        assert_same(ours[1], theirs[1], **TIGHT)


# ---- ops that save indices only: the write leaves their gradient as PyTorch's ----------------

NOT_SAVING = {
    "sort": lambda lib, x: lib.sort(x, 1).values,
    "topk": lambda lib, x: x.topk(2, dim=1).values,
    "msort": lambda lib, x: lib.msort(x),
    "max_dim": lambda lib, x: x.max(1).values,
    "gather_of_relu": lambda lib, x: lib.gather(lib.relu(x), 1, lib.tensor([[0, 3], [1, 1], [2, 0]])),
}


@pytest.mark.parametrize("op", sorted(NOT_SAVING))
def test_index_only_ops_run_after_a_write(torch, op):
    def program(lib):
        x = _t(lib, 3, 4)
        y = NOT_SAVING[op](lib, x)
        with lib.no_grad():
            x.mul_(3.0)
        (y * y).sum().backward()
        return [y, x.grad]

    assert_same(program(gg), program(torch), **TIGHT)


def test_saving_ops_keep_pytorch_gradients(torch):
    """The extra saved input is never read: first and second derivatives as PyTorch's."""

    def program(lib):
        x, w, b = _t(lib, 3, 4), _t(lib, 4, seed=1), _t(lib, 4, seed=2)
        out = []
        for op in sorted(SAVING):
            y = SAVING[op](lib, x, w, b)
            g = lib.autograd.grad((y.sin() * y).sum(), [x], create_graph=True)[0]
            out.append(g)
            out.append(lib.autograd.grad((g * g).sum(), [x], allow_unused=True)[0])
        return out

    assert_same(program(gg), program(torch), **TIGHT)


# ---- selu_: one elu node that saves its result ---------------------------------------------


def _selu_inplace(lib, form):
    x = _t(lib, 3, 4)
    h = x * 1.5
    if form == "module":
        y = lib.nn.SELU(inplace=True)(h)
    elif form == "functional":
        y = lib.nn.functional.selu(h, inplace=True)
    else:
        y = lib.selu_(h)
    return x, h, y


@pytest.mark.parametrize("form", ["module", "functional", "torch_selu_"])
def test_selu_inplace_values_and_derivatives(torch, form):
    def program(lib):
        x, h, y = _selu_inplace(lib, form)
        g = lib.autograd.grad((y * y.cos()).sum(), [x], create_graph=True)[0]
        gg2 = lib.autograd.grad((g * g).sum(), [x])[0]
        return [y, h, h._version, y.grad_fn.name(), g, gg2]

    assert_same(program(gg), program(torch), **TIGHT)


@pytest.mark.parametrize("write", ["result", "result_view", "detach"])
def test_selu_inplace_result_written_raises(torch, write):
    def program(lib):
        x, _h, y = _selu_inplace(lib, "module")
        with lib.no_grad():
            {"result": y, "result_view": y[:, 1], "detach": y.detach()}[write].add_(1.0)
        try:
            y.sum().backward()
        except RuntimeError:
            return "raised"
        return x.grad

    assert program(torch) == "raised"
    assert program(gg) == "raised"


def test_selu_inplace_forward_ad(torch):
    def program(lib):
        fwAD = lib.autograd.forward_ad
        x, t = _t(lib, 3, 4, grad=False), _t(lib, 3, 4, seed=5, grad=False)
        with fwAD.dual_level():
            d = fwAD.make_dual(x * 1.0, t)
            lib.nn.functional.selu(d, inplace=True)
            return list(fwAD.unpack_dual(d)[:2])

    assert_same(program(gg), program(torch), **TIGHT)


# ---- F.unfold with a 1x1 window: a result of its own, writable ----------------------------


def test_unfold_one_by_one_result_is_writable(torch):
    def program(lib):
        x = _t(lib, 1, 2, 3, 4)
        u = lib.nn.functional.unfold(x * 1.0, 1)
        u.relu_()
        s = lib.nn.functional.unfold(x.detach(), (1, 1))
        s[0, 0, 0] = 7.0  # its own memory: x is untouched
        (u * u.cos()).sum().backward()
        return [u, s, x, x.grad]

    assert_same(program(gg), program(torch), **TIGHT)
