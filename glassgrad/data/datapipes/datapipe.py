"""``torch.utils.data.datapipes.datapipe``: the base classes of data pipes.

As PyTorch's, every ``__iter__`` a subclass defines is wrapped so that starting an iteration
calls the pipe's ``reset()`` (a pipe with state, a shuffler's buffer and seed, starts
afresh each epoch) and a pipe serves one iterator at a time: making a second iterator invalidates
the first, whose next ``next`` raises ``RuntimeError`` instead of reading state the second one
changed. Functional forms (``dp.shuffle()``) are registered by ``functional_datapipe``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from glassgrad.data.dataset import Dataset, IterableDataset

__all__ = ["IterDataPipe", "MapDataPipe", "functional_datapipe"]

_T_co = TypeVar("_T_co", covariant=True)  # `IterDataPipe[int]` in annotations and bases, as PyTorch's


def _check_iterator_valid(datapipe: Any, iterator_id: int) -> None:
    if datapipe._valid_iterator_id != iterator_id:
        raise RuntimeError(
            "This iterator has been invalidated because another iterator has been created "
            f"from the same IterDataPipe: {type(datapipe).__name__}.\n"
            "This may be caused multiple references to the same IterDataPipe. We recommend "
            "using `.fork()` if that is necessary.\n"
            "For feedback regarding this single iterator per IterDataPipe constraint, feel free "
            "to comment on this issue: https://github.com/pytorch/data/issues/45."
        )


def _start_iterator(datapipe: Any) -> int:
    """A new iterator of ``datapipe``: its id (the newest is the valid one) after ``reset()``."""
    previous = datapipe.__dict__.get("_valid_iterator_id")
    datapipe._valid_iterator_id = 0 if previous is None else previous + 1
    datapipe.reset()  # hooked: also zeroes the count of items yielded
    return datapipe._valid_iterator_id


def _hook_iter(func: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
    """Wrap a generator ``__iter__``: reset and claim the pipe at the first ``next``, as PyTorch's
    hook does (a generator's body runs then), and check the claim before each later item."""

    @functools.wraps(func)
    def wrapped(self: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        gen = func(self, *args, **kwargs)
        iterator_id = _start_iterator(self)
        try:
            response = gen.send(None)
            while True:
                self._number_of_samples_yielded += 1
                request = yield response
                _check_iterator_valid(self, iterator_id)
                response = gen.send(request)
        except StopIteration:
            return
        finally:
            gen.close()  # a loop left early closes the pipe's generator now (its `finally`s run)

    wrapped._datapipe_hooked = True  # type: ignore[attr-defined]
    return wrapped


class _CheckedIterator:
    """What a hooked non-generator ``__iter__`` returns (PyTorch's ``IteratorDecorator``): the
    iterator it made, checked for validity before each item; other attributes pass through."""

    def __init__(self, iterator: Any, datapipe: Any, iterator_id: int) -> None:
        self.iterator, self.datapipe, self.iterator_id = iterator, datapipe, iterator_id
        # a pipe that is its own iterator counts in its hooked __next__, not here
        self._counts = not (iterator is datapipe and "__next__" in type(datapipe).__dict__)

    def __iter__(self) -> _CheckedIterator:
        return self

    def __next__(self) -> Any:
        _check_iterator_valid(self.datapipe, self.iterator_id)
        item = next(self.iterator)
        if self._counts:
            self.datapipe._number_of_samples_yielded += 1
        return item

    def __getattr__(self, name: str) -> Any:
        return getattr(self.iterator, name)


def _hook_next(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapped(self: Any) -> Any:
        item = func(self)
        self._number_of_samples_yielded += 1
        return item

    return wrapped


def _hook_reset(func: Callable[..., None]) -> Callable[..., None]:
    """A pipe's own ``reset`` also zeroes its count of items yielded, as PyTorch's."""

    @functools.wraps(func)
    def wrapped(self: Any, *args: Any, **kwargs: Any) -> None:
        self._number_of_samples_yielded = 0
        func(self, *args, **kwargs)

    wrapped._datapipe_hooked = True  # type: ignore[attr-defined]
    return wrapped


def _hook_plain_iter(func: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap an ``__iter__`` that returns an iterator (often ``self`` with a ``__next__``): reset
    and claim the pipe once the iterator is made, as PyTorch's hook does."""

    @functools.wraps(func)
    def wrapped(self: Any, *args: Any, **kwargs: Any) -> _CheckedIterator:
        iterator = func(self, *args, **kwargs)
        return _CheckedIterator(iterator, self, _start_iterator(self))

    wrapped._datapipe_hooked = True  # type: ignore[attr-defined]
    return wrapped


class _FunctionalForms:
    """``dp.<name>(...)``: the pipe class registered under ``name`` (``functional_datapipe``) built
    with ``dp`` as its source. Each base keeps its own table, as PyTorch's."""

    functions: dict[str, Callable[..., Any]]

    def __getattr__(self, name: str) -> Any:
        table = _table_of(type(self))
        if name in table:
            return functools.partial(table[name], self)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    @classmethod
    def register_datapipe_as_function(cls, function_name: str, cls_to_register: type) -> None:
        """Make ``dp.<function_name>(*args, **kwargs)`` build ``cls_to_register(dp, *args, **kwargs)``."""
        if function_name in cls.functions:
            raise Exception(
                f"Unable to add DataPipe function name {function_name} as it is already taken"
            )  # PyTorch's class
        cls.functions[function_name] = cls_to_register


def _table_of(cls: type) -> dict[str, Callable[..., Any]]:
    return IterDataPipe.functions if issubclass(cls, IterDataPipe) else MapDataPipe.functions


class IterDataPipe(_FunctionalForms, IterableDataset[_T_co]):
    """A stream stage: an ``IterableDataset`` whose ``__iter__`` reads from its source pipes
    (``dp.shuffle(buffer_size=5)`` is ``ShufflerIterDataPipe(dp, buffer_size=5)``)."""

    functions: dict[str, Callable[..., Any]] = {}  # noqa: RUF012 - the registry, shared on purpose
    _valid_iterator_id: int | None = None
    _number_of_samples_yielded = 0

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        func = cls.__dict__.get("__iter__")
        if callable(func) and not getattr(func, "_datapipe_hooked", False):
            hook = _hook_iter if inspect.isgeneratorfunction(func) else _hook_plain_iter
            cls.__iter__ = hook(func)  # type: ignore[method-assign]
            if callable(cls.__dict__.get("__next__")):
                cls.__next__ = _hook_next(cls.__dict__["__next__"])  # type: ignore[attr-defined]
        reset = cls.__dict__.get("reset")
        if callable(reset) and not getattr(reset, "_datapipe_hooked", False):
            cls.reset = _hook_reset(reset)  # type: ignore[method-assign]

    def reset(self) -> None:
        """Called when a new iteration starts (PyTorch's hook); by default only the count of
        items yielded (``_number_of_samples_yielded``) starts again."""
        self._number_of_samples_yielded = 0


class MapDataPipe(_FunctionalForms, Dataset[_T_co]):
    """A map-style stage: a ``Dataset`` with ``__getitem__`` and ``__len__``."""

    functions: dict[str, Callable[..., Any]] = {}  # noqa: RUF012 - the registry, shared on purpose


class functional_datapipe:  # noqa: N801 - PyTorch's name (torch.utils.data.functional_datapipe)
    """Class decorator: ``@functional_datapipe("shuffle")`` registers a pipe class as ``dp.shuffle``."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, cls: type) -> type:
        if issubclass(cls, IterDataPipe):
            IterDataPipe.register_datapipe_as_function(self.name, cls)
        elif issubclass(cls, MapDataPipe):  # another class is returned as it is, as PyTorch's
            MapDataPipe.register_datapipe_as_function(self.name, cls)
        return cls
