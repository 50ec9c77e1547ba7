"""Recorded VJP rules (``autograd/recorded.py``) of the losses, the normalisations, einsum and
cdist (the products and activations are in ``recorded_rules_nn.py``).

Each rule is its op's ``backward`` written again with Tensor ops, so that the gradient it returns
has a graph (``create_graph=True``). Several of these ops save an intermediate instead of their
input (cross_entropy its log-softmax, the norms x-hat and 1/std); their rules recompute it from
the input, so that its own derivative is included. Where only the intermediate was saved, the
input's value is rebuilt from it up to a shift the op cannot see (log-softmax and the norms are
shift invariant along their dims): the gradients are the same function of it, to within rounding.
"""

from __future__ import annotations

import math

import numpy as np

import glassgrad as gg
from glassgrad.autograd.recorded import _link, constant, operand, output, rule, saved
from glassgrad.backend import array_module
from glassgrad.ops.loss_bce_grad import BCE_DOUBLE_EPS, bce_backward

__all__: list[str] = []


def _scale(g, reduction, count):
    """d(reduced)/d(loss_i) times g, as ``ops.loss._scale``."""
    if reduction == "mean":
        return g / float(count) if count != 0 else g * float("nan")
    return g


# ------------------------------------------------------------------ losses
@rule("cross_entropy")
def _cross_entropy(ctx, g):
    """(Q_i softmax(x)_ic - q_ic) s_i, q the (smoothed, weighted) target mass and Q_i its sum."""
    logp, at, w_t, valid, weight, denom = saved(ctx)
    xp = array_module(logp)
    if not valid.any():  # every target ignored: no input affects the (nan) loss
        # zeros hanging from x, as PyTorch's log_softmax / nll_loss backward nodes, which read it
        return _link(ctx, 0, constant(xp.zeros_like(logp))), None, None
    eps = ctx.attrs.get("label_smoothing", 0.0)
    n_classes, dt = logp.shape[1], logp.dtype
    s = _scale(g, ctx.attrs.get("reduction", "mean"), denom)  # 0-d, or (N, *) for 'none'
    coef = s * constant(((1.0 - eps) * w_t).astype(dt, copy=False))  # the one-hot part, (N, *)
    total = coef
    if eps > 0:
        w_sum = n_classes if weight is None else float(weight.sum())
        smooth = s * constant((valid * (eps / n_classes)).astype(dt))
        total = coef + smooth * w_sum
    # x itself was not saved; log_softmax(x) is, and softmax(log_softmax(x)) = softmax(x)
    p = operand(ctx, 0, logp).softmax(1)
    grad = p * total.unsqueeze(1)
    if eps > 0:
        wshape = (1, n_classes) + (1,) * (logp.ndim - 2)  # (C,) -> (1, C, 1, ...)
        sm = smooth.unsqueeze(1)
        grad = grad - (sm if weight is None else sm * constant(weight.reshape(wshape)))
    onehot = xp.zeros(logp.shape, dtype=dt)
    onehot[at] = 1  # ignored positions point at class 0 with coef 0
    return grad - coef.unsqueeze(1) * constant(onehot), None, None


@rule("binary_cross_entropy_with_logits")
def _bce_logits(ctx, g):
    """dx = w ((1 - y) - l (1 - sigmoid(x))), l = 1 + (pw - 1) y; dy = w (-x + (pw - 1) softplus(-x)); times g."""
    x, y, weight, pos_weight, count = saved(ctx)
    need = ctx.needs_input_grad
    g = _scale(g, ctx.attrs.get("reduction", "mean"), count)
    if weight is not None:
        g = g * constant(weight)
    xt, yt = operand(ctx, 0, x), operand(ctx, 1, y)
    pw1 = None if pos_weight is None else constant(pos_weight - 1)
    dx = dy = None
    if need[0]:
        sig = xt.sigmoid()
        dx = sig - yt if pw1 is None else (1 - yt) - (1 + pw1 * yt) * (1 - sig)
        dx = dx * g
    if need[1]:
        if pw1 is None:
            dy = -xt * g
        else:  # softplus(-x) = -logsigmoid(x), in the op's own stable form at any x
            dy = (-xt - pw1 * gg.nn.functional.logsigmoid(xt)) * g
    return dx, dy, None, None


