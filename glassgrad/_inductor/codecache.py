"""``torch._inductor.codecache``: the compiler's cache of generated code. glassgrad generates no
code, so the module is empty; it exists because programs import it for its side effects (nequip's
start-up does ``from torch._inductor import codecache`` before ``aoti_load_package``, a PyTorch
2.10 work-around), and that import should not be what stops them.
"""

from __future__ import annotations

__all__: list[str] = []
