"""``torch.nn.modules.distance``'s import path: the same classes as ``glassgrad.nn``."""

from glassgrad.nn.distance import CosineSimilarity, PairwiseDistance

__all__ = ["CosineSimilarity", "PairwiseDistance"]
