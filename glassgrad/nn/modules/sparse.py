"""``torch.nn.modules.sparse``'s import path: the same classes as ``glassgrad.nn``."""

from glassgrad.nn.embedding import Embedding
from glassgrad.nn.embedding_bag import EmbeddingBag

__all__ = ["Embedding", "EmbeddingBag"]
