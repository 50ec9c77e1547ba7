"""The bytes ``save`` writes, made a function of what is saved.

safetensors writes the header's ``__metadata__`` from a Rust ``HashMap``, whose order is drawn
afresh for each map: saving one object twice gave two files (``glassgrad.format`` or
``glassgrad.structure`` first), where PyTorch's ``torch.save`` writes the same bytes each time.
Programs compare checkpoints byte for byte (d3rlpy's tests check that a model loaded back saves
to the bytes of the original). The header is written again with ``__metadata__``'s keys sorted:
the same JSON, the same length, so the tensors' offsets stay where they are.
"""

from __future__ import annotations

import json

__all__ = ["canonical_header"]


def canonical_header(data: bytes) -> bytes:
    """``data`` (a safetensors file) with its ``__metadata__`` keys in sorted order. The header is
    rewritten in serde_json's compact form (no spaces, UTF-8 as is) and padded with spaces to its
    old length, as safetensors pads it; if it would not fit exactly, ``data`` is returned as it is."""
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + n].decode("utf-8"))
    meta = header.get("__metadata__")
    if not isinstance(meta, dict):
        return data
    header["__metadata__"] = dict(sorted(meta.items()))
    new = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if len(new) > n or new.rstrip() != new:
        return data
    return data[:8] + new + b" " * (n - len(new)) + data[8 + n :]
