"""``glassgrad.utils``: PyTorch's ``torch.utils`` path. ``glassgrad.utils.data`` is the data package
(``glassgrad.data``), importable both ways:

>>> import glassgrad as gg
>>> from glassgrad.utils.data import DataLoader, TensorDataset
>>> gg.utils.data.DataLoader is gg.data.DataLoader is DataLoader
True
"""

from __future__ import annotations

import sys

from glassgrad import data
from glassgrad.data import dataloader, datapipes, dataset, distributed, graph, graph_settings, sampler
from glassgrad.utils import (
    _pytree,  # noqa: F401 - torch.utils._pytree, reachable as an attribute
    checkpoint,  # torch.utils.checkpoint, reachable after `import glassgrad`
    deterministic,  # noqa: F401 - torch.utils.deterministic (fill_uninitialized_memory)
    dlpack,  # torch.utils.dlpack
    hooks,  # noqa: F401 - torch.utils.hooks (RemovableHandle), an attribute after `import torch` (Captum)
    weak,  # noqa: F401 - torch.utils.weak (WeakTensorKeyDictionary), an attribute after `import torch`
)
from glassgrad.utils.swap import swap_tensors

__all__ = ["checkpoint", "data", "dlpack", "swap_tensors"]

# The same module objects under torch.utils.data's names, so `import glassgrad.utils.data`,
# `from glassgrad.utils.data.dataloader import default_collate` and attribute access all work.
sys.modules[__name__ + ".data"] = data
sys.modules[__name__ + ".data.dataloader"] = dataloader
sys.modules[__name__ + ".data.dataset"] = dataset
sys.modules[__name__ + ".data.sampler"] = sampler
sys.modules[__name__ + ".data.distributed"] = distributed
sys.modules[__name__ + ".data._utils"] = data._utils
sys.modules[__name__ + ".data._utils.collate"] = data._utils.collate
sys.modules[__name__ + ".data._utils.worker"] = data._utils.worker
sys.modules[__name__ + ".data._utils.pin_memory"] = data._utils.pin_memory
sys.modules[__name__ + ".data.graph_settings"] = graph_settings
sys.modules[__name__ + ".data.graph"] = graph
sys.modules[__name__ + ".data.datapipes"] = datapipes
sys.modules[__name__ + ".data.datapipes.datapipe"] = datapipes.datapipe
sys.modules[__name__ + ".data.datapipes.iter"] = datapipes.iter
sys.modules[__name__ + ".data.datapipes.iter.combinatorics"] = datapipes.iter.combinatorics
