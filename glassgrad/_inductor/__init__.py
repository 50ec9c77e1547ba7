"""``torch._inductor``: the compiler's back end. glassgrad compiles nothing (``glassgrad.compile``
returns the model as it is), so this holds only ``config``: scripts such as llm.c's
``train_gpt2.py`` import ``torch._inductor.config`` at the top and set a setting before
``torch.compile``; and an empty ``codecache``, which nequip imports for its side effects.

>>> import glassgrad._inductor.config as config
>>> config.coordinate_descent_tuning
False
"""

from __future__ import annotations

import sys

from glassgrad._inductor import config

__all__ = ["config"]

sys.modules[__name__ + ".config"] = config
