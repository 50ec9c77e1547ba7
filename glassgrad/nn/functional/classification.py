"""Classification losses: nll_loss, cross_entropy, binary_cross_entropy(_with_logits).

``cross_entropy`` with class indices and both binary losses run as fused ops (``ops.loss``), for
stability and for their hand-written backward; ``nll_loss`` and cross-entropy with class
probabilities are composites. Class weights, ``weight`` and ``pos_weight`` get no gradient in the
fused/indexed losses (as in PyTorch), so passing one that requires grad is an error.
"""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.function import named
from glassgrad.autograd.grad_mode import is_grad_enabled
from glassgrad.backend import array_module
from glassgrad.errors import ArgumentError, DTypeError, GraphError, KernelDTypeError, ShapeError
from glassgrad.meta_array import MetaArray, valued
from glassgrad.nn.functional.activation import log_softmax
from glassgrad.nn.functional.loss import as_target, check_reduction, legacy_reduction
from glassgrad.nn.functional.loss import reduce as _reduce
from glassgrad.operand_errors import int_arg, refuse_sequence
from glassgrad.ops import elementwise as _E
from glassgrad.ops import indexing as _I
from glassgrad.ops import loss as _L
from glassgrad.tensor import Tensor, as_array
from glassgrad.type_promotion import promote_types

__all__ = ["nll_loss", "cross_entropy", "binary_cross_entropy", "binary_cross_entropy_with_logits"]


class _ProbabilityRangeError(ValueError, RuntimeError):
    """binary_cross_entropy's input or target outside [0, 1]: PyTorch's RuntimeError, and the
    ValueError glassgrad raised."""


def _constant(op: str, name: str, t: Tensor | None) -> None:
    if t is not None and t.requires_grad and is_grad_enabled():
        raise GraphError(
            f"{op}: {name} gets no gradient; expected a tensor that does not require grad, got one that "
            f"does (pass {name}.detach())"
        )


def _like_input(op: str, name: str, t: Tensor | None, x: Tensor) -> Tensor | None:
    """An elementwise ``weight``/``pos_weight`` in the input's float dtype: PyTorch's binary losses
    return the input's dtype whatever the weight's (an int64 mask must not make the loss float64)."""
    if t is None or t._data.dtype == x._data.dtype or x._data.dtype.kind != "f":
        return t
    if name == "pos_weight" and t._data.dtype.kind == "b":  # PyTorch fails on its `pos_weight - 1`
        raise DTypeError(f"{op}: expected a numeric pos_weight, got {t.dtype} (subtraction of bools)")
    if t._data.dtype.kind == "c":  # a cast would drop the imaginary parts; PyTorch refuses the result
        raise DTypeError(
            f"{op}: expected a real {name}, got {t.dtype}, whose result can't be cast to {x.dtype}"
        )
    return t.to(x.dtype)


def _check_class_range(op: str, idx: Any, n_classes: int, ignore_index: int) -> None:
    bad = (idx != ignore_index) & ((idx < 0) | (idx >= n_classes))
    if bad.any():
        raise IndexError(
            f"{op}: expected class indices in [0, {n_classes}) or ignore_index={ignore_index}, got "
            f"{idx[bad].ravel()[0]}"
        )


def _class_inputs(
    op: str,
    x: Tensor,
    target: Any,
    weight: Tensor | None,
    ignore_index: int,
) -> tuple[Tensor, Tensor, bool]:
    """Validate (N, C, *) scores against (N, *) class indices; a (C,) input is one unbatched sample.

    Returns the input as (N, C, *), the target as (N, *) and whether the sample was unbatched.
    """
    refuse_sequence(op, "target", target)
    int_arg(op, "ignore_index", ignore_index)  # a float one compared with the indices silently
    if x.ndim == 0:  # PyTorch's nll_loss_nd checks the input's rank first (a ValueError)
        raise ShapeError(
            f"{op}: expected input of shape (N, C, *) or (C,), got {x.shape} (1 or more dimensions)"
        )
    idx = target._data if isinstance(target, Tensor) else as_array(target)
    if idx.dtype.kind not in "iu":
        raise DTypeError(f"{op}: expected integer class indices (int64) as target, got {idx.dtype}")
    if idx.itemsize != (8 if idx.dtype.kind == "i" else 1):  # Long or Byte only, as PyTorch's kernels
        raise DTypeError(
            f"{op}: expected class indices of dtype int64 (or uint8) as target, got {idx.dtype}; "
            "use target.long()"
        )
    unbatched = x.ndim == 1
    if unbatched:
        # PyTorch also takes a one-element target, (1,): one sample's label as tensor([label])
        if idx.shape != () and idx.shape != (1,):
            raise ShapeError(
                f"{op}: expected a scalar target () or a target of shape (1,) for unbatched input "
                f"{x.shape}, got {idx.shape}"
            )
        x, idx = x.reshape(1, x.shape[0]), idx.reshape(1)  # (C,) -> (1, C); () -> (1,)
    expected = (x.shape[0], *x.shape[2:])
    if idx.shape != expected:
        raise _target_shape_error(op, x.shape, idx.shape, expected)
    n_classes = x.shape[1]
    if (
        idx.size and idx.__class__ is not MetaArray and (idx.min() < 0 or idx.max() >= n_classes)
    ):  # meta: no values
        _check_class_range(op, idx, n_classes, ignore_index)
    if weight is not None:
        if weight.shape != (n_classes,):
            raise _weight_shape_error(op, n_classes, weight.shape)
        if weight._data.dtype != x._data.dtype:
            raise DTypeError(f"{op}: expected weight of dtype {x.dtype} like input, got {weight.dtype}")
        _constant(op, "weight", weight)
    return x, Tensor(idx, _wrap=True), unbatched


