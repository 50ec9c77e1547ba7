"""``torch.layout`` and the layout constants that PyTorch exposes at the top level.

glassgrad stores dense tensors (``glassgrad.strided``) and COO sparse ones
(``glassgrad.sparse_coo``, ``sparse_tensor.py``). PyTorch's other layouts are names programs
compare a tensor's ``.layout`` against (``x.layout == torch.sparse_csr``) or annotate with
(``Optional[torch.layout]``); they exist here so that such code runs, and a dense or COO tensor
simply never has them. No tensor of those layouts can be built.
"""

from __future__ import annotations

from glassgrad.sparse_tensor import Layout

__all__ = ["layout", "sparse_csr", "sparse_csc", "sparse_bsr", "sparse_bsc", "jagged", "_mkldnn"]

#: ``torch.layout``: the type of ``glassgrad.strided``, ``glassgrad.sparse_coo``, ...
layout = Layout

sparse_csr = Layout("sparse_csr")
sparse_csc = Layout("sparse_csc")
sparse_bsr = Layout("sparse_bsr")
sparse_bsc = Layout("sparse_bsc")
jagged = Layout("jagged")
_mkldnn = Layout("_mkldnn")
