"""The workload registry: one :class:`Workload` per benchmark, each with a glassgrad and a torch builder.

A builder takes a seed and returns ``(step, probe)``: ``step()`` runs one timed step (one op, or
one training step: forward, loss, backward, optimizer step, zero_grad), and ``probe()`` returns a
float from the last step (the loss) so tests can see that the work was really done. Builders
import their library lazily, so the registry can be listed without torch installed.

To add a workload (cnn, lstm, gpt ...): write ``benchmarks/workloads/<name>.py`` that calls
:func:`register` once per workload, and add the module to ``_MODULES`` below.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

__all__ = ["Builder", "Workload", "WORKLOADS", "register", "select"]

#: ``build(seed) -> (step, probe)``.
Builder = Callable[[int], tuple[Callable[[], None], Callable[[], float]]]


@dataclass(frozen=True)
class Workload:
    """One benchmark: the same computation written for glassgrad and for PyTorch.

    Attributes:
        name: unique name shown in the table, e.g. ``"xor"`` or ``"overhead.add"``.
        group: name that selects several workloads at once on the command line (``"overhead"``).
        description: one line: what one step does.
        steps: default number of timed steps per repeat.
        glassgrad: builder using only glassgrad's public PyTorch-shaped API.
        torch: builder doing the identical work in PyTorch.
    """

    name: str
    group: str
    description: str
    steps: int
    glassgrad: Builder
    torch: Builder


#: Every workload by name, in registration order (the order of the table).
WORKLOADS: dict[str, Workload] = {}

_MODULES = ("overhead", "xor", "mlp", "cnn", "lstm")
_MODULES += ("gpt",)  # attention and Transformers (issue 10)


def register(workload: Workload) -> Workload:
    """Add ``workload`` to :data:`WORKLOADS`; names must be unique."""
    if workload.name in WORKLOADS:
        raise ValueError(f"register: expected a new workload name, got {workload.name!r} twice")
    WORKLOADS[workload.name] = workload
    return workload


def select(names: list[str] | tuple[str, ...] = ()) -> list[Workload]:
    """Workloads named (or grouped) by ``names``, in registry order; all of them when empty."""
    if not names:
        return list(WORKLOADS.values())
    groups = {w.group for w in WORKLOADS.values()}
    unknown = [n for n in names if n not in WORKLOADS and n not in groups]
    if unknown:
        known = ", ".join(sorted(set(WORKLOADS) | groups))
        raise ValueError(f"benchmarks: expected workloads among {known}, got {', '.join(unknown)}")
    wanted = set(names)
    return [w for w in WORKLOADS.values() if w.name in wanted or w.group in wanted]


for _module in _MODULES:
    importlib.import_module(f"benchmarks.workloads.{_module}")
