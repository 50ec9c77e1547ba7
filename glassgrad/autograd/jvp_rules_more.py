"""JVP rules of the cumulative ops, ``cdist``, ``scatter_reduce``, ``embedding_bag``, ``grid_sample``
and the samplers (zero tangents). See ``jvp_rules`` for the rule contract.
"""

from __future__ import annotations

import numpy as np

from glassgrad.autograd.jvp_rules import _grads as grads
from glassgrad.autograd.jvp_rules import linear, multilinear, rule, run
from glassgrad.autograd.jvp_rules_transposed import transposed

__all__: list[str] = []


def _along(name: str, step) -> None:
    """A scan along ``axis`` whose tangent follows the forward recurrence step by step (exact,
    zeros and -inf included): ``step(z_prev, t_prev, x_i, t_i, z_i) -> t_z_i``."""

    def jvp(ts, xs, z, attrs):
        axis = attrs.get("axis", 0)
        x, t, zz = (np.moveaxis(a, axis, 0) for a in (xs[0], ts[0], z))  # the scanned axis first
        out = np.empty(zz.shape, dtype=np.result_type(t, zz))
        for i in range(x.shape[0]):
            out[i] = t[0] if i == 0 else step(zz[i - 1], out[i - 1], x[i], t[i], zz[i])
        return np.moveaxis(out, 0, axis)

    rule(name)(jvp)


# z_i = z_{i-1} x_i:  t_z_i = t_z_{i-1} x_i + z_{i-1} t_i (the product rule, one step at a time)
_along("cumprod", lambda zp, tp, x, t, z: tp * x + zp * t)


def _logaddexp_step(zp, tp, x, t, z):
    """z_i = log(e^{z_{i-1}} + e^{x_i}):  t_z_i = e^{z_{i-1} - z_i} t_z_{i-1} + e^{x_i - z_i} t_i
    (0 for a term whose exponent is -inf - -inf)."""
    with np.errstate(invalid="ignore"):
        a, b = np.exp(zp - z), np.exp(x - z)
    return np.where(np.isnan(a), 0.0, a) * tp + np.where(np.isnan(b), 0.0, b) * t


_along("logcumsumexp", _logaddexp_step)


@rule("cdist")
def _cdist(ts, xs, z, attrs):
    """z_ij = ||d_ij||_p with d_ij = x1_i - x2_j:  t_z_ij = sum_k dz_ij/dd_ijk (t1_ik - t2_jk),
    dz/dd from the ``norm`` op's VJP over the last axis of d (each d entry feeds one z)."""
    x1, x2 = xs
    d = x1[..., :, None, :] - x2[..., None, :, :]  # (..., n, k) (..., m, k) -> (..., n, m, k)
    _, ctx = run("norm", [d], {"p": attrs.get("p", 2.0), "axis": -1, "keepdims": False})
    g = grads(ctx, np.ones(d.shape[:-1], dtype=d.dtype), [None])[0]
    if g is None:  # p = 0: a count of non-zeros, no derivative
        return np.zeros(z.shape, dtype=z.dtype)
    t1 = 0 if ts[0] is None else ts[0][..., :, None, :]
    t2 = 0 if ts[1] is None else ts[1][..., None, :, :]
    return np.sum(g * (t1 - t2), axis=-1)


_scatter_sum = linear("scatter_reduce", diff=(0, 2))


_scatter_other = transposed("scatter_reduce")


@rule("scatter_reduce")
def _scatter_reduce(ts, xs, z, attrs):
    """z = x with src reduced in at index: 'sum' and 'mean' are linear in (x, src) (the counts
    are constants), t_z = scatter_reduce(t_x, index, t_src); 'prod', 'amax', 'amin' from the
    recorded VJP (ties share the tangent equally; two zeros or more from src reduced into one place
    of a product refuse, as there)."""
    if attrs.get("reduce", "sum") not in ("sum", "mean"):
        return _scatter_other(ts, xs, z, attrs)
    return _scatter_sum(ts, xs, z, attrs)


_bag_products = multilinear("embedding_bag")


@rule("embedding_bag")
def _embedding_bag(ts, xs, z, attrs):
    """'sum'/'mean' bags: z[b] = sum (or mean) of w_i weight[id_i], linear in weight and in the
    per-sample weights w:  t_z = bag(t_weight, w) + bag(weight, t_w). 'max' has no rule."""
    if attrs.get("mode") == "max":
        raise NotImplementedError("forward_ad: no forward-mode rule for op 'embedding_bag' with mode='max'")
    return _bag_products(ts, xs, z, attrs)


_sample = linear("grid_sample")


