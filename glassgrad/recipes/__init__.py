"""Training recipes: what ``glassgrad train``, ``eval`` and ``generate`` run.

``train(name, ...)`` trains one of :data:`RECIPES` and writes ``model.safetensors`` (weights, the
recipe's name and config, the metrics) and ``metrics.json`` into the output folder; ``load(path)``
rebuilds the model from such a file, checking that it is one.

>>> from glassgrad.recipes import RECIPES
>>> sorted(RECIPES)
['charlm', 'digits-cnn', 'digits-mlp', 'seq-lstm', 'translate', 'xor']
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import glassgrad as gg
from glassgrad.errors import CheckpointError
from glassgrad.recipes.tasks import RECIPES, Recipe, make_corpus

__all__ = ["RECIPES", "Recipe", "RecipeError", "train", "load", "evaluate", "Trained"]

CHECKPOINT, METRICS = "model.safetensors", "metrics.json"


class RecipeError(ValueError):
    """Bad input to a recipe (unknown name, a number out of range, an unreadable text file)."""


class Trained:
    """A recipe's trained model with its config, data and metrics."""

    def __init__(
        self, recipe: Recipe, model: Any, config: dict, data: dict, metrics: dict, history: dict
    ) -> None:
        self.recipe, self.model, self.config, self.data = recipe, model, config, data
        self.metrics, self.history = metrics, history


def _recipe(name: str) -> Recipe:
    if name not in RECIPES:
        raise RecipeError(f"expected a recipe ({', '.join(RECIPES)}), got {name!r}")
    return RECIPES[name]


def _read_text(path: str) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RecipeError(f"text file {path!r} does not exist") from None
    except UnicodeDecodeError:
        raise RecipeError(f"expected a UTF-8 text file, got binary data in {path!r}") from None
    if len(text) < 200:
        raise RecipeError(f"expected at least 200 characters of text in {path!r}, got {len(text)}")
    return text


def _full_config(recipe: Recipe, seed: int, text_file: str | None) -> dict:
    config = dict(recipe.config, seed=seed)
    if recipe.name == "translate":
        task = gg.datasets.DateTranslation(n_train=0, n_test=0)
        config.update(src_vocab=len(task.src_tokenizer), tgt_vocab=len(task.tgt_tokenizer))
    if recipe.name == "charlm":
        config["text_file"] = os.path.abspath(text_file) if text_file else ""
        config["chars"] = "".join(sorted(set(_text(config))))
    elif text_file:
        raise RecipeError(f"--text is for the charlm recipe, not {recipe.name}")
    return config


def _text(config: dict) -> str:
    return _read_text(config["text_file"]) if config.get("text_file") else make_corpus(seed=0)


def _data(recipe: Recipe, config: dict) -> dict:
    return recipe.data(dict(config, text=_text(config)) if recipe.name == "charlm" else config)


def train(
    name: str,
    epochs: int | None = None,
    lr: float | None = None,
    seed: int = 0,
    out: str | os.PathLike | None = None,
    text_file: str | None = None,
    quiet: bool = False,
    **overrides: Any,
) -> Trained:
    """Train recipe ``name``; with ``out``, write its checkpoint and metrics there."""
    recipe = _recipe(name)
    epochs = recipe.epochs if epochs is None else epochs
    lr = recipe.lr if lr is None else lr
    if not isinstance(epochs, int) or epochs < 1:
        raise RecipeError(f"expected --epochs to be a positive integer, got {epochs}")
    if not (math.isfinite(lr) and lr > 0):
        raise RecipeError(f"expected --lr to be a positive number, got {lr}")
    if out is not None:
        _writable(Path(out))
    gg.manual_seed(seed)
    config = dict(_full_config(recipe, seed, text_file), **overrides)
    data = _data(recipe, config)
    model = recipe.build(config)
    history = recipe.fit(model, data, epochs, lr, quiet)
    metrics = dict(recipe.evaluate(model, data), epochs=epochs, lr=lr, seed=seed)
    trained = Trained(recipe, model, config, data, metrics, history)
    if out is not None:
        gg.save(
            {"recipe": name, "config": config, "metrics": metrics, "model": model.state_dict()},
            Path(out) / CHECKPOINT,
        )
        (Path(out) / METRICS).write_text(
            json.dumps({"recipe": name, **metrics, "history": history}, indent=1)
        )
    return trained


def _writable(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise RecipeError(f"cannot create the output folder {str(out)!r}: {e.strerror}") from None
    if not os.access(out, os.W_OK):
        raise RecipeError(f"cannot write into the output folder {str(out)!r}")


def load(path: str | os.PathLike, recipe: str | None = None) -> Trained:
    """Rebuild a recipe's model from its checkpoint (a file or the folder ``train`` wrote)."""
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT
    if not path.exists():
        raise RecipeError(f"checkpoint {str(path)!r} does not exist")
    ckpt = gg.load(path)
    if not isinstance(ckpt, dict) or "recipe" not in ckpt or "model" not in ckpt:
        raise CheckpointError(f"{path}: expected a checkpoint written by glassgrad train, got another file")
    name = ckpt["recipe"]
    if recipe is not None and recipe != name:
        raise CheckpointError(f"{path}: expected a {recipe} checkpoint, got one from the {name} recipe")
    r = _recipe(name)
    config = ckpt["config"]
    model = r.build(config)
    try:
        model.load_state_dict(ckpt["model"])
    except (KeyError, RuntimeError, ValueError) as e:
        raise CheckpointError(
            f"{path}: the weights do not fit the {name} model ({' '.join(str(e).split())[:200]})"
        ) from None
    model.eval()
    return Trained(r, model, config, {}, ckpt.get("metrics", {}), {})


def evaluate(trained: Trained) -> dict:
    """The recipe's metrics of a loaded model, recomputed on its data."""
    trained.data = _data(trained.recipe, trained.config)
    return trained.recipe.evaluate(trained.model, trained.data)
