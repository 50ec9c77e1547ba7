"""The primitive ops, grouped by family. The only place where backward rules live."""

from glassgrad.ops import activation, elementwise, indexing, matmul, movement, reduce

__all__ = ["activation", "elementwise", "indexing", "matmul", "movement", "reduce"]
