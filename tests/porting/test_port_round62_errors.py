"""Round 62, a learner's mistakes (an error battery of ~650 short wrong programs run on glassgrad and
PyTorch 2.13): where PyTorch refuses an input, glassgrad refuses it with an error of PyTorch's class
that names the op and the dtype or shape; where PyTorch computes, glassgrad gives its values.

Found silent before: integer and bool tensors in the activations and softmaxes PyTorch has no
integer kernel for (promoted to float32 here), in layer_norm and group_norm (normalised in int64:
every value truncated to 0), in nll_loss, mse_loss, smooth_l1_loss and huber_loss; a
binary_cross_entropy target outside [0, 1]; kl_div of integer tensors. Refused before: an
unbatched (C,) input with a (1,) class target, which PyTorch takes.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F

RNG_SEED = 62

# ---- integer and bool inputs where PyTorch's kernel has floating dtypes only --------------------

_ACTIVATIONS = {
    "gelu": lambda F, x: F.gelu(x),
    "gelu_tanh": lambda F, x: F.gelu(x, approximate="tanh"),
    "elu": lambda F, x: F.elu(x),
    "elu_inplace": lambda F, x: F.elu(x, inplace=True),
    "selu": lambda F, x: F.selu(x),
    "celu": lambda F, x: F.celu(x),
    "leaky_relu": lambda F, x: F.leaky_relu(x, 0.2),
    "rrelu": lambda F, x: F.rrelu(x),
    "silu": lambda F, x: F.silu(x),
    "mish": lambda F, x: F.mish(x),
    "softplus": lambda F, x: F.softplus(x),
    "hardswish": lambda F, x: F.hardswish(x),
    "hardsigmoid": lambda F, x: F.hardsigmoid(x),
    "logsigmoid": lambda F, x: F.logsigmoid(x),
    "softshrink": lambda F, x: F.softshrink(x),
    "hardshrink": lambda F, x: F.hardshrink(x),
    "glu": lambda F, x: F.glu(x, 1),
    "softmax": lambda F, x: F.softmax(x, 1),
    "softmax_dim0": lambda F, x: F.softmax(x, 0),
    "log_softmax": lambda F, x: F.log_softmax(x, -1),
    "softmin": lambda F, x: F.softmin(x, 1),
    "tensor.softmax": lambda F, x: x.softmax(1),
    "layer_norm": lambda F, x: F.layer_norm(x, (2,)),
    "group_norm": lambda F, x: F.group_norm(x, 1),
}


@pytest.mark.parametrize("dtype", ["int64", "bool"])
@pytest.mark.parametrize("name", list(_ACTIVATIONS))
def test_integer_input_is_refused_as_torch(torch, name, dtype):
    a = np.array([[-1, 2], [3, 0]]).astype(dtype)
    negated = name == "softmin" and dtype == "bool"  # PyTorch stops at -x: "Negation ... on a bool tensor"
    with pytest.raises(RuntimeError if negated else NotImplementedError) as theirs:
        _ACTIVATIONS[name](torch.nn.functional, torch.tensor(a))
    with pytest.raises(RuntimeError if negated else NotImplementedError) as ours:  # (a RuntimeError too)
        _ACTIVATIONS[name](F, gg.tensor(a))
    assert isinstance(ours.value, gg.errors.DTypeError)  # glassgrad's own except clauses still catch it
    kind = "Long" if dtype == "int64" else "Bool"
    if negated:
        return
    assert f"not implemented for '{kind}'" in str(theirs.value)
    op = name.split("_tanh")[0].split("_inplace")[0].split("_dim0")[0].removeprefix("tensor.")
    op = "softmax" if op == "softmin" else op  # softmin is softmax(-x), as PyTorch's message says
    assert str(ours.value).startswith(f"{op}:") and f"not implemented for '{kind}'" in str(ours.value)


@pytest.mark.parametrize("name", ["gelu", "silu", "softmax", "log_softmax", "layer_norm", "glu"])
def test_integer_input_cast_first_computes_as_torch(torch, name):
    a = np.array([[-1, 2], [3, 0]])

    def run(lib, fn):
        x = lib.tensor(a).to(lib.float64).requires_grad_()
        y = _ACTIVATIONS[name](fn, x)
        (y * lib.tensor(np.arange(y.numel(), dtype=np.float64).reshape(tuple(y.shape)))).sum().backward()
        return y.detach().numpy(), x.grad.numpy()

    for ours, theirs in zip(run(gg, F), run(torch, torch.nn.functional), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-14, atol=1e-15)


def test_layer_norm_module_on_an_integer_batch_is_refused(torch):
    # before: nn.LayerNorm(3)(long tensor) answered int64 zeros (the normalised values truncated)
    x = np.array([[1, 2, 3], [4, 6, 8]])
    with pytest.raises(RuntimeError):  # (beside float weights: "mixed dtype"; glassgrad's is one too)
        torch.nn.LayerNorm(3)(torch.tensor(x))
    with pytest.raises(NotImplementedError, match=r"layer_norm: .*'Long' \(expected a floating-point input"):
        gg.nn.LayerNorm(3)(gg.tensor(x))
    with pytest.raises(NotImplementedError, match="group_norm: .*'Long'"):
        gg.nn.GroupNorm(1, 3)(gg.tensor(x))


@pytest.mark.parametrize("name", ["mse_loss", "smooth_l1_loss", "huber_loss"])
@pytest.mark.parametrize("reduction", ["mean", "none", "sum"])
def test_regression_loss_of_two_integer_tensors_is_refused(torch, name, reduction):
    a, b = np.array([1, 2, 5, -3]), np.array([1, 1, 1, 1])
    with pytest.raises(NotImplementedError):
        getattr(torch.nn.functional, name)(torch.tensor(a), torch.tensor(b), reduction=reduction)
    with pytest.raises(NotImplementedError, match=rf"{name}: .*not implemented for 'Long'"):
        getattr(F, name)(gg.tensor(a), gg.tensor(b), reduction=reduction)


@pytest.mark.parametrize("name", ["mse_loss", "smooth_l1_loss", "huber_loss"])
def test_regression_loss_of_a_float_input_and_integer_target_computes_as_torch(torch, name):
    # (the forward only: PyTorch's backward then fails, "Found dtype Long but expected Double")
    x = np.random.default_rng(RNG_SEED).standard_normal(4)
    t = np.array([1, 0, -2, 3])
    for reduction in ("mean", "none"):
        ours = getattr(F, name)(gg.tensor(x), gg.tensor(t), reduction=reduction)
        theirs = getattr(torch.nn.functional, name)(torch.tensor(x), torch.tensor(t), reduction=reduction)
        assert ours.dtype == gg.float64 and theirs.dtype == torch.float64
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-15)


def test_nll_loss_of_integer_scores_is_refused(torch):
    x, t = np.array([[1, 2, 3]]), np.array([0])
    with pytest.raises(NotImplementedError):
        torch.nn.functional.nll_loss(torch.tensor(x), torch.tensor(t))
    with pytest.raises(NotImplementedError, match="nll_loss: expected floating-point log-probabilities, got"):
        F.nll_loss(gg.tensor(x), gg.tensor(t))
    with pytest.raises(NotImplementedError):  # log_softmax has no integer kernel in PyTorch
        torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(t))
    with pytest.raises(NotImplementedError, match="cross_entropy: expected floating-point logits"):
        F.cross_entropy(gg.tensor(x), gg.tensor(t))


@pytest.mark.parametrize("which", ["target", "input", "both"])
def test_kl_div_of_integer_tensors_is_refused(torch, which):
    p = np.log(np.array([[0.2, 0.8], [0.5, 0.5]]))
    q = np.array([[0, 1], [1, 0]])
    for lib, fn in ((torch, torch.nn.functional), (gg, F)):
        a = lib.tensor(q) if which in ("input", "both") else lib.tensor(p, dtype=lib.float32)
        b = lib.tensor(q) if which in ("target", "both") else lib.tensor(p, dtype=lib.float32)
        with pytest.raises(RuntimeError, match="Integral inputs not supported"):
            fn.kl_div(a, b, reduction="batchmean")


# ---- binary_cross_entropy's target range ---------------------------------------------------------


@pytest.mark.parametrize("bad", [2.0, -0.5, float("nan")], ids=["two", "negative", "nan"])
def test_bce_target_outside_unit_interval_is_refused(torch, bad):
    p = np.array([0.2, 0.7, 0.9])
    y = np.array([1.0, 0.0, bad])
    with pytest.raises(RuntimeError, match="all elements of target should be between 0 and 1"):
        torch.nn.functional.binary_cross_entropy(torch.tensor(p), torch.tensor(y))
    with pytest.raises(RuntimeError, match=r"binary_cross_entropy: expected target values in \[0, 1\]"):
        F.binary_cross_entropy(gg.tensor(p), gg.tensor(y))
    with pytest.raises(ValueError):  # glassgrad's kind for the input's range, the same class
        gg.nn.BCELoss()(gg.tensor(p), gg.tensor(y))


def test_bce_soft_targets_inside_unit_interval_compute_as_torch(torch):
    rng = np.random.default_rng(RNG_SEED)
    p, y = rng.uniform(0.05, 0.95, (3, 4)), rng.uniform(0, 1, (3, 4))
    y[0, 0], y[1, 1] = 0.0, 1.0  # the bounds are inside

    def run(lib, fn):
        pt = lib.tensor(p, requires_grad=True)
        loss = fn.binary_cross_entropy(pt, lib.tensor(y))
        loss.backward()
        return loss.item(), pt.grad.numpy()

    (lo, go), (lt, gt) = run(gg, F), run(torch, torch.nn.functional)
    assert abs(lo - lt) <= 1e-14 * abs(lt)
    np.testing.assert_allclose(go, gt, rtol=1e-13)


# ---- one unbatched sample with its label as tensor([label]) ---------------------------------------


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_unbatched_input_with_a_one_element_target_as_torch(torch, loss, reduction, weighted):
    x = np.random.default_rng(RNG_SEED).standard_normal(5)

    def run(lib, fn, target):
        xt = lib.tensor(x, requires_grad=True)
        w = lib.tensor(np.linspace(0.5, 2.0, 5)) if weighted else None
        return xt, getattr(fn, loss)(xt, lib.tensor(target), weight=w, reduction=reduction)

    _, ours = run(gg, F, [3])
    xt, theirs = run(torch, torch.nn.functional, [3])
    assert tuple(ours.shape) == tuple(theirs.shape) == ()
    assert abs(ours.item() - theirs.item()) <= 1e-15 * abs(theirs.item())
    # PyTorch's backward then fails ("size mismatch (got input: [5], target: [1])"); glassgrad's
    # gradient is the one of the scalar target's loss, which PyTorch computes
    with pytest.raises(RuntimeError, match="size mismatch"):
        theirs.backward()
    xo, ours = run(gg, F, [3])
    ours.backward()
    xt, theirs = run(torch, torch.nn.functional, 3)
    theirs.backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-15, atol=1e-17)


def test_unbatched_input_target_errors_as_torch(torch):
    for lib, fn in ((torch, torch.nn.functional), (gg, F)):
        x = lib.zeros(5)
        with pytest.raises(ValueError):  # two labels for one sample
            fn.cross_entropy(x, lib.tensor([1, 2]))
        with pytest.raises(RuntimeError):  # PyTorch's smoothed term cannot take the (1,) target
            fn.cross_entropy(x, lib.tensor([1]), label_smoothing=0.1)
        with pytest.raises(IndexError):
            fn.nll_loss(x, lib.tensor([5]))
    assert F.cross_entropy(gg.zeros(5), gg.tensor(1), label_smoothing=0.1).shape == ()


# ---- error classes: PyTorch's RuntimeError where glassgrad raised a plain ValueError/IndexError --

_CLASSES = {
    "batch_norm eval without running stats": lambda lib, F: F.batch_norm(lib.ones(2, 3), None, None),
    "gelu approximate": lambda lib, F: F.gelu(lib.ones(2), approximate="fast"),
    "cross_entropy label_smoothing": lambda lib, F: F.cross_entropy(
        lib.zeros(2, 3), lib.tensor([0, 1]), label_smoothing=1.5
    ),
    "embedding_bag offsets[0]": lambda lib, F: F.embedding_bag(
        lib.tensor([1, 2, 3]), lib.ones(5, 2), lib.tensor([1, 2])
    ),
    "multi_margin_loss target": lambda lib, F: F.multi_margin_loss(lib.zeros(2, 3), lib.tensor([0, 3])),
    "diff negative order": lambda lib, F: lib.diff(lib.ones(4), n=-1),
}


@pytest.mark.parametrize("name", list(_CLASSES))
def test_refusal_is_a_runtime_error_as_torch(torch, name):
    with pytest.raises(RuntimeError):
        _CLASSES[name](torch, torch.nn.functional)
    with pytest.raises(RuntimeError) as ours:
        _CLASSES[name](gg, F)
    assert isinstance(ours.value, ValueError | IndexError)  # what glassgrad raised before, still caught


# ---- adaptive average pooling to size 1: PyTorch's mean over the last dims, any rank ---------------


@pytest.mark.parametrize(
    "fn, shape, size",
    [
        ("adaptive_avg_pool2d", (4, 5), 1),
        ("adaptive_avg_pool2d", (2, 3, 4, 5, 6), (1, 1)),  # a video clip (N, C, T, H, W)
        ("adaptive_avg_pool2d", (2, 3, 2, 2, 4, 5), 1),
        ("adaptive_avg_pool3d", (4, 5, 6), 1),
        ("adaptive_avg_pool3d", (2, 1, 2, 3, 4, 5), [1, 1, 1]),
    ],
    ids=["2d-of-2d", "2d-of-5d", "2d-of-6d", "3d-of-3d", "3d-of-6d"],
)
def test_adaptive_avg_pool_to_one_of_any_rank_as_torch(torch, fn, shape, size):
    a = np.random.default_rng(RNG_SEED).standard_normal(shape)

    def run(lib, F):
        x = lib.tensor(a, requires_grad=True)
        y = getattr(F, fn)(x, size)
        (y * lib.tensor(np.arange(y.numel(), dtype=np.float64).reshape(tuple(y.shape)))).sum().backward()
        return tuple(y.shape), y.grad_fn.name(), y.detach().numpy(), x.grad.numpy()

    ours, theirs = run(gg, F), run(torch, torch.nn.functional)
    assert ours[:2] == theirs[:2]
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(ours[3], theirs[3], rtol=1e-15)


def test_adaptive_avg_pool_to_more_than_one_of_a_5d_input_is_refused(torch):
    with pytest.raises(RuntimeError, match="Expected 3D or 4D tensor"):
        torch.nn.AdaptiveAvgPool2d(2)(torch.zeros(1, 2, 3, 4, 4))
    with pytest.raises(RuntimeError, match=r"adaptive_avg_pool2d: expected a 3-D \(unbatched\) or 4-D"):
        gg.nn.AdaptiveAvgPool2d(2)(gg.zeros(1, 2, 3, 4, 4))


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.randn(3, dtype=lib.int64),
        lambda lib: lib.rand(3, dtype=lib.bool),
        lambda lib: lib.nn.functional.ctc_loss(
            lib.zeros(5, 2, 3, dtype=lib.int64),
            lib.tensor([[1, 2], [1, 1]]),
            lib.tensor([5, 5]),
            lib.tensor([2, 2]),
        ),
    ],
    ids=["randn-int64", "rand-bool", "ctc_loss-int64"],
)
def test_no_kernel_for_the_dtype_is_torchs_not_implemented_error(torch, make):
    with pytest.raises(NotImplementedError):
        make(torch)
    with pytest.raises(NotImplementedError) as ours:
        make(gg)
    assert isinstance(ours.value, gg.errors.DTypeError)  # the class glassgrad raised before
