"""Decoding with the recipes' models: translation by greedy or beam search, text by sampling."""

from __future__ import annotations

import numpy as np

import glassgrad as gg
from glassgrad.decode import beam_search, cached_transformer_step, causal_lm_step, greedy_search, sample
from glassgrad.recipes.models import CharGPT, Translator
from glassgrad.tensor import Tensor

__all__ = ["translate", "continue_text"]


def translate(model: Translator, task: gg.datasets.DateTranslation, words: str, beam_size: int = 1) -> str:
    """One sentence in words to an ISO date: greedy search (``beam_size=1``) or beam search."""
    tok = task.tgt_tokenizer
    with gg.no_grad():
        memory = model.encode(gg.tensor([task.src_tokenizer.encode(words)]))  # (1, S, E)
    step = cached_transformer_step(
        model.transformer.decoder,
        memory,
        lambda ids, start: model.embed(model.tgt_emb, ids, start),
        model.out,
    )
    if beam_size == 1:
        tokens, _ = greedy_search(step, tok.bos_id, tok.eos_id, max_len=12)
    else:
        tokens, _ = beam_search(step, tok.bos_id, tok.eos_id, beam_size=beam_size, max_len=12)
    return tok.decode(tokens)


def continue_text(
    model: CharGPT, chars: str, prompt: str, length: int = 80, temperature: float = 0.8, seed: int = 0
) -> str:
    """``prompt`` continued by ``length`` characters sampled from the model."""
    unknown = sorted(set(prompt) - set(chars))
    if unknown:
        from glassgrad.recipes import RecipeError

        raise RecipeError(f"expected the prompt's characters in the model's vocabulary, got {unknown}")
    model.eval()
    index = {c: i for i, c in enumerate(chars)}
    lm_step = causal_lm_step(model, context_size=model.block_size)

    def step(prefixes: Tensor) -> np.ndarray:
        return lm_step(prefixes)  # (B, V) log-probabilities

    g = gg.Generator().manual_seed(seed)
    tokens, _ = sample(step, [index[c] for c in prompt or chars[0]], None, length, temperature, generator=g)
    return (prompt or chars[0]) + "".join(chars[t] for t in tokens)
