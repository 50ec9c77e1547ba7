"""PyTorch's functional optimizer API: ``torch.optim._functional.adam(params, grads, exp_avgs, ...)``.

Custom optimizers call these from their own ``step()`` with the state lists they keep (a "drop"
RMSprop calls ``F.rmsprop``, tree- or node-stored Adam variants ``torch.optim.adam.adam``,
``torch.distributed.optim``'s functional optimizers ``F.adamw``): one update of every tensor in
``params`` by the given gradients, the state tensors updated in place and the step counts bumped,
as the matching optimizer's ``step()`` would. Each function runs that optimizer's own step (no
second copy of its arithmetic) on the caller's state tensors, without the step hooks, as PyTorch's
functions run none. SGD's ``momentum_buffer_list`` gets the buffers made for its ``None`` entries,
as PyTorch's fills them in.

Shapes: ``params[i]``, ``grads[i]`` and each state list's ``[i]`` alike; ``state_steps[i]`` 0-d.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from glassgrad.autograd.grad_mode import is_grad_enabled
from glassgrad.errors import GraphError
from glassgrad.optim.adadelta import Adadelta
from glassgrad.optim.adagrad import Adagrad
from glassgrad.optim.adam import Adam
from glassgrad.optim.adamax import Adamax
from glassgrad.optim.asgd import ASGD
from glassgrad.optim.nadam import NAdam
from glassgrad.optim.radam import RAdam
from glassgrad.optim.rmsprop import RMSprop
from glassgrad.optim.rprop import Rprop
from glassgrad.optim.sgd import SGD
from glassgrad.tensor import Tensor

__all__ = ["adadelta", "adagrad", "adam", "adamax", "adamw", "asgd", "nadam", "radam"]
__all__ += ["rmsprop", "rprop", "sgd"]


def _run(
    cls: type,
    params: Sequence[Tensor],
    grads: Sequence[Tensor],
    states: dict[str, list],
    steps: Sequence[Tensor] | None,
    options: dict[str, Any],
    grad_scale: Any = None,
    found_inf: Any = None,
    unchecked: dict[str, Any] | None = None,
) -> None:
    """One ``cls`` step of ``params`` by ``grads`` with the given state: ``states`` maps a state key
    to its list (an empty list: a state the options leave unused; a ``None`` entry: made by the step
    and written back), ``steps`` holds the 0-d step counts (None for SGD, which keeps none)."""
    name = cls.__name__.lower()
    if grad_scale is not None or found_inf is not None:
        raise NotImplementedError(
            f"optim._functional.{name}: grad_scale and found_inf (the fused kernels' AMP inputs) are not "
            "supported; unscale the gradients first (GradScaler.unscale_) and skip the call on inf"
        )
    if steps is not None and not all(isinstance(t, Tensor) for t in steps):
        raise RuntimeError("API has changed, `state_steps` argument must contain a list of singleton tensors")
    lists = {key: values for key, values in states.items() if len(values)}
    counted = {**lists, "grads": grads, **({} if steps is None else {"state_steps": steps})}
    for key, values in counted.items():
        if len(values) != len(params):
            raise ValueError(
                f"optim._functional.{name}: expected {key} to hold one entry per parameter "
                f"({len(params)}), got {len(values)}"
            )
    if is_grad_enabled() and not options.get("differentiable"):
        # PyTorch's functions have no no_grad of their own (an optimizer's step() wraps them in one):
        # their in-place update stops at a leaf that requires grad; ours (step() in no_grad) would not
        for p in params:
            if p.is_leaf and p.requires_grad:
                raise GraphError(
                    f"optim._functional.{name}: in-place change of a leaf tensor that requires grad (shape "
                    f"{tuple(p.shape)}) would corrupt the gradient; call it inside glassgrad.no_grad()"
                )
    opt = cls(list(params), **options)
    opt.param_groups[0].update(unchecked or {})  # past the constructor's checks: PyTorch's make none
    for i, p in enumerate(params):
        state = opt.state[p]
        if steps is not None:
            state["step"] = steps[i]  # the caller's tensor: the step bumps it in place
        for key, values in lists.items():
            if values[i] is not None:
                state[key] = values[i]
    saved = [p.grad for p in params]
    try:
        for p, g in zip(params, grads):
            p.grad = g
        # the class's step under its hook wrapper (optimizer_hooks._hooked_step): none run here
        step = type(opt).step
        getattr(step, "__wrapped__", step)(opt) if getattr(step, "hooked", False) else step(opt)
    finally:
        for p, g in zip(params, saved):
            p.grad = g
    for key, values in lists.items():
        for i, p in enumerate(params):
            if values[i] is None:
                values[i] = opt.state[p].get(key)


def sgd(
    params: list[Tensor],
    d_p_list: list[Tensor],
    momentum_buffer_list: list[Tensor | None],
    has_sparse_grad: bool = False,
    foreach: bool | None = None,
    fused: bool | None = None,
    grad_scale: Tensor | None = None,
    found_inf: Tensor | None = None,
    *,
    weight_decay: float,
    momentum: float,
    lr: float,
    dampening: float,
    nesterov: bool,
    maximize: bool,
) -> None:
    """``SGD.step()`` on the given lists; ``momentum_buffer_list``'s ``None`` entries are filled in."""
    options = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay)
    options.update(maximize=maximize, foreach=foreach, fused=fused)
    bufs = {"momentum_buffer": momentum_buffer_list}  # nesterov unchecked: it runs with momentum 0 there
    _run(SGD, params, d_p_list, bufs, None, options, grad_scale, found_inf, {"nesterov": nesterov})


