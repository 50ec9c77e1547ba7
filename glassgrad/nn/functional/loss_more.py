"""Margin and embedding losses and ``pairwise_distance``: PyTorch's formulas, as composites.

Each gradient is PyTorch's, kinks included: a ``clamp(min=0)`` hinge passes the gradient at the kink
(PyTorch's ``clamp_min``), the multi(label)-margin ones do not (their kernels' strict ``z > 0``, which
drops a nan margin too). Softplus is ``-logsigmoid(-z)``: finite for any z, gradient 1/2 and curvature
1/4 at 0 (``max(z, 0) + log1p(exp(-|z|))`` has the value but loses the curvature at 0 to ``abs``).
These broadcast input and target as PyTorch does, silently; shapes that cannot broadcast name the op.
"""

from __future__ import annotations

from typing import Any, Callable

from glassgrad.backend import array_module
from glassgrad.errors import DTypeError, IndexOutOfRangeError, ShapeError, size_mismatch
from glassgrad.meta_array import valued
from glassgrad.nn.functional.classification import _constant
from glassgrad.nn.functional.loss import as_target, check_reduction, legacy_reduction
from glassgrad.nn.functional.loss import reduce as _reduce
from glassgrad.operand_errors import number_arg, refuse_sequence
from glassgrad.ops import elementwise as _E
from glassgrad.ops import indexing as _I
from glassgrad.ops.activation_more import logsigmoid as _logsigmoid
from glassgrad.tensor import Tensor, as_array

__all__ = [
    "cosine_embedding_loss", "margin_ranking_loss", "hinge_embedding_loss", "triplet_margin_loss",
    "triplet_margin_with_distance_loss", "pairwise_distance", "soft_margin_loss", "multi_margin_loss",
    "multilabel_margin_loss", "multilabel_soft_margin_loss",
]  # fmt: skip


# ------------------------------------------------------------------ shared helpers
def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(as_array(x), _wrap=True)


def _broadcast(
    op: str, into: tuple[int, ...] | None = None, first: str | None = None, **named: Tensor
) -> tuple[int, ...]:
    """The broadcast shape of the named tensors (which must equal ``into`` when given), else a
    ShapeError that ends with PyTorch's size-mismatch sentence, its operands in the order named,
    the one called ``first`` moved to the front (where PyTorch's kernel takes the target first)."""
    shapes = {k: tuple(t.shape) for k, t in named.items()}
    listed = ", ".join(f"{k} {s}" for k, s in shapes.items())
    try:
        shape = array_module(next(iter(named.values()))._data).broadcast_shapes(*shapes.values())
    except ValueError:
        order = sorted(shapes, key=lambda k: k != first)  # stable: only ``first`` moves
        clash = size_mismatch([shapes[k] for k in order])
        raise ShapeError(f"{op}: expected shapes that broadcast together, got {listed}{clash}") from None
    if into is not None and tuple(shape) != tuple(into):
        raise ShapeError(f"{op}: expected shapes that broadcast to the input's {into}, got {listed}")
    return tuple(shape)


def _same_ndim(op: str, **named: Tensor) -> None:
    if len({t.ndim for t in named.values()}) > 1:
        listed = ", ".join(f"{k} {t.shape}" for k, t in named.items())
        raise ShapeError(f"{op}: expected inputs with the same number of dims, got {listed}")


def _softplus(z: Tensor) -> Tensor:
    """log(1 + e^z) = -logsigmoid(-z): never overflows; gradient sigmoid(z), second derivative
    sigmoid(z) sigmoid(-z) (1/4 at z = 0, as PyTorch's kernels)."""
    return -_logsigmoid(-z)


