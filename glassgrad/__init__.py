"""glassgrad: a glass-box deep-learning library on NumPy, with PyTorch's names and semantics."""

from glassgrad import autograd
from glassgrad.autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from glassgrad.dtypes import (
    bool,
    float16,
    float32,
    float64,
    get_default_dtype,
    int32,
    int64,
    long,
    set_default_dtype,
)
from glassgrad.random import Generator, manual_seed, seed
from glassgrad.tensor import Tensor, tensor

__version__ = "0.1.0"

__all__ = [
    "Tensor",
    "tensor",
    "autograd",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "float16",
    "float32",
    "float64",
    "int32",
    "int64",
    "long",
    "bool",
    "get_default_dtype",
    "set_default_dtype",
    "manual_seed",
    "seed",
    "Generator",
]
