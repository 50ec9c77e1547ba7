"""``nn.parallel.scatter``/``gather``/``replicate``/``parallel_apply``/``data_parallel`` as they
behave in PyTorch on a machine without accelerators, which is where glassgrad always is.

They move pieces of a batch (and copies of a module) between GPUs. PyTorch's CPU build has the
names but no device to move to: a tensor reaching one of them raises, while the Python structure
around it is walked as PyTorch walks it (``scatter`` hands every device a copy of a non-tensor
argument, ``gather`` of ``None`` outputs is ``None``). glassgrad keeps the names, so code that
imports them (and only calls them when ``cuda.device_count() > 1``) ports, and raises the error
types PyTorch raises there: ``ValueError`` for a CPU target ("expected a non-CPU device"),
``AssertionError`` for gathering or broadcasting CPU tensors, ``RuntimeError`` for a CUDA target or
when no device is given (glassgrad's rule for CUDA; PyTorch's CPU build fails inside its C
extension there).

>>> import glassgrad as gg
>>> gg.nn.parallel.scatter((1, "a"), ["cuda:0", "cuda:1"])
[(1, 'a'), (1, 'a')]
"""

from __future__ import annotations

from typing import Any

from glassgrad.device import device
from glassgrad.tensor import Tensor

__all__ = ["scatter", "scatter_kwargs", "gather", "replicate", "parallel_apply", "data_parallel"]


def _refuse_devices(op: str, devices: Any, cpu_message: str) -> None:
    """PyTorch's check of the target devices: a CPU one is a ``ValueError``; any other (a GPU,
    which glassgrad does not have) a ``RuntimeError``."""
    for d in devices:
        if d is None:
            raise RuntimeError(f"nn.parallel.{op}: Cannot access accelerator device when none is available.")
        where = device(d)
        if where.type == "cpu":
            raise ValueError(f"nn.parallel.{op}: {cpu_message}, but got: {where}")
    raise RuntimeError(
        f"nn.parallel.{op}: glassgrad computes on the CPU only and cannot move tensors to "
        f"{[str(device(d)) for d in devices]}; call the module directly (nn.DataParallel does on the CPU)"
    )


def _is_namedtuple(obj: Any) -> bool:
    return isinstance(obj, tuple) and hasattr(obj, "_asdict") and hasattr(obj, "_fields")


def scatter(inputs: Any, target_gpus: Any, dim: int = 0) -> list:
    """Split ``inputs`` along ``dim`` into one piece per device in ``target_gpus``.

    Tuples, lists, dicts and namedtuples are walked; every other non-tensor object is repeated
    once per device. A tensor raises: there is no device to send its pieces to.

    Returns:
        a list with one entry per device (of tuples when ``inputs`` is a tuple).
    """
    targets = list(target_gpus)

    def walk(obj: Any) -> list:
        if isinstance(obj, Tensor):
            _refuse_devices("scatter", targets, "Expected a non cpu device")
        if _is_namedtuple(obj):
            return [type(obj)(*parts) for parts in zip(*map(walk, obj))]
        if isinstance(obj, tuple) and obj:
            return list(zip(*map(walk, obj)))
        if isinstance(obj, list) and obj:
            return [list(parts) for parts in zip(*map(walk, obj))]
        if isinstance(obj, dict) and obj:
            return [type(obj)(parts) for parts in zip(*map(walk, obj.items()))]
        return [obj for _ in targets]

    return walk(inputs)


def scatter_kwargs(inputs: tuple, kwargs: Any, target_gpus: Any, dim: int = 0) -> tuple[tuple, tuple]:
    """``scatter`` of the positional and the keyword arguments together (what
    ``DataParallel.scatter`` calls): two tuples with one entry per device, the shorter padded with
    ``()`` or ``{}`` so that each replica gets both; empty ``inputs``/``kwargs`` give none."""
    pieces = list(scatter(inputs, target_gpus, dim)) if inputs else []
    kw = list(scatter(kwargs, target_gpus, dim)) if kwargs else []
    pieces += [() for _ in range(len(kw) - len(pieces))]
    kw += [{} for _ in range(len(pieces) - len(kw))]
    return tuple(pieces), tuple(kw)


