"""A shared test problem for the optimizers: a Rosenbrock chain over several parameters.

``f(x) = Σ_i (1 - x_i)² + 5 (x_{i+1} - x_i²)²`` on the concatenation ``x`` of all parameters, so
gradients couple parameters, change sign and differ in scale across coordinates. Gradients are
computed in NumPy from each library's own current values, so both follow their own trajectory.
"""

from __future__ import annotations

import numpy as np

SHAPES = [(3, 4), (4,), ()]  # a matrix, a vector and a scalar parameter


def initial_values(dtype: np.dtype = np.float64, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [(0.5 * rng.standard_normal(s)).astype(dtype) for s in SHAPES]


def loss(arrays: list[np.ndarray]) -> float:
    x = np.concatenate([a.reshape(-1) for a in arrays]).astype(np.float64)
    return float(np.sum((1 - x) ** 2) + 5 * np.sum((x[1:] - x[:-1] ** 2) ** 2))


def grads(arrays: list[np.ndarray], sign: float = 1.0) -> list[np.ndarray]:
    """∂f/∂(each array), in each array's dtype; ``sign=-1`` gives the gradient of -f."""
    x = np.concatenate([a.reshape(-1) for a in arrays])
    g = -2 * (1 - x)
    r = x[1:] - x[:-1] ** 2  # (n-1,) the chain's residuals
    g[:-1] += -20 * x[:-1] * r
    g[1:] += 10 * r
    g = sign * g
    out, start = [], 0
    for a in arrays:
        out.append(g[start : start + a.size].reshape(a.shape).astype(a.dtype))
        start += a.size
    return out
