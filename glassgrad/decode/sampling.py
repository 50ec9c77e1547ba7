"""Sampling from a step function: temperature, top-k and nucleus (top-p) filtering.

``next_token_probs`` turns log-probabilities into the distribution actually sampled from;
``sample`` draws whole sequences with it, ``num_samples`` of them in parallel (one ``step_fn``
call per step for all rows still running).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from glassgrad.decode.step import StepFn, call_step, check_eos, check_positive_int, prompt_array
from glassgrad.random import Generator, get_generator

__all__ = ["next_token_probs", "sample"]


def _check_filters(op: str, temperature: float, top_k: int | None, top_p: float | None) -> None:
    if not isinstance(temperature, numbers.Real) or not 0 <= temperature < float("inf"):
        raise ValueError(f"{op}: expected a finite temperature >= 0, got {temperature!r}")
    if top_k is not None:
        check_positive_int(op, "top_k", top_k)
    if top_p is not None and (not isinstance(top_p, numbers.Real) or not 0 < top_p <= 1):
        raise ValueError(f"{op}: expected top_p in (0, 1], got {top_p!r}")


def next_token_probs(
    logp: np.ndarray, temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None
) -> np.ndarray:
    """The distribution to sample the next token from, after temperature, top-k and top-p.

    In this order: divide the log-probabilities by ``temperature`` (0 puts all the mass on the
    most probable token, the lowest id on ties: greedy); keep the ``top_k`` most probable tokens
    (and any tied with the k-th; ``top_k`` above the vocabulary keeps all); keep the smallest set
    of most probable tokens whose probability reaches ``top_p`` (the most probable token always
    stays); renormalize.

    Args:
        logp: next-token log-probabilities (or logits: only differences matter here).
        temperature: > 1 flattens the distribution, < 1 sharpens it.
        top_k: how many tokens to keep, or None for all.
        top_p: the probability mass to keep, in (0, 1], or None for all.

    Shape:
        logp ``(B, V)``; returns probabilities ``(B, V)`` (float64, rows sum to 1).

    >>> import numpy as np
    >>> next_token_probs(np.log([[0.5, 0.3, 0.2]]), top_p=0.7).round(3).tolist()
    [[0.625, 0.375, 0.0]]
    """
    op = "next_token_probs"
    _check_filters(op, temperature, top_k, top_p)
    logp = np.asarray(logp, dtype=np.float64)
    if logp.ndim != 2:
        raise ValueError(f"{op}: expected log-probabilities of shape (B, V), got {logp.shape}")
    B, V = logp.shape
    if temperature == 0:
        probs = np.zeros_like(logp)
        probs[np.arange(B), logp.argmax(axis=1)] = 1.0
        return probs
    z = logp / temperature
    z = z - z.max(axis=1, keepdims=True)  # exp below cannot overflow
    if top_k is not None and top_k < V:
        kth = np.partition(z, V - top_k, axis=1)[:, V - top_k : V - top_k + 1]  # (B, 1) the k-th largest
        z = np.where(z >= kth, z, -np.inf)
    probs = np.exp(z)
    probs /= probs.sum(axis=1, keepdims=True)
    if top_p is not None and top_p < 1:
        order = np.argsort(-probs, axis=1, kind="stable")  # (B, V) most probable first
        sorted_p = np.take_along_axis(probs, order, axis=1)
        before = np.cumsum(sorted_p, axis=1) - sorted_p  # mass of the tokens ranked above each one
        keep_sorted = before < top_p  # the first token always has before == 0
        keep = np.zeros_like(keep_sorted)
        np.put_along_axis(keep, order, keep_sorted, axis=1)
        probs = np.where(keep, probs, 0.0)
        probs /= probs.sum(axis=1, keepdims=True)
    return probs


def _draw(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One token per row by inverting the cumulative distribution; a zero-probability token is never drawn."""
    cdf = np.cumsum(probs, axis=1)  # (B, V)
    u = (1.0 - rng.random((probs.shape[0], 1))) * cdf[:, -1:]  # (B, 1), in (0, total]
    return np.minimum((cdf < u).sum(axis=1), probs.shape[1] - 1)  # first index with cdf >= u


def sample(
    step_fn: StepFn,
    bos: int | Sequence[int],
    eos: int | None,
    max_len: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: Generator | None = None,
    num_samples: int | None = None,
) -> tuple[list[int], float] | list[tuple[list[int], float]]:
    """Draw tokens one at a time from the filtered next-token distribution (``next_token_probs``).

    ``temperature=0`` (or ``top_k=1``) is greedy search. The score is the sum of the drawn tokens'
    log-probabilities under the model itself (before any filtering).

    Args:
        step_fn: ``step_fn(prefixes (B, t) int64 Tensor) -> (B, vocab)`` log-probabilities.
        bos: the start token id, or a prompt (a sequence of ids) to continue.
        eos: the end token id, or None.
        max_len: the most new tokens per sample (``eos`` included).
        temperature, top_k, top_p: see ``next_token_probs``.
        generator: a ``glassgrad.Generator``; None draws from the global one (``manual_seed``).
        num_samples: if given, draw that many sequences in parallel and return a list.

    Returns:
        ``(tokens, score)``, or a list of ``num_samples`` of them.

    Shape:
        step_fn gets ``(B, t)`` prefixes, ``B <= num_samples``, and returns ``(B, vocab)``.

    >>> import numpy as np
    >>> table = np.log([[0.1, 0.9], [0.8, 0.2]])
    >>> sample(lambda p: table[p[:, -1].numpy()], 0, 0, max_len=5, temperature=0)[0]
    [1, 0]
    """
    op = "sample"
    prompt = prompt_array(op, bos)  # (P,)
    eos = check_eos(op, eos)
    max_len = check_positive_int(op, "max_len", max_len)
    n = 1 if num_samples is None else check_positive_int(op, "num_samples", num_samples)
    _check_filters(op, temperature, top_k, top_p)
    rng = get_generator(generator)

    seqs = np.tile(prompt, (n, 1))  # (n, P)
    scores = np.zeros(n)
    lengths = np.full(n, max_len)  # new tokens per row, eos included
    running = np.arange(n)
    for step in range(max_len):
        logp = call_step(op, step_fn, seqs[running], eos)  # (r, t) -> (r, V)
        tok = _draw(next_token_probs(logp, temperature, top_k, top_p), rng)  # (r,)
        scores[running] += logp[np.arange(running.size), tok]
        column = np.zeros(n, dtype=np.int64)  # finished rows are padded; lengths cut the padding off
        column[running] = tok
        seqs = np.concatenate([seqs, column[:, None]], axis=1)  # (n, t) -> (n, t + 1)
        ended = tok == eos
        lengths[running[ended]] = step + 1
        running = running[~ended]
        if running.size == 0:
            break
    P = prompt.size
    out = [(seqs[i, P : P + lengths[i]].tolist(), float(scores[i])) for i in range(n)]
    return out[0] if num_samples is None else out
