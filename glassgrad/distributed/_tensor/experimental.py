"""``torch.distributed._tensor.experimental``: the former home of
``torch.distributed.tensor.experimental``, kept by PyTorch for old imports
(``from torch.distributed._tensor.experimental import implicit_replication``)."""

from __future__ import annotations

from glassgrad.distributed.tensor.experimental import implicit_replication

__all__ = ["implicit_replication"]
