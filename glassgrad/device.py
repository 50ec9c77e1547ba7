"""``device``: where tensors live. glassgrad computes on the CPU, and has PyTorch's ``meta`` device
(tensors with a shape and a dtype but no data; see ``meta_array.py``).

It exists so that PyTorch code that names devices (``torch.device("cuda" if available else
"cpu")``, ``x.to(device)``, ``model.cuda()``) ports with an import change. Naming another device
is allowed, as in PyTorch, where ``torch.device("cuda")`` is only a name; *using* it (creating a
tensor there, moving a tensor or module there) fails with a clear message instead of silently
running elsewhere. ``with device("meta"):`` and ``set_default_device("meta")`` make factories (and
so module constructors) build meta tensors.
"""

from __future__ import annotations

import builtins
import re
from typing import Any

from glassgrad.errors import DeviceError

__all__ = [
    "device", "check_device", "check_to_keywords", "set_default_device", "get_default_device", "wants_meta",
    "is_meta_device", "check_accelerator",
]  # fmt: skip

# PyTorch's device types, in the order its "Expected one of ..." message lists them
_KNOWN = (
    "cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia",
    "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone",
)  # fmt: skip
_DEVICE_STRING = re.compile(r"([a-zA-Z_]+)(?::(0|[1-9][0-9]*))?")


def _parse(name: str, index: Any) -> tuple[str, int | None]:
    """PyTorch's parse of ``device(name, index)``, with its ``RuntimeError`` messages: a name is a
    known type, optionally ``:`` and an index without sign or leading zeros; no index twice."""
    if not name:
        raise RuntimeError("Device string must not be empty")
    m = _DEVICE_STRING.fullmatch(name)
    if m is None:
        raise RuntimeError(f"Invalid device string: '{name}'")
    if m.group(1) not in _KNOWN:
        raise RuntimeError(  # PyTorch names the type part only
            f"Expected one of {', '.join(_KNOWN)} device type at start of device string: {m.group(1)}"
        )
    if m.group(2) is not None:
        if index is not None:
            raise RuntimeError(
                f"type (string) must not include an index because index was passed explicitly: {name}"
            )
        index = int(m.group(2))
    if index is not None:
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"device: expected an int index, got {type(index).__name__}")
        if index < 0:
            raise RuntimeError("Device index must not be negative")
        index = int(index)
    return m.group(1), index


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
        elif isinstance(type, int) and not isinstance(type, bool):
            type, index = "cuda", type  # noqa: A001 - torch.device(0) is the first CUDA device
        elif not isinstance(type, str):
            raise TypeError(
                f"device: expected a device, a str (and an int index) or an int, got {builtins.type(type).__name__}"
            )
        self.type, self.index = _parse(type, index)

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except (RuntimeError, TypeError):
                # PyTorch's comparison never raises: a name that is no device ("auto", as in
                # SB3/cleanrl's `if device == "auto"`) is simply unequal
                return False
        if isinstance(other, device):
            return self.type == other.type and self.index == other.index
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    # `with torch.device("meta"):` makes factories inside default to that device (the CPU or
    # meta); any other device is refused on entry, as using it would be.
    def __enter__(self) -> device:
        wants_meta(self, "with device(...)")
        _DEFAULT.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        if len(_DEFAULT) > 1:
            _DEFAULT.pop()


_CPU = device("cpu")
_META = device("meta")
#: The default device: ``set_default_device``'s at [0], then one entry per open ``with device(...)``.
_DEFAULT: list = [_CPU]


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
        raise DeviceError(
            f"{op}: glassgrad computes on the CPU only, got device {str(where)!r}; "
            "pick the device with glassgrad.cuda.is_available() (False) or use 'cpu'"
        )


def check_accelerator(where: Any, kind: str, op: str) -> None:
    """``Tensor.cuda(device)``, ``Module.cuda(device)`` and ``Module.xpu``/``ipu``/``mtia``: a
    device of another type (the CPU included: ``x.cuda("cpu")``) is refused as PyTorch's "Invalid
    device, must be cuda device"; the kind itself (or an index, or None) as ``check_device`` does,
    there being no accelerator."""
    if isinstance(where, device | str):
        named = where.type if isinstance(where, device) else where.partition(":")[0]
        if named != kind:
            label = "MTIA" if kind == "mtia" else kind
            raise DeviceError(f"{op}: Invalid device, must be {label} device, got {str(where)!r}")
    check_device(kind if where is None else where, op)


def is_meta_device(where: Any) -> bool:
    """Whether ``where`` (a device, a str or None) names the meta device; nothing is checked."""
    if isinstance(where, device):
        return where.type == "meta"
    return isinstance(where, str) and where.partition(":")[0] == "meta"


def wants_meta(where: Any, op: str) -> bool:
    """Whether ``op`` should make its tensor on the meta device: ``where`` names it, or is None
    while the default device is meta. Any device but the CPU and meta is refused."""
    if where is None:
        return _DEFAULT[-1] is _META or _DEFAULT[-1].type == "meta"
    if is_meta_device(where):
        return True
    check_device(where, op)
    return False


def set_default_device(device: Any) -> None:
    """Set the device new tensors are made on: ``"cpu"`` (or None) or ``"meta"``."""
    _DEFAULT[0] = _META if wants_meta("cpu" if device is None else device, "set_default_device") else _CPU


def get_default_device() -> device:
    """The device factories use when given none (the CPU unless set to meta)."""
    return _DEFAULT[-1]
