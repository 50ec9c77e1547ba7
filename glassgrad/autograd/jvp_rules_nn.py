"""JVP rules of the network ops: softmax, log-softmax, layer/batch norm, the fused losses and the
max poolings. See ``jvp_rules`` for the rule contract.
"""

from __future__ import annotations

import numpy as np

from glassgrad.autograd.jvp_rules import elementwise, refuse, rule, run, scalar
from glassgrad.ops.pooling import _kernel_taps, _pad, _tap_view

__all__: list[str] = []


@rule("softmax")
def _softmax(ts, xs, z, attrs):
    """z = softmax(x) along ``axis``:  t_z = z (t - sum(z t)), the sum along ``axis``."""
    t = ts[0]
    return z * (t - np.sum(z * t, axis=attrs.get("axis", (-1,)), keepdims=True))


@rule("log_softmax")
def _log_softmax(ts, xs, z, attrs):
    """z = log_softmax(x) along ``axis``:  t_z = t - sum(softmax(x) t), the sum along ``axis``."""
    t = ts[0]
    return t - np.sum(np.exp(z) * t, axis=attrs.get("axis", (-1,)), keepdims=True)


def _normalized_tangent(x, t, axes, eps):
    """xhat = (x - mean) / sqrt(var + eps) over ``axes`` and its tangent
    t_xhat = rstd (t - mean(t) - xhat mean(t xhat)) (the VJP's formula, self-adjoint)."""
    mu = np.mean(x, axis=axes, keepdims=True)
    rstd = 1.0 / np.sqrt(np.var(x, axis=axes, keepdims=True) + eps)
    xhat = (x - mu) * rstd
    if t is None:
        return xhat, None
    tm = np.mean(t, axis=axes, keepdims=True)
    return xhat, rstd * (t - tm - xhat * np.mean(t * xhat, axis=axes, keepdims=True))


@rule("layer_norm")
def _layer_norm(ts, xs, z, attrs):
    """z = xhat w + b over the last ``ndim`` dims:  t_z = t_xhat w + xhat t_w + t_b."""
    x, w = xs[0], xs[1]
    axes = tuple(range(x.ndim - attrs.get("ndim", 1), x.ndim))
    xhat, t_xhat = _normalized_tangent(x, ts[0], axes, attrs.get("eps", 1e-5))
    out = 0
    if t_xhat is not None:
        out = out + (t_xhat if w is None else t_xhat * w)
    if ts[1] is not None:
        out = out + xhat * ts[1]
    if ts[2] is not None:
        out = out + ts[2]
    return out


@rule("batch_norm")
def _batch_norm(ts, xs, z, attrs):
    """Training batch norm, z = xhat w + b per channel (batch statistics over N and the spatial
    dims):  t_z = t_xhat w + xhat t_w + t_b, w and b shaped (1, C, 1, ...)."""
    x, w = xs[0], xs[1]
    axes = (0, *range(2, x.ndim))
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)  # (C,) -> (1, C, 1, ...)
    xhat, t_xhat = _normalized_tangent(x, ts[0], axes, attrs.get("eps", 1e-5))
    out = 0
    if t_xhat is not None:
        out = out + (t_xhat if w is None else t_xhat * w.reshape(shape))
    if ts[1] is not None:
        out = out + xhat * ts[1].reshape(shape)
    if ts[2] is not None:
        out = out + ts[2].reshape(shape)
    return out


@rule("batch_norm_eval")
def _batch_norm_eval(ts, xs, z, attrs):
    """Eval batch norm with constant statistics, z = (x - mean) rstd w + b per channel:
    t_z = t_x rstd w + (x - mean) rstd t_w + t_b, all shaped (1, C, 1, ...)."""
    x, w, mean, var = xs[0], xs[1], xs[3], xs[4]
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)  # (C,) -> (1, C, 1, ...)
    rstd = (1.0 / np.sqrt(var + attrs.get("eps", 1e-5))).reshape(shape)
    out = 0
    if ts[0] is not None:
        out = out + (ts[0] * rstd if w is None else ts[0] * rstd * w.reshape(shape))
    if ts[1] is not None:
        out = out + (x - mean.reshape(shape)) * rstd * ts[1].reshape(shape)
    if ts[2] is not None:
        out = out + ts[2].reshape(shape)
    return out


# --- the fused losses: one number (t_z = <grad z, t>) or one value per element ----------------


