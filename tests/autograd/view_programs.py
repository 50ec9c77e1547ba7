"""An interpreter of small programs of views and in-place changes, run the same way on glassgrad and
on PyTorch by ``test_random_view_programs_2.py`` (random programs) and ``_3.py`` (the regressions it
found). A program is a base tensor, two chains of views of it, in-place steps on any of them (with
grad mode on or off, with values that do or do not require grad), computations before and after the
steps (ops that save their inputs, their outputs or nothing) and a backward.

``run(lib, program)`` returns an ``Outcome``: the values of every named tensor and of the leaves'
gradients, or where it raised and what. ``compare(ours, theirs)`` holds glassgrad to PyTorch.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

VIEWS = [
    "slice", "step", "t", "mT", "transpose", "movedim", "narrow", "select", "diagonal", "permute",
    "view", "view_as", "reshape", "flatten", "unflatten", "squeeze", "unsqueeze", "none", "expand",
    "expand1", "chunk", "tensor_split", "unbind", "split", "unfold", "unfold2", "detach", "data", "T",
    "swapaxes",
]  # fmt: skip
CHANGES = [
    "mul_", "mul_t", "add_", "add_t", "sub_t", "div_", "div_t", "pow_", "neg_", "exp_", "clamp_",
    "relu_", "F.relu", "nn.ReLU", "sigmoid_", "tanh_", "masked_fill_", "index_add_", "index_fill_",
    "scatter_", "scatter_add_", "addcmul_", "addcdiv_", "lerp_", "setitem", "setitem_t", "copy_",
    "copy_t", "zero_", "fill_", "fill_t", "iadd_t", "imul", "out=", "out=t", "unsqueeze_", "squeeze_",
    "use:exp", "use:square", "use:sigmoid", "use:sum",
]  # fmt: skip
COMPUTE = [
    "square", "exp", "sigmoid", "tanh", "pow", "matmul", "mm", "softmax", "sum", "scale", "relu", "clamp", "abs",
    "leaky_relu", "hardtanh",
]  # fmt: skip
BASES = ["leaf", "nonleaf", "clone", "detach", "leaf detach", "buffer", "data"]
TARGETS = ["base", "view", "other", "h", "r", "rv"]  # r: exp(view), a result whose node saved it
USES = ["base", "view", "other", "h", "w", "r", "rv"]


@dataclass
class Outcome:
    values: dict[str, np.ndarray | None] = field(default_factory=dict)  # None: a .grad that is None
    raised: tuple[str, BaseException] | None = None  # (where, the error)
    trace: list[str] = field(default_factory=list)  # the path taken (shape-dependent choices)


def _view(lib: Any, t: Any, step: str, trace: list) -> Any:
    n, s = t.ndim, tuple(t.shape)
    if step == "slice":
        return t[1:] if n and s[0] > 1 else t[...]
    if step == "step":
        return t[::2] if n else t
    if step == "t":
        return t.t() if n <= 2 else t
    if step == "T":
        return t.T if n == 2 else t
    if step == "swapaxes":
        return t.swapaxes(0, -1) if n else t
    if step == "mT":
        return t.mT if n >= 2 else t
    if step == "transpose":
        return t.transpose(0, -1) if n else t
    if step == "movedim":
        return t.movedim(0, -1) if n else t
    if step == "narrow":
        return t.narrow(-1, 0, max(1, s[-1] - 1)) if n else t
    if step == "select":
        return t.select(-1, s[-1] - 1) if n else t
    if step == "diagonal":
        return t.diagonal() if n >= 2 else t
    if step == "permute":
        return t.permute(*range(n - 1, -1, -1)) if n else t
    if step == "view":
        trace.append(f"contiguous {t.is_contiguous()}")
        return t.view(-1) if t.is_contiguous() else t
    if step == "view_as":
        return t.view_as(t)
    if step == "reshape":
        return t.reshape(-1)
    if step == "flatten":
        return t.flatten()
    if step == "unflatten":
        return t.unflatten(0, (2, -1)) if n and s[0] % 2 == 0 else t.unflatten(-1, (1, -1)) if n else t
    if step == "squeeze":
        return t.squeeze()
    if step == "unsqueeze":
        return t.unsqueeze(0)
    if step == "none":
        return t[..., None]
    if step == "expand":
        return t.unsqueeze(0).expand(2, *s)
    if step == "expand1":  # stretches nothing: a plain, writable view
        return t.expand(1, *s)
    if step == "chunk":
        return t.chunk(2, 0)[-1] if n else t
    if step == "tensor_split":
        return t.tensor_split(2, -1)[0] if n else t
    if step == "unbind":
        return t.unbind(0)[0] if n else t
    if step == "split":
        return t.split(1, 0)[-1] if n else t
    if step == "unfold":  # overlapping windows
        return t.unfold(-1, 2, 1) if n and s[-1] >= 2 else t
    if step == "unfold2":
        return t.unfold(-1, 2, 2) if n and s[-1] >= 2 else t
    if step == "detach":
        return t.detach()
    return t.data


def _value(lib: Any, u: Any, like: Any, scale: float = 0.5) -> Any:
    """A value of ``like``'s shape taken from leaf ``u`` (so it requires grad)."""
    n = like.numel()
    return (u.reshape(-1)[:n] * scale).reshape(tuple(like.shape)) if n <= u.numel() else u.sum() * scale


