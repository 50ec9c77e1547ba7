"""The names ``__torch_function__`` covers (``torch_function.py``): the namespaces whose public
functions ask it, the ones PyTorch leaves out, and the Tensor operators that take part."""

from __future__ import annotations

__all__ = ["FACTORIES", "IGNORED", "NAMESPACES", "SHOWN_AS"]

#: Public names that PyTorch does not route through ``__torch_function__`` (its
#: ``get_ignored_functions``): they make tensors from data or change global state.
IGNORED = frozenset(
    (
        "tensor",
        "as_tensor",
        "asarray",
        "from_numpy",
        "frombuffer",
        "from_file",
        "zeros",
        "ones",
        "empty",
        "full",
        "rand",
        "randn",
        "randint",
        "randperm",
        "arange",
        "range",
        "linspace",
        "logspace",
        "eye",
        "empty_strided",
        "tril_indices",
        "triu_indices",
        "manual_seed",
        "seed",
        "initial_seed",
        "get_rng_state",
        "set_rng_state",
        "is_tensor",
        "is_storage",
        "set_default_dtype",
        "get_default_dtype",
        "set_default_tensor_type",
        "set_default_device",
        "get_default_device",
        "is_grad_enabled",
        "set_grad_enabled",
        "is_inference_mode_enabled",
        "set_printoptions",
        "save",
        "load",
        "compile",
        "typename",
        "use_deterministic_algorithms",
        "are_deterministic_algorithms_enabled",
        "set_num_threads",
        "get_num_threads",
        "set_num_interop_threads",
        "get_num_interop_threads",
        "set_float32_matmul_precision",
        "get_float32_matmul_precision",
        "is_autocast_enabled",
        "vmap",
        "set_anomaly_enabled",
        "is_anomaly_enabled",
        "from_dlpack",
        "get_autocast_dtype",
        "set_autocast_dtype",
        "is_autocast_available",
        "autocast_increment_nesting",
        "autocast_decrement_nesting",
        "clear_autocast_cache",
    )
)

#: The namespaces whose functions take part (PyTorch's ``get_overridable_functions`` covers these).
NAMESPACES = (
    "glassgrad",
    "glassgrad.functional",
    "glassgrad.nn.functional",
    "glassgrad.linalg",
    "glassgrad.fft",
    "glassgrad.special",
)
# as_subclass: PyTorch's does not ask __torch_function__ (fastai's TensorBase.clone calls
# self.as_subclass(Tensor) and relies on getting a plain Tensor back)
_TENSOR_SKIP = frozenset(("__init__", "__new__", "__getstate__", "__setstate__", "__hash__", "as_subclass"))
# Operators decline (NotImplemented) when no type takes the call, as PyTorch's, so Python asks
# the other operand
_BINARY = frozenset(
    (
        "add",
        "radd",
        "iadd",
        "sub",
        "rsub",
        "isub",
        "mul",
        "rmul",
        "imul",
        "truediv",
        "rtruediv",
        "itruediv",
        "div",  # Python 2's names, PyTorch's aliases of the three above
        "rdiv",
        "idiv",
        "floordiv",
        "rfloordiv",
        "ifloordiv",
        "mod",
        "rmod",
        "imod",
        "pow",
        "rpow",
        "ipow",
        "matmul",
        "rmatmul",
        "imatmul",
        "and",
        "rand",
        "iand",
        "or",
        "ror",
        "ior",
        "xor",
        "rxor",
        "ixor",
        "lshift",
        "rlshift",
        "ilshift",
        "rshift",
        "rrshift",
        "irshift",
        "eq",
        "ne",
        "lt",
        "le",
        "gt",
        "ge",
    )
)
# not __iter__: it iterates over self.unbind(0), which asks (PyTorch's rows are the subclass too)
_DUNDERS = _BINARY | frozenset(
    (
        "neg",
        "pos",
        "abs",
        "invert",
        "getitem",
        "setitem",
        "contains",
        "len",
        "reversed",
        "repr",
        "format",
        "bool",
        "float",
        "int",
        "index",
        "complex",
        "array",
        "deepcopy",
    )
)

#: The ignored functions that modes still see (PyTorch's factories go through its mode stack).
FACTORIES = frozenset((
    "tensor", "as_tensor", "asarray", "zeros", "ones", "empty", "full", "rand", "randn", "randint",
    "randperm", "arange", "range", "linspace", "logspace", "eye", "empty_strided", "tril_indices",
    "triu_indices",
))  # fmt: skip

#: The Tensor method an operator hands to ``__torch_function__`` as ``func`` (PyTorch's: ``x + y``
#: is ``Tensor.add``, ``x += y`` is ``Tensor.add_``); the others hand over the operator itself.
SHOWN_AS = {
    "__add__": "add", "__radd__": "add", "__iadd__": "add_", "__sub__": "sub", "__isub__": "sub_",
    "__mul__": "mul", "__rmul__": "mul", "__imul__": "mul_", "__truediv__": "div",
    "__itruediv__": "div_", "__div__": "div", "__idiv__": "div_", "__pow__": "pow", "__ipow__": "pow_", "__mod__": "remainder",
    "__matmul__": "matmul", "__neg__": "neg", "__abs__": "abs", "__lt__": "lt", "__le__": "le",
    "__gt__": "gt", "__ge__": "ge", "__ne__": "ne", "__pos__": "positive",
}  # fmt: skip