def adam(
    params: list[Tensor],
    grads: list[Tensor],
    exp_avgs: list[Tensor],
    exp_avg_sqs: list[Tensor],
    max_exp_avg_sqs: list[Tensor],
    state_steps: list[Tensor],
    foreach: bool | None = None,
    capturable: bool = False,
    differentiable: bool = False,
    fused: bool | None = None,
    grad_scale: Tensor | None = None,
    found_inf: Tensor | None = None,
    has_complex: bool = False,
    decoupled_weight_decay: bool = False,
    *,
    amsgrad: bool,
    beta1: float | Tensor,
    beta2: float | Tensor,
    lr: float | Tensor,
    weight_decay: float,
    eps: float,
    maximize: bool,
) -> None:
    """``Adam.step()`` (``AdamW``'s with ``decoupled_weight_decay``) on the given lists."""
    states = {
        "exp_avg": exp_avgs,
        "exp_avg_sq": exp_avg_sqs,
        "max_exp_avg_sq": max_exp_avg_sqs if amsgrad else [],
    }
    options = dict(lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)
    options.update(maximize=maximize, foreach=foreach, capturable=capturable, differentiable=differentiable)
    options.update(fused=fused, decoupled_weight_decay=decoupled_weight_decay)
    _run(Adam, params, grads, states, state_steps, options, grad_scale, found_inf)


def adamw(
    params: list[Tensor],
    grads: list[Tensor],
    exp_avgs: list[Tensor],
    exp_avg_sqs: list[Tensor],
    max_exp_avg_sqs: list[Tensor],
    state_steps: list[Tensor],
    foreach: bool | None = None,
    capturable: bool = False,
    differentiable: bool = False,
    fused: bool | None = None,
    grad_scale: Tensor | None = None,
    found_inf: Tensor | None = None,
    has_complex: bool = False,
    *,
    amsgrad: bool,
    beta1: float | Tensor,
    beta2: float | Tensor,
    lr: float | Tensor,
    weight_decay: float,
    eps: float,
    maximize: bool,
) -> None:
    """``AdamW.step()`` on the given lists: ``adam`` with decoupled weight decay."""
    adam(
        params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps, foreach, capturable,
        differentiable, fused, grad_scale, found_inf, has_complex, True, amsgrad=amsgrad, beta1=beta1,
        beta2=beta2, lr=lr, weight_decay=weight_decay, eps=eps, maximize=maximize,
    )  # fmt: skip


def adagrad(
    params: list[Tensor],
    grads: list[Tensor],
    state_sums: list[Tensor],
    state_steps: list[Tensor],
    fused: bool | None = None,
    grad_scale: Tensor | None = None,
    found_inf: Tensor | None = None,
    has_sparse_grad: bool = False,
    foreach: bool | None = None,
    differentiable: bool = False,
    has_complex: bool = False,
    *,
    lr: float,
    weight_decay: float,
    lr_decay: float,
    eps: float,
    maximize: bool,
) -> None:
    """``Adagrad.step()`` on the given lists."""
    options = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps, maximize=maximize)
    options.update(foreach=foreach, differentiable=differentiable, fused=fused)
    _run(Adagrad, params, grads, {"sum": state_sums}, state_steps, options, grad_scale, found_inf)


def adadelta(
    params: list[Tensor],
    grads: list[Tensor],
    square_avgs: list[Tensor],
    acc_deltas: list[Tensor],
    state_steps: list[Tensor],
    capturable: bool = False,
    foreach: bool | None = None,
    differentiable: bool = False,
    has_complex: bool = False,
    *,
    lr: float,
    rho: float,
    eps: float,
    weight_decay: float,
    maximize: bool,
) -> None:
    """``Adadelta.step()`` on the given lists."""
    options = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize, foreach=foreach)
    options.update(capturable=capturable, differentiable=differentiable)
    _run(Adadelta, params, grads, {"square_avg": square_avgs, "acc_delta": acc_deltas}, state_steps, options)


def adamax(
    params: list[Tensor],
    grads: list[Tensor],
    exp_avgs: list[Tensor],
    exp_infs: list[Tensor],
    state_steps: list[Tensor],
    foreach: bool | None = None,
    maximize: bool = False,
    differentiable: bool = False,
    capturable: bool = False,
    has_complex: bool = False,
    *,
    eps: float,
    beta1: float,
    beta2: float,
    lr: float,
    weight_decay: float,
) -> None:
    """``Adamax.step()`` on the given lists."""
    options = dict(lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay, maximize=maximize)
    options.update(foreach=foreach, capturable=capturable, differentiable=differentiable)
    _run(Adamax, params, grads, {"exp_avg": exp_avgs, "exp_inf": exp_infs}, state_steps, options)