def _index(lib: Any, t: Any) -> Any:
    """An index along dim 0 for index_add_/index_fill_: two rows, or one."""
    return lib.tensor([t.shape[0] - 1, 0] if t.shape[0] > 1 else [0], dtype=lib.int64)


def _change(lib: Any, t: Any, how: str, u: Any) -> Any:
    f64 = lib.float64
    if how == "mul_":
        return t.mul_(2.0)
    if how == "mul_t":
        return t.mul_(_value(lib, u, t))
    if how == "add_":
        return t.add_(1.0)
    if how == "add_t":
        return t.add_(_value(lib, u, t), alpha=0.5)
    if how == "sub_t":
        return t.sub_(u.sum() * 0.1)
    if how == "div_":
        return t.div_(1.7)
    if how == "div_t":
        return t.div_(_value(lib, u, t) + 2.0)
    if how == "pow_":
        return t.pow_(2)
    if how == "neg_":
        return t.neg_()
    if how == "exp_":
        return t.exp_()
    if how == "clamp_":
        return t.clamp_(-0.2, 0.7)
    if how == "relu_":
        return t.relu_()
    if how == "F.relu":
        return lib.nn.functional.relu(t, inplace=True)
    if how == "nn.ReLU":
        return lib.nn.ReLU(inplace=True)(t)
    if how == "sigmoid_":
        return t.sigmoid_()
    if how == "tanh_":
        return t.tanh_()
    if how == "masked_fill_":
        return t.masked_fill_(t.detach() > 0.3, 0.25)
    if t.ndim and how in ("index_add_", "index_fill_", "scatter_", "scatter_add_"):
        idx = _index(lib, t)
        if how == "index_add_":
            return t.index_add_(0, idx, _value(lib, u, t[: len(idx)]), alpha=0.5)
        if how == "index_fill_":
            return t.index_fill_(0, idx, -0.5)
        perm = lib.arange(t.shape[0] - 1, -1, -1).reshape((-1,) + (1,) * (t.ndim - 1)).expand(*t.shape)
        if how == "scatter_":  # a permutation along dim 0: no repeated index, a deterministic result
            return t.scatter_(0, perm.contiguous(), _value(lib, u, t))
        return t.scatter_add_(0, (perm * 0).contiguous(), _value(lib, u, t, 0.25))
    if how in ("index_add_", "index_fill_", "scatter_", "scatter_add_"):
        return t.add_(0.5)
    if how == "addcmul_":
        return t.addcmul_(_value(lib, u, t), _value(lib, u, t, 0.3), value=0.5)
    if how == "addcdiv_":
        return t.addcdiv_(_value(lib, u, t), _value(lib, u, t, 0.3) + 2.0, value=0.3)
    if how == "lerp_":
        return t.lerp_(_value(lib, u, t), 0.3)
    if how == "setitem":
        t[0 if t.ndim else ...] = 0.75
        return t
    if how == "setitem_t":
        key = 0 if t.ndim else ...
        t[key] = _value(lib, u, t[key])
        return t
    if how == "copy_":
        return t.copy_(lib.ones(tuple(t.shape), dtype=f64) * 0.25)
    if how == "copy_t":
        return t.copy_(_value(lib, u, t))
    if how == "zero_":
        return t.zero_()
    if how == "fill_":
        return t.fill_(0.5)
    if how == "fill_t":
        return t.fill_(u.sum() * 0.1)
    if how == "iadd_t":
        t += _value(lib, u, t)
        return t
    if how == "imul":
        t *= 1.5
        return t
    if how == "unsqueeze_":
        return t.unsqueeze_(0)
    if how == "squeeze_":
        return t.squeeze_()
    if how == "out=":
        return lib.add(lib.ones(tuple(t.shape), dtype=f64), 2.0, out=t)
    return lib.mul(_value(lib, u, t), 2.0, out=t)


