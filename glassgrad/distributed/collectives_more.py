"""More of ``torch.distributed``'s collectives for the world of one process (see the package's
docstring): ``all_to_all_single`` and ``get_process_group_ranks``, which transformers 5 imports for
expert parallelism."""

from __future__ import annotations

from typing import Any

__all__ = ["all_to_all_single", "get_process_group_ranks"]


def _check_splits(name: str, splits: Any, size: int, what: str) -> None:
    if splits is None:
        return
    sizes = [int(n) for n in splits]
    if len(sizes) != 1 or sizes[0] != size:
        raise ValueError(
            f"{name}: expected {what} of one entry equal to dim 0 ({size}) in a world of one process, "
            f"got {list(splits)}"
        )


def all_to_all_single(
    output: Any,
    input: Any,  # noqa: A002 - PyTorch's name
    output_split_sizes: Any = None,
    input_split_sizes: Any = None,
    group: Any = None,
    async_op: bool = False,
) -> Any:
    """Scatter ``input``'s dim-0 pieces to every process and gather theirs into ``output``: with one
    process, ``input`` is copied into ``output``."""
    from glassgrad.distributed import _copy_into, _require

    _require()
    _check_splits(
        "all_to_all_single", input_split_sizes, int(input.shape[0]) if input.dim() else 0, "input_split_sizes"
    )
    _check_splits(
        "all_to_all_single",
        output_split_sizes,
        int(output.shape[0]) if output.dim() else 0,
        "output_split_sizes",
    )
    return _copy_into(output, input, async_op)


def get_process_group_ranks(group: Any) -> list[int]:
    """The global ranks in ``group``: ``[0]``, the one process."""
    from glassgrad.distributed import _require

    _require()
    return [0]