def _class_inputs(op: str, x: Tensor, target: Any) -> tuple[Tensor, Any]:
    """Float scores as (N, C) (() -> (1, 1), (C,) -> (1, C): PyTorch's 'non-empty vector or matrix')
    and the integer target's array."""
    refuse_sequence(op, "target", target)
    idx = (
        target._data.copy() if isinstance(target, Tensor) else as_array(target)
    )  # a later change must not move the gradient
    if x._data.dtype.kind != "f" or idx.dtype.name != "int64":  # PyTorch's "expected scalar type Long"
        raise DTypeError(f"{op}: expected float input and int64 target, got {x.dtype} and {idx.dtype}")
    if x.ndim > 2 or (x.ndim >= 1 and x.shape[-1] == 0):
        raise ShapeError(  # then PyTorch's words: code ported from it may match them
            f"{op}: expected input of shape (N, C) or (C,) with C > 0, got {x.shape}: Expected "
            f"non-empty vector or matrix with optional 0-dim batch size, but got: {list(x.shape)}"
        )
    return (x.reshape(1, -1) if x.ndim < 2 else x), idx


def _mean_or_zero(loss: Tensor, reduction: str) -> Tensor:
    """The mean of an empty batch is 0 here, not nan: PyTorch's multi(label)-margin kernels leave
    their output unwritten for an empty batch (uninitialised memory), and 0 adds nothing to a loss."""
    if reduction == "mean" and loss.numel() == 0:
        return loss.sum()
    return _reduce(loss, reduction)


# ------------------------------------------------------------------ embedding losses
#: PyTorch's EPSILON, a C float: 1e-12 rounded to float32, which is what a norm near 0 meets there
_COS_EPS = 9.999999960041972e-13


def cosine_embedding_loss(
    input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
    size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean",
) -> Tensor:  # fmt: skip
    """1 - cos(x1, x2) where target = 1, max(0, cos(x1, x2) - margin) where target = -1, else 0.

    cos = sum(x1 x2) / sqrt((sum(x1^2) + eps) (sum(x2^2) + eps)), eps = float32(1e-12) as in PyTorch;
    targets are not checked (PyTorch).

    Shape:
        input1, input2: (N, D) or (D,); target: (N,) or (); returns () or (N,) / () for 'none'.
    """
    op = "cosine_embedding_loss"
    reduction = check_reduction(op, legacy_reduction(op, size_average, reduce, reduction))
    target = _tensor(target)
    t = target._data
    if t.ndim > 1:
        raise ShapeError(f"{op}: expected target of shape (N,) or () (no multi-target), got {t.shape}")
    if input1.ndim != t.ndim + 1 or input2.ndim != t.ndim + 1:
        shapes = f"input1 {input1.shape} and input2 {input2.shape}"
        raise ShapeError(f"{op}: expected {t.ndim + 1}-d inputs for target {t.shape}, got {shapes}")
    _broadcast(op, input1=input1, input2=input2)
    d = t.ndim  # the feature dim
    mag1, mag2 = (input1 * input1).sum(d) + _COS_EPS, (input2 * input2).sum(d) + _COS_EPS
    cos = (input1 * input2).sum(d) / (mag1 * mag2).sqrt()
    _broadcast(op, cos=cos, target=target, first="target")
    loss = _E.where(t == 1, 1.0 - cos, 0.0) + _E.where(t == -1, (cos - margin).clamp(min=0.0), 0.0)
    return _reduce(loss, reduction)


def margin_ranking_loss(
    input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
    size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean",
) -> Tensor:  # fmt: skip
    """max(0, -y (x1 - x2) + margin): y = 1 asks x1 to rank above x2 by ``margin``, y = -1 below.

    Shape:
        input1, input2, target: (*) with the same number of dims, broadcasting; returns () or (*).
    """
    op = "margin_ranking_loss"
    reduction = check_reduction(op, legacy_reduction(op, size_average, reduce, reduction))
    target = as_target(op, input1, target, same_shape=False)
    _same_ndim(op, input1=input1, input2=input2, target=target)
    _broadcast(op, input1=input1, input2=input2)
    _broadcast(op, input1=input1, input2=input2, target=target, first="target")  # -target * (x1 - x2)
    return _reduce((-target * (input1 - input2) + number_arg(op, "margin", margin)).clamp(min=0.0), reduction)


