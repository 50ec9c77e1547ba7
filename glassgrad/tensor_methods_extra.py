"""The last Tensor methods (and their top-level functions) PyTorch's CPU tensors have:
Householder QR in LAPACK's form (``geqrf``, ``orgqr``, ``ormqr``), in-place ``addmv_``/
``baddbmm_``/``conj_physical_``/``fill_diagonal_`` (recorded on a tensor in the graph), Python callables over elements (``apply_``, ``map_``,
``map2_``: CPU-only in PyTorch, a loop by nature), ``nonzero_static``, and small queries
(``storage_type``, ``is_set_to``, ``is_distributed``, ``data_ptr``, ``const_data_ptr``).

Example:
    >>> import glassgrad as gg
    >>> a = gg.tensor([[3.0, 1.0], [4.0, 2.0]], dtype=gg.float64)
    >>> h, tau = a.geqrf()
    >>> q = gg.orgqr(h, tau)
    >>> [round(v, 6) for v in (q @ q.T).flatten().tolist()]
    [1.0, 0.0, 0.0, 1.0]
"""

from __future__ import annotations

import operator
from typing import Any, Callable

from glassgrad.autograd.grad_mode import state as _grad_state
from glassgrad.backend import array_module
from glassgrad.dtypes import scalar_into
from glassgrad.errors import ArgumentError, GraphError, IndexOutOfRangeError, ShapeError
from glassgrad.methods import _inplace
from glassgrad.ops import indexing
from glassgrad.ops.carried import underived
from glassgrad.ops.composite import with_out
from glassgrad.ops.linalg import lapack_kernel
from glassgrad.ops.out_write import refuse_grad_inputs
from glassgrad.return_types import return_type
from glassgrad.tensor import Tensor

__all__ = ["geqrf", "nonzero_static", "orgqr", "ormqr"]

#: ``a, tau = torch.geqrf(x)``, by position or by field.
Geqrf = return_type("geqrf", ["a", "tau"])


def _gg() -> Any:
    import glassgrad

    return glassgrad


def geqrf(input: Tensor, *, out: Any = None) -> Geqrf:  # noqa: A002 - PyTorch's name
    """QR as LAPACK's ``geqrf`` returns it: R on and above the diagonal of ``a``, the Householder
    vectors below it (their leading 1 implied), and their scales ``tau``. Not differentiable: recorded
    with a backward that raises, as PyTorch's; ``orgqr``/``ormqr`` use the pair.

    Shape:
        input ``(*, m, n)`` -> a ``(*, m, n)``, tau ``(*, min(m, n))``.
    """
    if not isinstance(input, Tensor) or input.dim() < 2:
        raise ShapeError(
            f"geqrf: expected a floating point or complex tensor of shape (*, m, n), got "
            f"{getattr(input, 'dtype', type(input).__name__)} {tuple(getattr(input, 'shape', ()))}"
        )
    lapack_kernel("geqrf", "geqrf_cpu", input)  # integers, bool, float16: PyTorch's NotImplementedError
    xp = array_module(input._data)
    h, tau = xp.linalg.qr(input._data, mode="raw")  # h: LAPACK's column-major result, transposed
    # a view of it, as PyTorch's a: each matrix column-major (a.mT is contiguous), so strides,
    # is_contiguous() and what view() accepts agree
    a = xp.swapaxes(xp.ascontiguousarray(h), -1, -2)
    result = tuple(underived(v, input, op="geqrf", node="GeqrfBackward0") for v in (a, tau))
    if out is not None:
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise TypeError(f"geqrf(): expected out= as two tensors (a, tau), got {type(out).__name__}")
        refuse_grad_inputs("geqrf", (input,))  # PyTorch's geqrf has a derivative that raises
        result = tuple(with_out(r, o, "geqrf") for r, o in zip(result, out))
    return Geqrf(*result)


