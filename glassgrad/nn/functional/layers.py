"""Layer functions: linear, bilinear, dropout, embedding (plus one_hot and pad from the ops).

All are composites of primitives, so their backward comes from the ops they are made of.
"""

from __future__ import annotations

import warnings

from glassgrad.autograd.forward_ad import get_tangent, is_dual, set_tangent
from glassgrad.backend import array_module
from glassgrad.errors import ArgumentAssertionError, DTypeError, ShapeError
from glassgrad.factories import empty
from glassgrad.meta_array import MetaArray
from glassgrad.nn.functional.activation import in_place
from glassgrad.operand_errors import number_arg
from glassgrad.ops import elementwise as _E
from glassgrad.ops import embedding as _Emb
from glassgrad.ops import linear as _Lin
from glassgrad.ops import matmul as _M
from glassgrad.ops.half_precision import HALF
from glassgrad.ops.index_keys import refuse_index_dtype
from glassgrad.ops.padding import pad
from glassgrad.ops.sampling import one_hot
from glassgrad.random import get_generator
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = ["linear", "bilinear", "dropout", "embedding", "one_hot", "pad"]


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    """y = x W^T + b.

    Args:
        input: the features, last dim ``in_features``.
        weight: (out_features, in_features), PyTorch's layout (or (in_features,) for a single output).
        bias: (out_features,) or None; as PyTorch's ``addmm``, also a bias that broadcasts to the
            output without growing it, such as (1, out_features) or a 0-d one (a 2-d weight only).

    Shape:
        input: (*, in_features); returns (*, out_features) (or (*) for a 1-D weight).

    >>> import glassgrad as gg
    >>> import glassgrad.nn.functional as F
    >>> F.linear(gg.ones(2, 3), gg.ones(4, 3), gg.zeros(4)).shape
    glassgrad.Size([2, 4])
    """
    w_shape, x_shape = weight.shape, input.shape
    if weight.ndim not in (1, 2) or input.ndim < 1 or x_shape[-1] != w_shape[-1]:
        raise ShapeError(
            f"linear: expected input (*, in_features) and weight (out_features, in_features) with equal "
            f"in_features, got input {x_shape} and weight {w_shape}"
        )
    broadcast_bias = bias is not None and bias.shape != w_shape[:-1]
    if broadcast_bias:  # (the usual (out_features,) bias skips this)
        out_shape = (*x_shape[:-1], w_shape[0]) if weight.ndim == 2 else x_shape[:-1]
        if weight.ndim == 1 or not _broadcasts_to(bias.shape, out_shape):
            raise ShapeError(
                f"linear: expected bias of shape {w_shape[:-1]} (or, for a 2-d weight, one that broadcasts "
                f"to the output {out_shape} without growing it), got {bias.shape}"
            )
    if weight.ndim == 1:  # a single output: (*, in) @ (in,) -> (*)
        out = _M.matmul(input, weight)
        return out if bias is None else out + bias
    if input._data.dtype != weight._data.dtype:
        raise DTypeError(
            f"linear: expected input and weight of one dtype, got {input.dtype} and {weight.dtype}"
        )
    if bias is not None and bias._data.dtype != weight._data.dtype:
        raise DTypeError(f"linear: expected bias of the weight's dtype {weight.dtype}, got {bias.dtype}")
    if broadcast_bias:  # a bias such as (1, out): PyTorch's addmm broadcasts it to the output
        return _Lin.Linear.apply(input, weight, None) + bias
    if bias is not None and input._data.dtype is HALF and input.ndim > 2 and not input.is_contiguous():
        # PyTorch fuses the bias into the product (addmm of the flattened rows) only for a
        # contiguous input; a transposed one is a matmul, then add_: float16 rounds twice
        return _Lin.Linear.apply(input, weight, None) + bias
    return _Lin.Linear.apply(input, weight, bias)  # one fused node: x W^T + b


def _broadcasts_to(shape: tuple, target: tuple) -> bool:
    """Whether ``shape`` broadcasts to ``target`` leaving it as is (no more dims, each 1 or equal)."""
    return len(shape) <= len(target) and all(s in (1, t) for s, t in zip(reversed(shape), reversed(target)))


