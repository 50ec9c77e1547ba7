"""Finite-difference gradient checking in float64.

``gradcheck(fn, inputs)`` compares, for every floating input with ``requires_grad``, the Jacobian
that backward gives (one backward per output element) against central differences
(f(x + eps e_j) - f(x - eps e_j)) / 2 eps, and then checks one random direction pair:
<u, J v> (by finite differences along v) equals <J^T u, v> (by one backward with u).
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, Sequence

import numpy as np

from glassgrad.autograd.differencing import differencing, is_differencing
from glassgrad.autograd.engine import run_backward

__all__ = [
    "gradcheck",
    "gradgradcheck",
    "GradcheckError",
    "numerical_jacobian",
    "analytical_jacobian",
    "forward_jacobian",
]


class GradcheckError(RuntimeError):
    """Backward disagrees with finite differences."""


def _outputs(out: Any) -> list:
    return list(out) if isinstance(out, tuple | list) else [out]


def _flat(out: Any) -> np.ndarray:
    parts = [np.asarray(o._data, dtype=np.float64).ravel() for o in _outputs(out)]
    return np.concatenate(parts) if parts else np.zeros(0)


def _checked(inputs: Sequence[Any]) -> list[int]:
    from glassgrad.tensor import Tensor

    idx = []
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad:
            if x._data.dtype != np.float64:  # PyTorch's warning; it checks anyway (pfrl's float32 tests)
                warnings.warn(f"Input #{i} requires gradient and is not a double precision floating point or complex. "
                              "This check will likely fail if all the inputs are not of double precision floating "
                              "point or complex. ", stacklevel=3)  # fmt: skip
            if not x._data.flags.c_contiguous or not x._data.flags.writeable:
                x._data = np.ascontiguousarray(x._data).copy()
            idx.append(i)
    return idx


def numerical_jacobian(fn: Callable, inputs: Sequence[Any], i: int, eps: float = 1e-6) -> np.ndarray:
    """d(flattened outputs)/d(flattened input i) by central differences: shape (n_out, n_in)."""
    flat = inputs[i]._data.reshape(-1)  # a view: perturbing it perturbs the input
    cols = []
    with differencing():  # in the caller's grad mode, as PyTorch's (see differencing.py)
        n_out = _flat(fn(*inputs)).size
        for j in range(flat.size):
            orig = flat[j]
            flat[j] = orig + eps
            plus = _flat(fn(*inputs))
            flat[j] = orig - eps
            minus = _flat(fn(*inputs))
            flat[j] = orig
            cols.append((plus - minus) / (2 * eps))
    return np.stack(cols, axis=1) if cols else np.zeros((n_out, 0))


def analytical_jacobian(fn: Callable, inputs: Sequence[Any], idx: Sequence[int]) -> list[np.ndarray]:
    """d(flattened outputs)/d(each input in ``idx``) by backward, one output element at a time."""
    outs = _outputs(fn(*inputs))
    sizes = [o._data.size for o in outs]
    n_out = sum(sizes)
    jac = [np.zeros((n_out, inputs[i]._data.size)) for i in idx]
    for k in range(n_out):
        seed = np.zeros(n_out)
        seed[k] = 1.0
        roots, start = [], 0
        for o, n in zip(outs, sizes):
            if o.requires_grad:
                roots.append((o, seed[start : start + n].reshape(o.shape).astype(o._data.dtype)))
            start += n
        if not roots:
            continue
        # a pass with inputs, as PyTorch's autograd.grad: only what leads to them runs
        grads = run_backward(roots, retain_graph=True, inputs=[inputs[i] for i in idx])
        for col, i in enumerate(idx):
            g = grads.get(id(inputs[i]))
            if g is not None:
                if g[1].shape != inputs[i].shape:
                    raise GradcheckError(
                        f"gradcheck: gradient of input {i} has shape {g[1].shape}, expected {inputs[i].shape}"
                    )
                jac[col][k] = np.asarray(g[1], dtype=np.float64).ravel()
    return jac


def _jvp_outputs(fn: Callable, inputs: Sequence[Any], tangents: dict) -> list[np.ndarray]:
    """The outputs' tangents (float64, zeros where an output has none) with ``tangents[i]`` on
    input i and none on the others, by forward-mode AD."""
    from glassgrad.autograd import forward_ad as fwAD
    from glassgrad.tensor import Tensor

    with fwAD.dual_level():
        args = list(inputs)
        for i, t in tangents.items():
            args[i] = fwAD.make_dual(inputs[i], Tensor(t, _wrap=True))
        parts = []
        for o in _outputs(fn(*args)):
            t = fwAD.unpack_dual(o).tangent
            parts.append(np.zeros(o._data.shape) if t is None else np.asarray(t._data, dtype=np.float64))
    return parts


def forward_jacobian(fn: Callable, inputs: Sequence[Any], i: int) -> np.ndarray:
    """d(flattened outputs)/d(flattened input i) by forward-mode AD, one JVP per input element
    (tangent e_j on input i, none on the others): shape (n_out, n_in). The inputs are passed as
    tensors that do not require grad (sharing their memory): forward mode must not depend on
    ``requires_grad``, and ops take other paths without it (``_check_forward_direction`` covers
    the inputs as given)."""
    from glassgrad.tensor import Tensor

    plain = [Tensor(x._data, _wrap=True) if isinstance(x, Tensor) and x.requires_grad else x for x in inputs]
    x = inputs[i]
    cols = []
    for j in range(x._data.size):
        e = np.zeros(x._data.size, dtype=x._data.dtype)
        e[j] = 1.0
        parts = _jvp_outputs(fn, plain, {i: e.reshape(x.shape)})
        cols.append(np.concatenate([p.ravel() for p in parts]) if parts else np.zeros(0))
    if not cols:
        return np.zeros((_flat(fn(*inputs)).size, 0))
    return np.stack(cols, axis=1)


def _check_forward_direction(fn, inputs, idx, eps, atol, rtol, seed) -> None:
    """J v by forward AD with a random tangent on every checked input at once (the inputs as
    given, requiring grad) equals the central difference along v."""
    if not idx:
        return
    rng = np.random.default_rng(seed + 1)
    vs = {i: rng.standard_normal(inputs[i].shape) for i in idx}
    plus, minus = _along(fn, inputs, vs, eps)
    jvs = _jvp_outputs(fn, inputs, vs)
    for k, (jv, p, m) in enumerate(zip(jvs, plus, minus)):
        fd = (p.astype(np.float64) - m.astype(np.float64)) / (2 * eps)
        if not np.allclose(jv, fd, atol=atol * 10, rtol=rtol):
            raise GradcheckError(
                f"gradcheck: forward AD random-direction check failed for output {k}: J v by forward "
                f"AD (tangents on every input at once) gives\n{jv}\nfinite differences give\n{fd}"
            )


def gradcheck(
    fn: Callable,
    inputs: Sequence[Any] | Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 0,
    *,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False,
    check_batched_grad: bool = False,
    check_batched_forward_grad: bool = False,
    check_forward_ad: bool = False,
    check_backward_ad: bool = True,
    fast_mode: bool = False,
    masked: bool | None = None,
) -> bool:
    """Check ``fn``'s backward against central differences at ``inputs`` (float64; others warn).

    Args:
        fn: maps the inputs to a Tensor or a tuple of Tensors.
        inputs: a Tensor or a sequence; the tensors with ``requires_grad`` are checked (not float64
            or complex128: PyTorch's warning), complex ones and outputs through their real views.
        eps, atol, rtol: step and tolerances (PyTorch's defaults).
        raise_exception: raise ``GradcheckError`` on a mismatch instead of returning False.
        seed: for the random-direction check.
        nondet_tol, check_undefined_grad, check_grad_dtypes, fast_mode: PyTorch's options, accepted.
            The check is always the full one (every Jacobian element, plus a random direction),
            which is what ``fast_mode=True`` approximates; glassgrad's backward is deterministic,
            gives missing output gradients as zeros, and stores gradients in each input's dtype.
        check_backward_ad: check backward (reverse mode); False needs check_forward_ad=True
            (else nothing would be checked; PyTorch refuses that too).
        check_forward_ad: also check forward-mode AD (``autograd.forward_ad``): the Jacobian
            built one JVP per input element against the same central differences.
        check_batched_grad, check_batched_forward_grad, masked: need ``vmap`` or sparse masking,
            which glassgrad does not have: True raises ``NotImplementedError`` rather than
            passing unchecked.

    Returns:
        True when every check passes.
    """
    from glassgrad.tensor import Tensor

    for flag, what in (
        (check_batched_grad, "check_batched_grad=True needs vmap"),
        (check_batched_forward_grad, "check_batched_forward_grad=True needs vmap and forward-mode AD"),
        (masked, "masked=True needs sparse masked semantics"),
    ):
        if flag:
            raise NotImplementedError(f"gradcheck: {what}, which glassgrad does not have")
    if not (check_backward_ad or check_forward_ad):
        raise ValueError(
            "gradcheck: expected check_backward_ad=True or check_forward_ad=True, got both False "
            "(nothing would be checked)"
        )
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    fn, inputs = _through_real_views(fn, tuple(inputs))
    idx = _checked(inputs)
    try:
        numerical = {i: numerical_jacobian(fn, inputs, i, eps) for i in idx}
        if check_backward_ad:
            analytical = analytical_jacobian(fn, inputs, idx)
            for col, i in enumerate(idx):
                _compare("backward", i, inputs[i].shape, analytical[col], numerical[i], atol, rtol)
            _check_random_direction(fn, inputs, idx, eps, atol, rtol, seed)
        if check_forward_ad:
            for i in idx:
                _compare(
                    "forward AD",
                    i,
                    inputs[i].shape,
                    forward_jacobian(fn, inputs, i),
                    numerical[i],
                    atol,
                    rtol,
                )
            _check_forward_direction(fn, inputs, idx, eps, atol, rtol, seed)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def _through_real_views(fn: Callable, inputs: tuple) -> tuple[Callable, tuple]:
    """``fn`` and ``inputs`` with complex values seen through their real views, as PyTorch's
    gradcheck checks them: a complex128 input that requires grad becomes a float64 ``(..., 2)``
    leaf viewed as complex inside, a complex output is viewed as real. The Jacobian checked is that
    of the real and imaginary parts, so the convention ``z.grad = dL/dx + i dL/dy`` is checked too."""
    from glassgrad.ops.complex import view_as_complex, view_as_real  # ops build on autograd
    from glassgrad.tensor import Tensor

    as_complex = [isinstance(x, Tensor) and x.requires_grad and x._data.dtype.kind == "c" for x in inputs]
    # As PyTorch's: when some outputs require grad only those are checked (kornia's otsu_threshold
    # also returns its threshold, a constant to autograd that finite differences see move)
    probe = _outputs(fn(*inputs))
    keep = [k for k, o in enumerate(probe) if getattr(o, "requires_grad", False)] or range(len(probe))

    def real_fn(*xs: Any) -> Any:
        out = fn(*(view_as_complex(x) if c else x for x, c in zip(xs, as_complex)))
        outs = [
            view_as_real(o) if o._data.dtype.kind == "c" else o for o in map(_outputs(out).__getitem__, keep)
        ]
        return type(out)(outs) if isinstance(out, tuple | list) else outs[0]

    def real_leaf(x: Any) -> Any:  # (...) complex128 -> (..., 2) float64, a copy
        return Tensor(x._data[..., None].view(x._data.real.dtype).copy(), _wrap=True).requires_grad_()

    return real_fn, tuple(real_leaf(x) if c else x for x, c in zip(inputs, as_complex))


def _compare(how: str, i: int, shape: Any, analytical: np.ndarray, numerical: np.ndarray, atol, rtol) -> None:
    if not np.allclose(analytical, numerical, atol=atol, rtol=rtol):
        diff = np.abs(analytical - numerical)
        k, j = np.unravel_index(np.argmax(diff), diff.shape)
        raise GradcheckError(
            f"gradcheck: Jacobian mismatch for input {i} (shape {shape}) at output {k}, "
            f"input element {j}: {how} gives {analytical[k, j]:.6g}, finite differences "
            f"give {numerical[k, j]:.6g}\n{how}:\n{analytical}\nnumerical:\n{numerical}"
        )


def _along(fn: Callable, inputs: Sequence[Any], vs: dict, eps: float) -> tuple[list, list]:
    """The outputs (copies) with each input i in ``vs`` moved to x_i + eps v_i, then x_i - eps v_i;
    the inputs are restored after."""
    originals = {i: inputs[i]._data.copy() for i in vs}
    with differencing():
        # Copies: an op may return a view of its input (reshape, expand ...), which the next
        # perturbation (or the restore) would otherwise change under us.
        for i in vs:
            inputs[i]._data[...] = originals[i] + eps * vs[i]
        plus = [p._data.copy() for p in _outputs(fn(*inputs))]
        for i in vs:
            inputs[i]._data[...] = originals[i] - eps * vs[i]
        minus = [m._data.copy() for m in _outputs(fn(*inputs))]
        for i in vs:
            inputs[i]._data[...] = originals[i]
    return plus, minus


def _check_random_direction(fn, inputs, idx, eps, atol, rtol, seed) -> None:
    """<u, J v> by finite differences along v equals <J^T u, v> by one backward."""
    if not idx:
        return
    rng = np.random.default_rng(seed)
    vs = {i: rng.standard_normal(inputs[i].shape) for i in idx}
    outs = _outputs(fn(*inputs))
    us = [rng.standard_normal(o.shape) for o in outs]
    plus, minus = _along(fn, inputs, vs, eps)
    jv_u = sum(float(np.sum(u * (p - m) / (2 * eps))) for u, p, m in zip(us, plus, minus))
    roots = [(o, u.astype(o._data.dtype)) for o, u in zip(outs, us) if o.requires_grad]
    grads = run_backward(roots, retain_graph=False, inputs=[inputs[i] for i in idx]) if roots else {}
    jtu_v = 0.0
    for i in idx:
        g = grads.get(id(inputs[i]))
        if g is not None:
            jtu_v += float(np.sum(g[1] * vs[i]))
    if not np.isclose(jv_u, jtu_v, atol=atol * 10, rtol=rtol):
        raise GradcheckError(
            f"gradcheck: random-direction check failed: <u, J v> = {jv_u:.8g} by finite differences, "
            f"<J^T u, v> = {jtu_v:.8g} by backward"
        )


def gradgradcheck(
    fn: Callable,
    inputs: Sequence[Any] | Any,
    grad_outputs: Sequence[Any] | Any | None = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    gen_non_contig_grad_outputs: bool = False,
    raise_exception: bool = True,
    seed: int = 0,
    **kwargs: Any,
) -> bool:
    """PyTorch's second-order check: ``gradcheck`` of the map (inputs, v) -> the VJP of ``fn``
    with v. Its values by the recorded backward (``create_graph=True``) must equal the first-order
    backward's, and their derivatives (a backward through the recorded graph) must equal central
    differences of the first-order VJP.

    ``grad_outputs``: the v (float64 tensors, one per output); random ones (that require grad,
    so d/dv is checked too) when omitted. ``gen_non_contig_grad_outputs`` is accepted (the
    gradients here do not depend on the v's layout). Complex inputs and outputs are checked
    through their real views, as ``gradcheck``'s. Other keywords go to ``gradcheck``.
    """
    from glassgrad.autograd.functional import grad as autograd_grad
    from glassgrad.autograd.grad_mode import enable_grad, is_grad_enabled
    from glassgrad.tensor import Tensor

    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    fn, inputs = _through_real_views(fn, tuple(inputs))  # complex inputs and outputs: their real views
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        outs = _outputs(fn(*inputs))
        grad_outputs = tuple(
            Tensor(rng.standard_normal(o.shape).astype(o._data.dtype), _wrap=True).requires_grad_()
            for o in outs
        )
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,)
    grad_outputs = tuple(grad_outputs)
    diff = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    n = len(inputs)

    def vjp(*args: Any) -> tuple:
        # gradcheck's finite differences take the first-order VJP, its analytic Jacobian the
        # recorded one
        xs, vs, recording = args[:n], args[n:], is_grad_enabled() and not is_differencing()
        with enable_grad():
            return _vjp(xs, vs, recording)

    def _vjp(xs: tuple, vs: tuple, recording: bool = True) -> tuple:
        outs = _outputs(fn(*xs))
        pairs = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
        grads = autograd_grad(
            [o for o, _ in pairs],
            [xs[i] for i in diff],
            [v for _, v in pairs],
            create_graph=recording,
            allow_unused=True,
        )
        return tuple(g for g in grads if g is not None)

    with enable_grad():
        plain, recorded = _vjp(inputs, grad_outputs, False), _vjp(inputs, grad_outputs, True)
    for i, (p, r) in enumerate(zip(plain, recorded)):
        if not np.allclose(r._data, p._data, atol=atol, rtol=rtol, equal_nan=True):
            err = GradcheckError(
                f"gradgradcheck: the create_graph=True gradient of input {diff[i]} differs from the "
                f"first-order backward's by up to {np.max(np.abs(r._data - p._data)):.6g}"
            )
            if raise_exception:
                raise err
            return False
    return gradcheck(vjp, inputs + grad_outputs, eps, atol, rtol, raise_exception, seed, **kwargs)
