"""The step-function contract shared by every search: call it on a batch of prefixes, check its answer.

A *step function* is the model as decoding sees it: ``step_fn(prefixes)`` takes the prefixes
decoded so far, an int64 ``Tensor`` of shape ``(B, t)`` (row ``b`` is one hypothesis, the prompt
included), and returns next-token log-probabilities ``(B, vocab)`` as a ``Tensor`` or an array.
Every search calls it once per step for all its live hypotheses together.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from glassgrad.backend import to_numpy
from glassgrad.errors import DTypeError, ShapeError
from glassgrad.tensor import Tensor

__all__ = ["StepFn", "prompt_array", "check_positive_int", "check_eos", "call_step"]

StepFn = Callable[[Tensor], Any]

# A row of log-probabilities must sum to 1 in probability; float32 log_softmax is far closer than this.
_LOGSUMEXP_TOL = 1e-3


def _is_int(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def check_positive_int(op: str, name: str, v: Any) -> int:
    """``v`` as an int, or a ``ValueError`` unless it is an integer >= 1."""
    if not _is_int(v) or v < 1:
        raise ValueError(f"{op}: expected {name} to be a positive int, got {v!r}")
    return int(v)


def check_eos(op: str, eos: Any) -> int | None:
    """The end-of-sequence id (a non-negative int) or None (no end token: decode ``max_len`` tokens)."""
    if eos is not None and (not _is_int(eos) or eos < 0):
        raise ValueError(f"{op}: expected eos to be a non-negative int or None, got {eos!r}")
    return None if eos is None else int(eos)


def prompt_array(op: str, bos: int | Sequence[int] | Tensor) -> np.ndarray:
    """The start of every hypothesis: one BOS id or a prompt of ids, as an int64 array ``(P,)``."""
    if isinstance(bos, Tensor):
        bos = bos.tolist()
    ids = [bos] if _is_int(bos) else bos
    if not isinstance(ids, (Sequence, np.ndarray)) or len(ids) == 0 or not all(_is_int(i) for i in ids):
        raise ValueError(
            f"{op}: expected bos to be a token id or a non-empty sequence of token ids, got {bos!r}"
        )
    arr = np.asarray(ids, dtype=np.int64)  # (P,)
    if arr.ndim != 1 or (arr < 0).any():
        raise ValueError(f"{op}: expected bos ids to be non-negative, got {bos!r}")
    return arr


def call_step(op: str, step_fn: StepFn, prefixes: np.ndarray, eos: int | None) -> np.ndarray:
    """``step_fn`` on ``prefixes (B, t)``, checked, as float64 log-probabilities ``(B, V)``.

    Refuses an answer of the wrong shape, a NaN or +inf, a row that is not a log-distribution
    (logits passed by mistake: the scores of beam search would mean nothing), and an ``eos``
    outside the vocabulary.
    """
    out = step_fn(Tensor(prefixes, _wrap=True))
    if isinstance(out, Tensor):
        out = out._data
    try:
        logp = to_numpy(out).astype(np.float64)
    except (TypeError, ValueError) as e:
        raise DTypeError(
            f"{op}: expected step_fn to return a float tensor or array, got {type(out).__name__}"
        ) from e
    B = prefixes.shape[0]
    if logp.ndim != 2 or logp.shape[0] != B or logp.shape[1] == 0:
        raise ShapeError(
            f"{op}: expected step_fn to return log-probabilities of shape ({B}, vocab) for prefixes "
            f"of shape {prefixes.shape}, got {logp.shape}"
        )
    if np.isnan(logp).any() or np.isposinf(logp).any():
        raise ValueError(f"{op}: expected step_fn to return log-probabilities, got NaN or +inf")
    top = logp.max(axis=1, keepdims=True)  # (B, 1)
    with np.errstate(invalid="ignore"):
        lse = (top + np.log(np.exp(logp - top).sum(axis=1, keepdims=True)))[:, 0]  # (B,)
    bad = ~(np.abs(lse) <= _LOGSUMEXP_TOL)
    if bad.any():
        raise ValueError(
            f"{op}: expected step_fn to return log-probabilities (each row's logsumexp 0), got a row "
            f"with logsumexp {lse[bad][0]:.4g}; apply log_softmax to the logits"
        )
    if eos is not None and eos >= logp.shape[1]:
        raise ValueError(f"{op}: expected eos < vocab size {logp.shape[1]}, got eos={eos}")
    return logp
