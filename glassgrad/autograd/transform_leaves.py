"""The primals a ``torch.func`` reverse transform (``grad``, ``vjp``, ``jacrev``, ``hessian``) hands
``f`` as views of the caller's tensors (``func/transforms.py``, so that a recorded derivative
stays in the caller's graph). PyTorch's are leaves of the transform's level: a recorded in-place
change of one, or of a view of one, raises "a leaf Variable that requires grad is being used in an
in-place operation" (``view_rebase.check_view`` asks here).
"""

from __future__ import annotations

import weakref
from typing import Any

from glassgrad.autograd.function import Node
from glassgrad.errors import GraphError

__all__ = ["refuse_transform_leaf", "transform_leaves"]

# a primal's node -> its base (weakly): a view of that memory made from the primal is refused; a
# tensor computed from it (``(a * 1)[:1]``) or another view of the caller's tensor is not
transform_leaves: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def refuse_transform_leaf(t: Any, base: Any, op: str) -> None:
    """Raise where view ``t`` (of ``base``) is a transform's primal or was made from one."""
    n = t._node
    while isinstance(n, Node):
        owner = transform_leaves.get(n)
        if owner is not None and owner() is base:
            raise GraphError(
                f"{op}: a leaf Variable that requires grad is being used in an in-place operation "
                f"(shape {t.shape}: f's differentiated input, or a view of it, inside a torch.func "
                "transform; PyTorch refuses it too); change a clone()"
            )
        n = n.next[0] if n.next else None
