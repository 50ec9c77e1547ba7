"""The ``glassgrad`` command: one subcommand per entry of :data:`COMMANDS`.

Adding a subcommand (``tour``, ``train``, ``eval``, ``generate``, ``explain``, ``check``,
``exercise`` ...) is one function that takes the parsed arguments and returns the exit status,
plus one :class:`Command` entry naming it, its one-line help and the function that declares its
arguments.

A mistake the user makes (an unknown subcommand, a bad option, a missing file, a corrupted
checkpoint) prints one line to stderr, ``glassgrad <command>: <what is wrong>``, and exits with a
non-zero status, never a traceback. A traceback means a bug in glassgrad.

>>> main(["--version"])  # doctest: +ELLIPSIS
glassgrad ...
0
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NoReturn

import glassgrad
from glassgrad.errors import CheckpointError, DTypeError, GraphError, ShapeError

__all__ = ["COMMANDS", "Command", "CommandError", "build_parser", "main"]

PROG = "glassgrad"
EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130


class CommandError(Exception):
    """A subcommand could not do what was asked because of its input: one line, exit status 1."""


class _Parser(argparse.ArgumentParser):
    """argparse's parser, except that a usage error is one line on stderr (not usage + error)."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: {message} (see {self.prog} --help)\n")
        raise SystemExit(EXIT_USAGE)


# ------------------------------------------------------------------------------- subcommands
def _bench(args: argparse.Namespace) -> int:
    """``glassgrad bench [workload ...] [--steps N] [--threads T] [--repeat R]``: ``python -m benchmarks``."""
    # A child process: the BLAS thread count must be set before NumPy loads, and NumPy is already
    # loaded here. The benchmarks live in the source tree, not in the installed package.
    if importlib.util.find_spec("benchmarks") is None:
        raise CommandError(
            "expected to run from the glassgrad source tree (the benchmarks/ folder is not installed)"
        )
    return subprocess.call([sys.executable, "-m", "benchmarks", *args.rest])


@dataclass(frozen=True)
class Command:
    """One subcommand: its name, one-line help, what it runs and the arguments it declares.

    ``run`` gets the parsed arguments and returns the exit status. A ``passthrough`` command declares
    none: everything after its name (``--help`` included) reaches ``run`` as ``args.rest``.
    """

    name: str
    help: str
    run: Callable[[argparse.Namespace], int]
    arguments: Callable[[argparse.ArgumentParser], None] | None = None
    passthrough: bool = False


COMMANDS: tuple[Command, ...] = (
    Command(
        "bench",
        "time glassgrad against PyTorch on the benchmark workloads (python -m benchmarks)",
        _bench,
        passthrough=True,
    ),
)

# Errors caused by what the user asked for (a file, a shape, a dtype): reported in one line.
_USER_ERRORS = (CommandError, OSError, CheckpointError, ShapeError, DTypeError, GraphError)


# ------------------------------------------------------------------------------------ parser
def build_parser() -> argparse.ArgumentParser:
    """The ``glassgrad`` parser with every entry of :data:`COMMANDS` as a subcommand."""
    parser = _Parser(
        prog=PROG,
        description="glassgrad: a glass-box deep-learning library on NumPy with PyTorch's names.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {glassgrad.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="command", parser_class=_Parser)
    for command in COMMANDS:
        p = sub.add_parser(
            command.name, help=command.help, description=command.help, add_help=not command.passthrough
        )
        if command.arguments is not None:
            command.arguments(p)
        p.set_defaults(run=command.run, passthrough=command.passthrough)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``glassgrad`` command line; returns the exit status (the console script exits with it)."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    # Everything after a passthrough command's name is its own; the top-level options take no
    # values, so the first word that is not an option is the command.
    head, rest = argv, []
    for i, word in enumerate(argv):
        if not word.startswith("-"):
            if any(c.passthrough and c.name == word for c in COMMANDS):
                head, rest = argv[: i + 1], argv[i + 1 :]
            break
    try:
        args = parser.parse_args(head)
    except SystemExit as e:  # --help, --version, or a usage error already printed
        return e.code if isinstance(e.code, int) else EXIT_USAGE
    args.rest = rest
    if args.command is None:
        names = ", ".join(c.name for c in COMMANDS)
        sys.stderr.write(f"{PROG}: expected a command ({names}), got none (see {PROG} --help)\n")
        return EXIT_USAGE
    try:
        return args.run(args)
    except _USER_ERRORS as e:
        sys.stderr.write(f"{PROG} {args.command}: {' '.join(str(e).split())}\n")  # one line
        return EXIT_ERROR
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG} {args.command}: interrupted\n")
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