def hinge_embedding_loss(
    input: Tensor, target: Tensor, margin: float = 1.0, size_average: bool | None = None,  # noqa: A002
    reduce: bool | None = None, reduction: str = "mean",
) -> Tensor:  # fmt: skip
    """x where target = 1, max(0, margin - x) where target = -1 (other targets add both, as PyTorch).

    Shape:
        input, target: broadcastable (*); returns () or the broadcast shape for 'none'.
    """
    op = "hinge_embedding_loss"
    reduction = check_reduction(op, legacy_reduction(op, size_average, reduce, reduction))
    target = _tensor(target)
    t = target._data
    _broadcast(op, input=input, target=target, first="target")
    hinge = (number_arg(op, "margin", margin) - input).clamp(min=0.0)
    return _reduce(_E.where(t != 1, hinge, 0.0) + _E.where(t != -1, input, 0.0), reduction)


def pairwise_distance(
    x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False
) -> Tensor:
    """||x1 - x2 + eps||_p over the last dim, as PyTorch (eps is added to the difference).

    Shape:
        x1, x2: broadcastable (*, D); returns (*), or (*, 1) with ``keepdim``.
    """
    _broadcast("pairwise_distance", x1=x1, x2=x2)
    diff = _E.floating(x1 - x2) + float(number_arg("pairwise_distance", "eps", eps))
    return diff.norm(number_arg("pairwise_distance", "p", p), -1, keepdim=keepdim)  # 0-d: its own last dim


def _triplet(op: str, anchor, positive, negative, dist: Callable, margin, swap, shapes) -> Tensor:
    """max(0, d(a, p) + margin - d(a, n)), after PyTorch's checks (and broadcasting, if ``shapes``)."""
    if (margin := number_arg(op, "margin", margin, compared=True)) <= 0:
        raise ValueError(f"{op}: expected margin > 0, got {margin}")
    _same_ndim(op, anchor=anchor, positive=positive, negative=negative)
    if shapes:
        _broadcast(op, anchor=anchor, positive=positive, negative=negative)
    d_pos, d_neg = dist(anchor, positive), dist(anchor, negative)
    if swap:
        d_neg = _E.minimum(d_neg, dist(positive, negative))  # ties split the gradient, as torch.minimum
    return (d_pos + margin - d_neg).clamp(min=0.0)


def triplet_margin_loss(
    anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2,
    eps: float = 1e-6, swap: bool = False, size_average: bool | None = None,
    reduce: bool | None = None, reduction: str = "mean",
) -> Tensor:  # fmt: skip
    """max(0, d(a, p) - d(a, n) + margin) with d = pairwise_distance(., ., p, eps).

    ``swap`` uses min(d(a, n), d(p, n)) as the negative distance (Balntas et al.).

    Shape:
        anchor, positive, negative: (N, D) or (D,), the same number of dims; returns () or (N,).
    """
    op = "triplet_margin_loss"
    reduction = check_reduction(op, legacy_reduction(op, size_average, reduce, reduction))
    dist = lambda a, b: pairwise_distance(a, b, p, eps)  # noqa: E731
    return _reduce(_triplet(op, anchor, positive, negative, dist, margin, swap, True), reduction)


def triplet_margin_with_distance_loss(
    anchor: Tensor, positive: Tensor, negative: Tensor, *,
    distance_function: Callable[[Tensor, Tensor], Tensor] | None = None, margin: float = 1.0,
    swap: bool = False, reduction: str = "mean",
) -> Tensor:  # fmt: skip
    """The triplet loss with any ``distance_function`` (default :func:`pairwise_distance`).

    Shape:
        anchor, positive, negative: (N, *) or (*), the same number of dims; returns () or (N,).
    """
    op = "triplet_margin_with_distance_loss"
    reduction = check_reduction(op, reduction, legacy=False)
    dist = pairwise_distance if distance_function is None else distance_function
    return _reduce(_triplet(op, anchor, positive, negative, dist, margin, swap, False), reduction)


