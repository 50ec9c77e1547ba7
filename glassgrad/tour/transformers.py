"""Acts 6-7: a Transformer translating dates (greedy vs beam search) and a small GPT writing text."""

from __future__ import annotations

from glassgrad import recipes, viz
from glassgrad.explain import AttentionInspector
from glassgrad.tour.report import Report

__all__ = ["translate_act", "gpt_act"]


def translate_act(report: Report, quick: bool) -> None:
    import glassgrad as gg
    from glassgrad.recipes.generation import translate

    s = report.section("6. A Transformer translates dates: greedy vs beam search")
    s.text(
        "An encoder-decoder nn.Transformer learns 'the third of march, nineteen ninety' -> '1990-03-03' "
        "with teacher forcing. Greedy search takes the likeliest token at each step; beam search keeps "
        "the 4 likeliest partial outputs."
    )
    trained = recipes.train(
        "translate", epochs=4 if quick else 8, quiet=False, **({"d_model": 48} if quick else {})
    )
    m = trained.metrics
    s.number("translate_greedy", "greedy exact match (32 held-out dates)", m["greedy_exact_match"])
    s.number("translate_beam", "beam-4 exact match (32 held-out dates)", m["beam_exact_match"])
    task, model = trained.data["task"], trained.model
    rows = [[w, translate(model, task, w), translate(model, task, w, 4), iso] for w, iso in task.test[:6]]
    s.table(["source", "greedy", "beam 4", "target"], rows)
    s.figure(viz.plot_training_curves({"loss": trained.history["loss"]}), "translation training curve")
    words, iso = task.test[0]
    src = gg.tensor([task.src_tokenizer.encode(words)])
    tgt = gg.tensor([task.tgt_tokenizer.encode(iso, bos=True)])
    with AttentionInspector(model) as insp, gg.no_grad():
        model(src, tgt)
        layer = [n for n in insp.layers() if n.endswith("multihead_attn")][-1]  # cross-attention
        fig = insp.plot(layer, tokens_q=["<s>", *iso], tokens_k=task.src_tokenizer.split(words))
    s.text(
        f"Cross-attention of the last decoder layer ({layer}): each output character looks up source words."
    )
    s.figure(fig, "cross-attention map")
    s.text("The sinusoidal position codes added to every embedding (rows: positions, columns: dimensions).")
    s.figure(viz.plot_positional_encoding(max_len=32, d_model=model.d_model), "positional-encoding table")


def gpt_act(report: Report, quick: bool) -> None:
    from glassgrad.recipes.generation import continue_text

    s = report.section("7. A small GPT writes text")
    s.text(
        "A decoder-only Transformer (causal self-attention, tied embeddings) learns characters of a generated "
        "corpus of simple sentences; sampling then continues a prompt."
    )
    trained = recipes.train("charlm", epochs=3 if quick else 8, quiet=False)
    m = trained.metrics
    s.number("gpt_test_loss", "held-out loss (nats/char)", m["test_loss"])
    s.number("gpt_unigram_loss", "unigram baseline (nats/char)", m["unigram_loss"])
    s.figure(viz.plot_training_curves({"loss": trained.history["loss"]}), "GPT training curve")
    s.pre(continue_text(trained.model, trained.config["chars"], "the cat ", 120, 0.8))
