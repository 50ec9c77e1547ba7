"""Utilities over a model's parameters: gradient clipping, flattening to a vector, parameter counts,
and ``summary`` (a table of layers, built with forward hooks); ``rnn`` holds the packed-sequence
helpers (``nn.utils.rnn.pack_padded_sequence`` ...); ``parametrize`` and ``parametrizations`` hold
PyTorch's parametrizations (``register_parametrization``, ``parametrizations.weight_norm`` ...);
``prune`` holds pruning (``prune.l1_unstructured``, ``prune.global_unstructured`` ...);
``stateless`` holds the deprecated ``functional_call``; ``init`` holds ``skip_init``; ``fusion``
folds an eval-mode BatchNorm into the layer before it; ``memory_format`` re-lays conv weights."""

from __future__ import annotations

import math
import types
import warnings
from collections.abc import Iterable
from typing import Any

from glassgrad import dtypes
from glassgrad.autograd.complex_gate import refuse_unordered
from glassgrad.autograd.grad_mode import no_grad
from glassgrad.backend import array_module
from glassgrad.errors import ArgumentError, DTypeError, ShapeError
from glassgrad.nn.module import Module
from glassgrad.nn.utils import fusion as fusion  # PyTorch: a submodule, not in __all__
from glassgrad.nn.utils import memory_format as memory_format
from glassgrad.nn.utils import parametrizations, parametrize, prune, rnn, stateless
from glassgrad.nn.utils.fusion import (
    fuse_conv_bn_eval,
    fuse_conv_bn_weights,
    fuse_linear_bn_eval,
    fuse_linear_bn_weights,
)
from glassgrad.nn.utils.init import skip_init
from glassgrad.nn.utils.memory_format import (
    convert_conv2d_weight_memory_format,
    convert_conv3d_weight_memory_format,
)
from glassgrad.nn.utils.spectral_norm import remove_spectral_norm, spectral_norm
from glassgrad.nn.utils.weight_norm import remove_weight_norm, weight_norm
from glassgrad.ops.joining import cat
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = [
    "clip_grad_norm_",
    "clip_grad_norm",
    "clip_grads_with_norm_",
    "get_total_norm",
    "clip_grad_value_",
    "parameters_to_vector",
    "vector_to_parameters",
    "count_parameters",
    "summary",
    "ModelSummary",
    # recurrent networks
    "rnn",
    # weight normalisation
    "weight_norm",
    "remove_weight_norm",
    "spectral_norm",
    "remove_spectral_norm",
    # parametrizations
    "parametrize",
    "parametrizations",
    # pruning
    "prune",
    # functional_call (deprecated path; glassgrad.func.functional_call)
    "stateless",
    # building a module without its default initialisation
    "skip_init",
    # folding BatchNorm into the layer before it
    "fuse_conv_bn_eval",
    "fuse_conv_bn_weights",
    "fuse_linear_bn_eval",
    "fuse_linear_bn_weights",
    # conv weight memory formats
    "convert_conv2d_weight_memory_format",
    "convert_conv3d_weight_memory_format",
]


