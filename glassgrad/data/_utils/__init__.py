"""``torch.utils.data._utils``: the collate pieces (``collate``), the worker record (``worker``) and
the recursive pinning (``pin_memory``), and the fetchers (``fetch``).

Libraries built on PyTorch's loader reach into it: MONAI imports ``default_collate``,
``collate_tensor_fn`` and ``default_collate_fn_map`` from ``torch.utils.data._utils.collate`` and
registers its own types in that map, and resets ``torch.utils.data._utils.worker._worker_info``.
"""

from glassgrad.data._utils import collate, fetch, pin_memory, worker

__all__ = ["collate", "fetch", "pin_memory", "worker"]