def _target_shape_error(op: str, x_shape: tuple, t_shape: tuple, expected: tuple) -> ShapeError:
    """A class-index target that does not fit the input: the shapes, then the words of PyTorch's
    ``nll_loss_nd`` checks (in their order), which code ported from PyTorch may match."""
    if t_shape[:1] and t_shape[0] != x_shape[0]:  # a ValueError in PyTorch (ShapeError is one)
        words = f"Expected input batch_size ({x_shape[0]}) to match target batch_size ({t_shape[0]})."
    elif len(x_shape) == 2:
        words = "0D or 1D target tensor expected, multi-target not supported"
    else:
        words = f"Expected target size {list(expected)}, got {list(t_shape)}"
    return ShapeError(
        f"{op}: expected target of shape {expected} for input {x_shape}, got {t_shape}: {words}"
    )


def _weight_shape_error(op: str, n_classes: int, w_shape: tuple) -> ShapeError:
    """A class weight of the wrong shape, then PyTorch's words."""
    return ShapeError(
        f"{op}: expected weight of shape ({n_classes},), got {w_shape}: weight tensor should be defined "
        f"either for all {n_classes} classes or no classes but got weight tensor of shape: {list(w_shape)}"
    )


def _squeeze_unbatched(loss: Tensor, unbatched: bool, reduction: str) -> Tensor:
    return loss.reshape(()) if unbatched and reduction == "none" else loss  # (1,) -> ()