@rule("cross_entropy")
def _cross_entropy(ts, xs, z, attrs):
    """z = cross-entropy of logits x (N, C, *):  'mean'/'sum': t_z = <grad_x z, t>;
    'none': t_z[i] = sum_c dz_i/dx_ic t_ic (each logit feeds one loss), grads from the VJP."""
    refuse("cross_entropy", ts, (0,))
    if z.ndim == 0:
        return _ce_scalar(ts, xs, z, attrs)
    _, ctx = run("cross_entropy", list(xs), attrs)
    g = ctx.fn.backward(ctx, np.ones_like(z))[0]
    return np.sum(g * ts[0], axis=1)


_ce_scalar = scalar("cross_entropy")


def _loss(name: str) -> None:
    on_scalar, on_elements = scalar(name), elementwise(name)

    def jvp(ts, xs, z, attrs):
        refuse(name, ts, (0, 1))
        return on_scalar(ts, xs, z, attrs) if z.ndim == 0 and xs[0].ndim else on_elements(ts, xs, z, attrs)

    jvp.__doc__ = (
        f"z = {name}(x, y):  'mean'/'sum': t_z = <grad z, t>; 'none': elementwise, "
        "t_z = dz/dx t_x + dz/dy t_y; both from the VJP."
    )
    rule(name)(jvp)


_loss("binary_cross_entropy")
_loss("binary_cross_entropy_with_logits")
_loss("mse_loss")
_loss("smooth_l1_loss")
_loss("huber_loss")


# --- max poolings: the tangent at each window's maximum -------------------------------------


def _max_pool(name: str) -> None:
    def jvp(ts, xs, z, attrs):
        _, ctx = run(name, list(xs), attrs)
        (arg,) = ctx.saved  # (N, C, *windows): the flat kernel tap holding each maximum
        kernel, stride, dilation, padding = (attrs[k] for k in ("kernel", "stride", "dilation", "padding"))
        padded = _pad(np.ascontiguousarray(ts[0]), padding, 0.0)
        view = _tap_view(padded, kernel, stride, dilation, z.shape[2:], False)  # (*kernel, N, C, *windows)
        out = np.zeros(z.shape, dtype=ts[0].dtype)
        for k, tap in enumerate(_kernel_taps(kernel)):
            out += np.where(arg == k, view[tap], 0.0)
        return out

    jvp.__doc__ = f"z = {name}(x):  t_z = t at each window's (first) maximum."
    rule(name)(jvp)


def _adaptive_max_pool(name: str) -> None:
    def jvp(ts, xs, z, attrs):
        _, ctx = run(name, list(xs), attrs)
        (flat,) = ctx.saved  # per output, the flat position of its maximum in its (n, c) plane
        n, c = z.shape[:2]
        t = ts[0].reshape(n * c, -1)  # (N, C, *size) -> (N C, prod size)
        return np.take_along_axis(t, flat.reshape(n * c, -1), axis=1).reshape(z.shape)

    jvp.__doc__ = f"z = {name}(x):  t_z = t at each bin's (first) maximum."
    rule(name)(jvp)


_max_pool("max_pool2d")
_max_pool("max_pool3d")
_adaptive_max_pool("adaptive_max_pool2d")
_adaptive_max_pool("adaptive_max_pool3d")


@rule("binary_cross_entropy_backward")
def _bce_backward(ts, xs, z, attrs):
    """z = BCE's input gradient G(g, p, y, w) (``ops/loss_bce_grad.py``), reached by
    forward-over-reverse: linear in g and in w, so their terms are G of the tangent; p and y enter
    elementwise (a diagonal Jacobian), so their terms are the op's own VJP with its incoming gradient
    set to the tangent (PyTorch's double-backward formulas, eps included)."""
    from glassgrad.autograd.function import Node
    from glassgrad.ops.loss_bce_grad import BinaryCrossEntropyBackward, bce_input_grad

    g, p, y, w = xs
    red, count = attrs.get("reduction", "mean"), attrs.get("count", 1)
    total = np.zeros(np.shape(z), dtype=z.dtype)
    if ts[0] is not None:
        total = total + bce_input_grad(ts[0], p, y, w, red, count)
    if ts[3] is not None:
        total = total + bce_input_grad(g, p, y, ts[3], red, count)
    if ts[1] is not None or ts[2] is not None:
        ctx = Node({"reduction": red, "count": count})
        ctx.needs_input_grad = (False, ts[1] is not None, ts[2] is not None, False)
        BinaryCrossEntropyBackward.forward(ctx, g, p, y, w, reduction=red, count=count)
        for i in (1, 2):
            if ts[i] is not None:
                total = total + BinaryCrossEntropyBackward.backward(ctx, np.asarray(ts[i], dtype=z.dtype))[i]
    return total
