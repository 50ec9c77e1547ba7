"""``SparseAdam``: Adam for sparse gradients, updating only the rows a step's gradient has."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from glassgrad.autograd.grad_mode import no_grad
from glassgrad.backend import array_module
from glassgrad.optim.optimizer import Optimizer, betas_of, check_betas, state_like
from glassgrad.optim.scalars import lr_of

__all__ = ["SparseAdam"]


class SparseAdam(Optimizer):
    r"""Adam restricted to the rows a sparse gradient holds, as ``torch.optim.SparseAdam``.

    Made for ``nn.Embedding(..., sparse=True)``, whose weight's ``.grad`` is a sparse COO tensor
    of the rows looked up. For each such parameter θ, one ``step()`` coalesces the gradient (a row
    looked up twice gets the sum) into rows R and their gradient g, then, on those rows only::

        t ← t + 1
        g ← −g                                      if maximize
        m_R ← β₁ m_R + (1 − β₁) g
        v_R ← β₂ v_R + (1 − β₂) g²
        θ_R ← θ_R − γ √(1 − β₂ᵗ) / (1 − β₁ᵗ) · m_R / (√v_R + ε)

    Every other row keeps its θ, m and v: a row's moments decay only in the steps that look it
    up ("lazy" Adam), which is what makes a step's cost follow the batch, not the table. Note ε is
    added to √v before the bias correction, as PyTorch's does, not after as in ``Adam``. A dense
    gradient is refused (use ``Adam``). State: ``step`` (a Python int, as PyTorch's),
    ``exp_avg`` (m) and ``exp_avg_sq`` (v).

    Args:
        params: Tensors or param-group dicts to optimize (dense, real).
        lr: learning rate γ (> 0).
        betas: (β₁, β₂), the moments' decay rates.
        eps: ε (> 0), added to the denominator.
        maximize: ascend the objective instead of descending it.

    Shape:
        Each parameter ``(V, *D)``; its gradient holds ``nnz`` rows ``(nnz, *D)``; the moments
        have the parameter's shape.
    """

    _param_shaped_state = ("exp_avg", "exp_avg_sq")
    sparse_grads = "sparse"  # Optimizer._grads hands over the sparse .grad itself (sparse_grads.py)

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        maximize: bool = False,
    ) -> None:
        if not lr > 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not eps > 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))
        # (a complex parameter is refused by Optimizer, naming SparseAdam)
        found = [
            [i, j]
            for i, group in enumerate(self.param_groups)
            for j, p in enumerate(group["params"])
            if p.is_sparse
        ]
        if found:
            raise ValueError(f"Sparse params at indices {found}: SparseAdam requires dense parameter tensors")

    def _cast_state(self, p: Any, index: int, key: str, value: Any) -> Any:
        # the step stays a Python int through load_state_dict, as PyTorch's
        if key == "step" and isinstance(value, int):
            return value
        return super()._cast_state(p, index, key, value)

    def _check_group(self, group: dict[str, Any]) -> None:
        self._check_nonnegative(group, "lr", "eps")
        check_betas("SparseAdam", group["betas"])

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            # a tensor lr as a NumPy scalar of its dtype: PyTorch computes the step size in it (lr_of)
            lr, (beta1, beta2), eps = lr_of(group["lr"]), betas_of(group), group["eps"]
            for p, grad in self._grads(group):
                if not getattr(grad, "is_sparse", False):  # (an array: the .grad is dense)
                    raise RuntimeError(
                        "SparseAdam does not support dense gradients, please consider Adam instead"
                    )
                xp = array_module(p._data)
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = state_like(p, xp.zeros_like(p._data))
                    state["exp_avg_sq"] = state_like(p, xp.zeros_like(p._data))
                state["step"] += 1
                t = state["step"]
                c = grad.coalesce()
                # R distinct entries: (R,) ids per sparse dim (a hand-made .grad may have several)
                rows, g = tuple(c._ix), c._vals._data  # and (R, *D) their gradient
                if group["maximize"]:
                    g = -g
                m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
                m_old, v_old = m[rows], v[rows]  # (R, *D), read once
                m_r = m_old + (1 - beta1) * (g - m_old)  # β₁ m + (1 − β₁) g, on rows R only
                v_r = v_old + (1 - beta2) * (g * g - v_old)
                m[rows], v[rows] = m_r, v_r
                # computed in a tensor lr's dtype, then meeting the rows as a number, as PyTorch's
                step_size = float(lr * math.sqrt(1 - beta2**t) / (1 - beta1**t))
                p._data[rows] -= step_size * (m_r / (xp.sqrt(v_r) + eps))  # PyTorch's rounding order
        return loss
