"""Capture attention weights per layer and head with forward hooks (the model is not changed).

>>> import glassgrad as gg
>>> layer = gg.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True)
>>> model = gg.nn.TransformerEncoder(layer, num_layers=2)
>>> insp = AttentionInspector(model)
>>> _ = model(gg.randn(3, 5, 8))
>>> tuple(insp.weights("layers.0.self_attn").shape)  # (N, heads, L, S)
(3, 2, 5, 5)

Every submodule that looks like ``nn.MultiheadAttention`` (PyTorch's forward signature
``(query, key, value, key_padding_mask, need_weights, attn_mask, average_attn_weights, ...)``
returning ``(output, weights)``) gets a pre-hook that asks for per-head weights
(``need_weights=True, average_attn_weights=False``) and a hook that stores them and hands the
caller what it asked for: a Transformer layer that called with ``need_weights=False`` still
receives ``(output, None)``, so the model computes exactly what it computed before.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["AttentionInspector"]

_NEED_WEIGHTS, _AVERAGE = 4, 6  # positions of need_weights and average_attn_weights in forward


def _is_attention(m: Any) -> bool:
    return type(m).__name__ == "MultiheadAttention" or (
        hasattr(m, "num_heads") and hasattr(m, "embed_dim") and hasattr(m, "in_proj_weight")
    )


class AttentionInspector:
    """Record the attention maps of every ``MultiheadAttention`` inside ``model``.

    Attributes:
        maps: ``{module path: [weights per call]}``, each weights array (N, h, L, S) in NumPy.
    """

    def __init__(self, model: Any) -> None:
        self.maps: dict[str, list[np.ndarray]] = {}
        self._asked: dict[int, tuple[bool, bool]] = {}
        self._handles = []
        for path, m in model.named_modules():
            if _is_attention(m):
                name = path or type(m).__name__
                self.maps[name] = []
                self._handles.append(m.register_forward_pre_hook(self._pre, with_kwargs=True))
                self._handles.append(m.register_forward_hook(self._post_for(name)))

    def _pre(self, module: Any, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        args, kwargs = list(args), dict(kwargs)
        asked = []
        for pos, key, default in (
            (_NEED_WEIGHTS, "need_weights", True),
            (_AVERAGE, "average_attn_weights", True),
        ):
            if len(args) > pos:
                asked.append(bool(args[pos]))
                args[pos] = key == "need_weights"  # need_weights=True, average_attn_weights=False
            else:
                asked.append(bool(kwargs.get(key, default)))
                kwargs[key] = key == "need_weights"
        self._asked[id(module)] = (asked[0], asked[1])
        return tuple(args), kwargs

    def _post_for(self, name: str) -> Any:
        def hook(module: Any, args: tuple, output: Any) -> Any:
            out, weights = output
            w = np.array(weights._data)  # (N, h, L, S), or (h, L, S) for unbatched input
            self.maps[name].append(w)
            need, average = self._asked.pop(id(module), (True, True))
            if not need:
                return out, None
            if average:
                return out, weights.mean(dim=-3)  # (N, h, L, S) -> (N, L, S), as asked
            return output

        return hook

    def layers(self) -> list[str]:
        """The module paths of the attention layers, in model order."""
        return list(self.maps)

    def weights(self, layer: str | int = 0, call: int = -1) -> np.ndarray:
        """The weights of one layer (by path or index) from one call (the last by default).

        Shape:
            (N, h, L, S): batch, head, query position, key position.
        """
        name = self.layers()[layer] if isinstance(layer, int) else layer
        if not self.maps.get(name):
            raise KeyError(f"AttentionInspector: no call of {name!r} recorded yet; run the model first")
        return self.maps[name][call]

    def plot(self, layer: str | int = 0, batch: int = 0, tokens_q: Any = None, tokens_k: Any = None) -> Any:
        """Heat maps of every head of one layer for one batch item (``viz.plot_attention``)."""
        from glassgrad.viz import plot_attention

        w = self.weights(layer)
        w = w[batch] if w.ndim == 4 else w  # (N, h, L, S) -> (h, L, S)
        return plot_attention(w, tokens_q, tokens_k if tokens_k is not None else tokens_q, title=str(layer))

    def clear(self) -> None:
        for v in self.maps.values():
            v.clear()

    def remove(self) -> None:
        """Take the hooks off the model."""
        for h in self._handles:
            h.remove()
        self._handles = []

    def __enter__(self) -> AttentionInspector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()