@rule("binary_cross_entropy")
def _bce(ctx, g):
    """dp = w (p - y) / max(p (1 - p), 1e-12) times g, a node of its own with PyTorch's double
    backward (``ops/loss_bce_grad.py``); dy = -logit(p) g w (PyTorch's order, unclamped)."""
    p, y, weight, count = saved(ctx)
    need = ctx.needs_input_grad
    reduction = ctx.attrs.get("reduction", "mean")
    pt = operand(ctx, 0, p)
    dp = dy = None
    if need[1]:
        dy = -pt.logit() * g
        if weight is not None:
            dy = dy * constant(weight)
        dy = _scale(dy, reduction, count)
    if need[0]:
        dp = bce_backward(g, pt, operand(ctx, 1, y), weight, reduction, count)
    return dp, dy, None


@rule("binary_cross_entropy_backward")
def _bce_backward(ctx, gz):
    """BCE's double backward on Tensors, as ``BinaryCrossEntropyBackward.backward`` (eps = 1e-12
    added to the denominators, a constant clamp in y's): differentiable once more."""
    g, p, y, weight = saved(ctx)
    reduction, count = ctx.attrs["reduction"], ctx.attrs["count"]
    need = ctx.needs_input_grad
    gt, pt, yt = operand(ctx, 0, g), operand(ctx, 1, p), operand(ctx, 2, y)
    w = None if weight is None else constant(weight)
    dg = dp = dy = None
    if need[0]:
        dg = (pt - yt) / ((pt + BCE_DOUBLE_EPS) * (1 - pt + BCE_DOUBLE_EPS)) * gz
        dg = dg if w is None else dg * w
        if reduction != "none":
            dg = dg.sum() / float(count) if reduction == "mean" else dg.sum()
    ggz = gz * gt
    if need[1]:
        num = pt * pt - 2 * pt * yt + yt
        dp = num / ((pt + BCE_DOUBLE_EPS) ** 2 * (1 - pt + BCE_DOUBLE_EPS) ** 2) * ggz
        dp = _scale(dp if w is None else dp * w, reduction, count)
    if need[2]:
        # PyTorch clamps this denominator in place under no_grad: the value is max(., eps), its
        # derivative (1 - 2p)'s even where the clamp acted (d - d: an exact 0, keeping d's graph)
        raw = (1 - p) * p
        d = (1 - pt) * pt
        den = gg.where(constant(raw < BCE_DOUBLE_EPS), d - constant(raw) + BCE_DOUBLE_EPS, d)
        dy = _scale((-ggz if w is None else -ggz * w) / den, reduction, count)
    return dg, dp, dy, None


@rule("mse_loss")
def _mse(ctx, g):
    """dx = 2 (x - y) s, dy = -dx."""
    x, y, count = saved(ctx)
    need = ctx.needs_input_grad
    g = _scale(g, ctx.attrs.get("reduction", "mean"), count)
    dx = 2 * (operand(ctx, 0, x) - operand(ctx, 1, y)) * g
    return (dx if need[0] else None), (-dx if need[1] else None)


def _smooth_pair(ctx, g, threshold, slope, divisor):
    """dx = (sign(d) slope where |d| >= threshold, else d / divisor) s, dy = -dx, d = x - y; the
    branch mask and the linear branch are constants (a second derivative of 1 / divisor inside)."""
    x, y, count = saved(ctx)
    need = ctx.needs_input_grad
    diff = x - y
    xp = array_module(diff)
    d = operand(ctx, 0, x) - operand(ctx, 1, y)
    far = constant(xp.abs(diff) >= threshold)  # NaN: False, the quadratic branch's NaN, as forward
    deriv = gg.where(far, constant(xp.sign(diff) * slope), d / divisor)
    dx = deriv * _scale(g, ctx.attrs.get("reduction", "mean"), count)
    return (dx if need[0] else None), (-dx if need[1] else None)


