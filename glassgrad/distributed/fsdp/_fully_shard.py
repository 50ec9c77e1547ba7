"""``fully_shard`` (FSDP2, PyTorch's ``torch.distributed.fsdp.fully_shard``) for a world of one.

FSDP shards every parameter over the data-parallel processes and gathers it around each forward
and backward. With one process a shard is the whole parameter, so what is left is PyTorch's
bookkeeping: each managed parameter becomes a ``DTensor`` parameter laid out ``Shard(0)`` (or as
``shard_placement_fn`` says) over ``mesh`` (a copy of its values, as FSDP's sharded storage is),
one already tensor-parallel keeps its placements on a 2-D mesh (``(Shard(0), Shard(1))`` over
``("dp", "tp")``), and the module's class becomes ``FSDP<Class>``, a subclass of ``FSDPModule``
and of its own class, whose ``unshard``/``reshard``/prefetch/gradient-sync settings have nothing
to do. The module trains exactly as before. Mixed precision (a ``MixedPrecisionPolicy`` with a
dtype other than the parameters') and HSDP (a 2-D ``mesh``) are refused with
``NotImplementedError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from glassgrad.distributed.device_mesh import DeviceMesh, init_device_mesh
from glassgrad.distributed.tensor._api import DTensor, _alias, as_parameter
from glassgrad.distributed.tensor.placement_types import Shard
from glassgrad.nn.module import Module

__all__ = [
    "fully_shard",
    "FSDPModule",
    "MixedPrecisionPolicy",
    "OffloadPolicy",
    "CPUOffloadPolicy",
    "UnshardHandle",
]


@dataclass(frozen=True)
class MixedPrecisionPolicy:
    """PyTorch's FSDP mixed-precision settings; only dtypes equal to the parameters' are accepted."""

    param_dtype: Any = None
    reduce_dtype: Any = None
    output_dtype: Any = None
    cast_forward_inputs: bool = True


class OffloadPolicy:
    """No offloading (PyTorch's default policy); every tensor is on the CPU already."""


@dataclass
class CPUOffloadPolicy(OffloadPolicy):
    """PyTorch's policy that offloads parameters to the CPU: a name (transformers imports it), that
    ``fully_shard`` refuses, since every tensor is on the CPU already."""

    pin_memory: bool = True


class UnshardHandle:
    """What ``unshard(async_op=True)`` returns: with one process the gather is done."""

    def wait(self) -> None:
        return None


class FSDPModule:
    """The class ``fully_shard`` mixes into a module (``FSDPLinear`` is an ``FSDPModule`` and a
    ``Linear``). With one process there is nothing to gather, free, prefetch or synchronise."""

    def unshard(self, async_op: bool = False) -> UnshardHandle | None:
        return UnshardHandle() if async_op else None

    def reshard(self) -> None:
        return None

    def set_requires_gradient_sync(self, requires_gradient_sync: bool, *, recurse: bool = True) -> None:
        return None

    def set_requires_all_reduce(self, requires_all_reduce: bool, *, recurse: bool = True) -> None:
        return None

    def set_reshard_after_forward(self, reshard_after_forward: bool, recurse: bool = True) -> None:
        return None

    def set_reshard_after_backward(self, reshard_after_backward: bool, *, recurse: bool = True) -> None:
        return None

    def set_is_last_backward(self, is_last_backward: bool) -> None:
        return None

    def set_modules_to_forward_prefetch(self, modules: list) -> None:
        _fsdp_modules("set_modules_to_forward_prefetch", modules)

    def set_modules_to_backward_prefetch(self, modules: list) -> None:
        _fsdp_modules("set_modules_to_backward_prefetch", modules)


def _fsdp_modules(fn: str, modules: list) -> None:
    for m in modules:
        if not isinstance(m, FSDPModule):
            raise ValueError(f"FSDPModule.{fn}: Expects FSDPModule but got {type(m).__name__}: {m}")


_classes: dict[type, type] = {}


def _fsdp_class(cls: type) -> type:
    """``FSDP<cls>``, made once per class (as PyTorch's)."""
    if cls not in _classes:
        _classes[cls] = type(f"FSDP{cls.__name__}", (FSDPModule, cls), {"__module__": cls.__module__})
    return _classes[cls]


def _check_policy(mp_policy: Any, offload_policy: Any) -> None:
    if not isinstance(mp_policy, MixedPrecisionPolicy):
        raise TypeError(
            f"fully_shard: expected mp_policy to be a MixedPrecisionPolicy, got {type(mp_policy).__name__}"
        )
    if type(offload_policy) is not OffloadPolicy:
        raise NotImplementedError(
            f"fully_shard: offloading ({type(offload_policy).__name__}) is not supported: glassgrad keeps "
            "every tensor on the CPU already; pass no offload_policy"
        )


def _check_dtypes(mp_policy: MixedPrecisionPolicy, params: list) -> None:
    dtypes = {p.dtype for p in params}
    for field in ("param_dtype", "reduce_dtype", "output_dtype"):
        want = getattr(mp_policy, field)
        if want is not None and dtypes and {want} != dtypes:
            raise NotImplementedError(
                f"fully_shard: mixed precision is not supported (MixedPrecisionPolicy({field}={want}) with "
                f"parameters of {sorted(map(str, dtypes))}): glassgrad computes in the parameters' own dtype; "
                "drop mp_policy, or cast the model yourself"
            )


def _managed(modules: list, ignored: set) -> list[tuple[Any, str, Any]]:
    """(owner, name, parameter) for the parameters these modules manage: not ignored, and not
    already managed by a ``fully_shard`` further down."""
    below: set[int] = set()
    for root in modules:
        for sub in root.modules():
            if sub not in modules and isinstance(sub, FSDPModule):
                below.update(id(p) for p in sub.parameters())
    out = []
    for root in modules:
        for sub in root.modules():
            for name, p in sub._parameters.items():
                if p is not None and id(p) not in below and id(p) not in ignored:
                    out.append((sub, name, p))
    return out


def _combined(p: DTensor, mesh: DeviceMesh, place: Shard) -> tuple[DeviceMesh, tuple]:
    """The mesh and placements of a tensor-parallel ``p`` sharded again over the data-parallel ``mesh``."""
    tp = p.device_mesh
    if tp.ndim + mesh.ndim > 2 or not tp.mesh_dim_names or not mesh.mesh_dim_names:
        raise NotImplementedError(
            "fully_shard: a parameter that is already a DTensor must be 1-D tensor parallel over a named mesh, "
            f"sharded again over a named 1-D mesh; got {tp!r} and {mesh!r}"
        )
    names = mesh.mesh_dim_names + tp.mesh_dim_names
    root = mesh._get_root_mesh()
    if tp._get_root_mesh() is root and all(n in (root.mesh_dim_names or ()) for n in names):
        return root[names], (place, *p.placements)
    return DeviceMesh(mesh.device_type, [[0]], mesh_dim_names=names), (place, *p.placements)


def fully_shard(
    module: Any,
    *,
    mesh: DeviceMesh | None = None,
    reshard_after_forward: bool | int | None = None,
    shard_placement_fn: Any = None,
    mp_policy: MixedPrecisionPolicy | None = None,
    offload_policy: OffloadPolicy | None = None,
    ignored_params: set | None = None,
) -> Any:
    """Shard ``module``'s parameters over the data-parallel ``mesh`` (default: the world, starting
    the process group if needed) and return ``module`` (or the list of modules given), now of
    class ``FSDP<Class>``. See the module doc for what this means with one process.

    Shape:
        each parameter keeps its shape.
    """
    modules = list(module) if isinstance(module, list | tuple) else [module]
    for m in modules:
        if not isinstance(m, Module):
            raise TypeError(f"fully_shard: expected an nn.Module or a list of them, got {type(m).__name__}")
        if "_fsdp_mesh" in m.__dict__:
            raise AssertionError(
                "fully_shard: Each distinct composable distributed API can only be applied to a module once. "
                f"fully_shard has already been applied to the following module:\n{m}"
            )
    mp_policy = MixedPrecisionPolicy() if mp_policy is None else mp_policy
    _check_policy(mp_policy, OffloadPolicy() if offload_policy is None else offload_policy)
    if mesh is None:
        mesh = init_device_mesh("cpu", (1,))  # the world's mesh (it starts the default group if needed)
    if mesh.ndim != 1:
        raise NotImplementedError(
            f"fully_shard: HSDP (a {mesh.ndim}-D mesh) is not supported; expected a 1-D mesh"
        )
    owned = _managed(modules, {id(p) for p in ignored_params or ()})
    _check_dtypes(mp_policy, [p for _, _, p in owned])
    done: dict[int, Any] = {}  # a tied parameter is sharded once and registered everywhere
    for sub, name, p in owned:
        if id(p) not in done:
            done[id(p)] = _shard(name, p, mesh, shard_placement_fn)
        sub.register_parameter(name, done[id(p)])
    for m in modules:
        m.__dict__["_fsdp_mesh"] = mesh
        m.__class__ = _fsdp_class(type(m))
    return modules if isinstance(module, list | tuple) else module


def _shard(name: str, p: Any, mesh: DeviceMesh, shard_placement_fn: Any) -> Any:
    if p.ndim == 0:
        raise ValueError(
            f"fully_shard: fully_shard doesn't support scalar parameters. Change {name} to a 1D tensor with "
            "numel equal to 1."
        )
    place = shard_placement_fn(p) if shard_placement_fn is not None else None
    place = Shard(0) if place is None else place
    if not isinstance(place, Shard):
        raise ValueError(f"fully_shard: Invalid shard_placement_fn result: {place}")
    if not -p.ndim <= place.dim < p.ndim:
        raise AssertionError(
            f"fully_shard: Shard dim {place.dim} is invalid for {p.ndim}D tensor: {tuple(p.shape)}"
        )
    place = Shard(place.dim % p.ndim)
    dmesh, placements = _combined(p, mesh, place) if isinstance(p, DTensor) else (mesh, (place,))
    return as_parameter(_alias(DTensor, p, dmesh, placements, copy_data=True), p.requires_grad)
