"""``torch.distributed.algorithms``: the ``join`` context manager for uneven inputs (``Join``,
``Joinable``, ``JoinHook``), for glassgrad's world of one process."""

from __future__ import annotations

from glassgrad.distributed.algorithms import join
from glassgrad.distributed.algorithms.join import Join, Joinable, JoinHook

__all__ = ["Join", "JoinHook", "Joinable", "join"]
