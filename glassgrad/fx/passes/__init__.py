"""``torch.fx.passes``: ``shape_prop.ShapeProp``."""

from glassgrad.fx.passes import shape_prop

__all__ = ["shape_prop"]
