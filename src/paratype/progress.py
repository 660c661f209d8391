"""Progress for long steps: a bar on a terminal, a status line now and then in a log.

tqdm writes a carriage-return update many times a second, which a pipe or a log file keeps as
hundreds of fragments; off a terminal the same counts come as one plain line every `every`
seconds, and the last one when the step ends.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from tqdm import tqdm


def progress(desc: str, unit: str = "it", total: int | None = None, every: float = 10.0, **bar: Any):
    """A tqdm bar when stderr is a terminal, else a StatusLines with the same `update`."""
    if sys.stderr.isatty():
        return tqdm(desc=desc, unit=unit, total=total, file=sys.stderr, **bar)
    return StatusLines(desc, unit, total, every)


class StatusLines:
    """tqdm's `update` and context manager, printing `desc: n unit (rate/s)` every `every` s."""

    def __init__(self, desc: str, unit: str, total: int | None, every: float) -> None:
        self.desc, self.unit, self.total, self.every = desc, unit.strip(), total, every
        self.n, self.started = 0, time.monotonic()
        self.last = self.started

    def update(self, n: int = 1) -> None:
        self.n += n
        if time.monotonic() - self.last >= self.every:
            self._line()

    def _line(self) -> None:
        self.last = time.monotonic()
        of = f" of {self.total:,}" if self.total else ""
        rate = self.n / max(self.last - self.started, 1e-9)
        print(f"{self.desc}: {self.n:,}{of} {self.unit} ({rate:,.0f}/s)", file=sys.stderr, flush=True)

    def __enter__(self) -> StatusLines:
        return self

    def __exit__(self, *exc) -> None:
        if self.n and self.last - self.started >= self.every:  # quiet for steps shorter than a line
            self._line()