@rule("smooth_l1_loss")
def _smooth_l1(ctx, g):
    """dx = (sign(d) where |d| >= beta, else d / beta) s, dy = -dx."""
    beta = ctx.attrs.get("beta", 1.0)
    return _smooth_pair(ctx, g, beta, 1.0, beta)


@rule("huber_loss")
def _huber(ctx, g):
    """dx = (sign(d) delta where |d| >= delta, else d) s, dy = -dx."""
    delta = ctx.attrs.get("delta", 1.0)
    return _smooth_pair(ctx, g, delta, delta, 1.0)


# ------------------------------------------------------------------ normalisation
def _normalized(x, axes, eps):
    """(xhat, rstd) of Tensor x over ``axes``, biased variance, as ``ops.normalization``."""
    xc = x - x.mean(dim=axes, keepdim=True)
    rstd = 1.0 / ((xc * xc).mean(dim=axes, keepdim=True) + eps).sqrt()
    return xc * rstd, rstd


def _normalize_backward(gx, xhat, rstd, axes):
    """rstd (gx - mean(gx) - xhat mean(gx xhat)), the means over ``axes``."""
    mean_gx = gx.mean(dim=axes, keepdim=True)
    mean_gx_xhat = (gx * xhat).mean(dim=axes, keepdim=True)
    return (gx - mean_gx - xhat * mean_gx_xhat) * rstd


@rule("layer_norm")
def _layer_norm(ctx, g):
    """dx = rstd (gx - mean(gx) - xhat mean(gx xhat)), gx = g weight; dweight = g xhat, dbias = g."""
    xhat, rstd, weight = saved(ctx)[:3]
    need = ctx.needs_input_grad
    axes = tuple(range(xhat.ndim - ctx.attrs.get("ndim", 1), xhat.ndim))
    # x is saved unread: x - mean(x) = xhat / rstd stands for it (the norm cannot see the shift)
    xh, rs = _normalized(operand(ctx, 0, xhat / rstd), axes, ctx.attrs.get("eps", 1e-5))
    dx = None
    if need[0]:
        gx = g if weight is None else g * operand(ctx, 1, weight)
        dx = _normalize_backward(gx, xh, rs, axes)
    dweight = g * xh if need[1] else None
    dbias = g if need[2] else None
    return dx, dweight, dbias


@rule("batch_norm")
def _batch_norm(ctx, g):
    """dx = rstd (gx - mean(gx) - xhat mean(gx xhat)), gx = g weight; dweight = sum(g xhat), dbias = sum(g)."""
    centered, _, w, _ = saved(ctx)[:4]  # (c, rstd, w, shift): c = x - mean, the op's own temporary
    need = ctx.needs_input_grad
    axes = (0, *range(2, centered.ndim))
    # x is saved unread: c stands for it (the norm cannot see the shift)
    xh, rs = _normalized(operand(ctx, 0, centered), axes, ctx.attrs.get("eps", 1e-5))
    dx = None
    if need[0]:
        # forward saved weight as (1, C, 1, ...): the input's value is its (C,) view
        gx = g if w is None else g * operand(ctx, 1, w.reshape(-1)).reshape(w.shape)
        dx = _normalize_backward(gx, xh, rs, axes)
    dweight = (g * xh).sum(dim=axes) if need[1] else None
    dbias = g.sum(dim=axes) if need[2] else None
    return dx, dweight, dbias


