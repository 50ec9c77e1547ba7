"""``LBFGS``: limited-memory BFGS, a quasi-Newton method driven by a closure that re-evaluates the loss."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from glassgrad.autograd.grad_mode import no_grad
from glassgrad.backend import array_module
from glassgrad.errors import _SCALAR_TYPE_NAMES, DTypeError
from glassgrad.optim.line_search import strong_wolfe
from glassgrad.optim.optimizer import Optimizer
from glassgrad.optim.real_views import real_view
from glassgrad.tensor import Tensor

__all__ = ["LBFGS"]


class LBFGS(Optimizer):
    r"""L-BFGS (Nocedal, 1980; Liu & Nocedal, 1989), as ``torch.optim.LBFGS``.

    All parameters are treated as one flat vector x with gradient g. ``step(closure)`` runs up
    to ``max_iter`` iterations of::

        if g was seen before:                     (s = last step, y = change of g it caused)
            remember (s, y) if y·s > 1e-10        (at most history_size pairs, oldest dropped)
            H₀ ← y·s / y·y                        scale of the initial inverse Hessian
        d ← −H g                                  H: the inverse Hessian estimate built from the
                                                  pairs (two-loop recursion); d ← −g the first time
        t ← γ min(1, 1/‖g‖₁) at the very first iteration, γ afterwards          (γ = lr)
        stop if g·d > −tolerance_change           (d is no longer a descent direction)
        t ← strong Wolfe line search along d from t      if line_search_fn == "strong_wolfe"
        x ← x + t d, re-evaluate loss and g (closure)
        stop if max |g| ≤ tolerance_grad, max |t d| ≤ tolerance_change,
             |Δloss| < tolerance_change, or max_eval evaluations

    It returns the loss of the closure's first call. The history persists across ``step()``
    calls (it is the optimizer's state), so calling ``step`` repeatedly continues one run.
    Only one parameter group is allowed (all parameters share x). State (kept on the first
    parameter, as PyTorch does, under PyTorch's names): ``func_evals``, ``n_iter``, ``d``, ``t``,
    ``old_dirs`` (the y), ``old_stps`` (the s), ``ro`` (1/y·s), ``H_diag``, ``prev_flat_grad``,
    ``prev_loss``, ``al``; the vectors are raw flat arrays, not Tensors.

    Args:
        params: the Tensors to optimize (one group).
        lr: γ, the step length (the line search's first trial with strong_wolfe).
        max_iter: iterations per ``step()``.
        max_eval: closure evaluations per ``step()`` (default ``max_iter * 5 // 4``).
        tolerance_grad: stop when every |gᵢ| is at most this.
        tolerance_change: stop when the loss or the step changes less than this.
        history_size: how many (s, y) pairs to keep.
        line_search_fn: None (fixed step t) or ``"strong_wolfe"``.

    Shape:
        x and every vector in the state have shape ``(n,)``, n = the parameters' total size (a
        complex parameter counts twice: x holds its real and imaginary parts, as PyTorch's).

    Example:
        >>> import glassgrad as gg
        >>> x = gg.tensor([3.0, -2.0], requires_grad=True)
        >>> opt = LBFGS([x], line_search_fn="strong_wolfe")
        >>> def closure():
        ...     opt.zero_grad()
        ...     loss = ((x - gg.tensor([1.0, 2.0])) ** 2).sum()
        ...     loss.backward()
        ...     return loss
        >>> _ = opt.step(closure)
        >>> [round(v, 4) for v in x.tolist()]
        [1.0, 2.0]
    """

    complex_params = True  # x is the real view of every parameter

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: str | None = None,
    ) -> None:
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(
            lr=lr,
            max_iter=max_iter,
            max_eval=max_eval,
            tolerance_grad=tolerance_grad,
            tolerance_change=tolerance_change,
            history_size=history_size,
            line_search_fn=line_search_fn,
        )
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError(f"LBFGS: expected one parameter group, got {len(self.param_groups)}")
        self._params = self.param_groups[0]["params"]

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Only defaults, state and param_groups travel (as in PyTorch, whose unpickled LBFGS then
        # fails at its first step for want of ``_params``): rebuild it from the group.
        super().__setstate__(state)
        self._params = self.param_groups[0]["params"]

    def _check_group(self, group: dict[str, Any]) -> None:
        self._check_nonnegative(group, "lr", "tolerance_grad", "tolerance_change")
        if group["line_search_fn"] not in (None, "strong_wolfe"):
            raise ValueError(
                f"LBFGS: expected line_search_fn None or 'strong_wolfe', got {group['line_search_fn']!r}"
            )
        for key in ("max_iter", "max_eval", "history_size"):
            if not isinstance(group[key], int) or group[key] < 1:
                raise ValueError(f"LBFGS: expected {key} to be an int >= 1, got {group[key]!r}")

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        if self.param_groups:
            raise ValueError("LBFGS: expected one parameter group; it does not support add_param_group")
        super().add_param_group(param_group)

    def _cast_state(self, p: Tensor, index: int, key: str, value: Any) -> Any:
        """Loaded history as ``step`` leaves it (``_at_rest``): Tensors of the parameters' real dtype
        (lists of them), ``t`` and ``prev_loss`` numbers."""
        if isinstance(value, list):
            return [self._cast_state(p, index, key, v) for v in value]
        if isinstance(value, Tensor):
            value = value._data
        if hasattr(value, "__array__") and not isinstance(value, numbers.Number):
            arr = np.asarray(value)  # a NumPy array (older glassgrad), or a torch tensor (PyTorch's)
            return Tensor(arr.astype(p._data.real.dtype), _wrap=True)
        return value

    # ------------------------------------------------------------ the flat vector x
    def _flat_grad(self) -> np.ndarray:
        """All gradients as one real vector (zeros for a parameter without one; a complex one as
        its (real, imaginary) pairs, as PyTorch's view_as_real). Shape ``(n,)``."""
        xp = array_module(self._params[0]._data)
        parts = [
            xp.zeros(real_view(p._data).size, p._data.real.dtype)
            if p.grad is None
            else real_view(p.grad._data).reshape(-1)
            for p in self._params
        ]
        return xp.concatenate(parts)

    def _move(self, t: float, d: np.ndarray) -> None:
        """x ← x + t d, parameter by parameter (in place, so views see it)."""
        start = 0
        for p in self._params:
            p._refuse_read_only("LBFGS.step")  # (an expanded parameter, as the other optimizers)
            x = real_view(p._data)  # (a complex parameter's (..., 2) view: the update reaches it)
            n = x.size
            x += t * d[start : start + n].reshape(x.shape)  # (n_p,) -> the param's shape
            start += n
            p._version += 1

    def _evaluate(self, closure: Callable[[], Any]) -> tuple[float, np.ndarray]:
        loss = float(self._eval_closure(closure))
        return loss, self._flat_grad()

    @no_grad()
    def step(self, closure: Callable[[], Any]) -> Any:  # type: ignore[override]
        """Run up to ``max_iter`` L-BFGS iterations; returns the loss of the first ``closure()`` call."""
        if closure is None:
            raise TypeError("LBFGS.step: expected a closure that re-evaluates the loss, got None")
        group = self.param_groups[0]
        lr, max_iter, max_eval = float(group["lr"]), group["max_iter"], group["max_eval"]
        tol_grad, tol_change, history = (
            group["tolerance_grad"],
            group["tolerance_change"],
            group["history_size"],
        )
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        first_loss = self._eval_closure(closure)
        loss, g = float(first_loss), self._flat_grad()
        evals = 1
        state["func_evals"] += 1
        if np.abs(g).max() <= tol_grad:
            return first_loss

        d, t = _raw(state.get("d")), state.get("t")
        dirs, steps, ro = (_raw(state.get(k)) for k in ("old_dirs", "old_stps", "ro"))
        h_diag, prev_g, prev_loss = (
            _raw(state.get("H_diag")),
            _raw(state.get("prev_flat_grad")),
            state.get("prev_loss"),
        )
        it = 0
        while it < max_iter:
            it += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d, dirs, steps, ro, h_diag = -g, [], [], [], 1.0
            else:
                y, s = g - prev_g, d * t
                ys = _dot(y, s)
                if ys > 1e-10:  # keep only pairs with positive curvature, so H stays positive definite
                    if len(dirs) == history:
                        dirs.pop(0), steps.pop(0), ro.pop(0)
                    dirs.append(y), steps.append(s), ro.append(1.0 / ys)
                    h_diag = ys / _dot(y, y)
                state.setdefault("al", [None] * history)
                d = _two_loop(-g, dirs, steps, ro, h_diag, state["al"])
            prev_g = g.copy()
            prev_loss = loss
            t = min(1.0, 1.0 / float(np.abs(g).sum())) * lr if state["n_iter"] == 1 else lr
            slope = _dot(g, d)
            if slope > -tol_change:
                break

            used = 0
            if group["line_search_fn"] == "strong_wolfe":
                start = [p._data.copy() for p in self._params]

                def phi(trial: float, start: list = start, d: np.ndarray = d) -> tuple[float, np.ndarray]:
                    self._move(trial, d)
                    result = self._evaluate(closure)
                    for p, x0 in zip(self._params, start):
                        p._data[...] = x0
                        p._version += 1
                    return result

                # The search keeps its own tolerance_change of 1e-9, as PyTorch's (the group's
                # would end the zoom at once when large, leaving t = 0: no move at all).
                loss, g, t, used = strong_wolfe(phi, d, t, loss, g, slope, max_ls=max_eval - evals)
                self._move(t, d)
                converged = np.abs(g).max() <= tol_grad
            else:
                self._move(t, d)
                converged = False
                if it != max_iter:  # the last iteration's new loss is the next step()'s first call
                    loss, g = self._evaluate(closure)
                    converged = np.abs(g).max() <= tol_grad
                    used = 1
            evals += used
            state["func_evals"] += used
            if it == max_iter or evals >= max_eval or converged:
                break
            if np.abs(d * t).max() <= tol_change or abs(loss - prev_loss) < tol_change:
                break

        state.update(d=d, t=t, old_dirs=dirs, old_stps=steps, ro=ro, H_diag=h_diag)
        state.update(prev_flat_grad=prev_g, prev_loss=prev_loss)
        _at_rest(state, g.dtype)
        return first_loss


def _at_rest(state: dict, dtype: Any) -> None:
    """The history as PyTorch keeps it between steps, and so in ``state_dict()``: the flat vectors
    and the scalar products (``ro``, ``H_diag``, ``al``) as Tensors of the gradient's dtype (user
    code reads ``state["d"].norm()``; PyTorch's weights-only load takes no NumPy arrays), ``t`` and
    ``prev_loss`` numbers. ``step`` works on their arrays (``_raw``)."""
    for key in ("d", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad", "al"):
        if key in state:
            state[key] = _tensors(state[key], dtype)


def _tensors(v: Any, dtype: Any) -> Any:
    if isinstance(v, list):
        return [_tensors(x, dtype) for x in v]
    if v is None or isinstance(v, Tensor):
        return v
    return Tensor(np.asarray(v, dtype=dtype), _wrap=True)  # (a 0-d one for a scalar)


def _raw(v: Any) -> Any:
    """A state value as ``step`` computes with it: an array for a vector, a float for a 0-d Tensor."""
    if isinstance(v, list):
        return [_raw(x) for x in v]
    if isinstance(v, Tensor):
        return float(v._data) if v._data.ndim == 0 else v._data
    return v


def _two_loop(
    q: np.ndarray, dirs: list[np.ndarray], steps: list[np.ndarray], ro: list[float], h_diag: float, al: list
) -> np.ndarray:
    """H q for the L-BFGS inverse Hessian H of the pairs (sᵢ, yᵢ), by the two-loop recursion
    (Nocedal & Wright, algorithm 7.4); ``q`` is overwritten, ``al`` holds the αᵢ."""
    for i in range(len(dirs) - 1, -1, -1):  # newest pair first
        al[i] = _dot(steps[i], q) * ro[i]
        q -= al[i] * dirs[i]
    r = q * h_diag
    for i in range(len(dirs)):  # oldest pair first
        beta = _dot(dirs[i], r) * ro[i]
        r += (al[i] - beta) * steps[i]
    return r


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """``a · b`` of two flat vectors, refused for two dtypes as PyTorch's ``Tensor.dot``: history
    kept from before ``model.double()`` (or ``.half()``) meets the new dtype's gradient here, and
    PyTorch's step stops where NumPy would promote and carry on."""
    if a.dtype is not b.dtype and a.dtype != b.dtype:
        x, y = (_SCALAR_TYPE_NAMES.get(v.dtype.name, v.dtype.name) for v in (a, b))
        raise DTypeError(f"dot : expected both vectors to have same dtype, but found {x} and {y}")
    return float(a @ b)
