"""PyTorch's key-value stores (``torch.distributed.Store`` and its kinds) for a world of one process.

Processes coordinate through a store: ``set``/``get`` of bytes, counters (``add``), ``wait`` for
keys another process writes. glassgrad runs in one process (see the package docstring), so every
store here lives in it: ``HashStore`` is a dict; ``TCPStore`` opens no socket, its clients in this
process (``is_master=False`` at the master's host and port) share the master's keys, and a world of
more than one process raises ``NotImplementedError``; ``FileStore`` keeps its keys per path in this
process; ``PrefixStore`` puts ``prefix/`` before another store's keys. skorch's
``DistributedHistory`` writes its records through one. Values are bytes (a str is UTF-8 encoded),
``get`` and ``wait`` wait for missing keys up to the timeout (another thread may set them) and
then raise ``DistStoreError``; a store cannot be pickled (``TypeError``), as in PyTorch.

>>> import glassgrad.distributed as dist
>>> store = dist.TCPStore("127.0.0.1", 29500, world_size=1, is_master=True)
>>> store.set("epoch", "3"); store.get("epoch")
b'3'
>>> store.add("step", 2), store.add("step", 1)
(2, 3)
"""

from __future__ import annotations

import threading
import time
import weakref
from datetime import timedelta
from typing import Any

__all__ = [
    "Store", "HashStore", "TCPStore", "FileStore", "PrefixStore", "DistError", "DistStoreError",
    "DistNetworkError",
]  # fmt: skip

_DEFAULT_TIMEOUT = timedelta(seconds=300)


class DistError(RuntimeError):
    """``torch.distributed.DistError``: what the distributed package raises."""


class DistStoreError(DistError):
    """A store operation failed (a wait timed out)."""


class DistNetworkError(DistError):
    """No store to connect to."""


def _key(op: str, key: Any) -> str:
    if not isinstance(key, str):
        raise TypeError(f"{op}: expected a str key, got {type(key).__name__}")
    return key


def _value(op: str, value: Any) -> bytes:
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    raise TypeError(f"{op}: expected a str or bytes value, got {type(value).__name__}")


class _Table:
    """Keys and values shared by the stores that reach them, with a condition to wait on."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}
        self.cond = threading.Condition()


class Store:
    """The interface of the stores; ``HashStore``, ``TCPStore``, ``FileStore`` and ``PrefixStore``
    implement it over a shared table of keys (``_table``), ``_extra_keys`` counting the internal
    keys PyTorch's kind keeps (its ``num_keys`` counts them)."""

    _extra_keys = 0

    def __init__(self, table: _Table | None = None, timeout: timedelta = _DEFAULT_TIMEOUT) -> None:
        self._table = table if table is not None else _Table()
        self.set_timeout(timeout)

    # PyTorch's C++ stores cannot be pickled; neither can these (skorch relies on the TypeError)
    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError(f"cannot pickle '{type(self).__name__}' object")

    @property
    def timeout(self) -> timedelta:
        return self._timeout

    def set_timeout(self, timeout: timedelta) -> None:
        if not isinstance(timeout, timedelta):
            raise TypeError(
                f"{type(self).__name__}.set_timeout: expected a datetime.timedelta, got {timeout!r}"
            )
        self._timeout = timeout

    def _k(self, op: str, key: Any) -> str:
        return _key(f"{type(self).__name__}.{op}", key)

    def set(self, key: str, value: str | bytes) -> None:
        k, v = self._k("set", key), _value(f"{type(self).__name__}.set", value)
        with self._table.cond:
            self._table.data[k] = v
            self._table.cond.notify_all()

    def get(self, key: str) -> bytes:
        """The value of ``key``, waiting up to the timeout for it to be set."""
        k = self._k("get", key)
        self._wait([k], self._timeout)
        with self._table.cond:
            return self._table.data[k]

    def add(self, key: str, amount: int) -> int:
        """Add ``amount`` to the integer at ``key`` (0 if missing); returns the new value."""
        k = self._k("add", key)
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise TypeError(f"{type(self).__name__}.add: expected an int amount, got {type(amount).__name__}")
        with self._table.cond:
            old = self._table.data.get(k, b"0")
            try:
                new = int(old) + amount
            except ValueError:
                raise DistStoreError(
                    f"{type(self).__name__}.add: the value at {k!r} is not an integer: {old!r}"
                ) from None
            self._table.data[k] = str(new).encode()
            self._table.cond.notify_all()
            return new

    def append(self, key: str, value: str | bytes) -> None:
        k, v = self._k("append", key), _value(f"{type(self).__name__}.append", value)
        with self._table.cond:
            self._table.data[k] = self._table.data.get(k, b"") + v
            self._table.cond.notify_all()

    def compare_set(self, key: str, expected_value: str | bytes, desired_value: str | bytes) -> bytes:
        """Set ``desired_value`` if ``key`` holds ``expected_value`` (or is missing and
        ``expected_value`` is empty); returns the value now held (``expected_value`` for a
        missing key left missing), as PyTorch."""
        op = f"{type(self).__name__}.compare_set"
        k, exp, want = self._k("compare_set", key), _value(op, expected_value), _value(op, desired_value)
        with self._table.cond:
            cur = self._table.data.get(k)
            if cur is None and exp:
                return exp
            if cur is None or cur == exp:
                self._table.data[k] = want
                self._table.cond.notify_all()
                return want
            return cur

    def multi_get(self, keys: list[str]) -> list[bytes]:
        return [self.get(k) for k in keys]

    def multi_set(self, keys: list[str], values: list[str | bytes]) -> None:
        if len(keys) != len(values):
            raise ValueError(
                f"{type(self).__name__}.multi_set: expected as many values as keys, got {len(keys)} keys "
                f"and {len(values)} values"
            )
        for k, v in zip(keys, values):
            self.set(k, v)

    def check(self, keys: list[str]) -> bool:
        """Whether every key is set (no waiting)."""
        ks = [self._k("check", k) for k in keys]
        with self._table.cond:
            return all(k in self._table.data for k in ks)

    def wait(self, keys: list[str], timeout: timedelta | None = None) -> None:
        """Wait until every key is set, up to ``timeout`` (the store's by default)."""
        self._wait([self._k("wait", k) for k in keys], self._timeout if timeout is None else timeout)

    def _wait(self, ks: list[str], limit: timedelta) -> None:
        end = time.monotonic() + limit.total_seconds()
        with self._table.cond:
            while True:
                missing = [k for k in ks if k not in self._table.data]
                left = end - time.monotonic()
                if not missing:
                    return
                if left <= 0:
                    ms = int(limit.total_seconds() * 1000)
                    raise DistStoreError(
                        f"wait timeout after {ms}ms, keys: {', '.join('/' + k for k in missing)} (glassgrad runs "
                        "in one process: only this process, another thread, can set them)"
                    )
                self._table.cond.wait(left)

    def delete_key(self, key: str) -> bool:
        k = self._k("delete_key", key)
        with self._table.cond:
            return self._table.data.pop(k, None) is not None

    def num_keys(self) -> int:
        with self._table.cond:
            return len(self._table.data) + self._extra_keys

    def has_extended_api(self) -> bool:
        return True