def asgd(
    params: list[Tensor],
    grads: list[Tensor],
    axs: list[Tensor],
    mus: list[Tensor],
    etas: list[Tensor],
    state_steps: list[Tensor],
    foreach: bool | None = None,
    maximize: bool = False,
    differentiable: bool = False,
    capturable: bool = False,
    has_complex: bool = False,
    *,
    lambd: float,
    lr: float,
    t0: float,
    alpha: float,
    weight_decay: float,
) -> None:
    """``ASGD.step()`` on the given lists (``etas`` and ``mus`` 0-d, updated in place)."""
    options = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, maximize=maximize)
    options.update(foreach=foreach, capturable=capturable, differentiable=differentiable)
    _run(ASGD, params, grads, {"ax": axs, "mu": mus, "eta": etas}, state_steps, options)


def nadam(
    params: list[Tensor],
    grads: list[Tensor],
    exp_avgs: list[Tensor],
    exp_avg_sqs: list[Tensor],
    mu_products: list[Tensor],
    state_steps: list[Tensor],
    decoupled_weight_decay: bool = False,
    foreach: bool | None = None,
    capturable: bool = False,
    differentiable: bool = False,
    has_complex: bool = False,
    maximize: bool = False,
    *,
    beta1: float,
    beta2: float,
    lr: float,
    weight_decay: float,
    momentum_decay: float,
    eps: float,
) -> None:
    """``NAdam.step()`` on the given lists (``mu_products`` 0-d, updated in place)."""
    states = {"mu_product": mu_products, "exp_avg": exp_avgs, "exp_avg_sq": exp_avg_sqs}
    options = dict(
        lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay
    )
    options.update(decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, foreach=foreach)
    options.update(capturable=capturable, differentiable=differentiable)
    _run(NAdam, params, grads, states, state_steps, options)


def radam(
    params: list[Tensor],
    grads: list[Tensor],
    exp_avgs: list[Tensor],
    exp_avg_sqs: list[Tensor],
    state_steps: list[Tensor],
    decoupled_weight_decay: bool = False,
    foreach: bool | None = None,
    differentiable: bool = False,
    capturable: bool = False,
    has_complex: bool = False,
    maximize: bool = False,
    *,
    beta1: float,
    beta2: float,
    lr: float,
    weight_decay: float,
    eps: float,
) -> None:
    """``RAdam.step()`` on the given lists."""
    options = dict(lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay, maximize=maximize)
    options.update(decoupled_weight_decay=decoupled_weight_decay, foreach=foreach)
    options.update(capturable=capturable, differentiable=differentiable)
    _run(RAdam, params, grads, {"exp_avg": exp_avgs, "exp_avg_sq": exp_avg_sqs}, state_steps, options)


def rmsprop(
    params: list[Tensor],
    grads: list[Tensor],
    square_avgs: list[Tensor],
    grad_avgs: list[Tensor],
    momentum_buffer_list: list[Tensor],
    state_steps: list[Tensor],
    foreach: bool | None = None,
    maximize: bool = False,
    differentiable: bool = False,
    capturable: bool = False,
    has_complex: bool = False,
    *,
    lr: float,
    alpha: float,
    eps: float,
    weight_decay: float,
    momentum: float,
    centered: bool,
) -> None:
    """``RMSprop.step()`` on the given lists (``grad_avgs`` read if centered, the buffers if momentum)."""
    states = {
        "square_avg": square_avgs,
        "momentum_buffer": momentum_buffer_list if momentum > 0 else [],
        "grad_avg": grad_avgs if centered else [],
    }
    options = dict(
        lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum, centered=centered
    )
    options.update(maximize=maximize, foreach=foreach, capturable=capturable, differentiable=differentiable)
    _run(RMSprop, params, grads, states, state_steps, options)


def rprop(
    params: list[Tensor],
    grads: list[Tensor],
    prevs: list[Tensor],
    step_sizes: list[Tensor],
    state_steps: list[Tensor],
    foreach: bool | None = None,
    capturable: bool = False,
    maximize: bool = False,
    differentiable: bool = False,
    has_complex: bool = False,
    *,
    step_size_min: float,
    step_size_max: float,
    etaminus: float,
    etaplus: float,
) -> None:
    """``Rprop.step()`` on the given lists (the step sizes given: no lr)."""
    options = dict(etas=(etaminus, etaplus), step_sizes=(step_size_min, step_size_max), maximize=maximize)
    options.update(foreach=foreach, capturable=capturable, differentiable=differentiable)
    _run(Rprop, params, grads, {"prev": prevs, "step_size": step_sizes}, state_steps, options)
