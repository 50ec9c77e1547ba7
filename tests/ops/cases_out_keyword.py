"""Example calls for ``test_out_keyword.py``: one or more per top-level function that takes PyTorch's
``out=``. Each case maps an id to ``(name, make)``, where ``make(m)`` builds the positional and
keyword arguments with the library ``m`` (``torch`` or ``glassgrad``), so both see the same call."""

from __future__ import annotations

from typing import Any

A = [[0.5, -1.5, 2.0], [3.0, -0.25, 1.0]]  # mixed signs
B = [[1.0, -1.5, -2.0], [0.5, 4.0, 1.0]]  # ties A in one place
P = [[0.5, 1.5, 2.0], [3.0, 0.25, 1.0]]  # positive
U = [[0.5, -0.2, 0.1], [0.9, -0.7, 0.0]]  # inside (-1, 1)
I1 = [[5, -3, 2], [7, 0, -4]]
I2 = [[3, 6, -1], [2, 5, 3]]
MASK = [[True, False, True], [False, False, True]]
SPECIAL = [[float("nan"), float("inf"), -1.0], [float("-inf"), 2.0, float("nan")]]


def _one(x: Any) -> Any:
    return lambda m: ((m.tensor(x),), {})


def _two(x: Any, y: Any) -> Any:
    return lambda m: ((m.tensor(x), m.tensor(y)), {})


def _pairs(m: Any) -> tuple:
    return (m.tensor(A[0]), m.tensor(B[0])), {}


