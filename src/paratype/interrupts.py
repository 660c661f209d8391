"""Ctrl-C and SIGTERM as one KeyboardInterrupt, raised only where it can be cleaned up after.

A KeyboardInterrupt may land on any bytecode. Landing inside a store write that has committed
but not yet returned (MLflow's `start_run` between creating the run and making it active) would
leave a run RUNNING that nothing ends; so such steps run `deferred()`, and a signal that arrives
meanwhile is raised as soon as the step is over.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

_deferring = 0  # depth of nested deferred() blocks
_pending = False  # a signal arrived inside one


def install() -> None:
    """SIGTERM, and SIGINT where Python handles it (not where the shell ignores it), raise
    KeyboardInterrupt, unless a deferred() block is running."""
    signal.signal(signal.SIGTERM, _handle)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _handle)


def _handle(signum, frame) -> None:
    global _pending
    if _deferring:
        _pending = True
        return
    raise KeyboardInterrupt


@contextmanager
def deferred() -> Iterator[None]:
    """Run the block whole; an interrupt that arrives meanwhile is raised when it ends."""
    global _deferring, _pending
    _deferring += 1
    try:
        yield
    finally:
        _deferring -= 1
    if _pending and not _deferring:
        _pending = False
        raise KeyboardInterrupt


def caused_by_interrupt(err: BaseException) -> bool:
    """True for a KeyboardInterrupt, or an error raised while one was being handled (cleanup
    that failed half-way through an interrupt is still an interrupt, not a crash)."""
    seen: set[int] = set()
    cause: BaseException | None = err
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False
