"""``Adam`` and ``AdamW``: adaptive moment estimation, with L2 or decoupled weight decay."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from glassgrad.autograd.grad_mode import no_grad
from glassgrad.backend import array_module
from glassgrad.errors import DTypeError, ShapeError
from glassgrad.ops.elementwise import maximum
from glassgrad.ops.half_precision import HALF
from glassgrad.optim.optimizer import (
    Optimizer,
    betas_of,
    check_betas,
)
from glassgrad.optim.optimizer_helpers import differentiable_grads, differentiable_step
from glassgrad.optim.optimizer_internals import _to_scalar
from glassgrad.optim.real_views import decay_array, real_view
from glassgrad.optim.scalars import bump_step, lr_of, over, power_of
from glassgrad.random_fills import c_name
from glassgrad.tensor import Tensor

__all__ = ["Adam", "AdamW"]


def lerp_(start: Any, end: Any, weight: float, buf: Any) -> None:
    """``start ← start + weight (end − start)`` in place, rounded as PyTorch's ``lerp_``.

    PyTorch computes ``start + w (end − start)`` for ``w < 0.5`` but ``end − (end − start)(1 − w)``
    otherwise, so that ``w = 1`` gives ``end`` exactly (RMSprop's centered variance with
    ``alpha = 0`` subtracts two such values and would otherwise be off by orders of magnitude).
    ``buf`` is a scratch array of ``start``'s shape; it is overwritten.

    PyTorch's ``lerp_`` does not promote: state made before ``model.double()`` (or ``.half()``)
    meets the new dtype's gradient here, and PyTorch's step stops (``foreach`` or not) where
    NumPy would silently round the update to the old dtype.
    """
    if end.dtype is not start.dtype and end.dtype != start.dtype:
        raise DTypeError(f"expected dtype {c_name(start.dtype)} for `end` but got dtype {c_name(end.dtype)}")
    xp = array_module(start)
    xp.subtract(end, start, out=buf)
    if abs(weight) < 0.5:
        buf *= weight
        start += buf
    else:
        buf *= 1 - weight
        xp.subtract(end, buf, out=start)


def update_moments(m: Any, v: Any, g: Any, beta1: float, beta2: float) -> Any:
    """Adam's moment estimates, in place: ``m ← β₁ m + (1 − β₁) g`` and ``v ← β₂ v + (1 − β₂) g²``.

    The arithmetic and its order are PyTorch's (m moves by PyTorch's lerp, see ``lerp_``), so
    results match to the last bit or two (PyTorch's vectorised lerp fuses a multiply-add); one
    scratch array replaces a temporary per operation and is returned for the caller's next use.
    Shared by ``Adam``, ``NAdam`` and ``RAdam``.
    """
    xp = array_module(m)
    buf = xp.empty_like(m)  # an array even for 0-d params
    lerp_(m, g, 1 - beta1, buf)  # m ← β₁ m + (1 − β₁) g
    xp.multiply(g, 1 - beta2, out=buf)
    buf *= g
    v *= beta2
    v += buf  # v ← β₂ v + (1 − β₂) g²
    return buf


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015), as ``torch.optim.Adam``.

    For each parameter θ with gradient g, one ``step()`` does (all state starts at zero)::

        t ← t + 1
        g ← −g                                     if maximize
        if λ ≠ 0:                                  (λ = weight_decay)
            θ ← θ (1 − γ λ)                        if decoupled_weight_decay   (AdamW)
            g ← g + λ θ                            otherwise                   (L2 penalty)
        m ← β₁ m + (1 − β₁) g                      first moment: a running mean of g
        v ← β₂ v + (1 − β₂) g²                     second moment: a running mean of g²
        v ← v_max ← max(v_max, v)                  if amsgrad
        θ ← θ − γ / (1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)

    The factors 1 − βᵗ undo the bias of m and v toward their zero start. Each coordinate moves
    by about γ whatever the gradient's scale. With an L2 penalty the decay term is divided by
    √v like the gradient, so weights with large gradients are decayed less; decoupled decay
    (``AdamW``) shrinks every weight by the same factor. State: ``step`` (a float), ``exp_avg``
    (m), ``exp_avg_sq`` (v) and, with amsgrad, ``max_exp_avg_sq``.

    Args:
        params: Tensors or param-group dicts to optimize.
        lr: learning rate γ.
        betas: (β₁, β₂), the decay rates of m and v, each in [0, 1).
        eps: ε, added to the denominator for numerical stability.
        weight_decay: λ.
        amsgrad: divide by the largest v seen so far (Reddi et al., 2018).
        foreach, capturable: accepted for PyTorch compatibility; ignored.
        fused: float16 parameters step in float32, rounded once, as PyTorch's fused kernel.
        maximize: ascend the objective instead of descending it.
        differentiable: record the update with autograd (Tensor ops, grad mode on), so a step of
            non-leaf parameters can be differentiated through, as PyTorch's (real parameters).
        decoupled_weight_decay: decay the weights directly, as AdamW does.

    Shape:
        Each gradient has its parameter's shape; state tensors do too.

    Example:
        >>> import glassgrad as gg
        >>> from glassgrad.optim import Adam
        >>> w = gg.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = Adam([w], lr=0.1)
        >>> w.grad = gg.tensor([0.5, -100.0])
        >>> opt.step()  # the first step moves each coordinate by lr, against its gradient's sign
        >>> w
        tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    _param_shaped_state = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    complex_params = True  # stepped through real views, as PyTorch's view_as_real

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        if fused and differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")  # PyTorch's words
        if isinstance(lr, Tensor) and foreach and not capturable:
            # PyTorch refuses only the constructor's lr here; a group's tensor lr fails at step()
            raise ValueError(
                f"{type(self).__name__}: lr as a Tensor is not supported for capturable=False and foreach=True"
            )
        self._check_tensor_betas(betas, foreach, capturable)
        defaults = dict(
            lr=lr,
            # PyTorch's Adam stores betas as a tuple whatever sequence it was given (DCGAN passes a
            # list), a one-element tensor with dims squeezed to 0-d (its ``_to_scalar``)
            betas=tuple(_to_scalar(b) for b in betas) if isinstance(betas, list | tuple) else betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            foreach=foreach,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=decoupled_weight_decay,
        )
        super().__init__(params, defaults)

    def _check_tensor_betas(self, betas: Any, foreach: bool | None, capturable: bool) -> None:
        """PyTorch 2.13's constructor checks on ``betas``, before it reads ``params`` (so a bad pair
        is named first): a pair that mixes types, such as older GAN code's integer ``(0, 0.99)``, is
        refused, and so is a tensor beta under ``foreach=True`` without ``capturable`` (its foreach
        kernels take float betas) or one of more than one element: a script glassgrad ran would stop
        under PyTorch."""
        name = type(self).__name__
        if not isinstance(betas, tuple | list):
            return  # the group check names a non-pair (``check_betas``)
        if not (
            all(isinstance(b, float) for b in betas[:2]) or all(isinstance(b, Tensor) for b in betas[:2])
        ):
            raise ValueError(f"{name}: betas must be either both floats or both Tensors, got {betas!r}")
        for i, b in enumerate(betas[:2]):
            if not isinstance(b, Tensor):
                continue
            if foreach and not capturable:
                raise ValueError(
                    f"{name}: betas[{i}] as a Tensor is not supported for capturable=False and foreach=True"
                )
            if b.numel() != 1:
                # PyTorch's range check meets such a tensor first and raises RuntimeError (a truth
                # value of many elements); ShapeError is both that and its later ValueError
                raise ShapeError(f"{name}: Tensor betas[{i}] must be 1-element, got shape {tuple(b.shape)}")

    def _check_group(self, group: dict[str, Any]) -> None:
        self._check_nonnegative(group, "lr", "eps", "weight_decay")
        check_betas(type(self).__name__, group["betas"])

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = self._eval_closure(closure)
        if self.defaults["differentiable"]:
            differentiable_step(self)
            return loss
        for group in self.param_groups:
            if group.get("foreach") and isinstance(group["lr"], Tensor) and not group.get("capturable"):
                self._refuse_tensor_lr(group)
            lr, (beta1, beta2), eps, wd = (
                lr_of(group["lr"]),
                betas_of(group),
                group["eps"],
                group["weight_decay"],
            )
            # PyTorch's bias corrections take a tensor beta as a 0-d tensor, so 1 − βᵗ (and its root) are
            # computed in the beta's dtype (float32 for torch.tensor(0.9), even on float64
            # parameters); lr_of gives a NumPy scalar of that dtype, which does the same arithmetic.
            # The moment updates take the beta cast to the parameter's dtype: the floats above.
            bias_b1, bias_b2 = (lr_of(b) for b in group["betas"])
            moments = (
                ("exp_avg", "exp_avg_sq", "max_exp_avg_sq") if group["amsgrad"] else ("exp_avg", "exp_avg_sq")
            )
            fused = group.get("fused")
            for p, g in self._grads(group):
                xp = array_module(p._data)
                state = self._state_of(p, *moments)
                t = bump_step(state)
                if group["maximize"]:
                    g = -g
                theta, m, v = p._data, state["exp_avg"]._data, state["exp_avg_sq"]._data
                cplx = theta.dtype.kind == "c"  # (tested once: the views cost ~0.5 us a parameter)
                if cplx:  # a complex θ steps as its view_as_real pair (PyTorch's): moments per part
                    theta, g, m, v = (real_view(a) for a in (theta, g, m, v))
                v_max = state["max_exp_avg_sq"]._data if group["amsgrad"] else None
                if cplx and v_max is not None:
                    v_max = real_view(v_max)
                halves = (theta, m, v, v_max) if fused and theta.dtype is HALF else None
                if halves is not None:
                    # PyTorch's fused kernel reads float16 into float32 and rounds each result once:
                    # in float16 an eps of 1e-8 is 0 and a tiny v makes the step -inf
                    theta, g, m, v, v_max = (
                        None if a is None else a.astype(np.float32) for a in (theta, g, m, v, v_max)
                    )
                    wide = (theta, m, v, v_max)
                g = decay_array(theta, g, lr, wd, group["decoupled_weight_decay"])
                # m ← β₁ m + (1 − β₁) g;  v ← β₂ v + (1 − β₂) g²
                buf = update_moments(m, v, g, beta1, beta2)
                if v_max is not None:
                    v = xp.maximum(v_max, v, out=v_max)
                xp.sqrt(v, out=buf)
                buf /= float(np.sqrt(1 - power_of(bias_b2, t)))
                buf += eps  # denom = √v / √(1 − β₂ᵗ) + ε
                xp.divide(m, buf, out=buf)
                buf *= float(over(lr, 1 - power_of(bias_b1, t)))
                theta -= buf  # θ ← θ − γ / (1 − β₁ᵗ) · m / denom
                if halves is not None:
                    for half, result in zip(halves, wide):
                        if half is not None:
                            half[...] = result
        return loss

    def _differentiable_step(self, group: dict[str, Any]) -> None:
        """``step()`` of ``differentiable=True``, as PyTorch's ``_single_tensor_adam`` there: Tensor ops
        with grad mode on (the ``step`` count a 0-d tensor in the bias corrections, ``denom`` folding in
        −step size), so the update of non-leaf parameters is recorded. Real parameters; a learned lr,
        weight decay or betas (tensors that require grad) are recorded too: β₂ then enters as
        PyTorch's ``lerp_(g², 1 − β₂)`` (addcmul's value must be a number)."""
        name = type(self).__name__
        lr, eps, amsgrad = group["lr"], group["eps"], group["amsgrad"]
        # a beta that requires grad stays a Tensor (a path to it), a constant one becomes its number
        beta1, beta2 = (b if isinstance(b, Tensor) and b.requires_grad else float(b) for b in group["betas"])
        moments = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq") if amsgrad else ("exp_avg", "exp_avg_sq")
        for p, grad in differentiable_grads(name, group):
            state = self._state_of(p, *moments)
            step = state["step"]
            if step.requires_grad:
                raise RuntimeError("`requires_grad` is not supported for `step` in differentiable mode")
            step += 1
            exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
            exp_avg.lerp_(grad, 1 - beta1)
            if isinstance(beta2, Tensor):
                exp_avg_sq.lerp_(grad.square(), 1 - beta2)
            else:
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            # (a clone of step: the in-place step += 1 must not change what the power saved)
            step_size_neg = (lr / (1 - beta1 ** step.clone())).neg()
            bias_correction2_sqrt = (1 - beta2 ** step.clone()).sqrt()
            if amsgrad:
                v_max = state["max_exp_avg_sq"]
                v_max.copy_(maximum(v_max.clone(), exp_avg_sq))
                exp_avg_sq = v_max
            denom = (exp_avg_sq.sqrt() / (bias_correction2_sqrt * step_size_neg)).add_(eps / step_size_neg)
            p.addcdiv_(exp_avg.clone(), denom)

    def _refuse_tensor_lr(self, group: dict[str, Any]) -> None:
        """PyTorch's step-time refusal of a group's tensor lr under foreach (its foreach kernels take a
        float lr), raised as PyTorch does only when the group has a gradient to step with: a program
        glassgrad ran would stop under PyTorch."""
        if any(p.grad is not None for p in group["params"]):
            raise RuntimeError(
                f"{type(self).__name__}: lr as a Tensor is not supported for capturable=False and foreach=True"
            )


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as ``torch.optim.AdamW``.

    The same algorithm as :class:`Adam` with ``decoupled_weight_decay=True``: each step first
    shrinks the weights, ``θ ← θ (1 − γ λ)``, then takes the Adam step on the plain gradient. The
    decay is therefore not rescaled by √v, unlike Adam's L2 penalty, and the default λ is 0.01.

    Args:
        params: Tensors or param-group dicts to optimize.
        lr: learning rate γ.
        betas: (β₁, β₂), the decay rates of the moment estimates.
        eps: ε, added to the denominator.
        weight_decay: λ, the decoupled decay rate.
        amsgrad: divide by the largest second moment seen so far.
        maximize: ascend the objective instead of descending it.
        foreach, capturable: accepted for PyTorch compatibility; ignored.
        fused: float16 parameters step in float32, rounded once, as PyTorch's fused kernel.
        differentiable: record the update with autograd, as Adam's.

    Shape:
        Each gradient has its parameter's shape; state tensors do too.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            foreach=foreach,
            maximize=maximize,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=True,
        )
