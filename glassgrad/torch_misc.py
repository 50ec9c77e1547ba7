"""Small top-level functions of ``torch``: predicates (``is_nonzero``, ``isreal``,
``is_same_size``), ``rsub``, ``fill``, ``detach``, ``adjoint``, the deprecated linear-algebra
spellings (``cholesky``, ``triangular_solve``, ``chain_matmul``: warn once, as PyTorch), the
Poisson and binomial draws, and process-wide switches (anomaly mode, interop threads, denormals,
``set_default_tensor_type``)."""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np

from glassgrad.errors import ArgumentError, DTypeError, ShapeError
from glassgrad.operand_errors import number_arg
from glassgrad.ops.alpha_checks import check_alpha, scaled_pair
from glassgrad.ops.renorm import renorm as _renorm_op
from glassgrad.return_types import return_type
from glassgrad.tensor import Tensor
from glassgrad.threads import check_thread_count
from glassgrad.user_frames import user_stacklevel

__all__ = [
    "is_nonzero", "isreal", "is_same_size", "rsub", "fill", "detach", "adjoint", "cholesky",
    "triangular_solve", "chain_matmul", "poisson", "binomial", "is_inference_mode_enabled",
    "is_anomaly_enabled", "is_anomaly_check_nan_enabled", "set_anomaly_enabled", "is_warn_always_enabled",
    "set_warn_always", "get_num_interop_threads", "set_num_interop_threads", "set_flush_denormal",
    "set_default_tensor_type", "get_device", "ravel", "unflatten", "renorm", "vander",
    "nuclear_norm", "frobenius_norm", "empty_permuted", "is_signed", "is_neg", "resolve_neg",
    "is_inference", "narrow_copy", "from_dlpack",
]  # fmt: skip

_triangular_solve_type = return_type("triangular_solve", ["solution", "cloned_coefficient"])
_WARNED: set = set()  # the deprecations warned about in this process (reset per test in conftest)
_settings = {"warn_always": False, "interop_threads": 1}


def _flag(op: str, value: Any) -> bool:
    """A switch's bool argument: anything else is a TypeError, as PyTorch's bindings raise (a list
    given by mistake must not turn a process-wide mode on)."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{op}: expected a bool, got {type(value).__name__}")
    return bool(value)


def _deprecated(name: str, instead: str) -> None:
    if name in _WARNED:
        return
    _WARNED.add(name)
    warnings.warn(
        f"torch.{name} is deprecated in favor of {instead}", UserWarning, stacklevel=user_stacklevel()
    )


def is_nonzero(input: Tensor) -> bool:  # noqa: A002 - PyTorch's names
    """Whether a one-element tensor is not zero; more or fewer elements raise, as PyTorch's."""
    if input.numel() != 1:
        what = "no values" if input.numel() == 0 else "more than one value"
        raise RuntimeError(f"is_nonzero: Boolean value of Tensor with {what} is ambiguous")
    return bool(input._data.reshape(-1)[0] != 0)


