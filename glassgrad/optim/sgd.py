"""``SGD``: stochastic gradient descent with optional momentum (heavy-ball or Nesterov) and weight decay."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from operator import mul
from typing import Any

import numpy as np

from glassgrad.autograd.grad_mode import no_grad
from glassgrad.backend import array_module
from glassgrad.ops.half_precision import HALF, axpy_half, by_number
from glassgrad.optim.optimizer import Optimizer, state_like
from glassgrad.optim.optimizer_helpers import differentiable_grads, differentiable_step
from glassgrad.optim.real_views import decay_array
from glassgrad.tensor import Tensor

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent, as ``torch.optim.SGD``.

    For each parameter θ with gradient g, one ``step()`` does::

        g ← −g                                 if maximize
        g ← g + λ θ                            if λ ≠ 0         (λ = weight_decay)
        if μ ≠ 0:                                               (μ = momentum, τ = dampening)
            b ← g                              at the first step
            b ← μ b + (1 − τ) g                at later steps
            g ← g + μ b  if nesterov  else  b
        θ ← θ − γ g                                             (γ = lr)

    Weight decay adds λθ, the gradient of the L2 penalty (λ/2)‖θ‖², so it is the same as adding
    that penalty to the loss. The momentum buffer b starts as the first gradient (not as zero),
    and ``state[p]["momentum_buffer"]`` holds it.

    Args:
        params: Tensors or param-group dicts to optimize.
        lr: learning rate γ.
        momentum: momentum factor μ (0 = plain SGD).
        dampening: τ, how much of the new gradient the buffer leaves out.
        weight_decay: λ, the L2 penalty coefficient.
        nesterov: use Nesterov's look-ahead momentum (needs μ > 0 and τ = 0).
        maximize: ascend the objective instead of descending it.
        foreach: there is one NumPy implementation; ``foreach=True`` keeps PyTorch's one visible
            effect of its list path: with Nesterov momentum, no weight decay and no ``maximize``,
            PyTorch adds μ b into the gradient tensors themselves, so ``p.grad`` holds g + μ b
            after ``step()`` (detectron2's ``build_optimizer`` passes ``foreach=True``).
        differentiable: record the update with autograd (Tensor ops, grad mode on), so a step of
            non-leaf parameters can be differentiated through, as PyTorch's.
        fused: float16 parameters step in float32, rounded once, as PyTorch's fused kernel.

    Shape:
        Each gradient has its parameter's shape; state tensors do too.

    Example:
        >>> import glassgrad as gg
        >>> from glassgrad.optim import SGD
        >>> w = gg.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = SGD([w], lr=0.1)
        >>> w.grad = gg.tensor([0.5, -1.0])
        >>> opt.step()
        >>> w
        tensor([ 0.9500, -1.9000], requires_grad=True)
    """

    _param_shaped_state = ("momentum_buffer",)
    sparse_grads = "dense"  # a sparse .grad (Embedding(sparse=True)) steps as its dense form: sparse_grads.py
    complex_params = True  # every step is linear in g and θ: right for complex ones as written

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        if fused and differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")  # PyTorch's words
        # The constructor's arguments only, as PyTorch: a group's own momentum 0 (no buffer, so
        # nesterov is moot) or dampening under nesterov=True steps there, by the same formulas
        if nesterov and not (momentum > 0 and dampening == 0):
            raise ValueError(
                "SGD: expected momentum > 0 and dampening == 0 with nesterov=True, got "
                f"momentum={momentum!r}, dampening={dampening!r}"
            )
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
            foreach=foreach,
            differentiable=differentiable,
            fused=fused,
        )
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        self._check_nonnegative(group, "lr", "momentum", "weight_decay")

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = self._eval_closure(closure)
        if self.defaults["differentiable"]:
            differentiable_step(self)
            return loss
        for group in self.param_groups:
            lr, mu, tau, wd = float(group["lr"]), group["momentum"], group["dampening"], group["weight_decay"]
            # a parameter listed twice (PyTorch warns) starts from a fresh buffer at both entries in the
            # step that creates it, as PyTorch does (it reads every buffer before updating any)
            made: set[int] = set()
            fused = group.get("fused")
            for p, g in self._grads(group):
                theta = p._data
                half = theta.dtype is HALF and g.dtype is HALF and _half_path(self.state, p, mu, group)
                wide = fused and theta.dtype is HALF
                if wide:  # PyTorch's fused kernel reads float16 into float32 and rounds each result once
                    theta, g = theta.astype(np.float32), g.astype(np.float32)
                if group["maximize"]:
                    g = -g
                if half:  # PyTorch's single-tensor step: float16 add(alpha=) ops, each rounded once
                    _half_step(self.state, p, theta, g, lr, mu, tau, wd, group["nesterov"], made)
                    continue
                g = decay_array(theta, g, lr, wd, False)  # g ← g + λ θ
                if mu != 0:
                    state = self.state[p]
                    if (
                        "momentum_buffer" not in state or id(p) in made
                    ):  # b ← g (a copy, an array even for 0-d)
                        b = array_module(g).array(g)
                        state["momentum_buffer"] = state_like(p, b.astype(HALF) if wide else b)
                        made.add(id(p))
                    else:  # b ← μ b + (1 − τ) g, in place
                        stored = state["momentum_buffer"]._data
                        b = stored.astype(np.float32) if wide else stored
                        b *= mu
                        b += (1 - tau) * g
                        if wide:
                            stored[...] = b
                    if b.dtype is not g.dtype:
                        # a buffer made before model.double() (or .half()) keeps its dtype; PyTorch's
                        # add and add_ of it compute in the promoted dtype, not the buffer's
                        b = b.astype(np.promote_types(b.dtype, g.dtype))
                    g = g + mu * b if group["nesterov"] else b
                    if group["nesterov"] and group.get("foreach") and wd == 0 and not group["maximize"]:
                        _write_lookahead_grad(p, g)
                theta -= lr * g
                if wide:
                    p._data[...] = theta
        return loss

    def _differentiable_step(self, group: dict[str, Any]) -> None:
        """``step()`` of ``differentiable=True``, as PyTorch's ``_single_tensor_sgd``: Tensor ops with
        grad mode on, so the update of a non-leaf parameter (``p = w * 1``, learn2learn-style inner
        loops) is recorded and ``autograd.grad`` reaches ``w`` through it. As PyTorch's, the first
        momentum buffer is the gradient detached (no path through it) and later ones are updated in
        place; a leaf that requires grad is refused by the in-place update, as there."""
        lr, mu, tau = group["lr"], group["momentum"], group["dampening"]
        for p, g in differentiable_grads("SGD", group, complex_ok=True, foreach_ok=True):
            if mu != 0:
                state = self.state[p]
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = state["momentum_buffer"] = g.clone().detach()
                else:
                    buf.mul_(mu).add_(g, alpha=1 - tau)
                g = g.add(buf, alpha=mu) if group["nesterov"] else buf
            if isinstance(lr, Tensor) and lr.requires_grad:  # PyTorch's: a path to a learned lr too
                p.addcmul_(g, lr, value=-1)
            else:
                p.add_(g, alpha=-float(lr))