def _as_list(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _vector_norm(xp: Any, a: Any, norm_type: float) -> Any:
    """The ``norm_type``-norm of the array ``a`` taken as one vector, 0-d, in ``a``'s real dtype.
    float16 is summed in float32, as PyTorch's ``linalg.vector_norm``: the squares of float16
    gradients overflow once their norm passes 256, which made the total norm inf and the clipped
    gradients zeros."""
    a = a.reshape(-1)  # (*) -> (numel,)
    # silently as PyTorch: a negative order over a zero entry (|0|**p = inf, the norm 0), a norm
    # past the dtype's range (inf) and inf/NaN gradients are no NumPy RuntimeWarnings
    with xp.errstate(over="ignore", divide="ignore", invalid="ignore"):
        if a.dtype != xp.float16:
            return xp.asarray(xp.linalg.norm(a, ord=norm_type))
        return xp.asarray(xp.linalg.norm(a.astype(xp.float32), ord=norm_type)).astype(a.dtype)


def get_total_norm(
    tensors: Tensor | Iterable[Tensor],
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """The p-norm of all ``tensors`` taken as one vector: ``|| (||t_1||, ..., ||t_k||) ||_p``.

    Shape:
        any tensors -> a 0-d Tensor (0.0 for no tensors).

    >>> import glassgrad as gg
    >>> get_total_norm([gg.tensor([3.0, 4.0]), gg.tensor([12.0])]).item()
    13.0
    """
    tensors = _as_list(tensors)
    if not tensors:
        return Tensor().new_zeros(())  # PyTorch's torch.tensor(0.0): 0-d, of the default dtype
    xp = array_module(tensors[0]._data)
    for t in tensors:
        if not isinstance(t, Tensor):  # PyTorch's foreach kernel refuses an undefined entry
            raise RuntimeError(f"get_total_norm: expected a list of Tensors, got {type(t).__name__} in it")
        if t._data.dtype.kind not in "fc":  # PyTorch's linalg.vector_norm refuses them
            raise DTypeError(f"get_total_norm: expected floating point or complex tensors, got {t.dtype}")
    norm_type = float(norm_type)
    if math.isinf(norm_type) and any(t._data.size == 0 for t in tensors):  # max/min of nothing
        raise RuntimeError(
            f"get_total_norm: linalg.vector_norm cannot compute the {norm_type} norm on an empty tensor "
            "because the operation does not have an identity (PyTorch refuses it too)"
        )
    norms = xp.stack([_vector_norm(xp, t._data, norm_type) for t in tensors])  # (*) each -> (n,)
    total = _vector_norm(xp, norms, norm_type)
    if error_if_nonfinite and not xp.isfinite(total):
        raise RuntimeError(
            # PyTorch's sentence first: programs and PyTorch's tests match on it
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot "
            "be clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
            f"`error_if_nonfinite=False` (get_total_norm: the total is {float(total)})"
        )
    return Tensor(xp.asarray(total), _wrap=True)


def clip_grads_with_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    total_norm: Tensor | float,
    foreach: bool | None = None,
) -> None:
    """Multiply every gradient in place by ``min(max_norm / (total_norm + 1e-6), 1)``, with
    ``total_norm`` computed beforehand (``get_total_norm``). The factor is PyTorch's arithmetic
    (``_clip_coef``); a float16 gradient is multiplied in float32 by it, as PyTorch's kernel reads
    a 0-d operand (rounding the factor to float16 first put float16 gradients an ulp off)."""
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    if not grads:
        return
    xp = array_module(grads[0]._data)
    # a Python number (PyTorch wants a tensor) is taken as a float64 0-d tensor
    total = total_norm._data if isinstance(total_norm, Tensor) else xp.asarray(float(total_norm))
    with xp.errstate(over="ignore", divide="ignore", invalid="ignore"):  # inf/NaN totals, as PyTorch
        coef = _clip_coef(xp, total, max_norm)
        if not coef < 1.0 and not xp.isnan(coef):  # a factor of 1 leaves every gradient as it is
            return
        for g in grads:
            d = g._data.dtype
            if d.kind == "f" and d.itemsize == 2:  # float16: the product in float32
                g._data[...] = (g._data.astype(xp.float32) * xp.float32(coef)).astype(d)
            else:
                g._data *= d.type(coef)  # in place, keeping the gradient's dtype


def _clip_coef(xp: Any, total: Any, max_norm: Any) -> Any:
    """``clamp(max_norm / (total + 1e-6), max=1)`` as PyTorch's tensor arithmetic computes it for a
    0-d ``total`` of dtype D: each step rounded to D, float16 computed in float32."""
    d = total.dtype
    op = xp.float32 if d.kind == "f" and d.itemsize == 2 else d.type
    if isinstance(max_norm, Tensor):  # a tensor divides (PyTorch's Tensor / Tensor)
        return xp.minimum(max_norm._data / (total + op(1e-6)).astype(d), 1.0).reshape(())
    denom = (total.astype(op) + op(1e-6)).astype(d)
    inv = (op(1) / denom.astype(op)).astype(d)  # Python number / t is t.reciprocal() * number
    coef = (inv.astype(op) * op(float(max_norm))).astype(d)
    return coef if xp.isnan(coef) else xp.minimum(coef, d.type(1.0))


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Scale all gradients together so that their joint norm is at most ``max_norm``:
    ``get_total_norm`` of the gradients, then ``clip_grads_with_norm_``.

    ``total = || (||g_1||, ..., ||g_k||) ||_p`` (the p-norm of all gradients as one vector); when
    ``total > max_norm`` every gradient is multiplied in place by ``max_norm / (total + 1e-6)``.

    Returns:
        the total norm before clipping, as a 0-d Tensor.

    >>> import glassgrad as gg
    >>> from glassgrad.nn import Parameter
    >>> p = Parameter(gg.zeros(2))
    >>> p.grad = gg.tensor([3.0, 4.0])
    >>> round(clip_grad_norm_([p], 1.0).item(), 4), [round(v, 4) for v in p.grad.tolist()]
    (5.0, [0.6, 0.8])
    """
    params = _as_list(parameters)
    if isinstance(parameters, types.GeneratorType) and not params:
        # PyTorch's warning: an exhausted generator (model.parameters() used twice) clips nothing
        warnings.warn(
            "`parameters` is an empty generator, no gradient clipping will occur.",  # PyTorch's words
            stacklevel=user_stacklevel(),
        )
    total = get_total_norm([p.grad for p in params if p.grad is not None], norm_type, error_if_nonfinite)
    clip_grads_with_norm_(params, max_norm, total)
    return total


def clip_grad_norm(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """The deprecated name of ``clip_grad_norm_`` (old tutorials call it), with PyTorch's warning."""
    warnings.warn(
        "`torch.nn.utils.clip_grad_norm` is now deprecated in favor of `torch.nn.utils.clip_grad_norm_`.",
        FutureWarning,
        stacklevel=user_stacklevel(),
    )
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(
    parameters: Tensor | Iterable[Tensor], clip_value: float, foreach: bool | None = None
) -> None:
    """Clamp every gradient elementwise into ``[-clip_value, clip_value]``, in place.

    Raises ``RuntimeError`` when no parameter has a gradient (an empty or used-up iterable, or
    before ``backward()``), as PyTorch 2.13 does (its foreach kernel refuses an empty list)."""
    clip_value = float(clip_value)
    params = _as_list(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        what = "an empty iterable (a generator such as model.parameters() already used up?)"
        if params:
            what = f"{len(params)} parameter(s), none with a gradient (backward() not run yet?)"
        raise ArgumentError(f"clip_grad_value_: nothing to clip: got {what}; PyTorch raises here too")
    for g in grads:
        refuse_unordered("clip_grad_value_", g)  # NumPy's clip of complex values is lexicographic
        xp = array_module(g._data)
        xp.clip(g._data, -clip_value, clip_value, out=g._data)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one 1-D tensor (differentiable).

    Shape:
        output ``(sum of numel,)``.
    """
    return cat([p.reshape(-1) for p in parameters])  # (*) -> (numel,) each


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Make ``parameters`` consecutive views of ``vec`` (the inverse of the above).

    As PyTorch's, each parameter's ``.data`` becomes its slice of ``vec`` (so it takes ``vec``'s
    dtype, and later in-place changes to ``vec`` reach the parameters: flat-parameter programs
    update the model through it); a longer ``vec`` leaves its tail unused. Shape: vec ``(n,)``,
    ``n >=`` the total numel of ``parameters``.
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected a Tensor, got {type(vec).__name__}")
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.shape[0] < total:  # refused before any parameter is re-pointed
        raise ShapeError(f"vector_to_parameters: expected a vector ({total},), got {tuple(vec.shape)}")
    pointer = 0
    for p in params:
        n = p.numel()
        p.data = vec[pointer : pointer + n].view_as(p).data  # (n,) -> p.shape, sharing vec's memory
        pointer += n


def count_parameters(model: Module, trainable_only: bool = True) -> int:
    """Number of scalar parameters (tied ones once); only ``requires_grad`` ones by default.

    >>> import glassgrad.nn as nn
    >>> count_parameters(nn.Linear(3, 2))
    8
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def _shape_of(out: Any) -> str:
    if isinstance(out, Tensor):
        return str(list(out.shape))
    if isinstance(out, tuple | list):
        return ", ".join(_shape_of(o) for o in out if isinstance(o, Tensor | tuple | list)) or "-"
    return "-"


class ModelSummary:
    """The result of :func:`summary`: ``rows`` of ``(name, type, output_shape, params)``, totals,
    and the table as ``str()`` / ``repr()``."""

    def __init__(self, rows: list[tuple[str, str, str, int]], total: int, trainable: int) -> None:
        self.rows = rows
        self.total_params = total
        self.trainable_params = trainable

    def __str__(self) -> str:
        show_shapes = any(r[2] != "" for r in self.rows)
        header = ("Layer", "Type", "Output shape", "Params") if show_shapes else ("Layer", "Type", "Params")
        body = [
            (name, kind, shape, f"{n:,}") if show_shapes else (name, kind, f"{n:,}")
            for name, kind, shape, n in self.rows
        ]
        widths = [max(len(str(r[i])) for r in [header, *body]) for i in range(len(header))]

        def line(cells: tuple) -> str:
            parts = [str(c).ljust(w) for c, w in zip(cells[:-1], widths)]
            return "  ".join([*parts, str(cells[-1]).rjust(widths[-1])]).rstrip()

        rule = "-" * len(line(header))
        out = [line(header), rule, *(line(r) for r in body), rule]
        out.append(f"Total params: {self.total_params:,}")
        out.append(f"Trainable params: {self.trainable_params:,}")
        out.append(f"Non-trainable params: {self.total_params - self.trainable_params:,}")
        return "\n".join(out)

    __repr__ = __str__


def summary(
    model: Module,
    input_shape: tuple[int, ...] | None = None,
    dtype: Any = None,
    input_data: Any = None,
) -> ModelSummary:
    """A table of every submodule: dotted name, type, own parameter count and, when an input is
    given, output shape.

    With ``input_shape`` (a tuple, or a list of tuples for several inputs) a zeros input of
    ``dtype`` (default float32; pass ``glassgrad.int64`` for Embedding models) is run once in eval
    mode without recording a graph, so running statistics are untouched; ``input_data`` passes a real
    input (a Tensor or tuple of Tensors) instead. Shapes are collected with forward hooks.

    >>> import glassgrad.nn as nn
    >>> print(summary(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)), (1, 4)))
    Layer  Type    Output shape  Params
    -----------------------------------
    0      Linear  [1, 8]            40
    1      ReLU    [1, 8]             0
    2      Linear  [1, 2]            18
    -----------------------------------
    Total params: 58
    Trainable params: 58
    Non-trainable params: 0
    """
    named = list(model.named_modules())
    if named[1:] and not any(True for _ in model.parameters(recurse=False)):
        named = named[1:]  # the root is only a container: its children make the rows
    shapes: dict[int, str] = {}
    ran = input_shape is not None or input_data is not None
    if ran:
        if input_data is None:
            dt = dtypes.to_np_dtype(dtype) if dtype is not None else dtypes.get_default_dtype().np
            many = isinstance(input_shape, list) and all(isinstance(s, tuple | list) for s in input_shape)
            shapes_in = input_shape if many else [input_shape]
            inputs = tuple(Tensor(array_module().zeros(tuple(s), dtype=dt), _wrap=True) for s in shapes_in)
        else:
            inputs = input_data if isinstance(input_data, tuple) else (input_data,)

        def record(module: Module, args: Any, output: Any) -> None:
            shapes.setdefault(id(module), _shape_of(output))

        handles = [m.register_forward_hook(record) for _, m in named]
        modes = [(m, m.training) for m in model.modules()]
        try:
            model.eval()
            with no_grad():
                model(*inputs)
        finally:
            for h in handles:
                h.remove()
            for m, mode in modes:
                m.training = mode
    rows = [
        (
            name or "(root)",
            type(m).__name__,
            shapes.get(id(m), "-" if ran else ""),
            sum(p.numel() for p in m.parameters(recurse=False)),
        )
        for name, m in named
    ]
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return ModelSummary(rows, total, trainable)
