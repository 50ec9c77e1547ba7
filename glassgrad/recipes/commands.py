"""The subcommands ``train``, ``eval``, ``generate`` and ``exercise``: arguments and what they run.

Each ``*_arguments`` declares a subcommand's options; each ``run_*`` takes the parsed arguments and
returns the exit status. A user's mistake raises :class:`~glassgrad.recipes.RecipeError` (or a
``CheckpointError``), which the ``glassgrad`` command prints as one line.
"""

from __future__ import annotations

import argparse
import json
import math

__all__ = [
    "train_arguments",
    "run_train",
    "eval_arguments",
    "run_eval",
    "generate_arguments",
    "run_generate",
    "exercise_arguments",
    "run_exercise",
    "tour_arguments",
    "run_tour",
]


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {v}")
    return v


def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return v


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def train_arguments(p: argparse.ArgumentParser) -> None:
    from glassgrad.recipes import RECIPES

    p.add_argument("recipe", help="one of: " + "; ".join(f"{r.name} ({r.summary})" for r in RECIPES.values()))
    p.add_argument("--epochs", type=_positive_int, help="passes over the data (default: the recipe's)")
    p.add_argument("--lr", type=_positive_float, help="learning rate (default: the recipe's)")
    p.add_argument("--seed", type=_int, default=0, help="random seed (default 0)")
    p.add_argument("--out", default=None, help="output folder (default runs/RECIPE)")
    p.add_argument("--text", default=None, metavar="FILE", help="charlm: a UTF-8 text file to learn")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def run_train(args: argparse.Namespace) -> int:
    from glassgrad.recipes import CHECKPOINT, METRICS, train

    out = args.out or f"runs/{args.recipe}"
    trained = train(args.recipe, args.epochs, args.lr, args.seed, out, args.text, args.quiet)
    for k, v in trained.metrics.items():
        print(f"{k:>20}  {v:.4g}" if isinstance(v, float) else f"{k:>20}  {v}")
    print(f"wrote {out}/{CHECKPOINT} and {out}/{METRICS}")
    return 0


def eval_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("checkpoint", help="model.safetensors written by glassgrad train (or its folder)")
    p.add_argument("--recipe", help="fail unless the checkpoint comes from this recipe")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")


def run_eval(args: argparse.Namespace) -> int:
    from glassgrad.recipes import evaluate, load

    trained = load(args.checkpoint, args.recipe)
    metrics = evaluate(trained)
    if args.json:
        print(json.dumps({"recipe": trained.recipe.name, **metrics}))
    else:
        print(f"recipe {trained.recipe.name}")
        for k, v in metrics.items():
            print(f"{k:>20}  {v:.4g}")
    return 0


def generate_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("checkpoint", help="a translate or charlm checkpoint (or its folder)")
    p.add_argument(
        "prompt", nargs="?", default="", help="charlm: text to continue; translate: a date in words"
    )
    p.add_argument("--length", type=_positive_int, default=80, help="charlm: characters to add")
    p.add_argument("--temperature", type=_positive_float, default=0.8, help="charlm: sampling temperature")
    p.add_argument("--beam", type=_positive_int, default=4, help="translate: beam size (1 = greedy)")
    p.add_argument("--seed", type=_int, default=0)


def run_generate(args: argparse.Namespace) -> int:
    import glassgrad as gg
    from glassgrad.recipes import RecipeError, load
    from glassgrad.recipes.generation import continue_text, translate

    trained = load(args.checkpoint)
    name = trained.recipe.name
    if name == "charlm":
        print(
            continue_text(
                trained.model, trained.config["chars"], args.prompt, args.length, args.temperature, args.seed
            )
        )
    elif name == "translate":
        task = gg.datasets.DateTranslation(n_train=0, n_test=3, seed=args.seed)
        sources = [args.prompt] if args.prompt else [w for w, _ in task.test]
        for words in sources:
            try:
                iso = translate(trained.model, task, words, args.beam)
            except KeyError as e:  # the tokenizer names the unknown word
                raise RecipeError(
                    f"expected a date in words (e.g. 'the third of march, nineteen ninety'): {e.args[0]}"
                ) from None
            print(f"{words}  ->  {iso}")
    else:
        raise RecipeError(f"expected a translate or charlm checkpoint, got one from the {name} recipe")
    return 0


def exercise_arguments(p: argparse.ArgumentParser) -> None:
    from glassgrad.explain.exercises import EXERCISES

    p.add_argument("topic", help="one of: " + ", ".join(EXERCISES))
    p.add_argument("--seed", type=_int, default=0, help="the same seed gives the same exercise")
    p.add_argument("--answers", action="store_true", help="print the answer key too")
    p.add_argument("--latex", action="store_true", help="LaTeX instead of Markdown")


def run_exercise(args: argparse.Namespace) -> int:
    from glassgrad.explain.exercises import EXERCISES, generate
    from glassgrad.recipes import RecipeError

    if args.topic not in EXERCISES:
        raise RecipeError(f"expected a topic ({', '.join(EXERCISES)}), got {args.topic!r}")
    ex = generate(args.topic, args.seed)
    print(ex.to_latex(args.answers) if args.latex else ex.to_markdown(args.answers))
    return 0


def tour_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="report", help="folder for index.html (default: report)")
    p.add_argument("--quick", action="store_true", help="smaller models and fewer steps (under a minute)")
    p.add_argument("--seed", type=_int, default=0)


def run_tour(args: argparse.Namespace) -> int:
    from glassgrad.tour import run

    run(args.out, quick=args.quick, seed=args.seed)
    return 0
