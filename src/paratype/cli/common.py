"""What every entry point shares: bad input becomes one line on stderr and exit status 2."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from paratype.errors import InputError


def run_cli(program: str, body: Callable[[], int | None]) -> None:
    """Run `body`; an InputError is printed as `program: error: message`, never a traceback."""
    try:
        code = body()
    except InputError as err:
        print(f"{program}: error: {err}", file=sys.stderr)
        sys.exit(2)
    except BrokenPipeError:  # the reader (e.g. `head`) stopped early: not an error
        sys.stderr.close()
        sys.exit(0)
    except KeyboardInterrupt:
        print(f"{program}: interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(code or 0)


def existing_file(path: str) -> Path:
    """argparse type for an input file: a clear message when it is missing."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"input file {path} does not exist; check the path")
    return p
