"""``torch.nn.modules.dropout``'s import path: the same classes as ``glassgrad.nn``."""

from glassgrad.nn.dropout import Dropout, Dropout1d, Dropout2d, Dropout3d

# PyTorch's base of every dropout layer; here Dropout itself is that base (Dropout1d/2d/3d subclass it)
_DropoutNd = Dropout

__all__ = ["_DropoutNd", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d"]
