"""Decoding: turn a next-token model into sequences by greedy search, beam search or sampling.

Every search talks to the model through a *step function*, ``step_fn(prefixes) -> log-probs``
(``glassgrad.decode.step``); ``glassgrad.decode.adapters`` builds one from a decoder-only or an
encoder-decoder model.
"""

from glassgrad.decode.adapters import causal_lm_step, encoder_decoder_step
from glassgrad.decode.cache import cached_transformer_step
from glassgrad.decode.sampling import next_token_probs, sample
from glassgrad.decode.search import beam_search, greedy_search

__all__ = [
    "greedy_search",
    "beam_search",
    "sample",
    "next_token_probs",
    "causal_lm_step",
    "encoder_decoder_step",
    "cached_transformer_step",
]
