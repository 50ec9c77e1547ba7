"""Round 53, group detectron: detectron2's and fvcore's pure-PyTorch parts (layers, structures,
box regression, matcher, sampling, anchors, ResNet/FPN/ViT/MViT/Swin/RegNet backbones, RPN,
RetinaNet, FCOS, semantic segmentation; fvcore's losses, precise BN, parameter counts).

detectron2 calls ``torch._check`` (``ImageList.from_tensors`` under ``torch.compile``, its Caffe2
export behind ``torch._utils.is_compiling()``); glassgrad had neither. The ``torch._check`` family
and ``torch._utils.is_compiling`` are now PyTorch's: the same exception classes, messages and
refusals. Each test compares with PyTorch's CPU build where PyTorch decides."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg

_CHECKS = ["_check", "_check_index", "_check_value", "_check_type", "_check_not_implemented"]


def _outcome(fn, *args, **kwargs):
    """(exception class name, message) of a call, or None when it returns (None)."""
    try:
        assert fn(*args, **kwargs) is None
    except Exception as e:
        return type(e).__name__, str(e)
    return None


@pytest.mark.parametrize("name", _CHECKS)
def test_check_family_raises_pytorchs_class_and_message(torch, name):
    ours, theirs = getattr(gg, name), getattr(torch, name)
    for cond in (True, False):
        for message in (None, lambda: "bad size 3", lambda: 17):
            assert _outcome(ours, cond, message) == _outcome(theirs, cond, message)
    assert _outcome(ours, 1 > 2) == _outcome(theirs, 1 > 2)
    assert _outcome(ours, False, message=lambda: "kw") == _outcome(theirs, False, message=lambda: "kw")


@pytest.mark.parametrize("name", _CHECKS)
def test_check_family_refuses_what_pytorch_refuses(torch, name):
    ours, theirs = getattr(gg, name), getattr(torch, name)
    for cond in (1, 0, None, "yes", np.bool_(True), [True]):
        assert _outcome(ours, cond) == _outcome(theirs, cond) != None  # noqa: E711
    # a tensor condition: PyTorch's TypeError pointing at _check_tensor_all
    assert _outcome(ours, gg.tensor(True)) == _outcome(theirs, torch.tensor(True))
    # a message that is no callable is refused only when the condition fails, as PyTorch's
    assert _outcome(ours, True, "text") == _outcome(theirs, True, "text") is None
    assert _outcome(ours, False, "text") == _outcome(theirs, False, "text")


def test_check_with_takes_an_exception_class(torch):
    for cls in (KeyError, ZeroDivisionError, RuntimeError):
        got = _outcome(gg._check_with, cls, False, lambda: "m")
        assert got == _outcome(torch._check_with, cls, False, lambda: "m") == (cls.__name__, str(cls("m")))
    # a Warning class or a non-exception is PyTorch's AssertionError (only for a failed condition)
    for cls in (UserWarning, int):
        assert _outcome(gg._check_with, cls, False, None) == _outcome(torch._check_with, cls, False, None)
        assert (
            _outcome(gg._check_with, cls, True, None) is _outcome(torch._check_with, cls, True, None) is None
        )
    # the message is a required argument of _check_with, as in PyTorch's signature
    kind, _ = _outcome(gg._check_with, RuntimeError, False)
    assert kind == _outcome(torch._check_with, RuntimeError, False)[0] == "TypeError"


def test_check_tensor_all(torch):
    cases = [[True, True], [True, False], [], [[True], [False]]]
    for data in cases:
        for fn in ("_check_tensor_all",):
            a = _outcome(getattr(gg, fn), gg.tensor(data, dtype=gg.bool), lambda: "not all")
            b = _outcome(getattr(torch, fn), torch.tensor(data, dtype=torch.bool), lambda: "not all")
            assert a == b
    a = _outcome(gg._check_tensor_all_with, IndexError, gg.tensor([False]))
    assert a == _outcome(torch._check_tensor_all_with, IndexError, torch.tensor([False]))
    # not a tensor, or not bool: PyTorch's TypeErrors (the dtype printed by each library's name)
    assert _outcome(gg._check_tensor_all, True) == _outcome(torch._check_tensor_all, True)
    kind, msg = _outcome(gg._check_tensor_all, gg.ones(2))
    assert (kind, msg.replace("glassgrad.", "torch.")) == _outcome(torch._check_tensor_all, torch.ones(2))


def test_check_is_size_warns_and_checks_bounds(torch):
    for args, kwargs in [((3,), {}), ((-1,), {}), ((4,), {"max": 3}), ((3,), {"max": 3}), ((0,), {})]:
        with warnings.catch_warnings(record=True) as ours_w:
            warnings.simplefilter("always")
            ours = _outcome(gg._check_is_size, *args, **kwargs)
        with warnings.catch_warnings(record=True) as theirs_w:
            warnings.simplefilter("always")
            theirs = _outcome(torch._check_is_size, *args, **kwargs)
        assert ours == theirs
        assert [(w.category, str(w.message)) for w in ours_w] == [
            (w.category, str(w.message)) for w in theirs_w
        ]


def test_utils_is_compiling_is_deprecated_and_false(torch):
    import torch._utils

    import glassgrad._utils

    with warnings.catch_warnings(record=True) as ours_w:
        warnings.simplefilter("always")
        ours = glassgrad._utils.is_compiling()
    with warnings.catch_warnings(record=True) as theirs_w:
        warnings.simplefilter("always")
        theirs = torch._utils.is_compiling()
    assert ours is theirs is False
    assert [(w.category, str(w.message), w.filename) for w in ours_w] == [
        (w.category, str(w.message), w.filename) for w in theirs_w
    ]
    assert ours_w[0].filename == __file__


def test_imagelist_style_padding_check_passes_and_fails(torch):
    # detectron2's ImageList.from_tensors checks the padding amounts with torch._check(u.item() >= 0)
    for lib in (gg, torch):
        sizes = lib.tensor([[7, 9], [10, 5]])
        max_size = (sizes.max(0).values + 3).div(4, rounding_mode="floor") * 4
        u0, u1 = max_size[-1] - sizes[0, 1], max_size[-2] - sizes[0, 0]
        lib._check(u0.item() >= 0)
        lib._check(u1.item() >= 0)
    assert _outcome(gg._check, gg.tensor(-1).item() >= 0) == _outcome(
        torch._check, torch.tensor(-1).item() >= 0
    )


# --- SGD(foreach=True): PyTorch's list path writes the Nesterov look-ahead into p.grad ----------


def _sgd_run(lib, groups_kw, steps=3, **kw):
    """Two param groups stepped ``steps`` times with fixed gradients: (grads after each step,
    grad versions bumped, parameters after each step)."""
    rng = np.random.default_rng(0)
    w0, b0 = rng.normal(size=(3, 2)), rng.normal(size=(2,))
    gw, gb = rng.normal(size=(3, 2)), rng.normal(size=(2,))
    w = lib.nn.Parameter(lib.tensor(w0))
    b = lib.nn.Parameter(lib.tensor(b0))
    opt = lib.optim.SGD([dict(params=[w], **groups_kw[0]), dict(params=[b], **groups_kw[1])], lr=0.1, **kw)
    out = []
    for i in range(steps):
        w.grad, b.grad = lib.tensor(gw * (i + 1)), lib.tensor(gb - i)
        versions = (w.grad._version, b.grad._version)
        opt.step()
        out.append(
            (
                w.grad.numpy().copy(), b.grad.numpy().copy(),
                (w.grad._version > versions[0], b.grad._version > versions[1]),
                w.detach().numpy().copy(), b.detach().numpy().copy(),
            )
        )  # fmt: skip
    return out


@pytest.mark.parametrize("foreach", [True, False, None])
@pytest.mark.parametrize("maximize", [False, True])
@pytest.mark.parametrize("nesterov", [True, False])
def test_sgd_foreach_gradients_after_step_match_pytorch(torch, foreach, maximize, nesterov):
    # detectron2's build_optimizer: SGD(foreach=True), one group without weight decay (the norms)
    groups = [dict(weight_decay=0.0), dict(weight_decay=1e-2)]
    kw = dict(momentum=0.9, nesterov=nesterov, maximize=maximize, foreach=foreach)
    ours, theirs = _sgd_run(gg, groups, **kw), _sgd_run(torch, groups, **kw)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(
            o[0], t[0], rtol=1e-15, atol=1e-15
        )  # the grads after the step; FMA last bits (design.md)
        np.testing.assert_allclose(o[1], t[1], rtol=1e-15, atol=1e-15)
        assert o[2] == t[2]  # written in place (version bumped) exactly where PyTorch writes
        np.testing.assert_allclose(o[3], t[3], rtol=1e-15, atol=1e-15)
        np.testing.assert_allclose(o[4], t[4], rtol=1e-15, atol=1e-15)


def test_sgd_foreach_lookahead_writes_through_a_grad_view(torch):
    for lib in (gg, torch):
        p = lib.nn.Parameter(lib.tensor([1.0, 2.0]))
        base = lib.tensor([[0.5, -1.0], [7.0, 8.0]])
        p.grad = base[0]
        opt = lib.optim.SGD([p], lr=0.1, momentum=0.5, nesterov=True, foreach=True)
        opt.step()
        # g + mu * b with b = g at the first step: 1.5 g, seen through the base tensor too
        assert base.tolist() == [[0.75, -1.5], [7.0, 8.0]]
        assert p.grad.tolist() == [0.75, -1.5]
