"""Hints for the shape errors learners meet most: matmul inner dims, channels-first vs
channels-last, batch_first, splitting embed_dim into heads.

Pure functions of the error text, the module (read by duck typing) and the input shapes; this
file imports nothing from glassgrad, so ``nn.Module`` can call it on its error path without a
layering cycle.
"""

from __future__ import annotations

from typing import Any

__all__ = ["shape_hint"]


def shape_hint(message: str, module: Any, input_shapes: list[tuple]) -> str | None:
    """A one-line hint for a failed op inside ``module`` called on inputs of ``input_shapes``."""
    kind = type(module).__name__
    x = input_shapes[0] if input_shapes else None
    num_layers = getattr(module, "num_layers", None)
    if "should also be" in message and "hx" in message and isinstance(num_layers, int):
        # the input is fine, the state has a dim too many or too few: batch_first is no cure
        first = num_layers * (2 if getattr(module, "bidirectional", False) else 1)
        return (
            f"{kind}'s state is (num_layers * num_directions, N, H) = ({first}, N, H) for a batched "
            f"input and ({first}, H) for an unbatched one, whatever batch_first is; reshape hx to that"
        )
    in_channels = getattr(module, "in_channels", None)
    if in_channels is not None and x is not None and len(x) >= 3:
        if x[1] != in_channels and x[-1] == in_channels:
            perm = "0, 3, 1, 2" if len(x) == 4 else ("0, 2, 1" if len(x) == 3 else "0, 4, 1, 2, 3")
            return (
                f"{kind} takes channels-first input (N, C, ...) with C = in_channels = {in_channels}; "
                f"this input {x} looks channels-last: use x.permute({perm})"
            )
        if x[1] != in_channels:
            return (
                f"{kind} expects {in_channels} input channels at dim 1 (N, C, H, W), got {x[1]} (input {x})"
            )
    num_heads = getattr(module, "num_heads", None)
    embed_dim = getattr(module, "embed_dim", None)
    if num_heads and embed_dim and embed_dim % num_heads:
        return (
            f"embed_dim {embed_dim} must split evenly into num_heads {num_heads}: (N, L, E) -> (N, L, h, E/h)"
        )
    width = embed_dim or getattr(module, "input_size", None)
    if width and x and x[-1] != width:
        what = "embed_dim" if embed_dim else "input_size"
        return f"{kind}({what}={width}) needs inputs whose last dim is {width}, got {x}"
    batch_first = getattr(module, "batch_first", None)
    if batch_first is not None and x is not None and len(x) == 3:
        expected = "(N, L, E)" if batch_first else "(L, N, E)"
        other = "False" if batch_first else "True"
        return (
            f"{kind} was built with batch_first={batch_first} and reads {x} as {expected}; "
            f"if your tensors are the other way round, pass batch_first={other} or transpose(0, 1)"
        )
    if num_heads and ("reshape" in message or "view" in message):
        return f"splitting into {num_heads} heads: (N, L, E) -> (N, L, h, E/h) needs L, N and E as the module expects"
    in_features = getattr(module, "in_features", None)
    if in_features is not None and x:
        if len(x) > 2 and x[-1] != in_features:
            return (
                f"{kind}(in_features={in_features}) needs inputs (..., {in_features}), got {x}; "
                "flatten the features first (x.flatten(1)) or set in_features to the last dim"
            )
        if x[-1] != in_features:
            return (
                f"the input has {x[-1]} features where {kind} wants {in_features}: make this layer's "
                f"in_features={x[-1]}, or the previous layer's out_features={in_features}"
            )
    if "matmul" in message or "linear" in message or "@ (..., k, m)" in message:  # mm, bmm, mv, dot too
        return "for A @ B the last dim of A must equal the second-to-last dim of B: (..., n, k) @ (..., k, m)"
    return None
