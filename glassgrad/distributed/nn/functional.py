"""``torch.distributed.nn.functional``: collectives that autograd differentiates, in a world of one.

Unlike the in-place ``dist.all_reduce``, each returns new tensors that stay in the graph (open_clip's
``gather_with_grad`` gathers features with ``torch.distributed.nn.all_gather`` so that the loss
reaches every rank's encoder). With one process every collective's value is its input (the sum over
one process is the value itself), and so is its gradient: each result is a copy of its input, and a
list-valued one is a tuple of one copy; results also go into the caller's output tensors. As
PyTorch's, the five that PyTorch deprecates for ``torch.distributed._functional_collectives`` warn
(``FutureWarning``), and all need ``init_process_group`` first.

>>> import glassgrad as gg, glassgrad.distributed as dist, tempfile, os
>>> store = os.path.join(tempfile.mkdtemp(), "store")
>>> dist.init_process_group("gloo", init_method=f"file://{store}", rank=0, world_size=1)
>>> x = gg.ones(2, requires_grad=True)
>>> (y,) = gather(x)
>>> y.sum().backward(); x.grad.tolist()
[1.0, 1.0]
>>> dist.destroy_process_group()
"""

from __future__ import annotations

import warnings
from typing import Any

from glassgrad import distributed as _dist
from glassgrad.errors import ShapeError
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = [
    "broadcast", "gather", "scatter", "reduce", "reduce_scatter", "all_gather", "all_to_all",
    "all_to_all_single", "all_reduce",
]  # fmt: skip


def _deprecated(name: str) -> None:
    warnings.warn(
        f"torch.distributed.nn.functional.{name} is deprecated, use "
        f"torch.distributed._functional_collectives.{name} instead (glassgrad: a world of one process)",
        FutureWarning,
        stacklevel=user_stacklevel(),
    )


def _one(name: str, tensor: Tensor) -> Tensor:
    """The collective's result over one process: a new tensor equal to ``tensor``, in its graph."""
    _dist._require()  # PyTorch's ValueError before init_process_group
    if not isinstance(tensor, Tensor):
        raise TypeError(f"distributed.nn.{name}: expected a Tensor, got {type(tensor).__name__}")
    return tensor.clone().contiguous()  # a new tensor, contiguous as PyTorch's result


def _fill(outputs: list, results: list) -> None:
    """Write the results into the caller's output tensors, as PyTorch's collectives do (the
    returned results are the differentiable ones)."""
    from glassgrad.autograd.grad_mode import no_grad

    with no_grad():
        for out, r in zip(outputs, results, strict=True):
            out.copy_(r)


def broadcast(tensor: Tensor, src: int, group: Any = None) -> Tensor:
    """Rank ``src``'s ``tensor`` on every process: here a copy (``src`` must be 0)."""
    _dist._root(src)
    _deprecated("broadcast")
    return _one("broadcast", tensor)


def gather(tensor: Tensor, dst: int = 0, group: Any = None) -> tuple[Tensor, ...]:
    """Every process's ``tensor`` on rank ``dst``: a tuple of one copy."""
    _dist._root(dst)
    return (_one("gather", tensor),)


def scatter(tensors: Any, src: int = 0, group: Any = None) -> Tensor:
    """Rank ``src`` sends ``tensors[i]`` to rank i: this process (rank 0) gets a copy of ``tensors[0]``."""
    _dist._root(src)
    tensors = list(tensors)
    if len(tensors) != 1:
        raise ShapeError(f"distributed.nn.scatter: expected one tensor per process (1), got {len(tensors)}")
    return _one("scatter", tensors[0])


def reduce(tensor: Tensor, dst: int, op: Any = None, group: Any = None) -> Tensor:
    """``op`` over the processes' ``tensor`` on rank ``dst``: over one process, a copy."""
    _dist._root(dst)
    return _one("reduce", tensor)


def reduce_scatter(output: Tensor, input_list: Any, op: Any = None, group: Any = None) -> Tensor:
    """``op`` over the processes of ``input_list[i]``, given to rank i: a copy of ``input_list[0]``
    (of ``output``'s shape)."""
    _deprecated("reduce_scatter")
    inputs = list(input_list)
    if len(inputs) != 1 or tuple(inputs[0].shape) != tuple(output.shape):
        raise ShapeError(
            f"distributed.nn.reduce_scatter: expected one input per process (1) of the output's shape "
            f"{tuple(output.shape)}, got {[tuple(t.shape) for t in inputs]}"
        )
    result = _one("reduce_scatter", inputs[0])
    _fill([output], [result])
    return result


def all_gather(tensor: Tensor, group: Any = None) -> tuple[Tensor, ...]:
    """Every process's ``tensor`` on every process: a tuple of one copy."""
    _deprecated("all_gather")
    return (_one("all_gather", tensor),)


def all_to_all(output_tensor_list: Any, input_tensor_list: Any, group: Any = None) -> tuple[Tensor, ...]:
    """Rank j's ``input_tensor_list[i]`` goes to rank i's output j: a tuple of one copy."""
    inputs, outputs = list(input_tensor_list), list(output_tensor_list)
    if len(inputs) != 1 or len(outputs) != 1:
        raise ShapeError("distributed.nn.all_to_all: expected one input and one output per process (1)")
    result = _one("all_to_all", inputs[0])
    _fill(outputs, [result])
    return (result,)


def all_to_all_single(
    output: Tensor,
    input: Tensor,  # noqa: A002
    output_split_sizes: Any = None,
    input_split_sizes: Any = None,
    group: Any = None,
) -> Tensor:
    """``all_to_all`` on one tensor split along dim 0: over one process, a copy of ``input``."""
    _deprecated("all_to_all_single")
    if tuple(output.shape) != tuple(input.shape):
        raise ShapeError(
            f"distributed.nn.all_to_all_single: expected output of the input's shape {tuple(input.shape)}, "
            f"got {tuple(output.shape)}"
        )
    result = _one("all_to_all_single", input)
    _fill([output], [result])
    return result


def all_reduce(tensor: Tensor, op: Any = None, group: Any = None) -> Tensor:
    """``op`` over the processes' ``tensor``, on every process: over one process, a copy."""
    _deprecated("all_reduce")
    return _one("all_reduce", tensor)
