"""Greedy search and beam search over a step function (see ``glassgrad.decode.step``).

Both return the generated tokens (the prompt left out, the ``eos`` kept when it was produced) and
a score. The score is the sum of the tokens' log-probabilities, divided by ``length**length_penalty``
in beam search (``length`` counts the generated tokens, ``eos`` included), so with the default
``length_penalty=0`` it is the log-probability of the whole output.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from glassgrad.decode.step import StepFn, call_step, check_eos, check_positive_int, prompt_array

__all__ = ["greedy_search", "beam_search"]

Hypothesis = tuple[list[int], float]


def greedy_search(step_fn: StepFn, bos: int | Sequence[int], eos: int | None, max_len: int) -> Hypothesis:
    """Pick the most probable next token at every step, until ``eos`` or ``max_len`` new tokens.

    Ties go to the lowest token id.

    Args:
        step_fn: ``step_fn(prefixes (B, t) int64 Tensor) -> (B, vocab)`` log-probabilities.
        bos: the start token id, or a prompt (a sequence of ids) to continue.
        eos: the end token id (produced once, then decoding stops), or None.
        max_len: the most new tokens to produce (``eos`` included).

    Returns:
        ``(tokens, score)``: the new token ids and the sum of their log-probabilities.

    Shape:
        step_fn gets ``(1, t)`` prefixes and returns ``(1, vocab)``.

    >>> import numpy as np
    >>> table = np.log([[0.1, 0.9], [0.8, 0.2]])  # next-token log-probs given the last token
    >>> greedy_search(lambda p: table[p[:, -1].numpy()], bos=0, eos=0, max_len=5)[0]
    [1, 0]
    """
    op = "greedy_search"
    seq = prompt_array(op, bos)  # (P,)
    eos = check_eos(op, eos)
    max_len = check_positive_int(op, "max_len", max_len)
    tokens: list[int] = []
    score = 0.0
    for _ in range(max_len):
        logp = call_step(op, step_fn, seq[None, :], eos)[0]  # (1, t) -> (V,)
        tok = int(np.argmax(logp))
        score += float(logp[tok])
        tokens.append(tok)
        seq = np.append(seq, tok)
        if tok == eos:
            break
    return tokens, score


def _ranked(scores: np.ndarray, m: int) -> np.ndarray:
    """Indices of the ``m`` best finite scores, best first, ties by lower index (as greedy's argmax)."""
    m = min(m, int(np.isfinite(scores).sum()))
    if m == 0:
        return np.empty(0, dtype=np.int64)
    cut = np.partition(scores, scores.size - m)[scores.size - m]  # the m-th largest
    idx = np.flatnonzero(scores >= cut)  # every score tied with the cut, too
    return idx[np.argsort(-scores[idx], kind="stable")][:m]


def _normalized(raw: float, length: int, alpha: float) -> float:
    return raw / length**alpha if alpha else raw


def beam_search(
    step_fn: StepFn,
    bos: int | Sequence[int],
    eos: int | None,
    beam_size: int,
    max_len: int,
    length_penalty: float = 0.0,
    n_best: int | None = None,
) -> Hypothesis | list[Hypothesis]:
    """Keep the ``beam_size`` best partial outputs at every step; return the best finished one(s).

    At each step every live hypothesis is extended by every token in one ``step_fn`` call on all
    of them, and the candidates are ranked by total log-probability. Walking down that ranking, a
    candidate ending in ``eos`` that ranks within the top ``beam_size`` is finished; the others
    fill the next beam until it holds ``beam_size``. Hypotheses still live after ``max_len``
    tokens finish without ``eos``. Finished ones are ranked by ``score / length**length_penalty``.

    The search stops as soon as no live hypothesis can beat the ``n_best``-th finished one (log-
    probabilities only fall as a hypothesis grows), so stopping early never changes the answer.
    ``beam_size=1`` is greedy search.

    Args:
        step_fn: ``step_fn(prefixes (B, t) int64 Tensor) -> (B, vocab)`` log-probabilities.
        bos: the start token id, or a prompt (a sequence of ids) to continue.
        eos: the end token id, or None (every hypothesis runs ``max_len`` tokens).
        beam_size: how many hypotheses to keep live.
        max_len: the most new tokens per hypothesis (``eos`` included).
        length_penalty: alpha >= 0 favours longer outputs (0: plain log-probability; 1: mean per token).
        n_best: if given, return the best ``n_best <= beam_size`` hypotheses, best first.

    Returns:
        ``(tokens, score)`` for the best hypothesis, or a list of ``n_best`` of them (fewer only
        when fewer outputs are possible, e.g. every candidate ends at once).

    Shape:
        step_fn gets ``(B, t)`` prefixes with ``B <= beam_size`` and returns ``(B, vocab)``.

    >>> import numpy as np
    >>> table = np.log([[0.1, 0.9], [0.8, 0.2]])
    >>> tokens, score = beam_search(lambda p: table[p[:, -1].numpy()], 0, 0, beam_size=2, max_len=5)
    >>> tokens, round(float(np.exp(score)), 2)
    ([1, 0], 0.72)
    """
    op = "beam_search"
    prompt = prompt_array(op, bos)  # (P,)
    eos = check_eos(op, eos)
    k = check_positive_int(op, "beam_size", beam_size)
    max_len = check_positive_int(op, "max_len", max_len)
    n_keep = 1 if n_best is None else check_positive_int(op, "n_best", n_best)
    if n_keep > k:
        raise ValueError(f"{op}: expected n_best <= beam_size, got n_best={n_best}, beam_size={k}")
    if not isinstance(length_penalty, numbers.Real) or not length_penalty >= 0:
        raise ValueError(f"{op}: expected length_penalty >= 0, got {length_penalty!r}")
    alpha = float(length_penalty)
    P = prompt.size

    beams = prompt[None, :]  # (n, P + step): the live hypotheses, prompt included
    scores = np.zeros(1)  # (n,) their log-probabilities
    finished: list[tuple[float, float, list[int]]] = []  # (ranking score, log-prob, tokens)
    for step in range(1, max_len + 1):
        logp = call_step(op, step_fn, beams, eos)  # (n, t) -> (n, V)
        V = logp.shape[1]
        cand = (scores[:, None] + logp).reshape(-1)  # (n, V) -> (n*V,)
        rows, toks = [], []
        for rank, flat in enumerate(_ranked(cand, 2 * k)):
            beam, tok = divmod(int(flat), V)
            if tok == eos:
                if rank < k:
                    seq = [*beams[beam, P:].tolist(), tok]
                    finished.append((_normalized(float(cand[flat]), step, alpha), float(cand[flat]), seq))
            elif len(rows) < k:
                rows.append(beam)
                toks.append(tok)
        rows_a = np.asarray(rows, dtype=np.int64)
        scores = cand[rows_a * V + np.asarray(toks, dtype=np.int64)]  # (n',)
        beams = np.concatenate(
            [beams[rows_a], np.asarray(toks, dtype=np.int64)[:, None]], axis=1
        )  # (n', t + 1)
        if not rows or step == max_len:
            break
        if len(finished) >= n_keep:
            worst_kept = sorted(f[0] for f in finished)[-n_keep]
            # the best any live hypothesis could still reach: its log-prob can only fall, and a
            # positive alpha divides it by at most max_len**alpha
            best_live = _normalized(float(scores.max()), max_len, alpha)
            if worst_kept >= best_live:
                break
    if step == max_len:
        for b in range(len(scores)):
            seq = beams[b, P:].tolist()
            finished.append((_normalized(float(scores[b]), len(seq), alpha), float(scores[b]), seq))
    order = sorted(range(len(finished)), key=lambda i: -finished[i][0])  # stable: earlier first on ties
    best = [(finished[i][2], finished[i][0]) for i in order[:n_keep]]
    return best[0] if n_best is None else best
