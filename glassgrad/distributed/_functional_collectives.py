"""``torch.distributed._functional_collectives``: collectives that return a new tensor instead of
writing into their argument, in a world of one process.

Over one process every result equals the input (the gather of one piece is the piece, the sum over
one process is the value), so each returns a contiguous copy that stays in the autograd graph with
the identity as its gradient: the ``*_autograd`` forms (open_clip's ``gather_with_grad`` gathers
features with ``all_gather_tensor_autograd``) and the plain forms alike. ``wait_tensor`` returns its
argument (nothing is in flight). As PyTorch's, ``all_gather_tensor`` and
``all_gather_tensor_autograd`` warn (``FutureWarning``) in favour of the ``all_gather_single``
names, and all need ``init_process_group`` first. ``reduceOp`` is a name: sum, avg, product, min,
max, band, bor, bxor (any case).

>>> import glassgrad as gg, glassgrad.distributed as dist, tempfile, os
>>> store = os.path.join(tempfile.mkdtemp(), "store")
>>> dist.init_process_group("gloo", init_method=f"file://{store}", rank=0, world_size=1)
>>> x = gg.ones(2, requires_grad=True)
>>> all_gather_single_autograd(x, 0, dist.group.WORLD).sum().backward(); x.grad.tolist()
[1.0, 1.0]
>>> dist.destroy_process_group()
"""

from __future__ import annotations

import warnings
from typing import Any

from glassgrad import distributed as _dist
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = [
    "all_gather_single", "all_gather_single_autograd", "all_gather_tensor", "all_gather_tensor_autograd",
    "all_reduce", "all_to_all_single", "all_to_all_single_autograd", "broadcast", "reduce_scatter_tensor", "reduce_scatter_tensor_autograd", "wait_tensor",
]  # fmt: skip

_REDUCE_OPS = frozenset({"sum", "avg", "product", "min", "max", "band", "bor", "bxor"})


def _one(name: str, tensor: Any, dim: int | None = None, reduce_op: str | None = None) -> Tensor:
    """The collective's result over one process: a new contiguous tensor equal to ``tensor``."""
    _dist._require()  # PyTorch's ValueError before init_process_group
    if not isinstance(tensor, Tensor):
        raise TypeError(f"_functional_collectives.{name}: expected a Tensor, got {type(tensor).__name__}")
    if dim is not None and not -max(tensor.dim(), 1) <= dim < max(tensor.dim(), 1):
        raise IndexError(
            f"_functional_collectives.{name}: dim {dim} is out of range for a tensor of shape "
            f"{tuple(tensor.shape)}"
        )
    if reduce_op is not None and str(reduce_op).lower() not in _REDUCE_OPS:
        raise ValueError(
            f"_functional_collectives.{name}: unknown reduceOp {reduce_op!r}, expected one of {sorted(_REDUCE_OPS)}"
        )
    return tensor.clone().contiguous()


def _renamed(old: str, new: str) -> None:
    warnings.warn(
        f"`torch.distributed._functional_collectives.{old}` is deprecated; glassgrad (a world of one "
        f"process) also has `{new}`, its new name",
        FutureWarning,
        stacklevel=user_stacklevel(),
    )


def all_gather_single(self: Tensor, gather_dim: int, group: Any, tag: str = "") -> Tensor:
    """Every process's ``self`` concatenated along ``gather_dim``: ``self`` itself for one process."""
    return _one("all_gather_single", self, gather_dim)


def all_gather_single_autograd(self: Tensor, gather_dim: int, group: Any, tag: str = "") -> Tensor:
    """:func:`all_gather_single` whose gradient reaches ``self`` (the identity, for one process)."""
    return _one("all_gather_single_autograd", self, gather_dim)


def all_gather_tensor(self: Tensor, gather_dim: int, group: Any, tag: str = "") -> Tensor:
    """The old name of :func:`all_gather_single` (warns ``FutureWarning``)."""
    _renamed("all_gather_tensor", "all_gather_single")
    return _one("all_gather_tensor", self, gather_dim)


def all_gather_tensor_autograd(self: Tensor, gather_dim: int, group: Any, tag: str = "") -> Tensor:
    """The old name of :func:`all_gather_single_autograd` (warns ``FutureWarning``)."""
    _renamed("all_gather_tensor_autograd", "all_gather_single_autograd")
    return _one("all_gather_tensor_autograd", self, gather_dim)


def all_reduce(self: Tensor, reduceOp: str, group: Any, tag: str = "") -> Tensor:
    """``self`` reduced over every process with ``reduceOp``: ``self`` itself for one process."""
    return _one("all_reduce", self, reduce_op=reduceOp)


def reduce_scatter_tensor(self: Tensor, reduceOp: str, scatter_dim: int, group: Any, tag: str = "") -> Tensor:
    """The reduction over processes, split along ``scatter_dim``: ``self`` itself for one process."""
    return _one("reduce_scatter_tensor", self, scatter_dim, reduceOp)


def reduce_scatter_tensor_autograd(
    self: Tensor,
    reduceOp: str,
    scatter_dim: int,
    group: Any,
    tag: str = "",
) -> Tensor:
    """:func:`reduce_scatter_tensor` whose gradient reaches ``self``."""
    return _one("reduce_scatter_tensor_autograd", self, scatter_dim, reduceOp)


def broadcast(self: Tensor, src: int, group: Any, tag: str = "") -> Tensor:
    """Process ``src``'s ``self`` on every process (``src`` must be 0 in a world of one)."""
    _dist._root(src)
    return _one("broadcast", self)


def wait_tensor(tensor: Tensor) -> Tensor:
    """Wait for a collective's result: nothing is ever in flight here, so ``tensor`` itself."""
    return tensor


def all_to_all_single(
    self: Tensor,
    output_split_sizes: list[int] | None,
    input_split_sizes: list[int] | None,
    group: Any,
    tag: str = "",
) -> Tensor:
    """Every process's dim-0 pieces of ``self`` exchanged: ``self`` itself for one process."""
    _all_to_all_splits("all_to_all_single", self, output_split_sizes, input_split_sizes)
    return _one("all_to_all_single", self)


def all_to_all_single_autograd(
    self: Tensor,
    output_split_sizes: list[int] | None,
    input_split_sizes: list[int] | None,
    group: Any,
    tag: str = "",
) -> Tensor:
    """:func:`all_to_all_single` whose gradient reaches ``self`` (the identity, for one process)."""
    _all_to_all_splits("all_to_all_single_autograd", self, output_split_sizes, input_split_sizes)
    return _one("all_to_all_single_autograd", self)


def _all_to_all_splits(name: str, tensor: Any, *splits: Any) -> None:
    size = int(tensor.shape[0]) if isinstance(tensor, Tensor) and tensor.dim() else None
    for sizes in splits:
        if sizes is not None and size is not None and [int(n) for n in sizes] != [size]:
            raise ValueError(
                f"_functional_collectives.{name}: expected split sizes [{size}] (dim 0, one process), "
                f"got {list(sizes)}"
            )