def nll_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of class indices under log-probabilities: -w[t] * input[n, t].

    Targets equal to ``ignore_index`` contribute 0; 'mean' divides by the sum of the weights of
    the other targets (their count without ``weight``), as PyTorch does (nan when all are ignored).

    Shape:
        input: (N, C, *) log-probabilities, or (C,); target: (N, *) int64, or ();
        weight: (C,); returns () or (N, *) for 'none'.
    """
    reduction = legacy_reduction("nll_loss", size_average, reduce, reduction)
    reduction = check_reduction("nll_loss", reduction)
    if input._data.dtype.kind != "f":  # PyTorch has no integer kernel (a gather would keep the dtype)
        raise KernelDTypeError(f"nll_loss: expected floating-point log-probabilities, got {input.dtype}")
    x, tgt, unbatched = _class_inputs("nll_loss", input, target, weight, ignore_index)
    ignore_index = int_arg("nll_loss", "ignore_index", ignore_index)  # a 0-d tensor: its int, as PyTorch's
    idx = tgt._data
    xp = array_module(idx)
    valid = idx != ignore_index  # (N, *)
    safe = xp.where(valid, idx, 0).astype("int64")  # ignored: class 0, weighted 0; a uint8 target too
    picked = _I.gather(x, 1, Tensor(safe[:, None], _wrap=True)).squeeze(1)  # (N, 1, *) -> (N, *)
    dtype = x._data.dtype
    w_t = valid.astype(dtype) if weight is None else weight._data[safe] * valid  # (N, *)
    loss = picked * Tensor(-w_t, _wrap=True)
    if valid.__class__ is not MetaArray and not valid.all():
        # an ignored position adds 0 (PyTorch skips it), also where the class-0 log-probability
        # it stands on is -inf (a masked logit): the zero weight times -inf would be NaN
        loss = _E.where(Tensor(valid, _wrap=True), loss, 0.0)
    if reduction == "mean":
        if valid.__class__ is not MetaArray and not valid.any():
            # every target ignored: the mean is 0 / 0 = nan, yet no input affects it, so the
            # gradient is 0 (as in PyTorch); the nan is selected, not computed from the inputs
            # (and the node named as the others: under create_graph its zeros stay in the graph)
            out = _E.where(xp.zeros((), dtype=bool), loss.sum(), float("nan"))
        else:
            out = loss.sum() / Tensor(xp.asarray(w_t.sum(), dtype=dtype), _wrap=True)
    else:
        out = _squeeze_unbatched(_reduce(loss, reduction), unbatched, reduction)
    # PyTorch's one node, not our last op's (Div, Sum ...)
    return named(out, "NllLossBackward0" if x.ndim <= 2 else "NllLoss2DBackward0")


def cross_entropy(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy between the softmax of ``input`` (logits, classes along dim 1) and ``target``.

    ``target`` is either class indices (integer, shape (N, *)), handled by the fused op
    ``ops.loss.CrossEntropy`` whose gradient is softmax - onehot, or class probabilities (float,
    input's shape), a composite: -sum_c w_c t_c log_softmax(x)_c. ``label_smoothing`` eps mixes
    the target with the uniform distribution: (1 - eps) t + eps / C. With class indices, 'mean'
    divides by the total weight of the non-ignored targets; with probabilities, by N * d1 * ...

    Shape:
        input: (N, C, *) or (C,); target: (N, *) int64 / () or input's shape (float);
        weight: (C,); returns () or (N, *) for 'none'.

    >>> import glassgrad as gg
    >>> import glassgrad.nn.functional as F
    >>> round(F.cross_entropy(gg.tensor([[0.0, 0.0]]), gg.tensor([1])).item(), 4)
    0.6931
    """
    reduction = legacy_reduction("cross_entropy", size_average, reduce, reduction)
    reduction = check_reduction("cross_entropy", reduction)
    # PyTorch smooths only for label_smoothing > 0 and refuses one above 1 there; a negative (or
    # NaN) one is no smoothing, not an error
    if label_smoothing > 0.0 and not label_smoothing <= 1.0:
        raise ArgumentError(  # PyTorch's words lead (programs match them)
            f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing} (cross_entropy: expected "
            f"label_smoothing in [0, 1])"
        )
    if not label_smoothing > 0.0:
        label_smoothing = 0.0
    if input._data.dtype.kind != "f":  # PyTorch's log_softmax has no integer kernel
        raise KernelDTypeError(f"cross_entropy: expected floating-point logits, got {input.dtype}")
    refuse_sequence("cross_entropy", "target", target)
    t_arr = target._data if isinstance(target, Tensor) else as_array(target)
    if t_arr.dtype.kind == "f":
        index_shape = (input.shape[0], *input.shape[2:]) if input.ndim > 1 else ()
        if t_arr.shape == index_shape and t_arr.shape != input.shape:  # labels stored as floats
            raise DTypeError(
                f"cross_entropy: expected integer class indices (int64) of shape {index_shape} or float "
                f"class probabilities of shape {input.shape}, got {t_arr.dtype} of shape {t_arr.shape}; "
                "for class indices use target.long()"
            )
        # PyTorch refuses a class to ignore (there is no class index) and, as a negative index
        # names no class, passes any negative one (a config's ignore_index=-1 with mixup targets)
        if ignore_index >= 0:
            raise ArgumentError(
                f"cross_entropy: ignore_index={ignore_index} applies to class-index targets, not to "
                f"class probabilities of shape {t_arr.shape}"
            )
        return _cross_entropy_probs(input, target, weight, reduction, label_smoothing)
    x, tgt, unbatched = _class_inputs("cross_entropy", input, target, weight, ignore_index)
    if unbatched and label_smoothing > 0 and target.shape == (1,):  # PyTorch's smoothed term fails there
        raise ShapeError(
            f"cross_entropy: expected a scalar target () for unbatched input {input.shape} with "
            f"label_smoothing={label_smoothing}, got {target.shape} (output with shape [] doesn't match "
            "the broadcast shape [1])"
        )
    loss = _L.cross_entropy(x, tgt, weight, ignore_index, label_smoothing, reduction)
    return _squeeze_unbatched(loss, unbatched, reduction)


