"""``torch._subclasses``: only ``fake_tensor``'s names, for code importing them (torchtune's
``modules/common_utils.py`` imports ``FakeTensorMode`` and ``FakeTensorConverter`` at module level
for its QLoRA checkpoint hook); see ``fake_tensor.py``.
"""

from glassgrad._subclasses import fake_tensor
from glassgrad._subclasses.fake_tensor import FakeTensor, FakeTensorMode

__all__ = ["FakeTensor", "FakeTensorMode", "fake_tensor"]