def _compute(lib: Any, v: Any, kind: str) -> Any:
    if kind == "square":
        return (v * v).sum()
    if kind == "exp":
        return v.exp().sum()
    if kind == "sigmoid":
        return v.sigmoid().sum()
    if kind == "tanh":
        return v.tanh().sum()
    if kind == "pow":
        return (v**3).sum()
    if kind == "matmul":
        f = v.reshape(-1)
        return f @ (f * 0.5)
    if kind == "mm":
        m = v.reshape(v.shape[0], -1) if v.ndim else v.reshape(1, 1)
        return (m @ m.mT).sum()
    if kind == "abs":
        return v.abs().sum()
    if kind == "leaky_relu":
        return lib.nn.functional.leaky_relu(v, 0.2).sum()
    if kind == "hardtanh":
        return lib.nn.functional.hardtanh(v, -0.3, 0.5).sum()
    if kind == "softmax":
        f = v.reshape(-1)
        return (f.softmax(0) * lib.arange(f.numel(), dtype=v.dtype)).sum()
    if kind == "scale":
        return (v * 3.0).sum()
    if kind == "relu":
        return (lib.relu(v) * 1.5).sum()
    if kind == "clamp":
        return (v.clamp(-0.1, 0.6) * 2.0).sum()
    return v.sum()


def _read(t: Any) -> np.ndarray:
    return np.array(t.detach().tolist(), dtype=np.float64)


def run(lib: Any, program: tuple, touch: bool = False) -> Outcome:
    """``touch``: read every named tensor's ``grad_fn`` before each change (see ``check``)."""
    base_kind, steps, other_steps, before, changes, after = program
    out = Outcome()
    w = lib.tensor(np.linspace(-0.55, 1.2, 12).reshape(3, 4), dtype=lib.float64, requires_grad=True)
    u = lib.tensor(np.linspace(0.7, -0.6, 192), dtype=lib.float64, requires_grad=True)
    h = w * 1.5
    base = {
        "leaf": lambda: w,
        "nonleaf": lambda: h,
        "clone": lambda: w.clone(),
        "detach": lambda: h.detach(),
        "leaf detach": lambda: w.detach(),
        "buffer": lambda: lib.zeros(3, 4, dtype=lib.float64) + 0.3,
        "data": lambda: h.data,
    }[base_kind]()
    named = {"base": base, "h": h, "w": w}
    stage = "views"
    try:
        v = base
        for s in steps:
            v = _view(lib, v, s, out.trace)
        o = base
        for s in other_steps:
            o = _view(lib, o, s, out.trace)
        r = v.exp()
        named.update(view=v, other=o, r=r, rv=r[..., None] if r.ndim else r.view(1))
        out.trace += [f"{k}{tuple(t.shape)}" for k, t in named.items()]
        losses = []
        stage = "before"
        for use, kind in before:
            losses.append(_compute(lib, named[use], kind))
        for i, (target, how, grad_on) in enumerate(changes):
            stage = f"change {i}"
            if touch:
                for t in named.values():
                    # a view PyTorch refuses to use now raises here: that is for its use to show
                    with contextlib.suppress(RuntimeError):
                        t.grad_fn  # noqa: B018 - PyTorch regenerates a view's node when it is read
            if how.startswith("use:"):
                losses.append(_compute(lib, named[target], how[4:]))
            elif grad_on:
                _change(lib, named[target], how, u)
            else:
                with lib.no_grad():
                    _change(lib, named[target], how, u)
        stage = "after"
        for use, kind in after:
            losses.append(_compute(lib, named[use], kind))
        for k, t in named.items():
            out.values[k] = _read(t)
        loss = sum(losses[1:], losses[0]) if losses else None
        if loss is None or not loss.requires_grad:
            return out
        out.values["loss"] = _read(loss)
        stage = "backward"
        loss.backward()
    except Exception as e:
        out.raised = (stage, e)
        return out
    for k, t in (("w.grad", w), ("u.grad", u)):
        out.values[k] = None if t.grad is None else _read(t.grad)
    return out