def gather(outputs: Any, target_device: Any, dim: int = 0) -> Any:
    """Concatenate the per-device ``outputs`` on ``target_device``, walking tuples, lists and dicts.

    ``None`` outputs give ``None``; a tensor raises ``AssertionError`` as PyTorch's does for CPU
    tensors (every glassgrad tensor is one).
    """

    def walk(outs: list) -> Any:
        first = outs[0]
        if isinstance(first, Tensor):
            raise AssertionError("nn.parallel.gather: Gather function not implemented for CPU tensors")
        if first is None:
            return None
        if isinstance(first, dict):
            if not all(len(first) == len(d) for d in outs):
                raise ValueError("nn.parallel.gather: All dicts must have the same number of keys")
            return type(first)((k, walk([d[k] for d in outs])) for k in first)
        if _is_namedtuple(first):
            return type(first)._make(map(walk, zip(*outs, strict=True)))
        return type(first)(map(walk, zip(*outs, strict=True)))

    return walk(list(outputs))


def replicate(network: Any, devices: Any, detach: bool = False) -> list:
    """Copies of ``network``, one per device: ``[]`` for no devices; for a module holding no
    tensors (``ReLU()``) shallow replicas, as PyTorch's CPU build gives; otherwise the copies would
    live on GPUs, so it raises (``ValueError`` for a CPU device, ``AssertionError`` when the CPU
    parameters would be broadcast, as in PyTorch)."""
    targets = list(devices)
    if not targets:
        return []
    if any(d is not None and device(d).type == "cpu" for d in targets):
        _refuse_devices("replicate", targets, "Expected a non cpu device")
    if any(True for _ in network.parameters()) or any(True for _ in network.buffers()):
        raise AssertionError("nn.parallel.replicate: Broadcast function not implemented for CPU tensors")
    return [_replica(network, {}) for _ in targets]  # no tensor to move: PyTorch's CPU build replicates


def _replica(module: Any, memo: dict[int, Any]) -> Any:
    """PyTorch's ``_replicate_for_data_parallel`` of a module holding no tensors: a shallow copy
    (its attributes shared) with replicas of its submodules (one per submodule shared twice)."""
    if id(module) in memo:
        return memo[id(module)]
    replica = module.__class__.__new__(module.__class__)
    memo[id(module)] = replica
    state = dict(module.__dict__)
    state["_parameters"], state["_buffers"] = {}, dict(module._buffers)
    state["_modules"] = {k: None if m is None else _replica(m, memo) for k, m in module._modules.items()}
    state["_is_replica"] = True
    object.__setattr__(replica, "__dict__", state)
    return replica


def parallel_apply(modules: Any, inputs: Any, kwargs_tup: Any = None, devices: Any = None) -> list:
    """Run ``modules[i](*inputs[i], **kwargs_tup[i])`` on ``devices[i]``, one thread each.

    Needs a GPU per module: with ``devices=None`` PyTorch looks for the current accelerator
    (``RuntimeError`` here, none exists), a CPU device is a ``ValueError``.
    """
    modules, inputs = list(modules), list(inputs)
    if len(modules) != len(inputs):
        raise AssertionError(
            f"The number of modules {len(modules)} is not equal to the number of inputs {len(inputs)}"
        )
    if kwargs_tup is not None and len(modules) != len(kwargs_tup):
        raise AssertionError(
            f"nn.parallel.parallel_apply: {len(modules)} modules but {len(kwargs_tup)} kwargs"
        )
    if not modules:  # PyTorch looks up the accelerator's stream type first, even for no modules
        raise AssertionError("nn.parallel.parallel_apply: No available accelerator found.")
    targets = [None] * len(modules) if devices is None else list(devices)
    if len(targets) != len(modules):
        raise AssertionError(f"nn.parallel.parallel_apply: {len(modules)} modules but {len(targets)} devices")
    _refuse_devices("parallel_apply", targets, "Expected a cuda device")
    return []  # unreachable


def data_parallel(
    module: Any,
    inputs: Any,
    device_ids: Any = None,
    output_device: Any = None,
    dim: int = 0,
    module_kwargs: Any = None,
) -> Any:
    """The functional ``DataParallel``: PyTorch's raises without an accelerator, whatever the
    arguments, and so does this (``nn.DataParallel`` is the wrapper that runs on the CPU)."""
    raise RuntimeError(
        "nn.parallel.data_parallel: device type could not be determined (no accelerator); "
        "call the module directly, or wrap it in nn.DataParallel, which runs it on the CPU"
    )
