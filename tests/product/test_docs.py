"""The docs run: every ```python block of the course pages is executed in order (one namespace per
page) and, where a ```text block follows it, what it prints must match that block; the API
reference names every public name; the README and the index link what they promise."""

from __future__ import annotations

import contextlib
import importlib
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
# Pages whose code is a course: their examples are executed and their printed output checked.
PAGES = [
    "getting-started.md",
    "perceptrons.md",
    "activations.md",
    "backprop.md",
    "losses-optimizers.md",
    "regularisation-init.md",
    "generalisation.md",
    "cnns.md",
    "rnns.md",
    "embeddings.md",
    "attention.md",
    "transformers.md",
    "decoding-course.md",
    "pytorch.md",
]
_BLOCK = re.compile(r"```(python|text)\n(.*?)```", re.S)


def blocks(page: Path) -> list[tuple[str, str | None]]:
    """The page's python blocks, each with the text block right after it (or None)."""
    found = _BLOCK.findall(page.read_text())
    out = []
    for i, (kind, body) in enumerate(found):
        if kind == "python":
            nxt = found[i + 1] if i + 1 < len(found) else None
            out.append((body, nxt[1] if nxt and nxt[0] == "text" else None))
    return out


def _normal(s: str) -> str:
    return "\n".join(line.rstrip() for line in s.strip().splitlines())


@pytest.mark.parametrize("name", PAGES)
def test_page_examples_run_and_print_what_the_page_says(name, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    import glassgrad as gg

    page = DOCS / name
    assert page.exists()
    code = blocks(page)
    assert code, f"{name} has no python example"
    namespace: dict = {"__name__": f"docs_{name}"}
    gg.manual_seed(0)
    for i, (body, expected) in enumerate(code):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            exec(compile(body, f"{name}[{i}]", "exec"), namespace)
        if expected is not None:
            assert _normal(buf.getvalue()) == _normal(expected), f"{name} block {i}"


def _public_modules() -> list[str]:
    api = (DOCS / "api.md").read_text()
    return re.findall(r"^## `([\w.]+)`", api, re.M)


def test_api_reference_lists_every_public_name():
    api = (DOCS / "api.md").read_text()
    modules = _public_modules()
    for required in (
        "glassgrad",
        "glassgrad.nn",
        "glassgrad.nn.functional",
        "glassgrad.optim",
        "glassgrad.explain",
    ):
        assert required in modules
    for mod in modules:
        section = api.split(f"## `{mod}`", 1)[1].split("\n## ", 1)[0]
        for name in importlib.import_module(mod).__all__:
            assert f"`{name}`" in section, (
                f"{mod}.{name} is missing from docs/api.md (run: python docs/make_api.py)"
            )


def test_every_package_with_all_is_in_the_api_reference():
    listed = set(_public_modules())
    for init in sorted((ROOT / "glassgrad").rglob("__init__.py")):
        mod = ".".join(init.parent.relative_to(ROOT).parts)
        if "._" in mod or mod.split(".")[-1].startswith("_"):
            continue
        if hasattr(importlib.import_module(mod), "__all__"):
            assert mod in listed, f"{mod} is not in docs/api.md (regenerate: python docs/make_api.py)"


def test_readme_and_index_link_the_pages():
    readme = (ROOT / "README.md").read_text()
    for needed in (
        "glassgrad tour",
        "make demo",
        "make test",
        "docs/getting-started.md",
        "docs/images/tour.png",
    ):
        assert needed in readme
    index = (DOCS / "index.md").read_text()
    for page in [*PAGES, "api.md", "porting.md", "benchmarks.md", "decoding.md"]:
        assert f"({page})" in index, page
    assert (DOCS / "benchmarks.md").exists()
    assert "(porting.md)" in (DOCS / "pytorch.md").read_text()
