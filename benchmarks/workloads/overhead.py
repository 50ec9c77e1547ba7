"""Per-op overhead micro-benchmarks: what recording one tiny op costs, where NumPy's work is nil.

``overhead.add``: ``a + b`` on two (2,) tensors that require grad (forward, graph recorded).
``overhead.matmul``: ``a @ b`` on two (2, 2) tensors that require grad (forward, graph recorded).
``overhead.function``: one custom ``Function.apply`` (y = x * x) plus ``backward`` through it, the
same class written as ``glassgrad.autograd.Function`` and as ``torch.autograd.Function``.
"""

from __future__ import annotations

import numpy as np

from benchmarks.workloads import Workload, register

__all__: list[str] = []

_STEPS = 20_000


def _inputs(seed: int, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (
        rng.standard_normal(shape).astype(np.float32),
        rng.standard_normal(shape).astype(np.float32),
    )


def _binary_gg(seed: int, shape: tuple[int, ...], op):
    import glassgrad as gg

    a_np, b_np = _inputs(seed, shape)
    a = gg.tensor(a_np, requires_grad=True)
    b = gg.tensor(b_np, requires_grad=True)
    last = [a]

    def step() -> None:
        last[0] = op(a, b)

    return step, lambda: float(last[0].detach().numpy().sum())


def _binary_torch(seed: int, shape: tuple[int, ...], op):
    import torch

    a_np, b_np = _inputs(seed, shape)
    a = torch.tensor(a_np, requires_grad=True)
    b = torch.tensor(b_np, requires_grad=True)
    last = [a]

    def step() -> None:
        last[0] = op(a, b)

    return step, lambda: float(last[0].detach().sum())


def _add(a, b):
    return a + b


def _matmul(a, b):
    return a @ b


def _function_gg(seed: int):
    import glassgrad as gg

    class Square(gg.autograd.Function):
        """y = x * x.   VJP: 2 x g."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2.0 * x * g

    x = gg.tensor(_inputs(seed, (2,))[0], requires_grad=True)
    seed_grad = gg.tensor([1.0, 1.0])

    def step() -> None:
        x.grad = None
        Square.apply(x).backward(seed_grad)

    return step, lambda: float(x.grad.numpy().sum())


def _function_torch(seed: int):
    import torch

    class Square(torch.autograd.Function):
        """y = x * x.   VJP: 2 x g."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2.0 * x * g

    x = torch.tensor(_inputs(seed, (2,))[0], requires_grad=True)
    seed_grad = torch.tensor([1.0, 1.0])

    def step() -> None:
        x.grad = None
        Square.apply(x).backward(seed_grad)

    return step, lambda: float(x.grad.sum())


register(
    Workload(
        name="overhead.add",
        group="overhead",
        description="a + b, two (2,) tensors requiring grad (forward, recorded)",
        steps=_STEPS,
        glassgrad=lambda seed: _binary_gg(seed, (2,), _add),
        torch=lambda seed: _binary_torch(seed, (2,), _add),
    )
)
register(
    Workload(
        name="overhead.matmul",
        group="overhead",
        description="a @ b, two (2, 2) tensors requiring grad (forward, recorded)",
        steps=_STEPS,
        glassgrad=lambda seed: _binary_gg(seed, (2, 2), _matmul),
        torch=lambda seed: _binary_torch(seed, (2, 2), _matmul),
    )
)
register(
    Workload(
        name="overhead.function",
        group="overhead",
        description="custom Function.apply (y = x * x) on a (2,) tensor + backward",
        steps=_STEPS,
        glassgrad=_function_gg,
        torch=_function_torch,
    )
)
