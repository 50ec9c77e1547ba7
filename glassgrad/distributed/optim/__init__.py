"""``glassgrad.distributed.optim``: PyTorch's ``torch.distributed.optim`` for a world of one
process. ``ZeroRedundancyOptimizer`` shards optimizer state across ranks; with one rank the shard
is everything, so it is the wrapped optimizer itself with ZeRO's surface (llm.c's
``train_gpt2.py`` imports it at the top and uses it with ``--zero_stage 1``).

>>> import glassgrad as torch, glassgrad.distributed as dist
>>> from glassgrad.distributed.optim import ZeroRedundancyOptimizer
>>> dist.init_process_group("gloo", rank=0, world_size=1)
>>> opt = ZeroRedundancyOptimizer([torch.nn.Parameter(torch.ones(2))], torch.optim.AdamW, lr=0.1)
>>> opt.param_groups[0]["lr"]
0.1
>>> dist.destroy_process_group()
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from glassgrad import distributed as _dist
from glassgrad.optim.optimizer import Optimizer

__all__ = ["ZeroRedundancyOptimizer"]


class ZeroRedundancyOptimizer(Optimizer):
    """``optimizer_class(params, **defaults)`` with ZeRO's interface, on rank 0 of 1.

    Args:
        params: Tensors or parameter-group dicts, as for any optimizer.
        optimizer_class: the local optimizer's class (``torch.optim.AdamW`` ...).
        process_group, parameters_as_bucket_view, overlap_with_ddp: accepted; with one process
            there is nothing to shard, bucket or overlap.
        **defaults: the local optimizer's options (``lr=...``, ``weight_decay=...``).

    ``param_groups`` and ``state`` are the local optimizer's own (a changed ``lr`` takes effect
    at the next ``step``). As in PyTorch, ``state_dict()`` needs ``consolidate_state_dict()``
    first and the process group must be started before construction.
    """

    def __init__(
        self,
        params: Iterable[Any],
        optimizer_class: type[Optimizer],
        process_group: Any = None,
        parameters_as_bucket_view: bool = False,
        overlap_with_ddp: bool = False,
        **defaults: Any,
    ) -> None:
        _dist._require()  # PyTorch's ValueError before init_process_group
        self.optim = optimizer_class(params, **defaults)
        self._optim_constructor = optimizer_class
        self._optim_defaults = defaults
        self.process_group = process_group
        self.parameters_as_bucket_view = parameters_as_bucket_view
        self._overlap_with_ddp = overlap_with_ddp
        self._consolidated = False
        self._link()

    def _link(self) -> None:
        # share (not copy) the local optimizer's groups and state, so that writes to
        # param_groups (schedulers, llm.c's lr loop) reach the optimizer that steps
        self.param_groups = self.optim.param_groups
        self.state = self.optim.state
        self.defaults = self._optim_defaults  # the options passed in, as PyTorch's ZeRO keeps

    def __getstate__(self) -> dict[str, Any]:
        # the wrapper is its local optimizer plus ZeRO's options: keep them all, hooks aside
        state = dict(self.__dict__)
        state.update(super().__getstate__())
        return {k: v for k, v in state.items() if not k.startswith("_optimizer_") and k != "step"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._link()

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        self.optim.add_param_group(param_group)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        return self.optim.step(closure)

    def consolidate_state_dict(self, to: int = 0) -> None:
        """Gather the shards on rank ``to``: with one rank, the state is gathered here when ``to`` is 0.
        Another ``to`` only sends this rank's shard, as in PyTorch (no error; this rank's
        ``state_dict()`` then refuses, as after any consolidation elsewhere: pytorch-ignite's
        Checkpoint with ``save_on_rank=1``)."""
        _dist._require()
        self._consolidated = to == 0

    def state_dict(self) -> dict[str, Any]:
        if not self._consolidated:
            raise RuntimeError(
                "Optimizer state has not been consolidated on this rank. Please call "
                "`consolidate_state_dict(to=0)` on all ranks beforehand if you meant to save the "
                "global state."
            )
        return self.optim.state_dict()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.optim.load_state_dict(state_dict)
        self._link()
