"""``torch.distributed.algorithms.join``: PyTorch's context manager for training on uneven inputs
(``Join``) and the classes that take part in it (``Joinable``, ``JoinHook``).

With several processes, a process that runs out of inputs first "joins" and then shadows the
others' collective calls through its joinables' ``main_hook`` until every process has joined.
glassgrad's world has one process, which is always the last to join: leaving the context runs
each hook's ``post_hook(True)`` once and no ``main_hook``, as PyTorch does in a world of one.

>>> class Counter(Joinable):
...     def __init__(self):
...         super().__init__()
...         self.seen = []
...     def join_hook(self, **kwargs):
...         owner = self
...         class Hook(JoinHook):
...             def post_hook(self, is_last_joiner):
...                 owner.seen.append(is_last_joiner)
...         return Hook()
...     join_device = None
...     join_process_group = None
>>> c = Counter()
>>> with Join([c]):
...     Join.notify_join_context(c)
>>> c.seen
[True]
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Any, NamedTuple

__all__ = ["JoinHook", "Joinable", "Join"]


class JoinHook:
    """The two entry points a joinable gives the join context: ``main_hook`` (run while another
    process has not joined: never, with one process) and ``post_hook`` (run once all have)."""

    def main_hook(self) -> None:
        """Shadow one training iteration's collective calls for a process still running."""

    def post_hook(self, is_last_joiner: bool) -> None:
        """Run once every process has joined; ``is_last_joiner`` tells whether this one was last."""


class _JoinConfig(NamedTuple):
    enable: bool
    throw_on_early_termination: bool
    is_first_joinable: bool

    @staticmethod
    def construct_disabled_join_config() -> _JoinConfig:
        return _JoinConfig(enable=False, throw_on_early_termination=False, is_first_joinable=False)


class Joinable(ABC):
    """A class that takes part in ``Join``: it gives a ``join_hook``, a ``join_device`` and a
    ``join_process_group``, and calls ``Joinable.__init__`` (which sets its join config)."""

    @abstractmethod
    def __init__(self) -> None:
        super().__init__()
        self._join_config = _JoinConfig.construct_disabled_join_config()

    @abstractmethod
    def join_hook(self, **kwargs: Any) -> JoinHook:
        """The ``JoinHook`` of this joinable (``kwargs`` are ``Join``'s extra keywords)."""

    @property
    @abstractmethod
    def join_device(self) -> Any:
        """The device of the join context's collective calls."""

    @property
    @abstractmethod
    def join_process_group(self) -> Any:
        """The process group of the join context's collective calls."""


class Join:
    """Context manager over ``joinables`` for uneven inputs across processes (see the module)."""

    def __init__(
        self,
        joinables: list[Joinable],
        enable: bool = True,
        throw_on_early_termination: bool = False,
        **kwargs: Any,
    ) -> None:
        if len(joinables) == 0:
            raise ValueError("Join: the join context manager requires at least one joinable, got none")
        self._joinables = joinables
        self._join_hooks = [joinable.join_hook(**kwargs) for joinable in joinables]
        self._enable = enable
        self._throw_on_early_termination = throw_on_early_termination
        for i, joinable in enumerate(joinables):
            joinable._join_config = _JoinConfig(enable, throw_on_early_termination, i == 0)

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        type: type[BaseException] | None,  # noqa: A002 - PyTorch's name
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if not self._enable or type:
            return  # an exception propagates as it is
        # one process: every process has joined, and this one joined last
        for hook in self._join_hooks:
            hook.post_hook(True)

    @staticmethod
    def notify_join_context(joinable: Joinable) -> None:
        """Tell the join context that this process has not joined: no other process waits on it
        here, so there is nothing to send (PyTorch returns its all-reduce's handle, or None)."""
        if not hasattr(joinable, "_join_config"):
            raise RuntimeError(
                f"Join.notify_join_context: {type(joinable).__name__} has no join config; check that its "
                "constructor calls Joinable.__init__"
            )
        return None