def _cross_entropy_probs(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None,
    reduction: str,
    label_smoothing: float,
) -> Tensor:
    """Cross-entropy against class probabilities, built from log_softmax, mul and sum."""
    target = as_target("cross_entropy", input, target)
    if input.ndim == 0:
        raise ShapeError(f"cross_entropy: expected input of shape (N, C, *) or (C,), got {input.shape}")
    class_dim = 0 if input.ndim == 1 else 1
    n_classes = input.shape[class_dim]
    if label_smoothing > 0:
        target = target * (1.0 - label_smoothing) + label_smoothing / n_classes
    if weight is not None:
        if weight.shape != (n_classes,):
            raise _weight_shape_error("cross_entropy", n_classes, weight.shape)
        wshape = (n_classes,) + (1,) * (input.ndim - class_dim - 1)  # (C,) -> (C, 1, ...)
        target = target * weight.reshape(wshape)
    loss = -(log_softmax(input, class_dim) * target).sum(class_dim)  # (N, C, *) -> (N, *)
    return _reduce(loss, reduction)


def _broadcasts_to(op: str, name: str, t: Tensor | None, shape: tuple[int, ...]) -> None:
    if t is None:
        return
    xp = array_module(t._data)
    try:
        ok = xp.broadcast_shapes(t.shape, shape) == tuple(shape)
    except ValueError:
        ok = False
    if not ok:
        raise ShapeError(f"{op}: expected {name} broadcastable to input {shape}, got {t.shape}")


def binary_cross_entropy(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """-w (y log p + (1 - y) log(1 - p)) on probabilities p in [0, 1], logs clamped at -100.

    Prefer :func:`binary_cross_entropy_with_logits` on raw scores: it is stable where sigmoid
    followed by this loss is not.

    Shape:
        input, target: (*) of the same shape; weight broadcasts to (*); returns () or (*) for 'none'.
    """
    reduction = legacy_reduction("binary_cross_entropy", size_average, reduce, reduction)
    reduction = check_reduction("binary_cross_entropy", reduction)
    target = as_target("binary_cross_entropy", input, target)
    if target._data.dtype != input._data.dtype:  # PyTorch refuses here rather than promote
        raise DTypeError(
            f"binary_cross_entropy: expected target of the input's dtype {input.dtype}, got {target.dtype}"
        )
    _broadcasts_to("binary_cross_entropy", "weight", weight, input.shape)
    _constant("binary_cross_entropy", "weight", weight)
    p = input._data
    if p.size and valued(p) and not ((p >= 0) & (p <= 1)).all():
        raise _ProbabilityRangeError(
            f"binary_cross_entropy: expected input probabilities in [0, 1], got values in "
            f"[{p.min()}, {p.max()}] (use binary_cross_entropy_with_logits on raw scores)"
        )
    t = target._data  # PyTorch checks the target too: a label of 2 gave a loss below 0 silently
    if t.size and valued(t) and not ((t >= 0) & (t <= 1)).all():
        raise _ProbabilityRangeError(
            f"binary_cross_entropy: expected target values in [0, 1], got values in [{t.min()}, {t.max()}]"
        )
    weight = _like_input("binary_cross_entropy", "weight", weight, input)
    return _L.binary_cross_entropy(input, target, weight, reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Binary cross-entropy on logits x: max(x, 0) - x y + log(1 + exp(-|x|)), the stable form.

    ``pos_weight`` multiplies the positive term (y log sigmoid(x)) per class (the last dim), to
    trade recall against precision; ``weight`` rescales each element. Gradient: sigmoid(x) - y.

    Shape:
        input, target: (*) of the same shape; weight broadcasts to (*); pos_weight to (*)
        (usually (C,) for input (N, C)); returns () or (*) for 'none'.
    """
    reduction = legacy_reduction("binary_cross_entropy_with_logits", size_average, reduce, reduction)
    op = "binary_cross_entropy_with_logits"
    reduction = check_reduction(op, reduction)
    target = as_target(op, input, target)
    _broadcasts_to(op, "weight", weight, input.shape)
    _broadcasts_to(op, "pos_weight", pos_weight, input.shape)
    _constant(op, "weight", weight)
    _constant(op, "pos_weight", pos_weight)
    # PyTorch's result takes the target's floating dtype (float64 logits, float32 targets: float32),
    # rounded to it step by step and reduced in it; the gradient is the input's dtype. Its
    # ``1 + (pos_weight - 1) * target`` is then in the dtype of pos_weight and target.
    tdt = target._data.dtype
    out_dtype = tdt.name if tdt.kind == "f" and tdt != input._data.dtype else None
    pw_own = out_dtype is not None and pos_weight is not None and pos_weight._data.dtype.kind == "f"
    weight = _like_input(op, "weight", weight, input)
    if pw_own:
        pos_weight = pos_weight.to(promote_types(pos_weight.dtype, target.dtype))
    else:
        pos_weight = _like_input(op, "pos_weight", pos_weight, input)
    return _L.binary_cross_entropy_with_logits(input, target, weight, pos_weight, reduction, out_dtype)