def bilinear(
    input1: Tensor,
    input2: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
) -> Tensor:
    """y_k = x1^T W_k x2 + b_k for every output feature k.

    Computed as one matmul: x1 against W laid out as (in1, out * in2), then a product with x2
    summed over in2.

    Shape:
        input1: (*, in1); input2: (*, in2); weight: (out, in1, in2); bias: (out,); returns (*, out).
    """
    if weight.ndim != 3 or input1.ndim < 1 or input2.ndim < 1:
        raise ShapeError(
            f"bilinear: expected input1 (*, in1), input2 (*, in2) and weight (out, in1, in2), got "
            f"{input1.shape}, {input2.shape} and {weight.shape}"
        )
    out_f, in1, in2 = weight.shape
    if input1.shape[:-1] != input2.shape[:-1] or input1.shape[-1] != in1 or input2.shape[-1] != in2:
        raise ShapeError(
            f"bilinear: expected input1 (*, {in1}) and input2 (*, {in2}) with the same leading dims for "
            f"weight {weight.shape}, got {input1.shape} and {input2.shape}"
        )
    if bias is not None and bias.shape != (out_f,):
        raise ShapeError(f"bilinear: expected bias of shape {(out_f,)}, got {bias.shape}")
    w = weight.permute(1, 0, 2).reshape(in1, out_f * in2)  # (out, in1, in2) -> (in1, out * in2)
    t = _M.matmul(input1, w)  # (*, in1) @ (in1, out * in2) -> (*, out * in2)
    t = t.reshape(*input1.shape[:-1], out_f, in2)  # (*, out * in2) -> (*, out, in2)
    prod = t * input2.unsqueeze(-2)  # (*, out, in2) * (*, 1, in2)
    # summed in its own dtype: an integer sum would widen to int64, where PyTorch's kernel keeps it
    out = prod.sum(-1, dtype=prod.dtype)  # -> (*, out)
    return out if bias is None else out + bias


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:  # noqa: A002
    """Zero each element with probability ``p`` and scale the survivors by 1 / (1 - p).

    The scaling ("inverted dropout") keeps each element's expected value, so evaluation needs no
    change: with ``training=False`` (or p = 0) the input is returned as is. The mask is drawn from
    the generator that ``glassgrad.manual_seed`` seeds. ``inplace=True`` writes the result into
    the input, as PyTorch (the rules of ``relu_``: see ``activation.in_place``).

    Shape:
        input: (*); returns (*).
    """
    return scaled_dropout("dropout", input, p, training, inplace=inplace)


def scaled_dropout(
    op: str,
    input: Tensor,  # noqa: A002
    p: float,
    training: bool,
    lead: int | None = None,
    inplace: bool = False,
) -> Tensor:
    """Inverted dropout: one draw per element, or (``lead`` set, channel dropout) one per index of
    the first ``lead`` dims, shared along the rest; ``op`` names the caller in errors; ``inplace``
    writes the result into ``input`` (PyTorch's ``inplace=True``)."""
    p = _probability(op, p)
    if not training or p == 0.0:
        return input
    if inplace:
        return in_place(input, op, lambda t: scaled_dropout(op, t, p, training, lead))
    x = input._data
    if x.dtype.kind != "f":
        raise DTypeError(f"{op}: expected a floating-point input, got {input.dtype}")
    if p == 1.0:
        return input * 0.0  # everything dropped; still in the graph, with zero gradient
    mask_shape = x.shape if lead is None else x.shape[:lead] + (1,) * (x.ndim - lead)  # (N, C, 1, ...)
    if input.is_meta:  # no values: no draw, a meta mask of the same shape
        return _E.mul(input, empty(mask_shape, dtype=input.dtype, device="meta"))
    draw_dtype = x.dtype if x.dtype.itemsize >= 4 else "float32"  # NumPy draws float32/float64 only
    keep = get_generator().random(mask_shape, dtype=draw_dtype) >= p  # P(keep) = 1 - p
    mask = keep.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - p))
    return _E.mul(input, Tensor(mask, _wrap=True))


def _probability(op: str, p: float | Tensor) -> float:
    if p.__class__ is not float:
        p = number_arg(op, "p", p, compared=True)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: expected a probability p between 0 and 1, got {p}")
    return p


def channel_dropout(op: str, input: Tensor, p: float, training: bool, batched: bool, inplace: bool) -> Tensor:  # noqa: A002
    """``scaled_dropout`` of whole channels of a batched (N, C, *) or an unbatched (C, *) input.
    In place, an unbatched input becomes a batch of one and back in place (``unsqueeze_(0)``,
    ``squeeze_(0)``), as in PyTorch's dropout1d/dropout3d: its version moves even when nothing
    is dropped (eval, p = 0), so a backward that saved it (a sigmoid's output) refuses it, as
    PyTorch's does."""
    if batched or not inplace:
        return scaled_dropout(op, input, p, training, 2 if batched else 1, inplace)
    p = _probability(op, p)  # (refused before the input changes shape, as PyTorch)
    return scaled_dropout(op, input.unsqueeze_(0), p, training, 2, True).squeeze_(0)