#: glassgrad's documented refusals where PyTorch computes (docs/design.md, deliberate differences):
#: a write through a stretching expand or an unfold (read-only here; PyTorch writes unless it sees
#: a zero stride), and a leaf whose shape changed after the graph was recorded (PyTorch reshapes its gradient)
STRICTER = (
    "got a read-only view",
    "the leaf's shape changed",
)


def is_ours(e: BaseException) -> bool:
    """A glassgrad error (RuntimeError/ValueError raised by the library), not NumPy's from inside."""
    return isinstance(e, RuntimeError | ValueError) and type(e).__module__.startswith("glassgrad")


def check(ours_lib: Any, torch: Any, program: tuple) -> str:
    """``compare`` for one program run in both libraries. PyTorch makes a view's node anew from its
    base's only when the node is read: after an in-place change of the base gave it a node, a view
    whose ``grad_fn`` was never read still looks like a leaf that requires grad, and changing it in
    place raises, while the same program with ``grad_fn`` read computes. glassgrad rebases the
    views at once, so it computes; it is held to PyTorch's values with the nodes read."""
    ours, theirs = run(ours_lib, program), run(torch, program)
    if (
        theirs.raised is not None
        and ours.raised is None
        and "a leaf Variable that requires grad" in str(theirs.raised[1])
    ):
        read = run(torch, program, touch=True)
        if read.raised is None:
            theirs = read
    return compare(ours, theirs, program)


def _reshaped_under_no_grad(e: BaseException, program: tuple) -> bool:
    """PyTorch's backward refuses a gradient of fewer dims than the node recorded ("returned an
    invalid gradient"), which a ``squeeze_`` under no_grad of a tensor in the graph makes; glassgrad
    broadcasts it back to the recorded shape and computes (docs/design.md, deliberate differences)."""
    changes = program[4]
    return "returned an invalid gradient" in str(e) and any(
        how == "squeeze_" and not grad_on for _, how, grad_on in changes
    )


def compare(ours: Outcome, theirs: Outcome, program: Any) -> str:
    """Hold glassgrad to PyTorch; return "same", "both raised", "stricter" (glassgrad raised
    where PyTorch computed: allowed, counted) or "more lenient" (``_reshaped_under_no_grad``); raise
    AssertionError on a defect."""
    if theirs.raised is not None:
        where, e = theirs.raised
        assert isinstance(e, RuntimeError), f"program error in PyTorch at {where}: {e!r}: {program}"
        if ours.raised is None and _reshaped_under_no_grad(e, program):
            return "more lenient"
        assert ours.raised is not None, (
            f"glassgrad computed where PyTorch raised at {where} ({e}): {program}; ours: {ours.values}"
        )
        assert is_ours(ours.raised[1]), f"not a glassgrad error: {ours.raised!r}: {program}"
        return "both raised"
    if ours.raised is not None:
        assert is_ours(ours.raised[1]), f"not a glassgrad error: {ours.raised!r}: {program}"
        assert any(s in str(ours.raised[1]) for s in STRICTER), (
            f"an undocumented refusal: {ours.raised!r}: {program}"
        )
        return "stricter"
    assert ours.trace == theirs.trace, f"different shapes: {ours.trace} vs {theirs.trace}: {program}"
    assert sorted(ours.values) == sorted(theirs.values), f"{sorted(ours.values)} vs {sorted(theirs.values)}"
    for k, want in theirs.values.items():
        assert (ours.values[k] is None) == (want is None), f"{k}: {ours.values[k]} vs {want}: {program}"
        if want is None:
            continue
        np.testing.assert_allclose(ours.values[k], want, rtol=1e-10, atol=1e-12, err_msg=f"{k}: {program}")
    return "same"