# ------------------------------------------------------------------ margin losses
def soft_margin_loss(
    input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,  # noqa: A002
    reduction: str = "mean",
) -> Tensor:  # fmt: skip
    """log(1 + exp(-y x)), the two-class logistic loss on targets y in {-1, 1}, computed stably.

    Shape: input (*); target broadcastable to (*); returns () or (*) for 'none'.
    """
    op = "soft_margin_loss"
    reduction = check_reduction(op, legacy_reduction(op, size_average, reduce, reduction))
    target = as_target(op, input, target, same_shape=False)
    _constant(op, "target", target)  # PyTorch: not differentiable with respect to the target
    _broadcast(op, input.shape, input=input, target=target)
    margin = -input * target
    if margin._data.dtype != input._data.dtype and input._data.dtype.kind == "f":
        # PyTorch's kernel writes -input * target into a tensor like the input: a float64 target
        # beside a float32 input gives a float32 loss
        margin = margin.to(input.dtype)
    return _reduce(_softplus(margin), reduction)


def multilabel_soft_margin_loss(
    input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: bool | None = None,  # noqa: A002
    reduce: bool | None = None, reduction: str = "mean",
) -> Tensor:  # fmt: skip
    """-mean_c w_c (y_c log sigmoid(x_c) + (1 - y_c) log sigmoid(-x_c)) over the classes (last dim).

    Shape:
        input: (N, C) or (C,); target: broadcastable, in [0, 1]; weight broadcastable (usually
        (C,)); returns () or (N,) / () for 'none'.
    """
    op = "multilabel_soft_margin_loss"
    reduction = check_reduction(op, legacy_reduction(op, size_average, reduce, reduction), legacy=False)
    if input.ndim == 0:
        raise ShapeError(f"{op}: expected input of shape (N, C) or (C,), got {input.shape}")
    target = as_target(op, input, target, same_shape=False)
    _broadcast(op, input=input, target=target, first="target")
    loss = target * _softplus(-input) + (1 - target) * _softplus(input)  # -log sigmoid(x) = softplus(-x)
    if weight is not None:
        if isinstance(weight, Tensor):  # (a Python number scales every class, as PyTorch's)
            _broadcast(op, loss=loss, weight=weight)
        loss = loss * weight
    class_dim = input.ndim - 1
    return _reduce(loss.sum(class_dim) / input.shape[class_dim], reduction)