def warn_dropout3d_dims(ndim: int) -> None:
    """PyTorch's warning for a ``dropout3d`` input of 1 to 3 dims, which it reads as unbatched (one
    draw per index of dim 0) rather than refusing."""
    warnings.warn(
        f"dropout3d: Received a {ndim}-D input to dropout3d, which is deprecated and will result in an "
        "error in a future release. To retain the behavior and silence this warning, please use dropout "
        "instead. Note that dropout3d exists to provide channel-wise dropout on inputs with 3 spatial "
        "dimensions, a channel dimension, and an optional batch dimension (i.e. 4D or 5D inputs).",
        UserWarning,
        stacklevel=user_stacklevel(),
    )


def embedding(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """Look up rows of ``weight``: out[..., :] = weight[input[...], :].

    The backward scatter-adds each output row's gradient into the row it came from (an index that
    occurs twice gets both contributions). The ``padding_idx`` row gets no gradient. With
    ``max_norm``, the rows looked up are first rescaled in place (outside the graph) so their
    ``norm_type``-norm is at most ``max_norm``, as PyTorch does. With ``scale_grad_by_freq`` each
    row's gradient is divided by how often its id occurs in ``input`` (the forward is unchanged).
    With ``sparse`` the weight's ``.grad`` is a sparse COO tensor of the rows looked up (for
    ``optim.SparseAdam``, ``SGD``, ``Adagrad``), as PyTorch's.

    Shape:
        input: (*) integer indices in [0, num_embeddings); weight: (num_embeddings, embedding_dim);
        returns (*, embedding_dim).
    """
    idx = input._data if isinstance(input, Tensor) else array_module(weight._data).asarray(input)
    if idx.dtype.kind not in "iu":
        raise DTypeError(f"embedding: expected integer indices (int64), got {idx.dtype}")
    refuse_index_dtype("embedding", input)  # int32 passes, as in PyTorch; int16, uint8 ... do not
    if weight.ndim != 2:
        raise ShapeError(
            f"embedding: expected weight of shape (num_embeddings, embedding_dim), got {weight.shape}"
        )
    num = weight.shape[0]
    if idx.size and idx.__class__ is not MetaArray and (idx.min() < 0 or idx.max() >= num):  # meta: no values
        bad = idx[(idx < 0) | (idx >= num)].ravel()[0]
        raise IndexError(f"embedding: expected indices in [0, {num}), got index {bad}")
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            # PyTorch asserts ("Padding_idx must be within num_embeddings")
            raise ArgumentAssertionError(
                f"embedding: expected padding_idx in [-{num}, {num}), got {padding_idx}"
            )
        padding_idx = padding_idx % num
    if max_norm is not None:  # a 0-d tensor max_norm or norm_type: its value, as PyTorch's parser reads it
        max_norm, norm_type = (
            number_arg("embedding", "max_norm", max_norm),
            number_arg("embedding", "norm_type", norm_type),
        )
        _renorm_rows(weight, idx, max_norm, norm_type)
    # one node, EmbeddingBackward0: padding_idx and scale_grad_by_freq change only its gradient
    return _Emb.Embedding.apply(  # a copy of the ids: changing them in place must not move the gradient
        weight,
        ids=idx.copy(),
        padding_idx=padding_idx,
        scale_grad_by_freq=scale_grad_by_freq,
        sparse=bool(sparse) and idx.__class__ is not MetaArray,  # a meta table's gradient stays dense
    )


def _renorm_rows(weight: Tensor, idx, max_norm: float, norm_type: float) -> None:
    """Rescale, in place and outside the graph, the looked-up rows whose norm exceeds ``max_norm``.

    As PyTorch's ``embedding_renorm_``: each row's norm is taken in the weight's dtype, then compared
    and guarded (``+ 1e-7``) in float64, the scale rounded to the weight's dtype once (a float32
    table then rescales to PyTorch's bits, so ``mode='max'`` bags break ties as there)."""
    xp = array_module(weight._data)
    # PyTorch's renorm is an in-place op whether or not a row changed: a graph that saved the
    # weight before this lookup refuses to run backward either way (clone it first, as its docs say)
    tangent = get_tangent(weight) if is_dual(weight) else None
    weight._version += 1
    if tangent is not None:  # PyTorch writes through weight.detach(): a dual table keeps its tangent
        set_tangent(weight, tangent)
    if weight._data.__class__ is MetaArray or idx.__class__ is MetaArray:  # no values: PyTorch's meta renorm
        return
    rows = xp.unique(idx)
    norms = xp.linalg.norm(weight._data[rows], ord=norm_type, axis=1).astype(xp.float64)  # (R,)
    too_big = norms > max_norm
    if too_big.any():
        rows, norms = rows[too_big], norms[too_big]
        scale = (max_norm / (norms + 1e-7)).astype(weight._data.dtype)  # PyTorch's 1e-7 guard
        weight._data[rows] *= scale[:, None]  # (R,) -> (R, 1)