class HashStore(Store):
    """An in-memory store (a dict) for threads of this process."""

    def __init__(self) -> None:
        super().__init__()


_tcp_tables: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


class TCPStore(Store):
    """``TCPStore(host_name, port, world_size=None, is_master=False, timeout=..., ...)``: the master
    (``is_master=True``) holds the keys; a client at its host and port shares them. No socket is
    opened (one process); ``port=0`` keeps 0. A ``world_size`` over 1 raises ``NotImplementedError``."""

    _extra_keys = 1  # PyTorch's TCPStore counts its own init key

    def __init__(
        self,
        host_name: str,
        port: int,
        world_size: int | None = None,
        is_master: bool = False,
        timeout: timedelta = _DEFAULT_TIMEOUT,
        wait_for_workers: bool = True,
        multi_tenant: bool = False,
        master_listen_fd: int | None = None,
        use_libuv: bool | None = None,
    ) -> None:
        if world_size is not None and world_size > 1:
            raise NotImplementedError(
                f"TCPStore: glassgrad runs in one process; expected world_size 1 (or None), got {world_size}"
            )
        address = (str(host_name), int(port))
        table = _tcp_tables.get(address)
        if is_master:
            table = _Table()  # a new master starts empty (an earlier one at this address is gone)
            _tcp_tables[address] = table
        elif table is None:
            raise DistNetworkError(
                f"TCPStore: no master store at {host_name}:{port} in this process (glassgrad runs in one "
                "process: create the store with is_master=True first)"
            )
        super().__init__(table, timeout)
        self.host, self.port = address
        self.libuvBackend = True if use_libuv is None else bool(use_libuv)

    def __repr__(self) -> str:
        return f"TCPStore(host={self.host!r}, port={self.port})"


_file_tables: dict[str, _Table] = {}


class FileStore(Store):
    """``FileStore(file_name, world_size=-1)``: keys per path, shared by the FileStores of this
    process at that path (no file is written: there is no other process to read it)."""

    _extra_keys = 1  # PyTorch's FileStore counts its own bookkeeping key too

    def __init__(self, file_name: str, world_size: int = -1) -> None:
        if world_size > 1:
            raise NotImplementedError(
                f"FileStore: glassgrad runs in one process; expected world_size 1 (or -1), got {world_size}"
            )
        self.path = str(file_name)
        super().__init__(_file_tables.setdefault(self.path, _Table()))


class PrefixStore(Store):
    """``PrefixStore(prefix, store)``: ``store`` with ``prefix + "/"`` before every key."""

    def __init__(self, prefix: str, store: Store) -> None:
        if not isinstance(store, Store):
            raise TypeError(f"PrefixStore: expected a Store, got {type(store).__name__}")
        self.underlying_store = store
        self._prefix = _key("PrefixStore", prefix) + "/"
        super().__init__(store._table, store.timeout)
        self._extra_keys = store._extra_keys

    def _k(self, op: str, key: Any) -> str:
        return self._prefix + _key(f"PrefixStore.{op}", key)
