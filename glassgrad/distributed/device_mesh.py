"""``DeviceMesh`` and ``init_device_mesh`` (PyTorch's ``torch.distributed.device_mesh``) for
glassgrad's world of one process.

A device mesh arranges the processes of a job in an n-dimensional grid whose dimensions are
named by what they parallelise (``("dp", "tp")``). glassgrad runs one process, so every mesh has
size 1 along every dimension; its one rank is 0, and so is every coordinate and every local
rank. Building one starts the default process group when none is running, as PyTorch's does.
``mesh["tp"]`` slices out dimensions by name and remembers the mesh it came from (``fully_shard``
combines a data-parallel slice with a tensor-parallel one). ``get_group`` returns None: glassgrad
has no ``ProcessGroup`` objects, and None is the default group its collectives take.

>>> import glassgrad.distributed as dist
>>> mesh = init_device_mesh("cpu", (1, 1), mesh_dim_names=("dp", "tp"))
>>> mesh, mesh["tp"], mesh.size(), mesh.get_local_rank("tp")
(DeviceMesh((dp=1, tp=1), 'cpu', stride=((), ())), DeviceMesh((tp=1), 'cpu', stride=((),)), 1, 0)
>>> dist.destroy_process_group()
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import glassgrad.distributed as _dist

__all__ = ["DeviceMesh", "init_device_mesh"]

_DEVICE_TYPES = ("cpu", "meta")
_current: list[DeviceMesh] = []  # `with mesh:` stack


def _device_type(fn: str, device_type: Any) -> str:
    if not isinstance(device_type, str):
        raise TypeError(
            f"{fn}: expected a device type string such as 'cpu', got {type(device_type).__name__}"
        )
    if ":" in device_type:
        raise RuntimeError(
            f"{fn}: Device type with index is not supported but got {device_type}. If you maintained a "
            "'torch.device' object, it's recommended to pass in 'device.type'."
        )
    if device_type not in _DEVICE_TYPES:
        raise RuntimeError(
            f"{fn}: expected device type 'cpu' (or 'meta'), got {device_type!r}: glassgrad computes on the "
            "CPU only (take the examples' CPU branch, device_type = 'cpu')"
        )
    return device_type


def _too_big(fn: str, n: int) -> RuntimeError:
    return RuntimeError(
        f"{fn}: Mesh should not be bigger than default world size 1, but found {n} ranks! (glassgrad "
        "runs in one process: every mesh dimension has size 1)"
    )


def _start_group() -> None:
    if not _dist.is_initialized():  # PyTorch starts the default group for its first mesh
        _dist.init_process_group()


class DeviceMesh:
    """A grid of the job's processes: here one process, rank 0, size 1 along every dimension.

    Args:
        device_type: ``"cpu"`` (or ``"meta"``); glassgrad has no accelerator.
        mesh: the ranks, as a nested list, array or Tensor: ``[0]``, ``[[0]]``...
        mesh_dim_names: one unique name per dimension (needed for ``mesh["name"]``).
    """

    def __init__(
        self,
        device_type: str,
        mesh: Any,
        *,
        mesh_dim_names: tuple[str, ...] | None = None,
        backend_override: Any = None,
        _init_backend: bool = True,
    ) -> None:
        self.device_type = _device_type("DeviceMesh", device_type)
        ranks = np.asarray(mesh.numpy() if hasattr(mesh, "numpy") else mesh)
        if ranks.size > 1:
            raise _too_big("DeviceMesh", ranks.size)
        if ranks.ndim == 0 or ranks.size != 1 or ranks.dtype.kind not in "iu" or int(ranks.flat[0]) != 0:
            raise ValueError(
                f"DeviceMesh: expected the ranks of a world of one process ([0]), got {ranks.tolist()}"
            )
        self._shape = tuple(int(s) for s in ranks.shape)
        self.mesh_dim_names = _names("DeviceMesh", mesh_dim_names, len(self._shape))
        self._root: DeviceMesh = self
        self._dims: tuple[int, ...] = tuple(range(len(self._shape)))
        if _init_backend:
            _start_group()

    # ------------------------------------------------------------------ shape
    @property
    def ndim(self) -> int:
        return len(self._shape)

    @property
    def shape(self) -> tuple[int, ...]:
        return self._shape

    @property
    def mesh(self) -> Any:
        """The ranks as an int32 Tensor of the mesh's shape (all 0)."""
        from glassgrad import tensor

        return tensor(np.zeros(self._shape, dtype=np.int32))

    def size(self, mesh_dim: int | None = None) -> int:
        """The number of processes in the mesh, or along ``mesh_dim``: 1."""
        return math.prod(self._shape) if mesh_dim is None else self._shape[mesh_dim]

    # ------------------------------------------------------------------ ranks and groups
    def get_rank(self) -> int:
        return _dist.get_rank()

    def _dim(self, fn: str, mesh_dim: int | str | None) -> int:
        if mesh_dim is None:
            if self.ndim > 1:
                raise RuntimeError(
                    f"DeviceMesh.{fn}: Found the DeviceMesh have {self.ndim} dimensions; optional kwarg `mesh_dim` "
                    "needs to be specified when device_mesh.ndim > 1."
                )
            return 0
        if isinstance(mesh_dim, str):
            if mesh_dim not in (self.mesh_dim_names or ()):
                raise KeyError(
                    f"DeviceMesh.{fn}: Mesh dimension '{mesh_dim}' does not exist. Available mesh dimensions "
                    f"are: mesh_dim_names={self.mesh_dim_names}"
                )
            return self.mesh_dim_names.index(mesh_dim)
        if not -self.ndim <= mesh_dim < self.ndim:
            raise IndexError(f"DeviceMesh.{fn}: expected a mesh dimension below {self.ndim}, got {mesh_dim}")
        return mesh_dim % self.ndim

    def get_local_rank(self, mesh_dim: int | str | None = None) -> int:
        """This process's coordinate along ``mesh_dim`` (needed when ndim > 1): 0."""
        self._dim("get_local_rank", mesh_dim)
        return 0

    def get_coordinate(self) -> tuple[int, ...]:
        return (0,) * self.ndim

    def get_group(self, mesh_dim: int | str | None = None) -> None:
        """The process group along ``mesh_dim``: None, glassgrad's default group (see the module doc)."""
        self._dim("get_group", mesh_dim)

    def get_all_groups(self) -> list[None]:
        return [None] * self.ndim

    # ------------------------------------------------------------------ slicing
    def __getitem__(self, names: str | tuple[str, ...]) -> DeviceMesh:
        """The sub-mesh of the named dimensions (``mesh["tp"]``, ``mesh["dp", "tp"]``)."""
        if not self.mesh_dim_names:
            raise RuntimeError("DeviceMesh: Cannot slice a DeviceMesh without mesh_dim_names!")
        wanted = (names,) if isinstance(names, str) else names
        if not isinstance(wanted, tuple) or not all(isinstance(n, str) for n in wanted):
            raise TypeError(f"DeviceMesh: expected mesh dimension names (str), got {names!r}")
        if not wanted or any(n not in self.mesh_dim_names for n in wanted):
            raise KeyError(
                f"DeviceMesh: Invalid mesh_dim_names {wanted} specified. Valid mesh_dim_names are "
                f"{list(self.mesh_dim_names)}."
            )
        if len(set(wanted)) != len(wanted):
            raise KeyError(f"DeviceMesh: expected each mesh dimension once, got {wanted}")
        return self._root._slice(tuple(self._dims[self.mesh_dim_names.index(n)] for n in wanted))

    def _slice(self, dims: tuple[int, ...]) -> DeviceMesh:
        """The root's dimensions ``dims`` as a mesh that knows its root (``self`` is a root)."""
        out = DeviceMesh.__new__(DeviceMesh)
        out.device_type = self.device_type
        out._shape = tuple(self._shape[d] for d in dims)
        out.mesh_dim_names = (
            None if self.mesh_dim_names is None else tuple(self.mesh_dim_names[d] for d in dims)
        )
        out._root, out._dims = self, dims
        return out

    def _get_root_mesh(self) -> DeviceMesh:
        return self._root

    # ------------------------------------------------------------------ context, comparing, printing
    def __enter__(self) -> DeviceMesh:
        _current.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _current.pop()

    def _key(self) -> tuple:
        return (self.device_type, self._shape, self.mesh_dim_names)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DeviceMesh) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        if self.mesh_dim_names:
            shape = "(" + ", ".join(f"{n}={s}" for n, s in zip(self.mesh_dim_names, self._shape)) + ")"
        else:
            shape = repr(self._shape)
        # PyTorch 2.13 prints the layout's strides: a dimension of size 1 has none
        return f"DeviceMesh({shape}, '{self.device_type}', stride={((),) * self.ndim!r})"


