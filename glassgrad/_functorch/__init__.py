"""``torch._functorch``: AOTAutograd's home in PyTorch. glassgrad traces nothing, so this holds only
``config``, which PyTorch loads with ``import torch``: gpt-fast's ``generate.py`` sets
``torch._functorch.config.enable_autograd_cache`` without importing it first.

>>> import glassgrad
>>> glassgrad._functorch.config.enable_autograd_cache
True
"""

from __future__ import annotations

import sys

from glassgrad._functorch import config

__all__ = ["config"]

sys.modules[__name__ + ".config"] = config