@rule("batch_norm_eval")
def _batch_norm_eval(ctx, g):
    """Eval batch norm, y = (x - mean) rstd w + b (constant statistics): dx = (g w) rstd,
    dweight = sum(g (x - mean) rstd), dbias = sum(g); rstd from the saved (1, C, 1, ...) var."""
    x, m, var, w = saved(ctx)
    need = ctx.needs_input_grad
    axes = (0, *range(2, x.ndim))
    r = constant(1.0 / array_module(var).sqrt(var + ctx.attrs["eps"]))
    dx = dw = db = None
    if need[0]:
        # forward saved weight as (1, C, 1, ...): the input's value is its (C,) view
        dx = (g if w is None else g * operand(ctx, 1, w.reshape(-1)).reshape(w.shape)) * r
    if need[1]:
        dw = (g * ((operand(ctx, 0, x) - constant(m)) * r)).sum(dim=axes)
    if need[2]:
        db = g.sum(dim=axes)
    return dx, dw, db, None, None


# ------------------------------------------------------------------ einsum, cdist
@rule("einsum")
def _einsum(ctx, g):
    """g_i = einsum(out, s_j (j != i) -> s_i)(g, x_j ...), broadcast over the indices only x_i has."""
    arrays, subs, out = saved(ctx), ctx.attrs["subs"], ctx.attrs["out"]
    xs = [operand(ctx, j, a) for j, a in enumerate(arrays)]
    grads = []
    for i, (sub, x) in enumerate(zip(subs, arrays)):
        if not ctx.needs_input_grad[i]:
            grads.append(None)
            continue
        others = [j for j in range(len(subs)) if j != i]
        have = set(out).union(*(subs[j] for j in others))
        keep = "".join(c for c in sub if c in have)
        eq = ",".join((out, *(subs[j] for j in others))) + "->" + keep
        gi = gg.einsum(eq, g, *(xs[j] for j in others))
        sizes = dict(zip(keep, gi.shape))
        gi = gi.reshape([sizes.get(c, 1) for c in sub])  # (keep...) -> (sub...)
        target = tuple(n if sizes.get(c, 1) == 1 else sizes[c] for c, n in zip(sub, x.shape))
        grads.append(gi.expand(*target) if tuple(gi.shape) != target else gi)
    return tuple(grads)


@rule("cdist")
def _cdist(ctx, g):
    """per pair, d = x1_i - x2_j, z = ||d||_p: p = 1: sign(d) g; 2: d g / z; inf: sign(d) [|d| = z] g;
    else sign(d) |d|^(p-1) g / z^(p-1) (0 where z = 0 or d = 0); x1 gets sum_j, x2 -sum_i."""
    x1, x2, z = saved(ctx)
    p = ctx.attrs["p"]
    need = ctx.needs_input_grad
    xp = array_module(x1)
    with np.errstate(invalid="ignore"):
        d = x1[..., :, None, :] - x2[..., None, :, :]  # (B, P, R, M)
        zz = z[..., None]
        gz = g.unsqueeze(-1)
        if p == 0:
            per = constant(xp.zeros_like(d)) * gz
        elif p == 1:
            per = constant(xp.sign(d)) * gz
        elif p == math.inf:
            per = constant(xp.sign(d) * (xp.abs(d) == zz)) * gz
        else:
            dt = operand(ctx, 0, x1).unsqueeze(-2) - operand(ctx, 1, x2).unsqueeze(-3)
            zero = constant(zz == 0)
            zs = gg.where(zero, 1.0, output(ctx, z).unsqueeze(-1))  # no 0 / 0 in the branch not taken
            if p == 2:
                per = dt * gz / zs
            else:  # d = 0 gives 0, as the op's first derivative there (a kink for p < 2)
                at0 = constant(d == 0)
                ad = gg.where(at0, 1.0, dt.abs())
                per = gg.where(at0, 0.0, constant(xp.sign(d)) * ad ** (p - 1) * gz / zs ** (p - 1))
            per = gg.where(zero, 0.0, per)
    g1 = per.sum(-2) if need[0] else None  # (B, P, M)
    g2 = -per.sum(-3) if need[1] else None  # (B, R, M)
    return g1, g2
