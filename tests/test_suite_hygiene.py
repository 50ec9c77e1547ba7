"""The suite itself: no test module skips as a whole, so a test that does not need an optional
package (PyTorch, safetensors, scikit-learn) always runs."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


def _module_level_importorskips(path: Path) -> list[int]:
    """Line numbers of ``pytest.importorskip`` calls outside any function or class body."""
    tree = ast.parse(path.read_text(), str(path))
    lines = []
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        for node in ast.walk(stmt):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "importorskip"
            ):
                lines.append(node.lineno)
    return lines


def test_no_test_module_skips_as_a_whole():
    found = {
        str(p.relative_to(TESTS)): lines
        for p in sorted(TESTS.rglob("*.py"))
        if (lines := _module_level_importorskips(p))
    }
    assert not found, (
        "module-level pytest.importorskip drops every test of the module; take the `torch` fixture "
        f"(tests/conftest.py) or call importorskip inside the test: {found}"
    )


def test_the_checker_sees_a_module_level_skip(tmp_path):
    bad = tmp_path / "test_bad.py"
    bad.write_text('import pytest\n\ntorch = pytest.importorskip("torch")\n\n\ndef test_x(): ...\n')
    good = tmp_path / "test_good.py"
    good.write_text('import pytest\n\n\ndef test_x():\n    pytest.importorskip("torch")\n')
    assert _module_level_importorskips(bad) == [3]
    assert _module_level_importorskips(good) == []


# ------------------------------------------------------------ make test runs everything, CI runs make test
ROOT = TESTS.parent


def _make_dry_run(*args: str) -> str:
    make = shutil.which("make")
    if make is None:
        pytest.skip("no make on this machine")
    # -B: as on a fresh clone, whatever stamps this checkout's .venv holds
    out = subprocess.run([make, "-n", "-B", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_make_test_installs_torch_unless_told_not_to():
    version = re.search(r"^TORCH_VERSION := (\S+)", (ROOT / "Makefile").read_text(), re.M).group(1)
    install = f"pip install torch=={version}"
    plan = _make_dry_run("test").splitlines()
    at = [i for i, line in enumerate(plan) if install in line]
    runs = [i for i, line in enumerate(plan) if "-m pytest" in line]
    assert at and runs and at[0] < runs[0], plan  # PyTorch is in place before the suite runs
    assert install not in _make_dry_run("test", "TORCH=0")
    assert "make test TORCH=0" in (ROOT / "README.md").read_text()  # the opt-out is documented


def test_ci_runs_exactly_the_readme_command():
    commands = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    commands = [c for c in commands if not c.startswith(("set ", "cd "))]
    assert commands == ["make test"]
    assert "\nmake test\n" in (ROOT / "README.md").read_text()
