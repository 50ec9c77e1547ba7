"""``torch._higher_order_ops``: the one prototype that programs import eagerly, ``associative_scan``
(sbi's LRU embedding net: ``from torch._higher_order_ops.associative_scan import associative_scan``)."""

from glassgrad._higher_order_ops.associative_scan import associative_scan

__all__ = ["associative_scan"]
