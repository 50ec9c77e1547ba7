"""A line search that satisfies the strong Wolfe conditions, for ``LBFGS(line_search_fn="strong_wolfe")``.

Nocedal & Wright, *Numerical Optimization* (2nd ed.), algorithms 3.5 (bracketing) and 3.6
(zoom), with each trial step chosen by cubic interpolation, as PyTorch's ``LBFGS`` does. Along a
direction d from the point x, with φ(t) = f(x + t d), a step t is accepted when::

    φ(t) ≤ φ(0) + c₁ t φ'(0)          sufficient decrease (Armijo)
    |φ'(t)| ≤ c₂ |φ'(0)|              the slope has flattened (curvature, strong form)
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

__all__ = ["cubic_minimum", "strong_wolfe"]

#: phi(t) -> (loss, flat gradient at x + t d)
Evaluate = Callable[[float], tuple[float, np.ndarray]]


def cubic_minimum(
    t1: float,
    f1: float,
    g1: float,
    t2: float,
    f2: float,
    g2: float,
    bounds: tuple[float, float] | None = None,
) -> float:
    """The minimiser of the cubic through (t1, f1) and (t2, f2) with slopes g1 and g2, clipped to
    ``bounds`` (default: the interval between t1 and t2); the bounds' midpoint when the cubic
    has no minimum (Nocedal & Wright, eq. 3.59)."""
    lo, hi = bounds if bounds is not None else (min(t1, t2), max(t1, t2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (t1 - t2)
    disc = d1 * d1 - g1 * g2
    if disc < 0:
        return (lo + hi) / 2.0
    d2 = math.sqrt(disc)
    if t1 <= t2:
        t = t2 - (t2 - t1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        t = t1 - (t1 - t2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(t, lo), hi)


def strong_wolfe(
    phi: Evaluate,
    d: np.ndarray,
    t: float,
    f0: float,
    g0: np.ndarray,
    slope0: float,
    c1: float = 1e-4,
    c2: float = 0.9,
    tolerance_change: float = 1e-9,
    max_ls: int = 25,
) -> tuple[float, np.ndarray, float, int]:
    """Search along ``d`` from slope ``slope0 = g0 · d < 0``, starting at step ``t``.

    Returns ``(loss, flat grad, t, evaluations)`` at the accepted step (or at the best step found
    within ``max_ls`` evaluations).
    """
    d_size = float(np.abs(d).max())
    # Phase 1 (bracketing): grow t until the interval [t_prev, t] must hold an acceptable step.
    f, g = phi(t)
    evals, it = 1, 0
    slope = float(g @ d)
    t_prev, f_prev, g_prev, slope_prev = 0.0, f0, g0, slope0
    done = False
    bracket = None
    while it < max_ls:
        if f > f0 + c1 * t * slope0 or (it > 1 and f >= f_prev):
            bracket = [
                [t_prev, f_prev, g_prev, slope_prev],
                [t, f, g, slope],
            ]  # overshot: a minimum lies between
            break
        if abs(slope) <= -c2 * slope0:  # both conditions hold
            bracket, done = [[t, f, g, slope]], True
            break
        if slope >= 0:  # the slope turned upward: a minimum lies between
            bracket = [[t_prev, f_prev, g_prev, slope_prev], [t, f, g, slope]]
            break
        # still descending: extrapolate, at least 1% further and at most 10x
        t_next = cubic_minimum(
            t_prev, f_prev, slope_prev, t, f, slope, bounds=(t + 0.01 * (t - t_prev), t * 10)
        )
        t_prev, f_prev, g_prev, slope_prev = t, f, g, slope
        t = t_next
        f, g = phi(t)
        evals += 1
        slope = float(g @ d)
        it += 1
    if bracket is None:  # out of evaluations while still descending
        bracket = [[0.0, f0, g0, slope0], [t, f, g, slope]]

    # Phase 2 (zoom): shrink the bracket; `low` is always its end with the lower loss.
    low, high = (0, 1) if bracket[0][1] <= bracket[-1][1] else (1, 0)
    stalled = False
    while not done and it < max_ls:
        (ta, fa, _, sa), (tb, fb, _, sb) = bracket
        if abs(tb - ta) * d_size < tolerance_change:
            break
        t = cubic_minimum(ta, fa, sa, tb, fb, sb)
        # Keep t at least 10% of the bracket away from its ends, or the bracket may barely shrink
        # (the second time in a row t lands near an end, or when it lands outside).
        lo, hi = min(ta, tb), max(ta, tb)
        margin = 0.1 * (hi - lo)
        if min(hi - t, t - lo) < margin:
            if stalled or t >= hi or t <= lo:
                t = hi - margin if abs(t - hi) < abs(t - lo) else lo + margin
                stalled = False
            else:
                stalled = True
        else:
            stalled = False
        f, g = phi(t)
        evals += 1
        slope = float(g @ d)
        it += 1
        if f > f0 + c1 * t * slope0 or f >= bracket[low][1]:
            bracket[high] = [t, f, g, slope]  # not low enough: t becomes the high end
            low, high = (0, 1) if bracket[0][1] <= bracket[1][1] else (1, 0)
        else:
            if abs(slope) <= -c2 * slope0:
                done = True
            elif slope * (bracket[high][0] - bracket[low][0]) >= 0:
                bracket[high] = bracket[low]  # the minimum lies on the other side of t
            bracket[low] = [t, f, g, slope]
    t, f, g, _ = bracket[low]
    return f, g, t, evals
