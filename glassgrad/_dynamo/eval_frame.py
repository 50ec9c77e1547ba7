"""``torch._dynamo.eval_frame``: the module that defines ``OptimizedModule`` in PyTorch.
Libraries reach the class through it (diffusers' ``is_compiled_module``:
``isinstance(module, torch._dynamo.eval_frame.OptimizedModule)``, port round 39); it is the one
class ``glassgrad._dynamo.OptimizedModule``, so the answer is False for every module here.

>>> import glassgrad as gg
>>> isinstance(gg.nn.Linear(2, 2), gg._dynamo.eval_frame.OptimizedModule)
False
"""

from __future__ import annotations

from glassgrad._dynamo import OptimizedModule
from glassgrad._dynamo.optimized_module import OptimizeContext, _TorchDynamoContext

__all__ = ["OptimizeContext", "OptimizedModule", "_TorchDynamoContext"]