def multi_margin_loss(
    input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0, weight: Tensor | None = None,  # noqa: A002
    size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean",
) -> Tensor:  # fmt: skip
    """Multi-class hinge: sum_{i != y} w_y max(0, margin - x_y + x_i)^p / C per sample (p = 1 or 2).

    Shape:
        input: (N, C), (C,) or (); target: (N,) int64 or () (unbatched); weight: (C,); returns ()
        or the target's shape for 'none'. The mean of an empty batch is 0 (PyTorch's is undefined).
    """
    op = "multi_margin_loss"
    reduction = check_reduction(op, legacy_reduction(op, size_average, reduce, reduction))
    if p not in (1, 2):
        raise ValueError(f"{op}: expected p = 1 or p = 2, got {p}")
    if isinstance(weight, Tensor) and weight.ndim != 1:  # PyTorch's ValueError, before the target's dtype
        raise ShapeError(f"{op}: expected a one-dimensional weight of shape (C,), got {weight.shape}")
    x, idx = _class_inputs(op, input, target)
    n, c = x.shape
    if idx.ndim > 1 or idx.size != n:
        raise ShapeError(f"{op}: expected target ({n},) or () for input {input.shape}, got {idx.shape}")
    flat = idx.reshape(n)
    if n and valued(flat) and (flat.min() < 0 or flat.max() >= c):
        # PyTorch: RuntimeError("target out of range"); an IndexError too, as glassgrad raised
        raise IndexOutOfRangeError(
            f"{op}: expected class indices in [0, {c}), got [{flat.min()}, {flat.max()}]"
        )
    if weight is not None:
        if weight.ndim != 1 or weight.shape[0] != c:
            raise ShapeError(f"{op}: expected weight of shape ({c},), got {weight.shape}")
        if weight._data.dtype != x._data.dtype:
            raise DTypeError(f"{op}: expected weight of dtype {x.dtype} like input, got {weight.dtype}")
        _constant(op, "weight", weight)
    xp = array_module(flat)
    picked = _I.gather(x, 1, Tensor(flat[:, None], _wrap=True))  # (N, 1): x_y
    # (N, C): the where drops a nan margin as the kernel's z > 0 does; the relu keeps the gradient
    # linked to x (PyTorch's own backward node reads the input: a second derivative is 0, not None)
    h = _E.where((z := (margin - picked) + x) > 0, z, 0.0).relu()
    if p == 2:
        h = h * h
    if weight is not None:
        h = h * Tensor(weight._data[flat][:, None], _wrap=True)
    others = flat[:, None] != xp.arange(c)  # (N, C): every class but the target
    loss = _E.where(others, h, 0.0).sum(1) / c  # (N,)
    return _mean_or_zero(loss.reshape(idx.shape) if reduction == "none" else loss, reduction)


def multilabel_margin_loss(
    input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,  # noqa: A002
    reduction: str = "mean",
) -> Tensor:  # fmt: skip
    """sum_{j in targets} sum_{i not in targets} max(0, 1 - (x_j - x_i)) / C per sample.

    ``target`` lists the sample's classes first and is padded with -1: the first negative entry
    ends the list (a repeated class counts twice, as in PyTorch).

    Shape:
        input: (N, C), (C,) or (); target: int64 of the input's shape; returns () or (N,) / ()
        for 'none'. The mean of an empty batch is 0 (PyTorch's is undefined).
    """
    op = "multilabel_margin_loss"
    reduction = check_reduction(op, legacy_reduction(op, size_average, reduce, reduction))
    x, idx = _class_inputs(op, input, target)
    n, c = x.shape
    ok = idx.shape == (n, c) if input.ndim == 2 else (idx.ndim <= 1 and idx.size == c)
    if not ok:
        raise ShapeError(f"{op}: expected target of the input's shape {input.shape}, got {idx.shape}")
    idx = idx.reshape(n, c)
    if idx.size and valued(idx) and (idx.min() < -1 or idx.max() >= c):
        # PyTorch: RuntimeError("argument #2 'target' is out of range"); an IndexError too, as before
        raise IndexOutOfRangeError(
            f"{op}: expected target entries in [-1, {c}) (-1 ends a list), got [{idx.min()}, {idx.max()}]"
        )
    xp = array_module(idx)
    listed = xp.cumprod(idx >= 0, axis=1).astype(bool)  # (N, K): entries before the first -1
    safe = xp.where(listed, idx, 0)
    is_target = ((safe[:, :, None] == xp.arange(c)) & listed[:, :, None]).any(1)  # (N, C)
    picked = _I.gather(x, 1, Tensor(safe, _wrap=True))  # (N, K): x at each listed class
    z = (1.0 - picked).unsqueeze(2) + x.unsqueeze(1)  # (N, K, C): 1 - x_j + x_i
    pairs = listed[:, :, None] & ~is_target[:, None, :]
    loss = _E.where(pairs, _E.where(z > 0, z, 0.0).relu(), 0.0).sum((1, 2)) / c  # (N,); relu: as above
    if reduction == "none" and input.ndim < 2:
        return loss.reshape(())
    return _mean_or_zero(loss, reduction)
