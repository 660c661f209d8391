"""Fetching the upstream SaudiNewsNet day files: verified, resumable, never half-written.

Each file is streamed to `<name>.part` (resumed with an HTTP Range request when a part is
already there), checked against the project's copy of the upstream SHA-256 sums, and only then
renamed to its final name. A corrupt download is deleted and reported.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from pathlib import Path

from paratype.errors import InputError
from paratype.io import file_sha256
from paratype.progress import progress

UPSTREAM = "https://raw.githubusercontent.com/inparallel/SaudiNewsNet/master/dataset"
_CHUNK = 1 << 16


def read_checksums(path: Path) -> dict[str, str]:
    """`sha256  name` lines (sha256sum format) -> {name: sha256}."""
    sums = {}
    for line in path.read_text().splitlines():
        if line.strip():
            digest, name = line.split()
            sums[name] = digest
    return sums


def _fetch_into(url: str, part: Path, timeout: float) -> None:
    """Append the rest of `url` to `part` (the whole file when the server ignores Range)."""
    offset = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={offset}-"} if offset else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        if err.code == 416:  # the part is already complete
            return
        raise InputError(f"{url}: HTTP {err.code}; check --base-url or try again later") from None
    except (urllib.error.URLError, TimeoutError) as err:
        raise InputError(
            f"{url}: {getattr(err, 'reason', err)}; check the network and run again (the download resumes)"
        ) from None
    with response:
        resumed = response.status == 206
        size = int(response.headers.get("Content-Length") or 0) + (offset if resumed else 0)
        with (
            part.open("ab" if resumed else "wb") as out,
            progress(
                part.name.removesuffix(".part"),
                unit="B",
                total=size or None,
                initial=offset if resumed else 0,
                unit_scale=True,
                leave=False,
            ) as bar,
        ):
            while block := response.read(_CHUNK):
                out.write(block)
                bar.update(len(block))


def download_file(url: str, dest: Path, sha256: str, timeout: float = 60) -> bool:
    """Make `dest` a verified copy of `url`; returns False when it already was one."""
    if dest.exists() and file_sha256(dest) == sha256:
        return False
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    _fetch_into(url, part, timeout)
    actual = file_sha256(part)
    if actual != sha256:
        part.unlink()
        raise InputError(
            f"{dest.name}: checksum mismatch (got {actual[:12]}…, expected {sha256[:12]}…); "
            "the corrupt download was deleted, run the command again"
        )
    os.replace(part, dest)
    return True


def download_corpus(dest_dir: Path, checksums: dict[str, str], base_url: str = UPSTREAM) -> tuple[int, int]:
    """Fetch every day file named in `checksums`; returns (downloaded, already present)."""
    fetched = 0
    created = not dest_dir.exists()
    try:
        with progress("SaudiNewsNet", unit="files", total=len(checksums)) as bar:
            for name, digest in sorted(checksums.items()):
                fetched += download_file(f"{base_url.rstrip('/')}/{name}", dest_dir / name, digest)
                bar.update()
    except BaseException:
        if created and dest_dir.is_dir() and not any(dest_dir.iterdir()):
            dest_dir.rmdir()  # an empty folder would hide the "no corpus" hint next time
        raise
    return fetched, len(checksums) - fetched
