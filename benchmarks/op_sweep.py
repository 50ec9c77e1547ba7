"""``python -m benchmarks.op_sweep [--threads T] [--scale S] [--only NAME ...]``: one op at a time.

The workloads (``python -m benchmarks``) time whole training steps; this times single ops and
modules, forward and backward (``op(x).sum().backward()``), in both libraries on the same input,
and prints glassgrad's time over PyTorch's, worst first. It is for finding outliers: an op many
times slower than PyTorch's while its neighbours are not is usually a slow NumPy path (the ninth
session found x ** 3 at 200x, sigmoid at 15x, topk at 11x, reflect padding at 7x this way). Ratios
of 2 to 5 on large elementwise ops are the expected cost of NumPy's one pass per ufunc against
PyTorch's fused loops. ``--scale`` multiplies the first dim (0.1 for a quick look).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import timeit
from typing import Any, Callable

__all__ = ["CASES", "sweep", "main"]


def _shape(shape: tuple[int, ...], scale: float) -> tuple[int, ...]:
    """The case's shape with its first dim (the batch, or time) scaled, at least 1."""
    return (max(1, math.ceil(shape[0] * scale)),) + shape[1:]


def _unary(name: str) -> Callable[[Any], Callable]:
    return lambda lib: lambda x: getattr(lib, name)(x)


def _f(name: str, **kw: Any) -> Callable[[Any], Callable]:
    return lambda lib: lambda x: getattr(lib.nn.functional, name)(x, **kw)


def _module(name: str, *args: Any, **kw: Any) -> Callable[[Any], Callable]:
    return lambda lib: getattr(lib.nn, name)(*args, **kw)


def _first(name: str, *args: Any, **kw: Any) -> Callable[[Any], Callable]:
    """A module whose first output is the one timed (RNN, MultiheadAttention)."""

    def build(lib: Any) -> Callable:
        m = getattr(lib.nn, name)(*args, **kw)
        return lambda x: m(x, x, x)[0] if name == "MultiheadAttention" else m(x)[0]

    return build


#: name -> (builder taking the library module, input shape, kind of input).
CASES: dict[str, tuple[Callable, tuple[int, ...], str]] = {
    **{n: (_unary(n), (64, 64, 192), "normal") for n in ("exp", "tanh", "sigmoid", "erf", "log1p")},
    "log": (_unary("log"), (64, 64, 192), "positive"),
    "sqrt": (_unary("sqrt"), (64, 64, 192), "positive"),
    "pow 3": (lambda lib: lambda x: x**3, (64, 64, 192), "normal"),
    "pow 1.5": (lambda lib: lambda x: x**1.5, (64, 64, 192), "positive"),
    "gelu": (_f("gelu"), (64, 64, 192), "normal"),
    "gelu tanh": (_f("gelu", approximate="tanh"), (64, 64, 192), "normal"),
    "silu": (_f("silu"), (64, 64, 192), "normal"),
    "elu": (_f("elu"), (64, 64, 192), "normal"),
    "softmax": (lambda lib: lambda x: lib.softmax(x, -1), (64, 64, 192), "normal"),
    "log_softmax": (lambda lib: lambda x: lib.log_softmax(x, -1), (64, 64, 192), "normal"),
    "cumsum": (lambda lib: lambda x: lib.cumsum(x, -1), (64, 4096), "normal"),
    "topk 10": (lambda lib: lambda x: x.topk(10, -1)[0], (256, 1000), "normal"),
    "sort": (lambda lib: lambda x: x.sort(-1)[0], (256, 1000), "normal"),
    "Linear 512": (_module("Linear", 512, 512), (64, 512), "normal"),
    "Conv2d 16-32 k3": (_module("Conv2d", 16, 32, 3, padding=1), (16, 16, 32, 32), "normal"),
    "Conv2d 3-16 k5 s2": (_module("Conv2d", 3, 16, 5, stride=2), (16, 3, 64, 64), "normal"),
    "ConvTranspose2d k4 s2": (
        _module("ConvTranspose2d", 16, 8, 4, stride=2, padding=1),
        (16, 16, 16, 16),
        "normal",
    ),
    "MaxPool2d 2": (_module("MaxPool2d", 2), (16, 32, 32, 32), "normal"),
    "AdaptiveAvgPool2d 1": (_module("AdaptiveAvgPool2d", 1), (16, 64, 16, 16), "normal"),
    "BatchNorm2d": (_module("BatchNorm2d", 32), (16, 32, 32, 32), "normal"),
    "LayerNorm": (_module("LayerNorm", 256), (64, 64, 256), "normal"),
    "GroupNorm": (_module("GroupNorm", 8, 32), (16, 32, 32, 32), "normal"),
    "Dropout": (_module("Dropout", 0.1), (64, 64, 512), "normal"),
    "Embedding": (_module("Embedding", 1000, 64), (64, 128), "ids"),
    "reflect pad": (_f("pad", pad=(2, 2, 2, 2), mode="reflect"), (8, 16, 64, 64), "normal"),
    "Upsample bilinear": (_module("Upsample", scale_factor=2, mode="bilinear"), (16, 16, 32, 32), "normal"),
    "MultiheadAttention": (_first("MultiheadAttention", 128, 4, batch_first=True), (16, 64, 128), "normal"),
    "GRU": (_first("GRU", 64, 128), (30, 16, 64), "normal"),
    "LSTM 2 bi": (_first("LSTM", 64, 64, 2, bidirectional=True), (30, 16, 64), "normal"),
}