@rule("grid_sample")
def _grid_sample(ts, xs, z, attrs):
    """z[n, c, i, j] = x sampled at grid[n, i, j] (a weighted sum of x's pixels, the weights from
    the grid): linear in x, so t_z = grid_sample(t_x, grid); plus, for a grid tangent,
    sum_k dz[n, c, i, j]/dgrid[n, i, j, k] t_grid[n, i, j, k], the derivatives of channel c taken
    from the VJP with g = 1 on channel c only (one backward per channel)."""
    out = _sample([ts[0], None], xs, z, attrs) if ts[0] is not None else 0
    if ts[1] is not None:
        _, ctx = run("grid_sample", list(xs), attrs)
        per_channel = []
        for c in range(z.shape[1]):
            g = np.zeros_like(z)
            g[:, c] = 1.0
            d_grid = ctx.fn.backward(ctx, g)[1]  # (N, H_out, W_out, 2): dz[:, c]/dgrid
            per_channel.append(np.sum(d_grid * ts[1], axis=-1))
        out = out + np.stack(per_channel, axis=1)  # (N, C, H_out, W_out)
    return out


@rule("zeta")
def _zeta(ts, xs, z, attrs):
    """z = zeta(x, q):  t_z = -x zeta(x + 1, q) t_q; none in x (PyTorch's is not implemented)."""
    from glassgrad.ops.special_zeta import hurwitz_zeta_array

    if ts[0] is not None:
        raise NotImplementedError(
            "the derivative for 'zeta' with respect to its first argument (x) is not implemented"
        )
    x, q = (np.broadcast_to(v, z.shape).astype(np.float64) for v in xs)
    return (-x * hurwitz_zeta_array(x + 1, q) * ts[1]).astype(z.dtype)


@rule("sample_node")
def _sampled(ts, xs, z, attrs):
    """The draws of a sampler (``normal``, ``bernoulli``, ``poisson``):  t_z = 0, as PyTorch's
    (its derivative is zero; the VJP's twin)."""
    return np.zeros(z.shape, dtype=z.dtype)


@rule("renorm")
def _renorm(ts, xs, z, attrs):
    """PyTorch's renorm_jvp: where(N > maxnorm, f (t - x / (N + 1e-7) t_N), t) with
    f = maxnorm / (N + 1e-7) and t_N the slice norm's tangent (the ``norm`` op's VJP of ones times
    t, summed), N in x's dtype."""
    x, t = xs[0], ts[0]
    p, axes, maxnorm = attrs.get("p", 2.0), attrs.get("axes", ()), attrs.get("maxnorm", 1.0)
    n, ctx = run("norm", [x], {"p": p, "axis": axes, "keepdims": True})
    tn = np.sum(grads(ctx, np.ones(n.shape, dtype=n.dtype), [None])[0] * t, axis=axes, keepdims=True)
    inv = 1 / (n + 1e-7)
    return np.where(n > maxnorm, (inv * maxnorm) * (t - x * inv * tn), t)


@rule("dist")
def _dist(ts, xs, z, attrs):
    """z = ||x - y||_p over every element:  t_z = sum of dz/dd (t_x - t_y), dz/dd the op's VJP of 1
    (PyTorch's norm_jvp, broadcasting included); 0 for p = 0 (a count of non-zeros)."""
    if attrs.get("p", 2.0) == 0:
        return np.zeros(np.shape(z), dtype=z.dtype)
    _, ctx = run("dist", list(xs), attrs)
    gd = grads(ctx, np.ones_like(z), [None, None])[0]  # x's: y's is its negative
    total = sum(sign * np.sum(gd * t) for sign, t in zip((1, -1), ts) if t is not None)
    return np.asarray(total, dtype=z.dtype)


@rule("unlinked")
def _unlinked(ts, xs, z, attrs):
    """z = value (a recorded gradient that also hangs from the op's inputs, ``recorded.Unlinked``):
    t_z = t_value; the inputs' paths carry no derivative, as in its VJP. Reached by
    forward-over-reverse (a ``create_graph`` backward of conv or eval batch norm in a dual level)."""
    return ts[0]


@rule("angle")
def _angle(ts, xs, z, attrs):
    """z = angle(x) of a real x (0 or pi, piecewise constant):  t_z = 0, as PyTorch's. A complex x
    refuses (forward mode is written for real primals, see ``forward_ad.make_dual``)."""
    if xs[0].dtype.kind == "c":
        raise NotImplementedError("forward_ad: no forward-mode rule for op 'angle' of a complex tensor")
    return np.zeros(np.shape(z), dtype=z.dtype)
