"""``torch.storage``: the module of the storage classes.

Serialization and checkpoint code imports them from here (``from torch.storage import
UntypedStorage``) and tests ``isinstance(s, torch.storage.TypedStorage)``; they are the classes of
``glassgrad.tensor_storage`` (``Tensor.untyped_storage()`` and ``Tensor.storage()``; a legacy
``torch.FloatStorage(n)`` is a ``TypedStorage`` too).
"""

from __future__ import annotations

from glassgrad.tensor_storage import TypedStorage, UntypedStorage

__all__ = ["TypedStorage", "UntypedStorage"]