def _input(lib: Any, shape: tuple[int, ...], kind: str) -> Any:
    import numpy as np

    rng = np.random.default_rng(0)
    if kind == "ids":
        return lib.tensor(rng.integers(0, 1000, size=shape))
    a = rng.standard_normal(shape).astype(np.float32) * 2
    if kind == "positive":
        a = np.abs(a) + np.float32(0.1)
    return lib.tensor(a, requires_grad=True)


def _time(lib: Any, build: Callable, shape: tuple[int, ...], kind: str, number: int, repeat: int) -> float:
    """Best of ``repeat`` runs of ``number`` forward + backward calls, in microseconds per call."""
    lib.manual_seed(0)
    op, x = build(lib), _input(lib, shape, kind)

    def step() -> None:
        op(x).sum().backward()

    step()  # warm-up (and lazy initialisation)
    return min(timeit.repeat(step, number=number, repeat=repeat)) / number * 1e6


def sweep(
    names: list[str], scale: float = 1.0, number: int = 5, repeat: int = 5
) -> list[tuple[str, float, float]]:
    """``(name, glassgrad us, torch us)`` per case, in ``CASES`` order."""
    import torch

    import glassgrad

    rows = []
    for name in names:
        build, shape, kind = CASES[name]
        s = _shape(shape, scale)
        ours = _time(glassgrad, build, s, kind, number, repeat)
        rows.append((name, ours, _time(torch, build, s, kind, number, repeat)))
    return rows


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.op_sweep", description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1, help="threads for both libraries (default 1)")
    p.add_argument("--scale", type=float, default=1.0, help="multiply the first dim of each shape")
    p.add_argument("--number", type=int, default=5, help="calls per timing (best of 5 timings)")
    p.add_argument("--only", nargs="*", default=None, metavar="NAME", help="cases to run (default: all)")
    args = p.parse_args(argv)
    names = list(CASES) if not args.only else args.only
    unknown = [n for n in names if n not in CASES]
    if unknown:
        p.error(f"unknown case(s) {unknown}; known: {list(CASES)}")
    import torch

    import glassgrad

    torch.set_num_threads(args.threads)
    glassgrad.set_num_threads(args.threads)
    rows = sweep(names, args.scale, args.number)
    print("| op (forward + backward) | glassgrad | torch | glassgrad / torch |")
    print("| --- | ---: | ---: | ---: |")
    for name, ours, theirs in sorted(rows, key=lambda r: -r[1] / r[2]):
        print(f"| {name} | {ours:,.0f} us | {theirs:,.0f} us | {ours / theirs:.2f}x |")
    return 0


if __name__ == "__main__":
    threads = next((a.split("=")[1] for a in sys.argv if a.startswith("--threads=")), None)
    if threads is None and "--threads" in sys.argv:
        threads = sys.argv[sys.argv.index("--threads") + 1]
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, threads or "1")  # before NumPy loads its BLAS
    sys.exit(main(sys.argv[1:]))
