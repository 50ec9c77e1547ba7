"""``Fuzzer``: random benchmark inputs, drawn from declared distributions of sizes and layouts.

A ``Fuzzer`` has ``FuzzedParameter`` s (named numbers: ``loguniform`` or ``uniform`` between
``minval`` and ``maxval``, or a ``{value: probability}`` table whose values may be
``ParameterAlias("other")`` to copy another parameter) and ``FuzzedTensor`` s (a size and steps
written in parameter names, an element and byte budget, a chance of being contiguous).
``take(n)`` yields ``n`` triples ``(tensors, tensor_properties, params)``:

>>> from glassgrad.utils.benchmark import Fuzzer, FuzzedParameter, FuzzedTensor
>>> fuzzer = Fuzzer(
...     parameters=[FuzzedParameter("k", minval=4, maxval=64, distribution="loguniform")],
...     tensors=[FuzzedTensor("x", size=("k", 8), probability_contiguous=0.5)],
...     seed=0,
... )
>>> [(tuple(t["x"].shape), p["k"]) for t, _, p in fuzzer.take(2)]
[((29, 8), 29), ((13, 8), 13)]

The draws come from ``numpy.random.RandomState(seed)`` in PyTorch's order, so a seed gives the
same parameters, sizes, steps and layouts as ``torch.utils.benchmark.Fuzzer`` (the tensor
values come from glassgrad's generator, seeded from the same stream). A non-contiguous tensor
is a permuted copy permuted back, then sliced by its steps, as there. A draw that breaks a
constraint (a user predicate, or a tensor's element or byte budget) is redrawn, up to 1000 times.

One departure: a probability table must sum to 1 (PyTorch 2.x's check is inverted and refuses
every normalized table, so its ``BinaryOpFuzzer`` cannot be built).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

import glassgrad
from glassgrad.dtypes import to_np_dtype

__all__ = ["Fuzzer", "FuzzedParameter", "ParameterAlias", "FuzzedTensor"]

_DISTRIBUTIONS = ("loguniform", "uniform")


class ParameterAlias:
    """A table entry that takes the value of the parameter named ``alias_to``."""

    def __init__(self, alias_to: str) -> None:
        self.alias_to = alias_to

    def __repr__(self) -> str:
        return f"ParameterAlias[alias_to: {self.alias_to}]"


class FuzzedParameter:
    """A named random number.

    Args:
        name: the key in ``params``.
        minval, maxval: the range of ``loguniform`` (ints, log-spaced) and ``uniform`` (ints if
            both bounds are ints, else floats); inclusive.
        distribution: ``"loguniform"``, ``"uniform"`` or ``{value: probability}``.
        strict: keep the first value drawn while the other parameters are redrawn after a
            rejected set (within one draw of ``take``).
    """

    def __init__(
        self,
        name: str,
        minval: float | None = None,
        maxval: float | None = None,
        distribution: str | dict[Any, float] | None = None,
        strict: bool = False,
    ) -> None:
        if isinstance(distribution, dict):
            probs = np.asarray(list(distribution.values()), dtype=np.float64)
            if (probs < 0).any():
                raise ValueError(f"FuzzedParameter '{name}': expected probabilities >= 0, got {distribution}")
            if abs(probs.sum() - 1) > 1e-5:
                raise ValueError(
                    f"FuzzedParameter '{name}': expected probabilities summing to 1, got {probs.sum()}"
                )
            if minval is not None or maxval is not None:
                raise ValueError(f"FuzzedParameter '{name}': a probability table takes no minval or maxval")
        elif distribution in _DISTRIBUTIONS:
            if minval is None or maxval is None:
                raise ValueError(f"FuzzedParameter '{name}': expected minval and maxval for {distribution}")
        else:
            raise ValueError(
                f"FuzzedParameter '{name}': expected 'loguniform', 'uniform' or a probability dict, got {distribution!r}"
            )
        self._name = name
        self._minval, self._maxval = minval, maxval
        self._distribution = distribution
        self.strict = strict

    @property
    def name(self) -> str:
        return self._name

    def sample(self, state: np.random.RandomState) -> Any:
        lo, hi = self._minval, self._maxval
        if self._distribution == "loguniform":
            value = int(2 ** state.uniform(low=np.log2(lo), high=np.log2(hi)))
            return min(max(value, lo), hi)  # int() and float rounding can step just outside
        if self._distribution == "uniform":
            if isinstance(lo, int) and isinstance(hi, int):
                return int(state.randint(low=lo, high=hi + 1))
            return state.uniform(low=lo, high=hi)
        keys = list(self._distribution)
        return keys[state.choice(np.arange(len(keys)), p=tuple(self._distribution.values()))]


def dtype_size(dtype: Any) -> int:
    """Bytes per element of a glassgrad dtype."""
    return to_np_dtype(dtype).itemsize


def prod(values: Any, base: int = 1) -> int:
    """The product as a Python int (no overflow)."""
    return math.prod((int(v) for v in values), start=int(base))


class FuzzedTensor:
    """A random tensor whose size, steps and layout come from the fuzzer's parameters.

    Args:
        name: the key in ``tensors``.
        size: one int or parameter name per dimension.
        steps: strides of the slice taken from a larger allocation (ints or names; default 1).
        probability_contiguous: the chance the tensor keeps its row-major layout.
        min_elements, max_elements, max_allocation_bytes: budgets; a draw outside is redrawn.
        dim_parameter: a parameter that sets the number of dimensions (size and steps are cut
            or padded with 1).
        roll_parameter: accepted for PyTorch's signature; unused there too.
        dtype: the element type (default ``float32``).
        cuda: must be False.
        tensor_constructor: ``f(size=..., dtype=..., **params)`` making the raw allocation;
            default ``rand`` for floats, ``randint(1, 127)`` for integers.
    """

    def __init__(
        self,
        name: str,
        size: tuple[str | int, ...],
        steps: tuple[str | int, ...] | None = None,
        probability_contiguous: float = 0.5,
        min_elements: int | None = None,
        max_elements: int | None = None,
        max_allocation_bytes: int | None = None,
        dim_parameter: str | None = None,
        roll_parameter: str | None = None,
        dtype: Any = None,
        cuda: bool = False,
        tensor_constructor: Callable[..., Any] | None = None,
    ) -> None:
        if cuda:
            raise RuntimeError(f"FuzzedTensor '{name}': glassgrad computes on the CPU only, got cuda=True")
        self._name = name
        self._size, self._steps = tuple(size), steps
        self._probability_contiguous = probability_contiguous
        self._min_elements, self._max_elements = min_elements, max_elements
        self._max_allocation_bytes = max_allocation_bytes
        self._dim_parameter = dim_parameter
        self._dtype = glassgrad.float32 if dtype is None else dtype
        self._tensor_constructor = tensor_constructor

    @property
    def name(self) -> str:
        return self._name

    @staticmethod
    def default_tensor_constructor(size: tuple[int, ...], dtype: Any, **kwargs: Any) -> Any:
        if dtype.is_floating_point:
            return glassgrad.rand(size, dtype=dtype)
        return glassgrad.randint(1, 127, size, dtype=dtype)

    def _get_size_and_steps(self, params: dict[str, Any]) -> tuple[tuple, tuple, tuple]:
        dim = params[self._dim_parameter] if self._dim_parameter is not None else len(self._size)

        def resolve(values: tuple) -> tuple:
            values = tuple(params.get(v, v) for v in values)[:dim]
            return values + (1,) * (dim - len(values))

        size, steps = resolve(self._size), resolve(self._steps or ())
        return size, steps, tuple(s * k for s, k in zip(size, steps))

    def satisfies_constraints(self, params: dict[str, Any]) -> bool:
        size, _, allocation = self._get_size_and_steps(params)
        n = prod(size)
        nbytes = prod(allocation, base=dtype_size(self._dtype))
        return not (
            (self._max_elements is not None and n > self._max_elements)
            or (self._min_elements is not None and n < self._min_elements)
            or (self._max_allocation_bytes is not None and nbytes > self._max_allocation_bytes)
        )

    def _make_tensor(
        self, params: dict[str, Any], state: np.random.RandomState
    ) -> tuple[Any, dict[str, Any]]:
        size, steps, allocation = self._get_size_and_steps(params)
        make = self._tensor_constructor or self.default_tensor_constructor
        raw = make(size=allocation, dtype=self._dtype, **params)
        dim = len(size)
        order = np.arange(dim)
        if state.rand() > self._probability_contiguous:
            while dim > 1 and (order == np.arange(dim)).all():
                order = state.permutation(raw.dim())
            # the same values, laid out in memory in `order`, seen in the original dim order
            raw = raw.permute(tuple(order)).contiguous().permute(tuple(np.argsort(order)))
        tensor = raw[tuple(slice(0, n * k, k) for n, k in zip(size, steps))]
        properties = {
            "numel": int(tensor.numel()),
            "order": order,
            "steps": steps,
            "is_contiguous": tensor.is_contiguous(),
            "dtype": str(self._dtype),
        }
        return tensor, properties


class Fuzzer:
    """Draw parameter sets that satisfy every constraint, and the tensors they describe.

    Args:
        parameters: ``FuzzedParameter`` s (or lists of them).
        tensors: ``FuzzedTensor`` s (or lists of them).
        constraints: predicates on the ``params`` dict; all must hold.
        seed: the ``RandomState`` seed (a random one if None).

    Raises:
        ValueError: a parameter and a tensor share a name; or no valid set in 1000 draws.
    """

    def __init__(
        self,
        parameters: list[FuzzedParameter | list[FuzzedParameter]],
        tensors: list[FuzzedTensor | list[FuzzedTensor]],
        constraints: list[Callable[[dict[str, Any]], bool]] | None = None,
        seed: int | None = None,
    ) -> None:
        if seed is None:
            seed = int(np.random.RandomState().randint(0, 2**32 - 1, dtype=np.int64))
        self._seed = seed
        self._parameters = self._unpack(parameters, FuzzedParameter)
        self._tensors = self._unpack(tensors, FuzzedTensor)
        self._constraints = tuple(constraints or ())
        overlap = {p.name for p in self._parameters} & {t.name for t in self._tensors}
        if overlap:
            raise ValueError(
                f"Fuzzer: expected distinct parameter and tensor names, got both for {sorted(overlap)}"
            )
        self._rejections = 0
        self._total_generated = 0

    @staticmethod
    def _unpack(values: list, cls: type) -> tuple:
        return tuple(itertools.chain.from_iterable([v] if isinstance(v, cls) else v for v in values))

    def take(self, n: int) -> Iterator[tuple[dict[str, Any], dict[str, dict[str, Any]], dict[str, Any]]]:
        """``n`` draws of ``(tensors, tensor_properties, params)``; the same seed gives the same draws.

        Like PyTorch's (which reseeds torch), it reseeds glassgrad's global generator
        (``manual_seed``) from the seed, so the tensor values repeat too.
        """
        state = np.random.RandomState(self._seed)
        glassgrad.manual_seed(int(state.randint(low=0, high=2**63, dtype=np.int64)))
        for _ in range(n):
            params = self._generate(state)
            tensors, properties = {}, {}
            for t in self._tensors:
                tensors[t.name], properties[t.name] = t._make_tensor(params, state)
            yield tensors, properties, params

    @property
    def rejection_rate(self) -> float:
        """The share of drawn parameter sets that broke a constraint."""
        return self._rejections / self._total_generated if self._total_generated else 0.0

    def _generate(self, state: np.random.RandomState) -> dict[str, Any]:
        kept: dict[str, Any] = {}  # strict parameters keep their first draw across retries
        for _ in range(1000):
            params: dict[str, Any] = {}
            for p in self._parameters:
                if p.strict and p.name in kept:
                    params[p.name] = kept[p.name]
                else:
                    params[p.name] = p.sample(state)
                    if p.strict:
                        kept[p.name] = params[p.name]
            params = self._resolve_aliases(params)
            self._total_generated += 1
            if all(f(params) for f in self._constraints) and all(
                t.satisfies_constraints(params) for t in self._tensors
            ):
                return params
            self._rejections += 1
        raise ValueError("Fuzzer: no parameter set met the constraints in 1000 draws")

    @staticmethod
    def _resolve_aliases(params: dict[str, Any]) -> dict[str, Any]:
        params = dict(params)
        pending = sum(isinstance(v, ParameterAlias) for v in params.values())
        while pending:
            for k, v in params.items():
                if isinstance(v, ParameterAlias):
                    params[k] = params[v.alias_to]
            left = sum(isinstance(v, ParameterAlias) for v in params.values())
            if left == pending:
                raise ValueError(f"Fuzzer: ParameterAlias cycle in {params}")
            pending = left
        return params
