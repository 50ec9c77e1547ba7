"""``device``: where tensors live. glassgrad computes on the CPU only, so there is one device.

It exists so that PyTorch code that names devices (``torch.device("cpu")``, ``x.to(device)``,
``torch.cuda.is_available()``) ports with an import change, and so that asking for a GPU fails
with a clear message instead of silently running elsewhere.
"""

from __future__ import annotations

from typing import Any

__all__ = ["device"]


class device:  # noqa: N801 - PyTorch's name
    """A device name: ``device("cpu")`` (``"cpu:0"`` too); any other device is a ``ValueError``.

    >>> import glassgrad as gg
    >>> gg.device("cpu") == "cpu"
    True
    """

    __slots__ = ("index", "type")

    def __init__(self, type: Any = "cpu", index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            type, index = type.type, type.index  # noqa: A001
        kind, _, idx = str(type).partition(":")
        if kind != "cpu":
            raise ValueError(f"device: glassgrad runs on the CPU only; expected 'cpu', got {str(type)!r}")
        self.type = "cpu"
        self.index = int(idx) if idx else index

    def __repr__(self) -> str:
        return "device(type='cpu')" if self.index is None else f"device(type='cpu', index={self.index})"

    def __str__(self) -> str:
        return "cpu" if self.index is None else f"cpu:{self.index}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, device | str):
            return str(other).partition(":")[0] == "cpu"
        return NotImplemented

    def __hash__(self) -> int:
        return hash("cpu")
