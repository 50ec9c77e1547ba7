"""The defects the random view/in-place programs (``test_random_view_programs_2.py``) found, each
as the smallest program, run in glassgrad and in PyTorch: both raise, or both compute the same
forward values and gradients (float64)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import GraphError
from tests.autograd.view_programs import check, compare, is_ours, run


def _leaves(lib):
    w = lib.tensor(np.linspace(-0.55, 1.2, 12).reshape(3, 4), dtype=lib.float64, requires_grad=True)
    u = lib.tensor(np.linspace(0.7, -0.6, 12).reshape(3, 4), dtype=lib.float64, requires_grad=True)
    return w, u


def _outcome(lib, program):
    """("raised", error) or ("values", [arrays]): the program's returned tensors and the leaves' grads."""
    w, u = _leaves(lib)
    try:
        shown = program(lib, w, u)
    except Exception as e:
        return "raised", e
    return "values", [None if t is None else np.array(t.detach().tolist()) for t in (*shown, w.grad, u.grad)]


def _same(torch, program):
    ours, theirs = _outcome(gg, program), _outcome(torch, program)
    if theirs[0] == "raised":
        assert isinstance(theirs[1], RuntimeError), theirs[1]
        assert ours[0] == "raised", f"glassgrad computed where PyTorch raised ({theirs[1]}): {ours[1]}"
        assert is_ours(ours[1]), repr(ours[1])
        return
    assert ours[0] == "values", f"glassgrad raised where PyTorch computed: {ours[1]!r}"
    for a, b in zip(ours[1], theirs[1], strict=True):
        assert (a is None) == (b is None), (a, b)
        if b is not None:
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


# ------------------------------------------------ inplace=True left the input unchanged (forward values)
def _relu_functional(lib, w, u):
    h = w * 1.5
    lib.nn.functional.relu(h.detach(), inplace=True)  # h itself must show the change
    return (h,)


def _relu_module_then_use(lib, w, u):
    h = w * 1.5
    lib.nn.ReLU(inplace=True)(h)
    (h * h).sum().backward()
    return (h,)


@pytest.mark.parametrize("program", [_relu_functional, _relu_module_then_use])
def test_inplace_true_changes_the_input_as_pytorch(torch, program):
    _same(torch, program)


@pytest.mark.parametrize(
    "name", ["relu", "relu6", "leaky_relu", "elu", "silu", "hardtanh", "selu", "celu", "mish", "hardswish", "dropout"]
)  # fmt: skip
def test_every_inplace_functional_writes_into_its_input(torch, name):
    def program(lib, w, u):
        F = lib.nn.functional
        h = w * 1.5
        out = (
            getattr(F, name)(h, inplace=True) if name != "dropout" else F.dropout(h, 0.0, True, inplace=True)
        )
        assert out is h
        h.sum().backward()
        return (h,)

    _same(torch, program)


# ------------------------------------------ ops that saved a mask instead of the tensor PyTorch saves
@pytest.mark.parametrize(
    "op",
    [
        lambda lib, t: t.clamp(-0.1, 0.6),
        lambda lib, t: lib.relu(t),
        lambda lib, t: lib.nn.functional.leaky_relu(t, 0.2),
        lambda lib, t: lib.nn.functional.hardtanh(t, -0.3, 0.5),
        lambda lib, t: t.abs(),
    ],
    ids=["clamp", "relu", "leaky_relu", "hardtanh", "abs"],
)
@pytest.mark.parametrize("how", ["no_grad", "data"])
def test_a_change_after_an_op_that_saved_its_input_or_output_raises_or_matches(torch, op, how):
    def program(lib, w, u):
        h = w * 1.5
        y = op(lib, h)
        target = h if op(lib, w).grad_fn.name().startswith(("Clamp", "Leaky", "Hardtanh", "Abs")) else y
        if how == "no_grad":  # PyTorch: "modified by an inplace operation" at backward
            with lib.no_grad():
                target.neg_()
        else:  # .data: no version change, so PyTorch computes with the new values
            target.data.neg_()
        (y * 2.0).sum().backward()
        return (y,)

    _same(torch, program)


# ---------------------------------- a recorded in-place op on a non-leaf whose old value an op saved
@pytest.mark.parametrize("how", ["div_", "add_", "iadd", "setitem", "relu_", "copy_"])
def test_a_recorded_change_of_a_saved_non_leaf_raises_as_pytorch(torch, how):
    def program(lib, w, u):
        h = w * 1.5
        z = h * h  # saves h
        {"div_": lambda: h.div_(1.7), "add_": lambda: h.add_(u), "iadd": lambda: h.__iadd__(u),
         "setitem": lambda: h.__setitem__(0, u[0]), "relu_": lambda: h.relu_(),
         "copy_": lambda: h.copy_(u)}[how]()  # fmt: skip
        z.sum().backward()
        return (z,)

    _same(torch, program)


def test_tanh_then_a_recorded_residual_add_raises_as_pytorch(torch):
    def program(lib, w, u):
        h = (w * 1).tanh()  # saves its output h
        h += u
        (h * 2).sum().backward()
        return (h,)

    _same(torch, program)


# ------------------------------------------- copy_ of a grad-requiring value dropped the old node
def test_copy_from_a_tensor_in_the_graph_keeps_the_old_node_as_pytorch(torch):
    def program(lib, w, u):
        h = w * 1.5
        h.relu_()  # relu saves its output, h
        h.copy_(u * 0.5)  # PyTorch: relu's output changed, and relu is still in the graph
        h.exp().sum().backward()
        return (h,)

    _same(torch, program)


def test_copy_over_a_non_leaf_gives_a_zero_gradient_not_none(torch):
    def program(lib, w, u):
        h = w * 1.5
        h.copy_(u)
        h.sum().backward()
        return (h,)

    _same(torch, program)


# -------------------------- pieces of split/chunk/unbind used after their memory changed in place
@pytest.mark.parametrize("cut", ["unbind", "split", "chunk", "tensor_split", "unbind then view"])
@pytest.mark.parametrize("via", ["base", "piece", "detach", "other piece"])
def test_a_piece_used_after_an_in_place_change_raises_as_pytorch(torch, cut, via):
    def program(lib, w, u):
        h = w * 1.5
        pieces = {"unbind": h.unbind, "split": lambda: h.split(1), "chunk": lambda: h.chunk(3),
                  "tensor_split": lambda: h.tensor_split(3), "unbind then view": lambda: [
                      p[..., None] for p in h.unbind()]}[cut]()  # fmt: skip
        p = pieces[0]
        early = p.sum()  # used before the change: fine in both
        with lib.no_grad():
            {"base": h, "piece": p, "detach": h.detach(), "other piece": pieces[1]}[via].mul_(2.0)
        (early + p.sum()).backward()
        return (h,)

    _same(torch, program)


def test_a_piece_used_only_before_the_change_still_backpropagates(torch):
    def program(lib, w, u):
        h = w * 1.5
        y = h.unbind(0)[1].sum()
        with lib.no_grad():
            h.mul_(2.0)
        y.backward()
        return (h,)

    _same(torch, program)


# ----------------------------------------------- the in-place shape methods (unsqueeze_, squeeze_ ...)
@pytest.mark.parametrize(
    "program",
    [
        lambda lib, w, u: (w[0].unsqueeze_(0),),  # a view of a leaf: refused, as PyTorch
        lambda lib, w, u: ((w * 1).unbind(0)[0].unsqueeze_(0),),  # a piece: refused, as PyTorch
        lambda lib, w, u: ((w * 1)[0].unsqueeze_(0),),  # a view of a non-leaf: fine
    ],
    ids=["view of a leaf", "piece", "view of a non-leaf"],
)
def test_in_place_shape_methods_on_views_follow_pytorch(torch, program):
    _same(torch, program)


def test_unsqueeze_under_no_grad_of_a_view_in_the_graph_keeps_its_gradient(torch):
    def program(lib, w, u):  # glassgrad's backward handed the old node a gradient of the new shape
        v = (w * 1.5).unfold(-1, 2, 1)
        with lib.no_grad():
            v.unsqueeze_(0)
        v.exp().sum().backward()
        return (v,)

    _same(torch, program)


# ------------------------------------------------- a 0-d result whose op saved it (exp, sigmoid ...)
@pytest.mark.parametrize("op", ["exp", "sigmoid", "tanh", "sqrt"])
def test_a_changed_zero_dim_result_is_seen_at_backward(torch, op):
    def program(lib, w, u):
        r = getattr(w[1, 1] * 1.5, op)()  # the op saved a NumPy scalar, not the result's array
        with lib.no_grad():
            r.mul_(2.0)
        r.backward()
        return (r,)

    _same(torch, program)


def test_the_errors_are_glassgrads_with_the_house_message():
    w, _ = _leaves(gg)
    h = w * 1.5
    p = h.unbind(0)[0]
    with gg.no_grad():
        h.mul_(2.0)
    with pytest.raises(GraphError, match="stale_view|mul_: expected a piece"):
        p.sum().backward()


def test_a_program_from_the_sweep_runs_through_the_interpreter(torch):
    program = ("nonleaf", ["unbind", "unbind"], ["t", "data"], [("w", "clamp")],
               [("r", "use:sum", False), ("rv", "F.relu", False)], [("base", "sigmoid")])  # fmt: skip
    assert compare(run(gg, program), run(torch, program), program) == "both raised"


# ------------------------------- ops that saved more than PyTorch: glassgrad raised where it computes
def test_pow_by_a_number_saves_its_input_only_as_pytorch(torch):
    def program(lib, w, u):  # x ** 2 saved its output too: the sub_ then made backward raise
        h = w * 1.5
        h.pow_(2)
        h.sub_(u.sum() * 0.1)
        h.relu().sum().backward()
        return (h,)

    _same(torch, program)


def test_the_sweep_refuses_nothing_but_the_documented_differences(torch):
    program = ("buffer", ["narrow", "unflatten"], ["reshape"], [("w", "square")],
               [("h", "pow_", True), ("h", "sub_t", True), ("r", "squeeze_", True)], [("h", "relu")])  # fmt: skip
    assert compare(run(gg, program), run(torch, program), program) == "same"


# ----------------------------------------- views rebased as PyTorch's CopySlices (ninth session)
def test_programs_once_refused_for_shared_memory_now_match_torch(torch):
    programs = [  # each raised "shares memory" before views were rebased (autograd/view_rebase.py)
        ("nonleaf", ["slice"], ["t"], [("view", "sum")], [("view", "mul_t", True)], [("other", "exp")]),
        ("buffer", ["select"], ["slice"], [], [("view", "add_t", True), ("base", "mul_", True)], [("other", "sum")]),
        ("clone", ["t", "narrow"], ["diagonal"], [], [("base", "add_t", True), ("view", "setitem_t", True)],
         [("view", "pow"), ("other", "tanh")]),
        ("detach", ["slice", "slice"], ["slice"], [], [("r", "mul_t", True)], [("rv", "square")]),
    ]  # fmt: skip
    for program in programs:
        assert check(gg, torch, program) == "same", program


def test_a_view_pytorch_still_takes_for_a_leaf_is_compared_with_its_node_read(torch):
    # PyTorch regenerates rv's node only when it is read: unread, rv.mul_ raises "a leaf Variable"
    program = ("detach", [], ["slice"], [], [("r", "mul_t", True), ("rv", "mul_", True)], [])
    assert "a leaf Variable" in str(run(torch, program).raised[1])
    assert check(gg, torch, program) == "same"


def test_a_squeeze_under_no_grad_of_a_recorded_result_computes_where_torch_raises(torch):
    program = ("detach", ["slice", "slice"], ["slice"], [], [("r", "mul_t", True), ("r", "squeeze_", False)],
               [("r", "square")])  # fmt: skip
    assert check(gg, torch, program) == "more lenient"