def _names(fn: str, names: Any, ndim: int) -> tuple[str, ...] | None:
    if names is None:
        return None
    names = tuple(names)
    if len(names) != ndim:
        raise RuntimeError(
            f"{fn}: mesh_shape and mesh_dim_names should have same length! Found len(mesh_dim_names): "
            f"{len(names)} and len(mesh_shape):{ndim}."
        )
    if len(set(names)) != len(names):
        raise RuntimeError(
            f"{fn}: Each mesh_dim_name must be unique. Found repeated mesh_dim_name in mesh_dim_names {names}"
        )
    if not all(isinstance(n, str) for n in names):
        raise TypeError(f"{fn}: expected mesh_dim_names to be strings, got {names}")
    return names


def init_device_mesh(
    device_type: str,
    mesh_shape: tuple[int, ...],
    *,
    mesh_dim_names: tuple[str, ...] | None = None,
    backend_override: Any = None,
) -> DeviceMesh:
    """A ``DeviceMesh`` of ``mesh_shape`` (every size 1 in a world of one process), starting the
    default process group if none is running.

    Shape:
        ``mesh_shape``: one size per mesh dimension; their product must be the world size, 1.
    """
    _names("init_device_mesh", mesh_dim_names, len(mesh_shape))
    _device_type("init_device_mesh", device_type)
    _start_group()
    shape = tuple(int(s) for s in mesh_shape)
    if math.prod(shape) != 1:
        raise _too_big("init_device_mesh", math.prod(shape))
    return DeviceMesh(device_type, np.zeros(shape, dtype=np.int64), mesh_dim_names=mesh_dim_names)


def current_mesh(fn: str) -> DeviceMesh:
    """The mesh of the innermost ``with mesh:`` block (the default of ``device_mesh=None``)."""
    if not _current:
        raise RuntimeError(
            f"{fn}: No device mesh is currently active! (pass device_mesh=, or use `with mesh:`)"
        )
    return _current[-1]
