"""``glassgrad.distributed.constants``: PyTorch's default process-group timeouts (Lightning imports
``default_pg_timeout``). Without NCCL the NCCL timeout is ``None``, as in a CPU build of PyTorch."""

from datetime import timedelta

__all__ = ["default_pg_timeout", "default_pg_nccl_timeout"]

_DEFAULT_PG_TIMEOUT = timedelta(minutes=30)
default_pg_timeout = _DEFAULT_PG_TIMEOUT
default_pg_nccl_timeout = None
