"""JVP rules of the linear and multilinear ops: views, movement, indexing, joining, sums,
products (matmul, linear, einsum, conv). A linear op maps tangents with itself (t_z = f(t)); a
product is linear in each input separately (t_z = f(t_a, b) + f(a, t_b)). See ``jvp_rules``.
"""

from __future__ import annotations

import numpy as np

from glassgrad.autograd.jvp_rules import RULES, linear, multilinear, reduction, rule, run, scalar

__all__: list[str] = []

# Linear in input 0; the other inputs are constants (indices, masks, kernel sizes ...).
# fmt: off
for _name in (
    # conversions and copies: t_z = t converted / copied the same way
    "cast", "clone", "querylayoutcopy",
    # views and movement: t_z = the same view / movement of t
    "reshape", "permute", "expand", "repeat", "flip", "roll", "tril", "triu", "split", "piece",
    "diagonal", "diag_embed", "tensor_unfold", "index_pad", "unfold", "fold",
    # indexing by constant indices: t_z = t at the same indices
    "getitem", "gather", "index_along", "maxmin_dim", "median_dim", "kthvalue", "mode", "resample", "embedding",
    # sums and averages: t_z = the same sum / average of t
    "sum", "mean", "cumsum", "avg_pool2d", "avg_pool3d",
    # sparse values: t_z = the same layout of t_values
    "sparse_to_dense", "sparse_coalesce",
):
    linear(_name)
# fmt: on

# Affine ops whose constant part is a fill value: its tangent is 0.
linear("masked_fill", value=0.0)  # z = value where mask else x:  t_z = 0 where mask else t_x
linear("pad", value=0.0)  # z = x padded with value:  t_z = t_x padded with 0

# Jointly linear in several inputs (zeros stand for a missing tangent).
linear("cat", diff=None)  # t_z = cat(t_1, ..., t_n)
linear("stack", diff=None)  # t_z = stack(t_1, ..., t_n)
linear("overwrite", diff=None, value=0.0)  # z = v (or a constant) written over x:  t_z = t_v (or 0)
linear("setitem", diff=(0, 1))  # z = x with z[key] = v:  t_z = t_x with t_z[key] = t_v
linear("index_put", diff=(0, 1))  # z = x with z[idx] (+)= v:  t_z = t_x with t_z[idx] (+)= t_v
linear("index_add", diff=(0, 2))  # z = x + alpha scatter(src):  same with t_x, t_src
linear("index_copy", diff=(0, 2))
linear("masked_scatter", diff=(0, 2))
linear("scatter", diff=(0, 2))
linear("scatter_add", diff=(0, 2))
# The complex-to-real inverse FFT (irfft*, hfft*) is real-linear in its input (Hermitian bins it
# drops or conjugates are dropped or conjugated the same way for the tangent): t_z = irfft(t).
linear("irfft")
# The transforms of a real input (fft*, ifft*, rfft*: one primitive each over any dims) are linear
# too: t_z = the same transform of t, complex (what a complex tangent meets next must have a rule).
for _name in ("fft", "ifft", "rfft"):
    linear(_name)

# Products: linear in each input separately.
multilinear("matmul")  # z = a @ b:  t_z = t_a @ b + a @ t_b
multilinear("sparse_mm")  # z = S(v) @ d:  t_z = S(t_v) @ d + S(v) @ t_d


multilinear("einsum", diff=None)  # t_z = sum_i einsum(x_1, .., t_i, .., x_n)


@rule("linear")
def _linear(ts, xs, z, attrs):
    """z = x W^T + b:  t_z = t_x W^T + x t_W^T + t_b."""
    x, w = xs[0], xs[1]
    tx, tw = ts[0], ts[1]
    tb = ts[2] if len(ts) > 2 else None
    out = 0
    if tx is not None:
        out = out + run("linear", [tx, w, None], {})[0]
    if tw is not None:
        out = out + run("linear", [x, tw, None], {})[0]
    if tb is not None:
        out = out + tb  # (out,) broadcasts over (*, out)
    return out


def _conv(name: str):
    def jvp(ts, xs, z, attrs):
        x, w = xs[0], xs[1]
        tx, tw, tb = ts[0], ts[1], ts[2] if len(ts) > 2 else None
        out = 0
        if tx is not None:
            out = out + run(name, [tx, w, None], attrs)[0]
        if tw is not None:
            out = out + run(name, [x, tw, None], attrs)[0]
        if tb is not None:
            out = out + tb.reshape((1, -1) + (1,) * (z.ndim - 2))  # (C_out,) -> (1, C_out, 1, ...)
        return out

    jvp.__doc__ = f"z = {name}(x, W) + b, linear in x and in W:  t_z = {name}(t_x, W) + {name}(x, t_W) + t_b."
    rule(name)(jvp)


for _name in ("conv2d", "conv_transpose2d", "conv3d", "conv_transpose3d"):
    _conv(_name)


def _extreme(name: str, pick) -> None:
    def jvp(ts, xs, z, attrs):
        x, t = xs[0], ts[0]
        axis, keep = attrs.get("axis"), attrs.get("keepdims", False)
        hit = x == pick(x, axis=axis, keepdims=True)
        return np.sum(np.where(hit, t, 0.0), axis=axis, keepdims=keep) / np.sum(hit, axis=axis, keepdims=keep)

    jvp.__doc__ = f"z = {name} of x over axis:  t_z = the mean of t over the positions holding it (ties split evenly, as PyTorch)."
    rule(name)(jvp)


_extreme("amax", np.amax)
_extreme("amin", np.amin)

# Reductions whose derivative the VJP gives per element (see jvp_rules.reduction).
for _name in ("prod", "var", "std", "logsumexp", "norm", "nansum", "nanmean"):
    reduction(_name)
_norm_vjp_rule = RULES["norm"]


@rule("norm")
def _norm(ts, xs, z, attrs):
    """The reduction rule, but p = 0 (a count of non-zeros, no VJP) has tangent 0."""
    if attrs.get("p", 2.0) == 0:
        return np.zeros(np.shape(z), dtype=z.dtype)
    return _norm_vjp_rule(ts, xs, z, attrs)


# Ops with one number as output: t_z = <grad z, t> (the median of all of x, determinants).
rule("median")(scalar("median"))
