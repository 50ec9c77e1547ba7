"""The ``glassgrad`` command: the console script named in pyproject.toml exists, ``--version`` and
``--help`` work, and a mistake the user makes is one line on stderr with a non-zero status."""

from __future__ import annotations

import importlib
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import glassgrad as gg
from glassgrad import cli
from glassgrad.errors import CheckpointError

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "glassgrad.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def _one_error_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def test_console_script_points_at_a_callable():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, attr = scripts["glassgrad"].partition(":")
    assert callable(getattr(importlib.import_module(module), attr))


def test_version_and_help_in_a_subprocess():
    out = _run("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"glassgrad {gg.__version__}"
    out = _run("--help")
    assert out.returncode == 0 and out.stdout.startswith("usage: glassgrad")
    words = " ".join(out.stdout.split())  # argparse wraps long help lines
    for command in cli.COMMANDS:
        assert f"{command.name} {command.help}" in words


@pytest.mark.parametrize(
    "argv, message",
    [
        ([], "glassgrad: expected a command (bench), got none (see glassgrad --help)"),
        (["frob"], "glassgrad: argument command: invalid choice: 'frob'"),
        (["--frob"], "glassgrad: unrecognized arguments: --frob (see glassgrad --help)"),
        (["--frob", "bench"], "glassgrad: unrecognized arguments: --frob (see glassgrad --help)"),
    ],
)
def test_usage_errors_are_one_line_and_status_2(argv, message):
    out = _run(*argv)
    assert out.returncode == 2 and out.stdout == ""
    assert _one_error_line(out.stderr).startswith(message)


def test_bench_passes_everything_after_its_name_to_the_benchmarks():
    out = _run("bench", "overhead.add", "--steps", "3", "--repeat", "1", "--threads", "1", "--no-torch")
    assert out.returncode == 0, out.stderr
    assert "| overhead.add | 3 |" in out.stdout
    out = _run("bench", "--help")  # the benchmarks' own help, not glassgrad's
    assert out.returncode == 0 and "usage: python -m benchmarks" in out.stdout
    assert _run("bench", "nosuch").returncode != 0


def test_in_process_version_help_and_no_command(capsys):
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out == f"glassgrad {gg.__version__}\n"
    assert cli.main(["-h"]) == 0
    assert "bench" in capsys.readouterr().out
    assert cli.main([]) == 2
    assert _one_error_line(capsys.readouterr().err).startswith("glassgrad: expected a command")


def _with_command(monkeypatch, run) -> None:
    monkeypatch.setattr(cli, "COMMANDS", (*cli.COMMANDS, cli.Command("boom", "raises", run)))


def test_a_user_error_in_a_command_is_one_line_status_1(monkeypatch, capsys):
    def run(args):
        raise CheckpointError("load: ckpt.safetensors: truncated:\n expected 8 bytes, got 3")

    _with_command(monkeypatch, run)
    assert cli.main(["boom"]) == 1
    line = _one_error_line(capsys.readouterr().err)
    assert line == "glassgrad boom: load: ckpt.safetensors: truncated: expected 8 bytes, got 3"
    assert cli.main(["boom", "extra"]) == 2  # a command without arguments takes none
    assert "unrecognized arguments: extra" in _one_error_line(capsys.readouterr().err)


def test_a_bug_in_a_command_keeps_its_traceback(monkeypatch):
    def run(args):
        raise ZeroDivisionError("a bug, not a user error")

    _with_command(monkeypatch, run)
    with pytest.raises(ZeroDivisionError):
        cli.main(["boom"])


def test_a_command_declares_its_arguments(monkeypatch, capsys):
    def arguments(p):
        p.add_argument("--steps", type=int, default=3)

    monkeypatch.setattr(
        cli, "COMMANDS", (cli.Command("count", "prints steps", lambda a: print(a.steps) or 0, arguments),)
    )
    assert cli.main(["count", "--steps", "7"]) == 0 and capsys.readouterr().out == "7\n"
    assert cli.main(["count", "--steps", "x"]) == 2
    assert "invalid int value: 'x'" in _one_error_line(capsys.readouterr().err)
