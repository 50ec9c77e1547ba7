"""``torch.distributed.Backend``: the names of the communication backends (a ``str`` subclass).

Libraries read them at import time (pytorch-ignite's ``idist`` takes ``dist.Backend.NCCL``,
``GLOO`` and ``MPI`` when ``dist.is_available()``); ``Backend("GLOO")`` is ``"gloo"``. Naming a
backend starts nothing: ``init_process_group`` decides which ones run here (gloo, in one process).

>>> from glassgrad.distributed import Backend
>>> Backend("GLOO"), Backend.NCCL
('gloo', 'nccl')
"""

from __future__ import annotations

__all__ = [
    "Backend", "is_gloo_available", "is_nccl_available", "is_mpi_available", "is_ucc_available",
    "is_xccl_available", "is_backend_available",
]  # fmt: skip


class Backend(str):
    """A backend's name, lower-cased: a known one (``Backend.GLOO`` ...) or any other string."""

    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    XCCL = "xccl"
    UCC = "ucc"
    MPI = "mpi"
    FAKE = "fake"
    backend_list = [UNDEFINED, GLOO, NCCL, XCCL, UCC, MPI, FAKE]  # noqa: RUF012 - PyTorch's mutable list
    default_device_backend_map: dict[str, str] = {"cpu": GLOO, "cuda": NCCL, "xpu": XCCL, "mps": GLOO}  # noqa: RUF012

    def __new__(cls, name: str) -> str:  # type: ignore[misc]
        # PyTorch's: the known name's constant (a plain str), else the name lower-cased
        if not isinstance(name, str):
            raise ValueError(f"Backend: expected a backend name as a str, got {type(name).__name__}")
        value = getattr(Backend, name.upper(), Backend.UNDEFINED)
        return name.lower() if value == Backend.UNDEFINED else value


def is_gloo_available() -> bool:
    """True: gloo, the CPU's backend, is what a world of one runs on here."""
    return True


def is_nccl_available() -> bool:
    """False, as on PyTorch's CPU build (NCCL needs CUDA)."""
    return False


def is_mpi_available() -> bool:
    return False


def is_ucc_available() -> bool:
    return False


def is_xccl_available() -> bool:
    return False


def is_backend_available(backend: str) -> bool:
    """Whether ``backend`` (a name) can start a process group here: gloo only."""
    return Backend(backend) == Backend.GLOO
