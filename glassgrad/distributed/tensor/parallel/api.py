"""``parallelize_module`` (PyTorch's ``torch.distributed.tensor.parallel.parallelize_module``)."""

from __future__ import annotations

import warnings
from fnmatch import fnmatch
from typing import Any

from glassgrad.distributed.device_mesh import DeviceMesh, current_mesh
from glassgrad.distributed.tensor.parallel.style import ParallelStyle
from glassgrad.user_frames import user_stacklevel

__all__ = ["parallelize_module"]


def parallelize_module(
    module: Any,
    device_mesh: DeviceMesh | None = None,
    parallelize_plan: ParallelStyle | dict[str, ParallelStyle] | None = None,
    *,
    src_data_rank: int | None = 0,
) -> Any:
    """Apply ``parallelize_plan`` to ``module`` over the 1-D ``device_mesh`` (default: the
    ``with mesh:`` one) and return ``module``. The plan is a ``ParallelStyle`` for ``module`` itself
    or a dict from submodule paths to styles; a path may use ``fnmatch`` patterns per dotted part
    (``"layers.*.attention"``). As in PyTorch 2.13, a path that matches no submodule is skipped
    with a ``UserWarning`` naming the part that failed and the module it was looked up in.

    In a world of one process the parameters keep their values (they become ``DTensor``
    parameters, as in PyTorch) and the module computes what it did before; see ``style.py``.
    """
    mesh = device_mesh or current_mesh("parallelize_module")
    if parallelize_plan is None:
        warnings.warn(
            "No parallelize_plan is provided and auto-parallel is not supported at the moment, so this "
            "parallelize_module call will do nothing.",
            stacklevel=user_stacklevel(),
        )
        return module
    if mesh.ndim != 1:
        raise ValueError(
            f"parallelize_module: expected a 1-D DeviceMesh (slice a bigger one first, e.g. mesh['tp']), got "
            f"{mesh!r}"
        )
    if isinstance(parallelize_plan, ParallelStyle):
        parallelize_plan.src_data_rank = src_data_rank
        return parallelize_plan._apply(module, mesh)
    if not isinstance(parallelize_plan, dict):
        raise TypeError(
            "parallelize_module: Expect Union[ParallelStyle, Dict[str, ParallelStyle]] for parallelize_plan, "
            f"{type(parallelize_plan)} found!"
        )
    for path, style in parallelize_plan.items():
        if path == "":
            parallelize_module(module, mesh, style, src_data_rank=src_data_rank)
            continue
        token, _, rest = path.partition(".")
        matched = [sub for name, sub in module.named_children() if fnmatch(name, token)]
        if not matched:
            warnings.warn(
                f"Parallelize plan key '{path}' could not be resolved: no submodule matching token '{token}' in "
                f"module {module}, skipping this plan entry.",
                stacklevel=user_stacklevel(),
            )
            continue
        for sub in matched:
            plan = {rest: style} if rest else style
            parallelize_module(sub, mesh, plan, src_data_rank=src_data_rank)
    return module