def _half_path(states: Any, p: Tensor, mu: float, group: dict) -> bool:
    """Whether a float16 parameter (and gradient) steps by ``_half_step``: not fused (float32
    throughout) nor foreach (the look-ahead gradient is written back), and a momentum buffer, if
    any, float16 too (one kept from before ``model.half()`` promotes, on the general path)."""
    if group.get("fused") or group.get("foreach"):
        return False
    if mu == 0:
        return True
    buf = states[p].get("momentum_buffer") if p in states else None  # (no state made without momentum)
    return buf is None or buf._data.dtype is HALF


def _half_step(
    states: Any,
    p: Tensor,
    theta: Any,
    g: Any,
    lr: float,
    mu: float,
    tau: float,
    wd: float,
    nesterov: bool,
    made: set,
) -> None:
    """One non-fused step of a float16 parameter, as PyTorch's ``_single_tensor_sgd`` runs it:
    ``grad.add(param, alpha=λ)``, ``buf.mul_(μ).add_(grad, alpha=1 − τ)``, ``grad.add(buf, alpha=μ)``
    and ``param.add_(grad, alpha=−γ)``, each in float32 with alpha read as a float16 and rounded
    once (``axpy_half``); NumPy's float16 ``theta -= lr * g`` rounded twice, up to 10 ulps off
    after three steps of small gradients. ``theta``, ``g``: float16 arrays of p's shape."""
    if wd != 0:
        g = axpy_half(g, theta, wd)
    if mu != 0:
        state = states[p]
        if "momentum_buffer" not in state or id(p) in made:
            state["momentum_buffer"] = state_like(p, array_module(g).array(g))
            made.add(id(p))
            b = g
        else:
            stored = state["momentum_buffer"]._data
            stored[...] = axpy_half(by_number(mul, stored, mu), g, 1 - tau)
            b = stored
        g = axpy_half(g, b, mu) if nesterov else b
    theta[...] = axpy_half(theta, g, -lr)


def _write_lookahead_grad(p: Tensor, g: Any) -> None:
    """PyTorch's ``_multi_tensor_sgd`` runs ``_foreach_add_(grads, bufs, alpha=momentum)`` on the
    ``.grad`` tensors themselves when nothing copied them first (no weight decay, no maximize),
    so after a Nesterov step ``p.grad`` is g + μ b, written in place (its version bumped, views of
    it see the change). A sparse gradient (``Embedding(sparse=True)``) is left as it is, where
    PyTorch writes into that one too (not matched: its sparse-plus-dense in-place add)."""
    if p.grad is None or p.grad.is_sparse:
        return
    p.grad.copy_(Tensor(g, _wrap=True))
