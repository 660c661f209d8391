"""File reads that name the bad file, and writes that never leave a half-written file under
the final name."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from paratype.errors import InputError


def read_utf8(path: Path) -> str:
    """The file's text, without a byte-order mark; a one-line InputError when it is missing,
    a folder, or not UTF-8."""
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise InputError(f"{path} {what}; check the path")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(f"{path} is not valid UTF-8 (byte {err.start}); re-save it as UTF-8") from None


def read_jsonl(path: Path) -> Iterator[tuple[str, dict]]:
    """(`file:line`, object) for every non-blank line: the one JSONL reader of the project.

    A byte-order mark is dropped; a line that is not a JSON object is an InputError naming it.
    """
    for number, line in enumerate(read_utf8(path).splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise InputError(f"{where}: invalid JSON ({err.msg}); fix or delete the line") from None
        if not isinstance(row, dict):
            raise InputError(f"{where}: expected a JSON object, got {type(row).__name__}; fix the line")
        yield where, row


def write_jsonl(path: Path, rows: Iterable[dict]) -> int:
    """Write rows as JSONL atomically (UTF-8, Arabic unescaped); returns how many."""
    lines = [json.dumps(row, ensure_ascii=False) + "\n" for row in rows]
    atomic_write_text(path, "".join(lines))
    return len(lines)


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary sibling of `path`; it replaces `path` only if the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    umask = os.umask(0)
    os.umask(umask)
    tmp_path.chmod(0o666 & ~umask)  # mkstemp makes 0600; the final file gets the usual mode
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink() if tmp_path.is_file() else shutil.rmtree(tmp_path)


def atomic_write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks."""
    import hashlib

    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()
