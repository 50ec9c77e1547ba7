"""``torch.utils.model_zoo``: the older name for checkpoint downloads, kept by PyTorch for code such
as pretrained-backbone loaders (``model_zoo.load_url(url)``). ``load_url`` is
:func:`glassgrad.hub.load_state_dict_from_url`, the same function object, so it caches and loads
exactly as that does (safetensors files, not pickles).

>>> import glassgrad.utils.model_zoo as model_zoo, glassgrad.hub
>>> model_zoo.load_url is glassgrad.hub.load_state_dict_from_url
True
"""

from __future__ import annotations

from glassgrad.hub import load_state_dict_from_url as load_url
from glassgrad.hub import tqdm

__all__ = ["load_url", "tqdm"]
