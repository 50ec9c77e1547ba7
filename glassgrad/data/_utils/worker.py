"""``torch.utils.data._utils.worker``: the loading worker's record. glassgrad loads in the main
process, so ``_worker_info`` stays ``None`` (code that resets it after a thread, as MONAI's
``ThreadDataLoader``, finds it)."""

from glassgrad.data.dataloader import get_worker_info

__all__ = ["get_worker_info"]

_worker_info = None
