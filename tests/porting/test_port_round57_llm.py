"""Round 57, LLM reference code: google/gemma_pytorch (Gemma 1/2/3, the Gemma 3 multimodal model with
its SigLIP tower, int8-quantised weights), deepseek-ai/DeepSeek-V3 (``inference/``: MLA in both
``attn_impl`` modes, group-limited MoE routing, YaRN RoPE, ``generate``, ``convert.py``) and
openai/gpt-oss (``gpt_oss/torch``: attention sinks, sliding windows, the clamped SwiGLU MoE, MXFP4
checkpoint decoding, ``TokenGenerator``), each at a tiny size with ``torch`` mapped to glassgrad.

One difference was found. gpt-oss's ``TokenGenerator.generate`` is a generator function decorated
with ``@torch.inference_mode()``. PyTorch runs each step of such a generator inside the mode;
glassgrad's grad-mode decorators wrapped only the call, which just builds the generator object, so
the body ran in the caller's mode: there every forward of the sampling loop recorded a graph, and a
generator decorated with ``enable_grad()`` inside ``no_grad`` recorded nothing. The decorators
(``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``inference_mode``,
``set_multithreading_enabled``) now share ``autograd/mode_decorator.py`` with
``torch.utils._contextlib``: each resumption of a decorated generator runs in the mode, and the
caller's mode is back at every ``yield``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg

# ---- grad-mode decorators on generator functions ----------------------------------------------

_DECORATORS = {
    "no_grad()": lambda lib: lib.no_grad(),
    "no_grad bare": lambda lib: lib.no_grad,
    "enable_grad()": lambda lib: lib.enable_grad(),
    "set_grad_enabled(False)": lambda lib: lib.set_grad_enabled(False),
    "set_grad_enabled(True)": lambda lib: lib.set_grad_enabled(True),
    "inference_mode()": lambda lib: lib.inference_mode(),
    "inference_mode(False)": lambda lib: lib.inference_mode(False),
    "inference_mode bare": lambda lib: lib.inference_mode,
}


def _trace(lib, deco_name, outer_grad):
    """What a decorated generator sees at each step, and what its caller sees between steps."""
    w = lib.ones(2, dtype=lib.float64, requires_grad=True)
    log = []
    with lib.set_grad_enabled(outer_grad):
        deco = _DECORATORS[deco_name](lib)

        @deco
        def steps(n):
            for i in range(n):
                y = w * i
                yield (y.requires_grad, lib.is_grad_enabled(), lib.is_inference_mode_enabled())

        for item in steps(3):
            log.append(item)
            log.append(("caller", lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
    log.append(("after", lib.is_grad_enabled()))
    return log


@pytest.mark.parametrize("outer_grad", [True, False], ids=["outer grad on", "outer grad off"])
@pytest.mark.parametrize("deco_name", list(_DECORATORS))
def test_decorated_generator_runs_each_step_in_the_mode_as_torch(torch, deco_name, outer_grad):
    assert _trace(gg, deco_name, outer_grad) == _trace(torch, deco_name, outer_grad)


def test_enable_grad_generator_inside_no_grad_records():
    w = gg.ones(3, dtype=gg.float64, requires_grad=True)

    @gg.enable_grad()
    def losses():
        for k in (1.0, 2.0):
            yield (w * w * k).sum()

    with gg.no_grad():
        out = list(losses())
    (out[0] + out[1]).backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.full(3, 6.0))


def _send_throw_close(lib):
    log = []

    @lib.no_grad()
    def echo():
        try:
            got = yield "ready"
            while True:
                try:
                    got = yield (got, lib.is_grad_enabled())
                except ValueError as e:  # thrown in by the caller, inside the mode
                    got = (f"caught {e}", lib.is_grad_enabled())
        finally:
            log.append(("closed", lib.is_grad_enabled()))

    g = echo()
    log.append(next(g))
    log.append(g.send("a"))
    log.append(lib.is_grad_enabled())
    log.append(g.throw(ValueError("boom")))
    g.close()
    log.append(lib.is_grad_enabled())

    @lib.inference_mode()
    def counted(n):
        yield from range(n)
        return f"made {n}"

    it = counted(2)
    log.append([next(it), next(it)])
    with pytest.raises(StopIteration) as stop:
        next(it)
    log.append(stop.value.value)
    return log


def test_generator_send_throw_close_and_return_as_torch(torch):
    assert _send_throw_close(gg) == _send_throw_close(torch)


def test_set_multithreading_enabled_decorates_a_generator(torch):
    def run(lib):
        @lib.autograd.set_multithreading_enabled(False)
        def gen():
            yield lib.autograd.is_multithreading_enabled()
            yield lib.autograd.is_multithreading_enabled()

        # the switch acts at construction, so decorating left it off (in PyTorch too): on again
        lib.autograd.set_multithreading_enabled(True)
        return [(x, lib.autograd.is_multithreading_enabled()) for x in gen()]

    assert run(gg) == run(torch) == [(False, True), (False, True)]


@pytest.mark.parametrize("name", ["no_grad", "enable_grad", "inference_mode"])
def test_decorating_a_class_warns_and_runs_its_constructor_in_the_mode(torch, name):
    res = []
    for lib in (gg, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")

            @getattr(lib, name)()
            class Probe:
                def __init__(self):
                    self.grad = lib.is_grad_enabled()

        assert [w.category for w in caught] == [FutureWarning]
        assert str(caught[0].message).startswith("Decorating classes is deprecated")
        res.append(Probe().grad)
    assert res[0] == res[1]


# ---- gpt-oss's TokenGenerator pattern ----------------------------------------------------------


def _tiny_lm(lib, weights):
    class TinyLM(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = lib.nn.Embedding(11, 6, dtype=lib.float64)
            self.out = lib.nn.Linear(6, 11, bias=False, dtype=lib.float64)

        def forward(self, x):
            h = self.emb(x).cumsum(0) / lib.arange(1, x.shape[0] + 1, dtype=lib.float64)[:, None]
            return self.out(lib.tanh(h))

    m = TinyLM()
    m.load_state_dict({k: lib.from_numpy(v) for k, v in weights.items()})
    return m


def _generate(lib, weights):
    class TokenGenerator:  # gpt-oss's shape: both methods under inference_mode, generate yields
        @lib.inference_mode()
        def __init__(self):
            self.model = _tiny_lm(lib, weights)
            self.recorded = []

        @lib.inference_mode()
        def generate(self, prompt, max_tokens):
            tokens = list(prompt)
            for _ in range(max_tokens):
                logits = self.model(lib.as_tensor(tokens, dtype=lib.int32))[-1]
                self.recorded.append(logits.requires_grad or logits.grad_fn is not None)
                tok = lib.argmax(logits, dim=-1).item()
                tokens.append(tok)
                yield tok, lib.log_softmax(logits, dim=-1)[tok].item()

    gen = TokenGenerator()
    out = list(gen.generate([1, 4, 9], 5))
    return out, gen.recorded


def test_token_generator_under_inference_mode_matches_torch(torch):
    rng = np.random.default_rng(0)
    weights = {"emb.weight": rng.standard_normal((11, 6)), "out.weight": rng.standard_normal((11, 6))}
    ours, rec_ours = _generate(gg, weights)
    theirs, rec_theirs = _generate(torch, weights)
    assert [t for t, _ in ours] == [t for t, _ in theirs]
    np.testing.assert_allclose([p for _, p in ours], [p for _, p in theirs], rtol=1e-13, atol=0)
    assert rec_ours == rec_theirs == [False] * 5  # nothing recorded inside the generator