CASES: dict[str, tuple[str, Any]] = {
    "acos": ("acos", _one(U)),
    "acosh": ("acosh", lambda m: ((m.tensor(P) + 1,), {})),
    "all": ("all", _one(MASK)),
    "all_dim": ("all", lambda m: ((m.tensor(MASK), 1), {})),
    "amax": ("amax", lambda m: ((m.tensor(A), 1), {})),
    "amin": ("amin", lambda m: ((m.tensor(A), 0), {"keepdim": True})),
    "angle": ("angle", _one(A)),
    "erf": ("erf", _one(A)),
    "erfinv": ("erfinv", _one(U)),
    "exp2": ("exp2", _one(A)),
    "expm1": ("expm1", _one(A)),
    "logit": ("logit", _one([[0.2, 0.5, 0.9], [0.05, 0.7, 0.4]])),
    "logit_eps": ("logit", lambda m: ((m.tensor(U),), {"eps": 0.1})),
    "xlogy": ("xlogy", _two(P, A)),
    "any": ("any", _one(MASK)),
    "any_dim": ("any", lambda m: ((m.tensor(MASK), 0), {})),
    "asin": ("asin", _one(U)),
    "asinh": ("asinh", _one(A)),
    "atan": ("atan", _one(A)),
    "atan2": ("atan2", _two(A, B)),
    "atanh": ("atanh", _one(U)),
    "bernoulli": ("bernoulli", _one([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]])),  # certain outcomes
    "bitwise_and": ("bitwise_and", _two(I1, I2)),
    "bitwise_left_shift": ("bitwise_left_shift", _two(I1, [[1, 2, 0], [3, 1, 2]])),
    "bitwise_not": ("bitwise_not", _one(I1)),
    "bitwise_or": ("bitwise_or", _two(I1, I2)),
    "bitwise_right_shift": ("bitwise_right_shift", _two(I1, [[1, 2, 0], [3, 1, 2]])),
    "bitwise_xor": ("bitwise_xor", _two(I1, I2)),
    "ceil": ("ceil", _one(A)),
    "clamp": ("clamp", lambda m: ((m.tensor(A), -1.0, 1.0), {})),
    "clamp_min": ("clamp", lambda m: ((m.tensor(A),), {"min": 0.0})),
    "column_stack": ("column_stack", lambda m: (([m.tensor(A[0]), m.tensor(B[0])],), {})),
    "complex": ("complex", _two(A, B)),
    "conj_physical": ("conj_physical", lambda m: ((m.complex(m.tensor(A), m.tensor(B)),), {})),
    "copysign": ("copysign", _two(P, B)),
    "cosh": ("cosh", _one(A)),
    "cumprod": ("cumprod", lambda m: ((m.tensor(A), 1), {})),
    "cumsum": ("cumsum", lambda m: ((m.tensor(A), 0), {})),
    "cumsum_int": ("cumsum", lambda m: ((m.tensor(I1), 1), {})),
    "deg2rad": ("deg2rad", _one(A)),
    "diag": ("diag", lambda m: ((m.tensor(A[0]), 1), {})),
    "diag_of_matrix": ("diag", _one(A)),
    "diff": ("diff", lambda m: ((m.tensor(A),), {"dim": 1})),
    "dstack": ("dstack", lambda m: (([m.tensor(A), m.tensor(B)],), {})),
    "eq": ("eq", _two(A, B)),
    "float_power": ("float_power", lambda m: ((m.tensor(P), 2), {})),
    "floor": ("floor", _one(A)),
    "floor_divide": ("floor_divide", _two(I1, I2)),
    "fmax": ("fmax", _two(SPECIAL, A)),
    "fmin": ("fmin", _two(SPECIAL, A)),
    "fmod": ("fmod", lambda m: ((m.tensor(A), 0.75), {})),
    "gather": ("gather", lambda m: ((m.tensor(A), 1, m.tensor([[2, 0], [1, 1]])), {})),
    "ge": ("ge", _two(A, B)),
    "gt": ("gt", _two(A, B)),
    "hypot": ("hypot", _two(A, B)),
    "index_select": ("index_select", lambda m: ((m.tensor(A), 1, m.tensor([2, 0, 2, 1])), {})),
    "isneginf": ("isneginf", _one(SPECIAL)),
    "isposinf": ("isposinf", _one(SPECIAL)),
    "le": ("le", _two(A, B)),
    "lgamma": ("lgamma", _one(P)),
    "log10": ("log10", _one(P)),
    "log2": ("log2", _one(P)),
    "logaddexp": ("logaddexp", _two(A, B)),
    "logaddexp2": ("logaddexp2", _two(A, B)),
    "logcumsumexp": ("logcumsumexp", lambda m: ((m.tensor(A), 1), {})),
    "logical_and": ("logical_and", _two(A, I1)),
    "logical_not": ("logical_not", _one(I1)),
    "logical_or": ("logical_or", _two(MASK, I1)),
    "logical_xor": ("logical_xor", _two(A, I1)),
    "logsumexp": ("logsumexp", lambda m: ((m.tensor(A), 1), {})),
    "lt": ("lt", _two(A, B)),
    "masked_select": ("masked_select", _two(A, MASK)),
    "max": ("max", _one(A)),
    "max_dim": ("max", lambda m: ((m.tensor(A), 1), {})),
    "max_other": ("max", _two(A, B)),
    "maximum": ("maximum", _two(A, B)),
    "mean": ("mean", _one(A)),
    "mean_dim": ("mean", lambda m: ((m.tensor(A), 1), {"keepdim": True})),
    "min": ("min", _one(A)),
    "min_dim": ("min", lambda m: ((m.tensor(A), 0), {})),
    "minimum": ("minimum", _two(A, B)),
    "msort": ("msort", _one(A)),
    "multinomial": ("multinomial", lambda m: ((m.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 2.0]]), 1), {})),
    "nan_to_num": ("nan_to_num", lambda m: ((m.tensor(SPECIAL),), {"nan": 7.0, "posinf": 9.0})),
    "nanmean": (
        "nanmean",
        lambda m: ((m.tensor([[float("nan"), 1.0, 2.0], [3.0, float("nan"), 4.0]]), 1), {}),
    ),
    "ne": ("ne", _two(A, B)),
    "neg": ("neg", _one(A)),
    "nextafter": ("nextafter", _two(A, B)),
    "norm": ("norm", _one(A)),
    "norm_dim": ("norm", lambda m: ((m.tensor(A),), {"dim": 1})),
    "outer": ("outer", _pairs),
    "polar": ("polar", _two(P, A)),
    "pow": ("pow", lambda m: ((m.tensor(A), 2), {})),
    "pow_tensors": ("pow", _two(P, A)),
    "rad2deg": ("rad2deg", _one(A)),
    "reciprocal": ("reciprocal", _one(P)),
    "remainder": ("remainder", _two(I1, I2)),
    "round": ("round", _one([[0.5, 1.5, -2.5], [2.4, -0.6, 3.5]])),
    "sgn": ("sgn", _one(A)),
    "sign": ("sign", _one(A)),
    "signbit": ("signbit", _one(A)),
    "sinh": ("sinh", _one(A)),
    "square": ("square", _one(A)),
    "std": ("std", lambda m: ((m.tensor(A), 1), {})),
    "std_mean": ("std_mean", lambda m: ((m.tensor(A), 1), {})),
    "take_along_dim": ("take_along_dim", lambda m: ((m.tensor(A), m.tensor([[2, 0], [1, 1]]), 1), {})),
    "tan": ("tan", _one(A)),
    "tril": ("tril", _one(A)),
    "triu": ("triu", lambda m: ((m.tensor(A), 1), {})),
    "trunc": ("trunc", _one(A)),
    "var": ("var", lambda m: ((m.tensor(A), 0), {})),
    "var_mean": ("var_mean", lambda m: ((m.tensor(A),), {})),
    # functions of several results (also before the 95 above took out=, these did not)
    "aminmax": ("aminmax", lambda m: ((m.tensor(A),), {"dim": 1})),
    "cummax": ("cummax", lambda m: ((m.tensor(A), 1), {})),
    "cummin": ("cummin", lambda m: ((m.tensor(A), 0), {})),
    "kthvalue": ("kthvalue", lambda m: ((m.tensor(A), 2, 1), {})),
    "median_dim": ("median", lambda m: ((m.tensor(A), 1), {})),
    "mode": ("mode", lambda m: ((m.tensor([[1.0, 2.0, 2.0], [3.0, 3.0, 1.0]]), 1), {})),
    "nanmedian_dim": ("nanmedian", lambda m: ((m.tensor(SPECIAL), 0), {})),
    "sort": ("sort", lambda m: ((m.tensor(A), 1), {"descending": True})),
    "topk": ("topk", lambda m: ((m.tensor(A), 2), {})),
    "where": ("where", lambda m: ((m.tensor(MASK), m.tensor(A), m.tensor(B)), {})),
    # the fourteenth session's survey of PyTorch's parser stubs (tests/porting/test_torch_keywords.py)
    "argmax": ("argmax", lambda m: ((m.tensor(A), 1), {})),
    "argmin": ("argmin", lambda m: ((m.tensor(A),), {})),
    "nonzero": ("nonzero", _one(A)),
    "softmax": ("softmax", lambda m: ((m.tensor(A), 1), {})),
    "log_softmax": ("log_softmax", lambda m: ((m.tensor(A), 0), {})),
    "take": ("take", lambda m: ((m.tensor(A), m.tensor([[0, 5], [2, 2]])), {})),
    "frac": ("frac", _one(A)),
    "absolute": ("absolute", _one(A)),
    "scatter": ("scatter", lambda m: ((m.tensor(A), 1, m.tensor([[2, 0]]), m.tensor(B)), {})),
    "scatter_add": ("scatter_add", lambda m: ((m.tensor(A), 1, m.tensor([[2, 2]]), m.tensor(B)), {})),
    "scatter_reduce": (
        "scatter_reduce",
        lambda m: ((m.tensor(A), 1, m.tensor([[2, 2]]), m.tensor(B), "amax"), {}),
    ),
    "index_add": ("index_add", lambda m: ((m.tensor(A), 1, m.tensor([2, 0]), m.tensor(P)[:, :2]), {})),
    "index_copy": ("index_copy", lambda m: ((m.tensor(A), 1, m.tensor([2, 0]), m.tensor(P)[:, :2]), {})),
    "row_stack": ("row_stack", lambda m: (([m.tensor(A), m.tensor(B)],), {})),
    "nansum": ("nansum", lambda m: ((m.tensor(SPECIAL), 1), {})),
    "sum_dim": ("sum", lambda m: ((m.tensor(A), 1), {})),
    "sum_int": ("sum", lambda m: ((m.tensor(I1), 0), {})),
    "prod_dim": ("prod", lambda m: ((m.tensor(P), 1), {})),
    # out= of the deprecated torch.qr/torch.svd and of torch.slogdet (the keyword-only survey)
    "qr": ("qr", lambda m: ((m.tensor(A).T,), {})),
    "svd": ("svd", lambda m: ((m.tensor(A).T,), {})),  # (the singular vectors' signs agree here)
    "slogdet": ("slogdet", lambda m: ((m.tensor(A)[:, :2],), {})),
}
