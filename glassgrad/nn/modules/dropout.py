"""``torch.nn.modules.dropout``'s import path: the same classes as ``glassgrad.nn``."""

from glassgrad.nn.dropout import Dropout, Dropout1d, Dropout2d, Dropout3d, _DropoutNd

__all__ = ["_DropoutNd", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d"]