def orgqr(input: Tensor, input2: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """The first n columns of Q from ``geqrf``'s pair (``linalg.householder_product``).

    Shape:
        input ``(*, m, n)``, input2 (tau) ``(*, k)`` -> ``(*, m, n)``.
    """
    return with_out(_gg().linalg.householder_product(input, input2), out, "orgqr")


def ormqr(
    input: Tensor,  # noqa: A002
    input2: Tensor,
    input3: Tensor,
    left: bool = True,
    transpose: bool = False,
    *,
    out: Tensor | None = None,
) -> Tensor:
    """``Q @ C`` (``left``), ``C @ Q`` (not ``left``), with ``Q^H`` for ``transpose``, where Q is
    the full ``(m, m)`` orthogonal factor held by ``geqrf``'s pair and C is ``input3``.

    Shape:
        input ``(*, m, n)``, input2 (tau) ``(*, k)``, input3 ``(*, m, p)`` (left) or ``(*, p, m)``.
    """
    gg = _gg()
    for name, t in (("input", input), ("other", input3)):  # a 0-d input ran into an IndexError
        if t.ndim < 2:
            raise ShapeError(f"ormqr: {name} must have at least 2 dimensions, got shape {tuple(t.shape)}")
    if input2.ndim < 1:  # PyTorch's IndexError (dim -1 of a 0-d tau)
        raise IndexOutOfRangeError(
            f"ormqr: tau must have at least 1 dimension, got shape {tuple(input2.shape)}"
        )
    m, k = input.shape[-2], input2.shape[-1]
    side = input3.shape[-2] if left else input3.shape[-1]
    # PyTorch wants all min(m, n) reflectors: a shorter tau (another matrix's) is refused there
    if side != m or k != min(m, input.shape[-1]):
        raise ShapeError(
            f"ormqr: expected tau of min(m, n) reflectors and other with {m} "
            f"{'rows' if left else 'columns'} for input {tuple(input.shape)}, got tau {tuple(input2.shape)} "
            f"and other {tuple(input3.shape)}"
        )
    batch = tuple(input.shape[:-2])
    if tuple(input2.shape[:-1]) != batch or tuple(input3.shape[:-2]) != batch:  # PyTorch: no broadcasting
        raise ShapeError(
            f"ormqr: expected the batch dims of tau and other to be input's {batch}, got tau "
            f"{tuple(input2.shape)} and other {tuple(input3.shape)}"
        )
    # the k reflectors padded with (m - k) identity ones (tau 0) give the full square Q
    vectors = gg.cat([input[..., :k], gg.zeros(*batch, m, m - k, dtype=input.dtype)], -1)
    scales = gg.cat([input2, gg.zeros(*input2.shape[:-1], m - k, dtype=input2.dtype)], -1)
    q = gg.linalg.householder_product(vectors, scales)  # (*, m, m)
    if transpose:
        q = q.mH
    return with_out(q @ input3 if left else input3 @ q, out, "ormqr")


def nonzero_static(input: Tensor, *, size: int, fill_value: int = -1, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """``nonzero`` with a fixed number of rows: the first ``size`` indices, padded with
    ``fill_value`` rows when there are fewer.

    Shape:
        input ``(d_0, ..., d_{n-1})`` -> ``(size, n)`` int64.
    """
    try:
        n = -1 if isinstance(size, bool) else operator.index(size)
    except TypeError:
        n = -1
    if n < 0:
        raise ArgumentError(f"nonzero_static: expected size as an int >= 0, got {size!r}")
    size = n
    xp = array_module(input._data)
    found = xp.argwhere(input._data)[:size]  # (M, n)
    rows = xp.full((size, input._data.ndim), fill_value, dtype=xp.int64)
    rows[: found.shape[0]] = found
    return with_out(Tensor(rows, _wrap=True), out, "nonzero_static")


def _elementwise(name: str, self: Tensor, fn: Callable[..., Any], *others: Tensor) -> Tensor:
    """Write ``fn(x, *others)`` element by element into ``self`` (a Python callable: a loop)."""
    if self.requires_grad:
        raise GraphError(
            f"{name}: cannot call a Python function over a tensor that requires grad; use x.detach().{name}(...)"
        )
    _check_others(name, self, others)
    xp = array_module(self._data)
    try:
        args = [xp.broadcast_to(o._data, self._data.shape) for o in others]
        values = xp.vectorize(fn, otypes=[object])(self._data, *args)
    except ValueError as e:
        raise ShapeError(f"{name}: expected tensors broadcastable to {tuple(self.shape)}: {e}") from None
    dt = self._data.dtype
    converted = [_returned(name, v, dt) for v in values.reshape(-1).tolist()]
    with xp.errstate(over="ignore"):  # a float out of a float dtype's range is inf, silently as PyTorch
        result = xp.asarray(converted, dtype=dt).reshape(self._data.shape)
    return self.copy_(Tensor(result, _wrap=True))


def _returned(name: str, v: Any, dt: Any) -> Any:
    """The callable's result ``v`` for an element of dtype ``dt``, checked as PyTorch's apply_
    checks it: not a number (None, a string) or a complex one into a real dtype is a TypeError
    (NumPy would write None as NaN); into an integer dtype, a value out of range (127.9 or 300
    into int8, NaN) is an overflow error, as PyTorch's (NumPy would truncate or wrap); a float
    dtype takes an out-of-range float as inf, as PyTorch's."""
    if v is None or isinstance(v, str | bytes) or (isinstance(v, complex) and dt.kind != "c"):
        raise TypeError(f"{name}: expected the function to return a real number, got {type(v).__name__}")
    return scalar_into(name, v, dt) if dt.kind in "iu" else v


def _check_others(name: str, self: Tensor, others: tuple) -> None:
    """PyTorch's ``map_``/``map2_`` take tensors of ``self``'s dtype only: the callable would
    otherwise see numbers of another type (a float other into an int self: its products truncated
    on the way back), so another dtype is PyTorch's TypeError, not a silent conversion."""
    from glassgrad.legacy import legacy_type_name  # legacy imports the factories: no cycle at import

    labels = ("'other'",) if name == "map_" else ("argument 'x'", "argument 'y'")
    for label, o in zip(labels, others, strict=False):  # apply_ has no others
        if not isinstance(o, Tensor):
            raise TypeError(f"{name}(): {label} must be Tensor, not {type(o).__name__}")
        if o.requires_grad:  # the callable's numbers leave the graph: other's gradient would be lost
            raise GraphError(
                f"{name}: cannot call a Python function over a tensor that requires grad ({label}); "
                f"pass {label.split()[-1]}.detach()"
            )
        if o._data.dtype != self._data.dtype:
            raise TypeError(
                f"{name}: expected {legacy_type_name(self._data.dtype)} for {label} "
                f"(got {legacy_type_name(o._data.dtype)})"
            )


def _apply_(self: Tensor, callable: Callable[[Any], Any]) -> Tensor:  # noqa: A002 - PyTorch's names
    return _elementwise("apply_", self, callable)


def _map_(self: Tensor, other: Tensor, callable: Callable[[Any, Any], Any]) -> Tensor:  # noqa: A002
    return _elementwise("map_", self, callable, other)


def _map2_(self: Tensor, x: Tensor, y: Tensor, callable: Callable[[Any, Any, Any], Any]) -> Tensor:  # noqa: A002
    return _elementwise("map2_", self, callable, x, y)


def _fill_diagonal_(self: Tensor, fill_value: Any, wrap: bool = False) -> Tensor:
    """Write ``fill_value`` on the main diagonal (``x[i, i, ...]``), in place; ``wrap`` restarts
    it every ``n + 1`` rows of a tall matrix, as NumPy's ``fill_diagonal`` and PyTorch's. On a
    tensor in the graph (``mat = a @ b.T; mat.fill_diagonal_(-inf)``) it is recorded, as PyTorch:
    the filled elements get a zero gradient, the others pass theirs through."""
    shape = tuple(self.shape)
    if len(shape) < 2 or (len(shape) > 2 and len(set(shape)) != 1):
        raise ShapeError(
            f"fill_diagonal_: expected a tensor of at least 2 dimensions, all of equal length when "
            f"more than 2, got shape {shape}"
        )
    if isinstance(fill_value, Tensor):  # a Scalar in PyTorch: a 0-dim tensor gives its value
        if fill_value.ndim != 0:
            raise ShapeError(
                f"fill_diagonal_: expected a number or a 0-dim tensor, got shape {fill_value.shape}"
            )
        fill_value = fill_value.item()
    xp = array_module(self._data)
    if _grad_state.enabled and self.requires_grad:
        mask = xp.zeros(shape, dtype=bool)
        xp.fill_diagonal(mask, True, wrap=wrap)
        return self._update("fill_diagonal_", lambda t: indexing.masked_fill(t, mask, fill_value))
    self._check_inplace("fill_diagonal_")
    xp.fill_diagonal(self._data, fill_value, wrap=wrap)
    return self


def _storage_type(self: Tensor) -> Any:
    """The legacy storage class of this tensor's dtype (``torch.FloatStorage`` for float32)."""
    from glassgrad.legacy import legacy_type_name

    return getattr(_gg(), legacy_type_name(self._data.dtype).split(".")[-1].replace("Tensor", "Storage"))


def _is_set_to(self: Tensor, tensor: Tensor) -> bool:
    """Whether both tensors view the same memory with the same offset, sizes and strides."""
    a, b = self._data, tensor._data
    return (
        a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
        and a.shape == b.shape
        and a.strides == b.strides
        and a.dtype == b.dtype
    )


def _data_ptr(self: Tensor) -> int:
    """The address of the first element; a module backward hook's stand-in for a tensor (a copy,
    ops/backward_hook.py) gives its source's, as PyTorch's hooked view shares the storage, until
    it is changed in place."""
    alias = self.__dict__.get("_data_ptr_of")  # (array, version, address) of a stand-in
    if alias is not None and alias[0] is self._data and alias[1] == self._vc[0]:
        return alias[2]
    if self._data.size == 0:
        # PyTorch's TensorImpl::data() is null for a tensor without elements (an empty storage is
        # not allocated, and an offset into one would be undefined); NumPy gave each empty array
        # an address of its own, so a view of an empty tensor looked like a copy
        return 0
    return int(self._data.__array_interface__["data"][0])


def _storage_offset(self: Tensor) -> int:
    """Elements from the start of the memory that owns ``self``'s to its first element: the bases
    are followed to the owner (a diagonal's, through the views it was cut from; an ``unfold``'s,
    through NumPy's as_strided stand-in, which holds the array it viewed as ``.base``)."""
    a = root = self._data
    while getattr(root, "base", None) is not None and hasattr(root.base, "__array_interface__"):
        root = root.base
    if root is a:
        return 0
    return int((a.__array_interface__["data"][0] - root.__array_interface__["data"][0]) // a.itemsize)


METHODS: dict[str, Any] = {
    "data_ptr": _data_ptr, "storage_offset": _storage_offset,
    "geqrf": geqrf, "orgqr": orgqr, "ormqr": ormqr, "nonzero_static": nonzero_static,
    "addmv_": _inplace("addmv_", lambda self, mat, vec, *, beta=1, alpha=1: _gg().addmv(self, mat, vec, beta=beta, alpha=alpha), blas=True),
    "baddbmm_": _inplace("baddbmm_", lambda self, batch1, batch2, *, beta=1, alpha=1: _gg().baddbmm(self, batch1, batch2, beta=beta, alpha=alpha), blas=True),
    "conj_physical_": _inplace("conj_physical_", lambda self: _gg().conj_physical(self)),
    "fill_diagonal_": _fill_diagonal_,
    "apply_": _apply_, "map_": _map_, "map2_": _map2_,
    "storage_type": _storage_type, "is_set_to": _is_set_to,
    "is_distributed": lambda self: False, "const_data_ptr": lambda self: self.data_ptr(),
    # PyTorch's address of the C++ tensor object: one per tensor object (a view, a detach() or a
    # Parameter made from a tensor is another); Pyro's pyro.module compares it to spot a new param
    "_cdata": property(lambda self: id(self), doc="An integer naming this tensor object (PyTorch's _cdata)."),
}  # fmt: skip
for _name, _fn in METHODS.items():
    setattr(Tensor, _name, _fn)