def isreal(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise: True where the imaginary part is 0 (everywhere for a real tensor)."""
    import glassgrad as gg

    if input.is_complex():
        return input.imag == 0
    return gg.ones(input.shape, dtype=gg.bool)


def is_same_size(input: Tensor, other: Tensor) -> bool:  # noqa: A002
    """Whether two tensors have the same shape (a list or a Size is PyTorch's TypeError)."""
    for label, t in (("input", input), ("other", other)):
        if not isinstance(t, Tensor):
            raise TypeError(f"is_same_size(): argument '{label}' must be Tensor, not {type(t).__name__}")
    return tuple(input.shape) == tuple(other.shape)


def rsub(input: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:  # noqa: A002
    """other − alpha · input (``sub`` with its operands swapped)."""
    from glassgrad.ops.elementwise import refuse_bool_sub, sub

    check_alpha("rsub", alpha, input, other)
    # alpha * input in the result's dtype; a bool operand refused before the product hides it
    minuend, scaled = scaled_pair(other, input, alpha, refuse_bool_sub)
    # other first, as PyTorch's sub(other, input): its result takes other's layout, not input's.
    # A subtraction, not other + (-input): negating first wrapped a uint8 input before it was
    # promoted (rsub of uint8 x and int8 y gave y + (256 - x) in int16), and it refuses bool as sub
    return sub(minuend, scaled)


def fill(input: Tensor, value: Any) -> Tensor:  # noqa: A002
    """A new tensor like ``input`` holding ``value`` everywhere (out of place; differentiable in a
    tensor ``value``, as PyTorch's)."""
    import glassgrad as gg

    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"fill: expected a 0-dim value tensor, got shape {tuple(value.shape)}")
        return value.to(input.dtype).expand(input.shape).clone()
    if input.requires_grad and gg.is_grad_enabled():
        # PyTorch records the fill (FillBackward0): the result requires grad, input's gradient is 0
        return input.clone().fill_(value)
    return gg.full_like(input, value)


def detach(input: Tensor) -> Tensor:  # noqa: A002
    return input.detach()


def adjoint(input: Tensor) -> Tensor:  # noqa: A002
    """The conjugate transpose of the last two dims (a view for real tensors). Shape: (..., m, n) -> (..., n, m)."""
    return input.adjoint()


def cholesky(input: Tensor, upper: bool = False, *, out: Any = None) -> Tensor:  # noqa: A002
    """Deprecated ``torch.cholesky``: ``linalg.cholesky`` (warns once)."""
    from glassgrad import linalg
    from glassgrad.ops.linalg import lapack_kernel
    from glassgrad.out_keyword import with_out

    _deprecated("cholesky", "torch.linalg.cholesky")
    lapack_kernel("cholesky", "cholesky_cpu", input)  # (no floating-point check first, as linalg.cholesky's)
    # its own out=, which casts into out where linalg.cholesky's wants the result's dtype
    return with_out(linalg.cholesky(input, upper=upper), out, "cholesky")


def triangular_solve(input: Tensor, A: Tensor, upper: bool = True, transpose: bool = False,  # noqa: A002
                     unitriangular: bool = False, *, out: Any = None) -> Any:  # fmt: skip
    """Deprecated ``torch.triangular_solve``: ``(X, A.clone())`` with ``op(A) X = b``, op the
    transpose when asked (warns once). Shape: A (..., n, n), input (..., n, k)."""
    from glassgrad import linalg

    _deprecated("triangular_solve", "torch.linalg.solve_triangular (with its arguments reversed)")
    if input.dtype != A.dtype:  # PyTorch refuses; linalg.solve_triangular (below) promotes
        raise DTypeError(
            f"triangular_solve: Expected b and A to have the same dtype, got {input.dtype} and {A.dtype}"
        )
    a = A.mT if transpose else A
    x = linalg.solve_triangular(a, input, upper=upper != transpose, unitriangular=unitriangular)
    if out is not None:
        from glassgrad.out_keyword import with_out

        return _triangular_solve_type(
            with_out(x, out[0], "triangular_solve"), with_out(A.clone(), out[1], "triangular_solve")
        )
    return _triangular_solve_type(x, A.clone())


def chain_matmul(*matrices: Tensor, out: Any = None) -> Tensor:
    """Deprecated ``torch.chain_matmul``: ``linalg.multi_dot`` (warns once)."""
    from glassgrad import linalg

    _deprecated("chain_matmul", "torch.linalg.multi_dot")
    if not matrices:
        raise ShapeError("chain_matmul(): Expected one or more matrices")
    for m in matrices:  # matrices only: multi_dot's 1-D first and last are not taken here
        if m.ndim != 2:
            raise ShapeError(f"chain_matmul: Tensor dimension is {m.ndim}, expected 2 instead.")
    return matrices[0].clone() if len(matrices) == 1 else linalg.multi_dot(list(matrices), out=out)


def _draws(op: str, *params: Tensor) -> None:
    for p in params:
        if p._data.dtype.kind != "f":
            raise DTypeError(f"{op}: expected floating-point parameters, got {p.dtype}")


def poisson(input: Tensor, generator: Any = None) -> Tensor:  # noqa: A002
    """One Poisson(λ) draw per element of the rates ``input``, in its dtype (no gradient)."""
    import glassgrad as gg
    from glassgrad.ops.forms import sampled
    from glassgrad.random import get_generator

    _draws("poisson", input)
    if not bool((input._data >= 0).all()):  # NaN too, as PyTorch's (NumPy's says "lam value too large")
        raise ArgumentError("poisson: invalid Poisson rate, expected rate to be non-negative")
    # np.asarray: NumPy's generators return a Python int for a 0-dim parameter, not an array
    draws = np.asarray(get_generator(generator).poisson(input.detach().numpy()), dtype=input._data.dtype)
    return sampled(gg.tensor(draws), "Poisson", input)


def binomial(count: Tensor, prob: Tensor, generator: Any = None) -> Tensor:
    """One Binomial(count, prob) draw per element (broadcast), in the parameters' dtype."""
    import glassgrad as gg
    from glassgrad.random import get_generator

    _draws("binomial", count, prob)
    n, p = np.broadcast_arrays(count.detach().numpy(), prob.detach().numpy())
    draws = get_generator(generator).binomial(n.astype(np.int64), p)
    return gg.tensor(np.asarray(draws, dtype=np.result_type(count._data, prob._data)))


def is_inference_mode_enabled() -> bool:
    """Whether an ``inference_mode()`` block is active (glassgrad's is ``no_grad`` under the hood)."""
    from glassgrad.autograd import grad_mode

    return bool(getattr(grad_mode.state, "inference", False))


def is_anomaly_enabled() -> bool:
    from glassgrad.autograd import anomaly

    return anomaly.is_anomaly_enabled()


def is_anomaly_check_nan_enabled() -> bool:
    from glassgrad.autograd import anomaly

    return anomaly.is_anomaly_check_nan_enabled()


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    from glassgrad.autograd import anomaly

    anomaly.set_detect_anomaly(_flag("set_anomaly_enabled", enabled), _flag("set_anomaly_enabled", check_nan))


def is_warn_always_enabled() -> bool:
    return _settings["warn_always"]


def set_warn_always(b: bool) -> None:
    """PyTorch's switch to repeat its warn-once warnings; recorded (glassgrad's once-per-process
    warnings stay once)."""
    _settings["warn_always"] = _flag("set_warn_always", b)


def get_num_interop_threads() -> int:
    return _settings["interop_threads"]


def set_num_interop_threads(num: int) -> None:
    """Recorded only: glassgrad runs no inter-op thread pool (NumPy's BLAS threads are
    ``set_num_threads``)."""
    num = check_thread_count("set_num_interop_threads", num)
    _settings["interop_threads"] = num


def set_flush_denormal(mode: bool) -> bool:
    """False: NumPy cannot flush denormal numbers to zero, so the request is not supported (PyTorch
    returns whether the CPU supports it)."""
    _flag("set_flush_denormal", mode)
    return False


def set_default_tensor_type(t: Any) -> None:
    """Deprecated: the default float dtype from a CPU tensor type (``torch.DoubleTensor`` or its
    name ``"torch.DoubleTensor"``); use ``set_default_dtype``. A CUDA type raises ``TypeError``."""
    import glassgrad as gg

    name = t if isinstance(t, str) else getattr(t, "__name__", str(t))
    if (isinstance(t, str) and ".cuda." in t) or getattr(t, "__module__", "") == "glassgrad.cuda":
        # PyTorch's CPU build refuses a CUDA type; taking its dtype would change the default quietly
        where = t if isinstance(t, str) else f"torch.cuda.{name}"
        raise TypeError(
            f"set_default_tensor_type: type {where} not available: glassgrad runs on the CPU only"
        )
    by_name = {"FloatTensor": gg.float32, "DoubleTensor": gg.float64, "HalfTensor": gg.float16}
    by_name["BFloat16Tensor"] = gg.bfloat16  # set_default_dtype raises bfloat16's DTypeError, saying why
    key = name.rsplit(".", 1)[-1]
    if key not in by_name:
        raise TypeError(f"set_default_tensor_type: expected a floating-point tensor type, got {name!r}")
    _deprecated("set_default_tensor_type", "torch.set_default_dtype")
    gg.set_default_dtype(by_name[key])


def get_device(input: Tensor) -> int:  # noqa: A002
    """-1: every glassgrad tensor is on the CPU (PyTorch's answer for a CPU tensor)."""
    return -1


def ravel(input: Tensor) -> Tensor:  # noqa: A002
    return input.ravel()


def unflatten(input: Tensor, dim: int, sizes: Any) -> Tensor:  # noqa: A002
    return input.unflatten(dim, sizes)


def renorm(input: Tensor, p: float, dim: int, maxnorm: float, *, out: Any = None) -> Tensor:  # noqa: A002
    """Each slice along ``dim`` whose p-norm exceeds ``maxnorm`` scaled down to it (by
    maxnorm / (norm + 1e-7), as PyTorch's); differentiable. Shape: input's."""
    from glassgrad.ops.elementwise import div
    from glassgrad.ops.indexing import normalize_dim
    from glassgrad.out_keyword import with_out

    # p and maxnorm are PyTorch Scalars: a number or a 0-d tensor, read before any shape check (the
    # op's float(p) would take a one-element or grad-requiring tensor PyTorch's parser refuses)
    p = number_arg("renorm", "p", p, "Number")
    maxnorm = number_arg("renorm", "maxnorm", maxnorm, "Number")
    if input.ndim < 2:  # PyTorch's check: a 1-D input has no slices to renormalize, only elements
        raise ShapeError(f"renorm: input needs at least 2 dimensions, got {input.ndim} dimensions")
    for name, v in (("p", p), ("maxnorm", maxnorm)):
        if not isinstance(v, numbers.Real):  # a complex number or 0-d complex tensor's value
            raise ArgumentError(f"renorm: {name} must be real-valued, got {v}")
    if p <= 0:
        raise ArgumentError(f"renorm: non-positive-norm not supported (p = {p})")
    if maxnorm < 0:
        raise ArgumentError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    d = normalize_dim(dim, input.ndim, "renorm", tuple(input.shape))  # (it wrapped dim 5 to 1)
    if input._data.dtype.kind == "f":  # one op with PyTorch's backward (ops/renorm.py)
        return with_out(_renorm_op(input, p, d, maxnorm), out, "renorm")
    others = tuple(k for k in range(input.ndim) if k != d)
    scaled = input.detach().norm(p, dim=others, keepdim=True) > maxnorm  # (a nan norm is not scaled)
    # the slices left alone pass input and its gradient through untouched, as PyTorch's backward
    # where(norm > maxnorm, ..., grad): their norm and factor see zeros, so an inf or nan there
    # cannot come back into the gradient as 0 * nan through the branch not taken
    inner = input.where(scaled, input.new_zeros(()))
    # a division, as the kernel's (``number / t`` is ``t.reciprocal() * number``, PyTorch's Python)
    factor = div(maxnorm, inner.norm(p, dim=others, keepdim=True) + 1e-7)
    # row-major, as PyTorch's kernel allocates it (the product keeps a permuted input's order)
    return with_out((inner * factor).where(scaled, input).contiguous(), out, "renorm")


def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:
    """``torch.vander``: columns x^(N−1) ... x^0 (``increasing``: x^0 ... x^(N−1)). Shape: (n,) -> (n, N)."""
    if x.ndim != 1:
        raise ValueError(f"vander: expected a 1-D input, got shape {tuple(x.shape)}")
    n = x.shape[0] if N is None else N
    if n < 0:
        raise ValueError(f"vander: expected N >= 0, got {n}")
    import glassgrad as gg

    powers = gg.arange(n, dtype=x.dtype if x.is_floating_point() or x.is_complex() else gg.int64)
    if not increasing:
        powers = powers.flip(0)
    base = x if x.is_floating_point() or x.is_complex() else x.to(gg.int64)
    return base.unsqueeze(1) ** powers


def nuclear_norm(input: Tensor, dim: Any = None, keepdim: bool = False, *, out: Any = None) -> Tensor:  # noqa: A002
    """Deprecated ``torch.nuclear_norm``: ``linalg.matrix_norm(input, 'nuc')`` (warns once)."""
    from glassgrad import linalg
    from glassgrad.out_keyword import with_out

    _deprecated("nuclear_norm", "torch.linalg.matrix_norm(A, 'nuc')")
    dims = (-2, -1) if dim is None else tuple(dim)
    return with_out(linalg.matrix_norm(input, "nuc", dim=dims, keepdim=keepdim), out, "nuclear_norm")


def frobenius_norm(input: Tensor, dim: Any = (), keepdim: bool = False, *, out: Any = None) -> Tensor:  # noqa: A002
    """Deprecated ``torch.frobenius_norm``: ``linalg.vector_norm(input, 2, dim)`` (warns once)."""
    from glassgrad import linalg
    from glassgrad.out_keyword import with_out

    _deprecated("frobenius_norm", "torch.linalg.vector_norm(A, 2, dim)")
    # PyTorch's int[1] dim: a bare int too (frobenius_norm(x, 1))
    dims = None if dim in ((), None) else (dim,) if isinstance(dim, int) else tuple(dim)
    return with_out(linalg.vector_norm(input, 2, dim=dims, keepdim=keepdim), out, "frobenius_norm")


def empty_permuted(size: Any, physical_layout: Any, *, dtype: Any = None, layout: Any = None, device: Any = None,
                   requires_grad: bool = False, pin_memory: bool = False) -> Tensor:  # fmt: skip
    """An uninitialised (here zero) tensor of ``size`` laid out in memory in the dim order
    ``physical_layout`` (outermost first), as PyTorch's."""
    import glassgrad as gg

    size, order = tuple(size), tuple(physical_layout)
    if sorted(order) != list(range(len(size))):
        raise ArgumentError(
            f"empty_permuted: expected physical_layout to be a permutation of the dims, got {order}"
        )
    base = gg.empty(*(size[d] for d in order), dtype=dtype)  # (NaN-filled in deterministic mode)
    inverse = sorted(range(len(order)), key=lambda k: order[k])
    return base.permute(*inverse).requires_grad_(requires_grad)


def is_signed(input: Tensor) -> bool:  # noqa: A002
    return input.is_signed()


def is_neg(input: Tensor) -> bool:  # noqa: A002
    return False  # (no lazy negation bit)


def resolve_neg(input: Tensor) -> Tensor:  # noqa: A002
    return input


def is_inference(input: Tensor) -> bool:  # noqa: A002
    return input.is_inference()


def narrow_copy(input: Tensor, dim: int, start: int, length: int, *, out: Any = None) -> Tensor:  # noqa: A002
    from glassgrad.out_keyword import with_out

    # PyTorch's narrow_copy resizes its out without the warning of a non-empty out
    return with_out(input.narrow_copy(dim, start, length), out, "narrow_copy", warn_resize=False)


def from_dlpack(ext_tensor: Any) -> Tensor:
    """``torch.from_dlpack``: a tensor over another library's memory (``utils/dlpack.py``)."""
    from glassgrad.utils.dlpack import from_dlpack as _from

    return _from(ext_tensor)
