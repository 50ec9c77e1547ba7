"""``BinaryOpFuzzer``: pairs ``x``, ``y`` for elementwise binary ops, as PyTorch's draws them.

Both have 1, 2 or 3 dimensions (probabilities 0.3, 0.4, 0.3). Each size ``k_i`` is, with
probability 0.8, log-uniform over [16, 16 Mi] and otherwise a power of two in that range (powers
of two are where kernels take special paths); ``y`` takes 1 instead of ``k_i`` with probability
0.2, to exercise broadcasting. Each dimension of each tensor is strided by 1 (0.8), 2, 4 (0.06
each), 8 or 16 (0.04 each), and each tensor is contiguous with probability 0.75. ``x`` holds
4 Ki to 32 Mi elements; neither allocation exceeds 2 GiB. ``params["random_value"]`` is a
uniform integer in [0, 2**32 - 1] for the caller's own use. (As in PyTorch, ``y`` is sliced
with ``x``'s steps; its own ``y_step_*`` parameters are drawn but unused.)
"""

from __future__ import annotations

from typing import Any

from glassgrad.utils.benchmark.fuzzer import FuzzedParameter, FuzzedTensor, Fuzzer, ParameterAlias

__all__ = ["BinaryOpFuzzer"]

_MIN_DIM_SIZE = 16
_MAX_DIM_SIZE = 16 * 1024**2
_POW_TWO_SIZES = tuple(2**i for i in range(4, 25))  # 16 ... 16 Mi


class BinaryOpFuzzer(Fuzzer):
    """``BinaryOpFuzzer(seed).take(n)`` yields ``({"x": x, "y": y}, properties, params)``."""

    def __init__(self, seed: int | None, dtype: Any = None, cuda: bool = False) -> None:
        sizes = [
            [
                FuzzedParameter(
                    f"k_any_{i}", minval=_MIN_DIM_SIZE, maxval=_MAX_DIM_SIZE, distribution="loguniform"
                )
                for i in range(3)
            ],
            [
                FuzzedParameter(
                    f"k_pow2_{i}", distribution=dict.fromkeys(_POW_TWO_SIZES, 1.0 / len(_POW_TWO_SIZES))
                )
                for i in range(3)
            ],
            [
                FuzzedParameter(
                    f"k{i}",
                    distribution={ParameterAlias(f"k_any_{i}"): 0.8, ParameterAlias(f"k_pow2_{i}"): 0.2},
                    strict=True,
                )
                for i in range(3)
            ],
            [
                FuzzedParameter(f"y_k{i}", distribution={ParameterAlias(f"k{i}"): 0.8, 1: 0.2}, strict=True)
                for i in range(3)
            ],
        ]
        steps = [
            FuzzedParameter(f"{name}_step_{i}", distribution={1: 0.8, 2: 0.06, 4: 0.06, 8: 0.04, 16: 0.04})
            for i in range(3)
            for name in ("x", "y")
        ]
        tensor_args = dict(
            steps=("x_step_0", "x_step_1", "x_step_2"),
            probability_contiguous=0.75,
            max_allocation_bytes=2 * 1024**3,
            dim_parameter="dim",
            dtype=dtype,
            cuda=cuda,
        )
        super().__init__(
            parameters=[
                FuzzedParameter("dim", distribution={1: 0.3, 2: 0.4, 3: 0.3}, strict=True),
                *sizes,
                steps,
                FuzzedParameter("random_value", minval=0, maxval=2**32 - 1, distribution="uniform"),
            ],
            tensors=[
                FuzzedTensor(
                    "x",
                    size=("k0", "k1", "k2"),
                    min_elements=4 * 1024,
                    max_elements=32 * 1024**2,
                    **tensor_args,
                ),
                FuzzedTensor("y", size=("y_k0", "y_k1", "y_k2"), **tensor_args),
            ],
            seed=seed,
        )
