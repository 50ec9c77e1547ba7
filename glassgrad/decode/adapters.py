"""Step functions built from models, for ``greedy_search``, ``beam_search`` and ``sample``.

- ``causal_lm_step(model)``: a decoder-only model, ``model(tokens (B, T)) -> logits (B, T, V)``
  (or a tuple whose first item is the logits, as many GPT implementations return ``(logits, loss)``).
  Each step re-runs the model on the whole prefix (cropped to ``context_size``): the model is a
  black box here, so there is no cache to keep.
- ``encoder_decoder_step(encode, decode, src)``: encodes the source once, then each step runs the
  decoder on the prefixes against that memory.

Both run under ``no_grad`` and leave the model's train/eval mode alone: call ``model.eval()``
first, or dropout makes decoding random.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from glassgrad.autograd import no_grad
from glassgrad.backend import array_module
from glassgrad.decode.step import StepFn
from glassgrad.errors import ShapeError
from glassgrad.tensor import Tensor

__all__ = ["causal_lm_step", "encoder_decoder_step", "last_log_probs"]


def last_log_probs(op: str, out: Any) -> np.ndarray:
    """The log-softmax of the last position's logits: ``(B, T, V) -> (B, V)`` (float64, stable)."""
    logits = out[0] if isinstance(out, tuple) else out
    arr = logits._data if isinstance(logits, Tensor) else np.asarray(logits)
    if arr.ndim != 3:
        raise ShapeError(f"{op}: expected the model to return logits of shape (B, T, vocab), got {arr.shape}")
    xp = array_module(arr)
    last = arr[:, -1, :].astype(xp.float64)  # (B, T, V) -> (B, V)
    last = last - last.max(axis=1, keepdims=True)
    return last - xp.log(xp.exp(last).sum(axis=1, keepdims=True))


def causal_lm_step(model: Callable[[Tensor], Any], context_size: int | None = None) -> StepFn:
    """A step function from a decoder-only language model.

    Args:
        model: ``model(tokens) -> logits``; a tuple's first item is taken as the logits.
        context_size: feed only the last ``context_size`` tokens (the model's block size), or all.

    Shape:
        model: tokens ``(B, T)`` int64 -> logits ``(B, T, vocab)``; the step function returns the
        log-probabilities at the last position, ``(B, vocab)``.
    """
    if context_size is not None and (not isinstance(context_size, int) or context_size < 1):
        raise ValueError(
            f"causal_lm_step: expected context_size to be a positive int or None, got {context_size!r}"
        )

    def step(prefixes: Tensor) -> np.ndarray:
        if context_size is not None and prefixes.shape[1] > context_size:
            prefixes = prefixes[:, -context_size:]  # (B, t) -> (B, context_size)
        with no_grad():
            return last_log_probs("causal_lm_step", model(prefixes))

    return step


def encoder_decoder_step(
    encode: Callable[[Tensor], Tensor], decode: Callable[[Tensor, Tensor], Any], src: Any
) -> StepFn:
    """A step function from an encoder-decoder model, for one source sequence.

    ``encode`` runs once, here; each step expands its memory to the number of prefixes and runs
    ``decode(prefixes, memory)`` on the whole prefixes (no key/value cache: the decoder is a black
    box; ``cached_transformer_step`` keeps a key/value cache for ``nn.TransformerDecoder``).

    Args:
        encode: ``encode(src) -> memory``, batch first.
        decode: ``decode(tgt, memory) -> logits`` (or a tuple whose first item is the logits).
        src: one source, ``(S,)`` ids or a ``(1, S)`` tensor.

    Shape:
        src ``(S,)`` or ``(1, S)``; memory ``(1, S, E)``; decode: tgt ``(B, t)``, memory
        ``(B, S, E)`` -> logits ``(B, t, vocab)``.
    """
    src = src if isinstance(src, Tensor) else Tensor(np.asarray(src, dtype=np.int64), _wrap=True)
    if src.ndim == 1:
        src = src.unsqueeze(0)  # (S,) -> (1, S)
    if src.ndim != 2 or src.shape[0] != 1:
        raise ShapeError(
            f"encoder_decoder_step: expected one source of shape (S,) or (1, S), got {src.shape}"
        )
    with no_grad():
        memory = encode(src)
    if not isinstance(memory, Tensor) or memory.ndim < 1 or memory.shape[0] != 1:
        shape = getattr(memory, "shape", type(memory).__name__)
        raise ShapeError(
            f"encoder_decoder_step: expected encode to return a batch-first (1, ...) memory, got {shape}"
        )

    def step(prefixes: Tensor) -> np.ndarray:
        B = prefixes.shape[0]
        with no_grad():
            mem = memory.expand(B, *memory.shape[1:])  # (1, S, E) -> (B, S, E), no copy
            return last_log_probs("encoder_decoder_step", decode(prefixes, mem))

    return step
