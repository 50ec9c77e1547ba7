"""Toy datasets made on the fly: logic gates (XOR, AND, ...), interleaved spirals and two moons.

Random ones draw from ``glassgrad.random`` (``generator=`` or the global generator that
``manual_seed`` seeds), so a seed reproduces them.
"""

from __future__ import annotations

import numpy as np

from glassgrad.random import Generator, get_generator
from glassgrad.tensor import Tensor

__all__ = ["xor", "logic_gate", "spirals", "moons", "GATES"]

#: Truth tables over the inputs (0,0), (0,1), (1,0), (1,1).
GATES: dict[str, tuple[int, int, int, int]] = {
    "and": (0, 0, 0, 1),
    "or": (0, 1, 1, 1),
    "nand": (1, 1, 1, 0),
    "nor": (1, 0, 0, 0),
    "xor": (0, 1, 1, 0),
    "xnor": (1, 0, 0, 1),
}


def logic_gate(name: str) -> tuple[Tensor, Tensor]:
    """The four input pairs of a two-input logic gate and its outputs.

    Args:
        name: one of ``'and'``, ``'or'``, ``'nand'``, ``'nor'``, ``'xor'``, ``'xnor'``.

    Returns:
        ``(X, y)``: X float32 of the inputs, y float32 of the outputs (0. or 1.).

    Shape:
        - X: ``(4, 2)``, rows (0,0), (0,1), (1,0), (1,1).
        - y: ``(4, 1)``.

    >>> X, y = logic_gate("and")
    >>> y.tolist()
    [[0.0], [0.0], [0.0], [1.0]]
    """
    key = name.lower() if isinstance(name, str) else name
    if key not in GATES:
        raise ValueError(f"logic_gate: expected one of {sorted(GATES)}, got {name!r}")
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)  # (4, 2)
    y = np.array(GATES[key], dtype=np.float32).reshape(4, 1)  # (4,) -> (4, 1)
    return Tensor(X, _wrap=True), Tensor(y, _wrap=True)


def xor() -> tuple[Tensor, Tensor]:
    """The XOR truth table: ``(X (4, 2) float32, y (4, 1) float32)``; not linearly separable.

    >>> X, y = xor()
    >>> X.shape, y.flatten().tolist()
    (glassgrad.Size([4, 2]), [0.0, 1.0, 1.0, 0.0])
    """
    return logic_gate("xor")


def spirals(
    n_per_class: int = 100, n_classes: int = 3, noise: float = 0.2, generator: Generator | None = None
) -> tuple[Tensor, Tensor]:
    """Interleaved spiral arms in the plane, one per class (the CS231n spiral data).

    Arm ``k`` has points at radius ``r`` in ``[0, 1]`` and angle ``4k + 4r`` (radians) plus Gaussian
    noise of std ``noise`` on the angle, so no straight line separates two arms.

    Args:
        n_per_class: points per arm.
        n_classes: number of arms (classes).
        noise: std of the angular noise.
        generator: the random source (default: the global one).

    Returns:
        ``(X, y)``: X float32 points, y int64 class labels, grouped by class (shuffle when loading).

    Shape:
        - X: ``(n_per_class * n_classes, 2)``.
        - y: ``(n_per_class * n_classes,)``.
    """
    if n_per_class < 1 or n_classes < 1:
        raise ValueError(
            f"spirals: expected n_per_class >= 1 and n_classes >= 1, got {n_per_class} and {n_classes}"
        )
    rng = get_generator(generator)
    r = np.tile(np.linspace(0.0, 1.0, n_per_class), n_classes)  # (K * n,)
    k = np.repeat(np.arange(n_classes), n_per_class)  # (K * n,)
    theta = 4.0 * k + 4.0 * r + rng.standard_normal(r.shape) * noise  # (K * n,)
    X = np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1).astype(np.float32)  # (K * n, 2)
    return Tensor(X, _wrap=True), Tensor(k.astype(np.int64), _wrap=True)


def moons(n: int = 200, noise: float = 0.1, generator: Generator | None = None) -> tuple[Tensor, Tensor]:
    """Two interleaving half circles (like scikit-learn's ``make_moons``, not shuffled).

    The upper moon (class 0) is the unit half circle; the lower one (class 1) is the same shape
    shifted by (1, -0.5) and flipped. Gaussian noise of std ``noise`` is added to every coordinate.

    Args:
        n: total number of points (``n // 2`` in class 0, the rest in class 1).
        noise: std of the Gaussian noise.
        generator: the random source (default: the global one).

    Returns:
        ``(X, y)``: X float32 points, y int64 labels.

    Shape:
        - X: ``(n, 2)``.
        - y: ``(n,)``.
    """
    if n < 2:
        raise ValueError(f"moons: expected n >= 2, got {n}")
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0.0, np.pi, n_out)  # (n_out,)
    t_in = np.linspace(0.0, np.pi, n_in)  # (n_in,)
    x = np.concatenate([np.cos(t_out), 1.0 - np.cos(t_in)])  # (n,)
    y_coord = np.concatenate([np.sin(t_out), 1.0 - np.sin(t_in) - 0.5])  # (n,)
    X = np.stack([x, y_coord], axis=1)  # (n, 2)
    if noise:
        X = X + get_generator(generator).standard_normal(X.shape) * noise
    labels = np.concatenate([np.zeros(n_out, dtype=np.int64), np.ones(n_in, dtype=np.int64)])  # (n,)
    return Tensor(X.astype(np.float32), _wrap=True), Tensor(labels, _wrap=True)
