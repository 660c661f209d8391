"""What every entry point shares: bad input becomes one line on stderr and exit status 2."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from paratype import interrupts
from paratype.errors import InputError


def run_cli(program: str, body: Callable[[], int | None], exit_on_success: bool = True) -> None:
    """Run `body`; an InputError is printed as `program: error: message`, never a traceback.

    `exit_on_success=False` returns instead of exiting, so a Hydra multirun goes on to its next job.
    SIGTERM is handled as Ctrl-C: temporary files are removed, MLflow runs end KILLED, exit 130.
    """
    interrupts.install()
    try:
        code = body()
    except InputError as err:
        print(f"{program}: error: {err}", file=sys.stderr)
        sys.exit(2)
    except BrokenPipeError:  # the reader (e.g. `head`) stopped early: not an error
        sys.stderr.close()
        sys.exit(0)
    except BaseException as err:
        if not interrupts.caused_by_interrupt(err):
            raise
        print(f"{program}: interrupted", file=sys.stderr)
        sys.exit(130)
    if exit_on_success or code:
        sys.exit(code or 0)


class Parser(argparse.ArgumentParser):
    """argparse with its errors on one line (the usage is a --help away)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


class BadArgument(InputError, argparse.ArgumentTypeError):
    """A bad command-line value: argparse prints it as one usage line, run_cli as one error line."""


def existing_file(path: str) -> Path:
    """argparse type for an input file: a clear message when it is missing."""
    p = Path(path)
    if p.is_dir():
        raise BadArgument(f"input {path} is a folder, not a file; name a file")
    if not p.is_file():
        raise BadArgument(f"input file {path} does not exist; check the path")
    return p


def positive_int(value: str) -> int:
    """argparse type for a count that must be at least 1."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of at least 1")
    return number
