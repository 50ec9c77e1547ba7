"""Gradcheck cases for ops/reduce_more.py and ops/cumulative.py: order statistics (median,
nanmedian, kthvalue, mode), NaN-aware sums and means, the scans (cumprod with exact zeros, cummax/
cummin, logcumsumexp), msort, and var_mean/std_mean/aminmax over the existing primitives. The
order statistics take ``distinct_values``: two continuous draws closer than the finite-difference
step (a near tie, 6e-7 apart in one hypothesis example) would swap places under the step."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import glassgrad as gg
from tests.ops.cases_reduce import dims
from tests.ops.harness import case, distinct_values, shapes, values


def _one_dim(draw, shape: tuple) -> int:
    return draw(st.integers(-max(len(shape), 1), max(len(shape), 1) - 1))


def _with_nans(draw, x: np.ndarray) -> np.ndarray:
    """x with some elements set to NaN (the NaN-aware ops give them a zero gradient)."""
    if x.size and draw(st.booleans()):
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        x = np.where(rng.random(x.shape) < 0.3, np.nan, x)
    return x


@case("median")
def _median_all(draw):
    method = draw(st.sampled_from(["median", "nanmedian"]))
    x = distinct_values(draw, draw(shapes(min_side=1)))
    if method == "nanmedian":
        x = _with_nans(draw, x)
        if x.size and np.isnan(x).all():
            x.reshape(-1)[0] = 0.5  # a finite median: finite differences of NaN are NaN
    return (lambda a: getattr(a, method)()), (x,)


@case("median_dim")
def _median_dim(draw):
    shape = draw(shapes(min_side=1))
    dim, keep = _one_dim(draw, shape), draw(st.booleans())
    method = draw(st.sampled_from(["median", "nanmedian"]))
    x = distinct_values(draw, shape)
    if method == "nanmedian" and x.ndim and draw(st.booleans()):
        x[(slice(None),) * (dim % x.ndim) + (0,)] = np.nan  # one NaN per slice, never all
        if x.shape[dim] == 1:
            x = distinct_values(draw, shape)
    return (lambda a: getattr(a, method)(dim, keep).values), (x,)


@case("kthvalue")
def _kthvalue(draw):
    shape = draw(shapes(min_side=1))
    dim, keep = _one_dim(draw, shape), draw(st.booleans())
    k = draw(st.integers(1, shape[dim] if shape else 1))
    return (lambda a: a.kthvalue(k, dim, keep).values), (distinct_values(draw, shape),)


@case("mode")
def _mode(draw):
    """Distinct values: every one is as frequent, so the mode is the smallest."""
    shape = draw(shapes(min_side=1))
    dim, keep = _one_dim(draw, shape), draw(st.booleans())
    return (lambda a: a.mode(dim, keep).values), (distinct_values(draw, shape),)


@case("index_along")
def _running_extremes_and_msort(draw):
    shape = draw(shapes(min_dims=1))
    dim = _one_dim(draw, shape)
    kind = draw(st.sampled_from(["cummax", "cummin", "msort"]))
    if kind == "msort":
        return (lambda a: a.msort()), (distinct_values(draw, shape),)
    return (lambda a: getattr(a, kind)(dim).values), (distinct_values(draw, shape),)


@case("nansum")
@case("nanmean")
def _nan_reductions(draw):
    shape = draw(shapes())
    dim, keep = draw(dims(len(shape))), draw(st.booleans())
    method = draw(st.sampled_from(["nansum", "nanmean"]))
    x = _with_nans(draw, values(draw, shape))
    if method == "nanmean":  # a slice of NaNs only has no mean (nan): keep one number per slice
        x = np.where(np.isnan(x).all(axis=None if dim is None else dim, keepdims=True), 0.25, x)
    return (lambda a: getattr(a, method)(dim, keep)), (x,)


@case("cumprod")
def _cumprod(draw):
    shape = draw(shapes(min_dims=1))
    dim = _one_dim(draw, shape)
    x = np.asarray(values(draw, shape, 0.5, 1.5) * np.where(values(draw, shape) > 0, 1.0, -1.0))
    for _ in range(draw(st.integers(0, 2))):  # exact zeros, possibly two in one slice
        x.reshape(-1)[draw(st.integers(0, x.size - 1))] = 0.0
    return (lambda a: a.cumprod(dim)), (x,)


@case("logcumsumexp")
def _logcumsumexp(draw):
    shape = draw(shapes(min_dims=1))
    dim = _one_dim(draw, shape)
    return (lambda a: a.logcumsumexp(dim)), (values(draw, shape, -5.0, 5.0),)


@case("var")
@case("std")
@case("mean")
def _moments_and_mean(draw):
    shape = draw(shapes(min_dims=1, min_side=2))
    dim, keep = draw(dims(len(shape))), draw(st.booleans())
    fn = draw(st.sampled_from([gg.var_mean, gg.std_mean]))
    correction = draw(st.sampled_from([0, 1]))

    def f(a):
        spread, mean = fn(a, dim, keepdim=keep, correction=correction)
        return spread + 3 * mean  # both outputs seeded together

    return f, (values(draw, shape),)


@case("amax")
@case("amin")
def _aminmax(draw):
    shape = draw(shapes(min_side=1))
    dim = None if draw(st.booleans()) else _one_dim(draw, shape)
    keep = draw(st.booleans())

    def f(a):
        lo, hi = gg.aminmax(a, dim=dim, keepdim=keep)
        return lo * 2 + hi

    return f, (distinct_values(draw, shape),)
