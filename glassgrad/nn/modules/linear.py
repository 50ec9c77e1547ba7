"""``torch.nn.modules.linear``'s import path: the same classes as ``glassgrad.nn``."""

# PyTorch leaves NonDynamicallyQuantizableLinear (MultiheadAttention.out_proj's class) out of
# __all__, but scripts name it by this path (word_language_model's safe_globals list).
from glassgrad.nn.attention import NonDynamicallyQuantizableLinear  # noqa: F401
from glassgrad.nn.lazy import LazyLinear
from glassgrad.nn.linear import Bilinear, Identity, Linear

__all__ = ["Bilinear", "Identity", "LazyLinear", "Linear"]
