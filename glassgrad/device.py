"""``device``: where tensors live. glassgrad computes on the CPU only.

It exists so that PyTorch code that names devices (``torch.device("cuda" if available else
"cpu")``, ``x.to(device)``, ``model.cuda()``) ports with an import change. Naming another device
is allowed, as in PyTorch, where ``torch.device("cuda")`` is only a name; *using* it (creating a
tensor there, moving a tensor or module there) fails with a clear message instead of silently
running elsewhere.
"""

from __future__ import annotations

from typing import Any

__all__ = ["device", "check_device", "check_to_keywords", "set_default_device", "get_default_device"]

_KNOWN = ("cpu", "cuda", "mps", "xpu", "meta", "hip", "xla", "ipu", "mtia", "privateuseone")


class device:  # noqa: N801 - PyTorch's name
    """A device name: ``device("cpu")``, ``device("cuda", 0)``, ``device("cuda:1")``.

    >>> import glassgrad as gg
    >>> gg.device("cpu") == "cpu"
    True
    >>> gg.device("cuda:0")
    device(type='cuda', index=0)
    >>> with gg.device("cpu"):
    ...     gg.zeros(2).device
    device(type='cpu')
    """

    __slots__ = ("index", "type")

    def __init__(self, type: Any = "cpu", index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            type, index = type.type, type.index  # noqa: A001
        elif isinstance(type, int):
            type, index = "cuda", type  # noqa: A001 - torch.device(0) is the first CUDA device
        kind, _, idx = str(type).partition(":")
        if kind not in _KNOWN:
            raise ValueError(f"device: expected a device type such as 'cpu' or 'cuda', got {str(type)!r}")
        self.type = kind
        self.index = int(idx) if idx else index

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            other = device(other)
        if isinstance(other, device):
            return self.type == other.type and self.index == other.index
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    # `with torch.device("cpu"):` makes factories inside default to that device; the CPU is
    # already the default here, and any other device is refused on entry, as using it would be.
    def __enter__(self) -> device:
        check_device(self, "with device(...)")
        return self

    def __exit__(self, *exc: object) -> None:
        return None


_CPU = device("cpu")


#: The keywords ``Tensor.to`` and ``Module.to`` take (PyTorch's; ``Module.to`` has no ``copy``).
TENSOR_TO_KEYWORDS = frozenset({"dtype", "device", "non_blocking", "copy", "memory_format", "tensor"})
MODULE_TO_KEYWORDS = TENSOR_TO_KEYWORDS - {"copy"}


def check_to_keywords(op: str, kwargs: dict, allowed: frozenset) -> None:
    """Raise ``TypeError`` for a keyword ``op`` does not take: PyTorch refuses it, and ignoring it
    would hide a mistake (an old script's ``x.to(requires_grad=True)`` did nothing)."""
    if not allowed.issuperset(kwargs):
        raise TypeError(f"{op}: expected keywords among {sorted(allowed)}, got {sorted(kwargs)}")


def check_device(where: Any, op: str) -> None:
    """Refuse any device but the CPU (None means the default device, the CPU)."""
    if where is None or where is _CPU:
        return
    if isinstance(where, device):
        kind = where.type
    elif isinstance(where, str):
        kind = where.partition(":")[0]
    elif isinstance(where, int):
        kind = "cuda"
    else:
        raise TypeError(f"{op}: expected a device (str or glassgrad.device), got {type(where).__name__}")
    if kind != "cpu":
        raise RuntimeError(
            f"{op}: glassgrad computes on the CPU only, got device {str(where)!r}; "
            "pick the device with glassgrad.cuda.is_available() (False) or use 'cpu'"
        )


def set_default_device(where: Any) -> None:
    """Set the device new tensors are made on: only ``"cpu"`` (or None) is possible here."""
    check_device(where, "set_default_device")


def get_default_device() -> device:
    return _CPU
