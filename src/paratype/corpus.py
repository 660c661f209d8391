"""Reading articles: the seed pages shipped in `seeds/`, and the SaudiNewsNet corpus.

SaudiNewsNet comes as one `YYYY-MM-DD.zip` per crawl day, each holding a JSON array of
articles (`source`, `url`, `date_extracted`, `title`, `author`, `content`, any may be empty).
Unzipped `.json` files in the same folder are read too.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from paratype.errors import InputError
from paratype.io import read_utf8


@dataclass(frozen=True)
class Article:
    """A news article as found: identity, outlet and raw text (title separate when known)."""

    article_id: str
    source: str
    text: str
    title: str | None = None
    url: str = ""
    date: str = ""
    author: str = ""  # a byline: a dateline ("الرياض - واس") for news, a bare name for columns


def read_seeds(seeds_dir: Path) -> list[Article]:
    """The seed pages: one UTF-8 `.txt` scraped page each, its headline on the first line."""
    files = sorted(seeds_dir.glob("*.txt"))
    if not files:
        raise InputError(f"no seed articles (*.txt) in {seeds_dir}; set paths.seeds_dir to the folder")
    return [Article(article_id=f.stem, source="seeds", text=read_utf8(f)) for f in files]


def corpus_article_id(source: str, url: str, title: str, content: str) -> str:
    """Stable id from the outlet and URL (title and text when the URL is missing)."""
    key = url or f"{title}\n{content}"
    slug = re.sub(r"[^a-z0-9]+", "", source.lower()) or "unknown"
    return f"{slug}-{hashlib.sha1(key.encode('utf-8')).hexdigest()[:12]}"


def _day_files(corpus_dir: Path) -> list[Path]:
    if not corpus_dir.is_dir():
        raise InputError(
            f"corpus folder {corpus_dir} does not exist; set PARATYPE_CORPUS_DIR "
            "or paths.corpus_dir, or run `paratype-data download`"
        )
    files = sorted([*corpus_dir.glob("*.zip"), *corpus_dir.glob("*.json")])
    if not files:
        raise InputError(
            f"no SaudiNewsNet day files (*.zip, *.json) in {corpus_dir}; run `paratype-data download` "
            "or point PARATYPE_CORPUS_DIR at a copy"
        )
    return files


def _records(path: Path) -> list[dict]:
    try:
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as zf:
                members = [n for n in zf.namelist() if n.endswith(".json")]
                return [r for name in members for r in json.loads(zf.read(name).decode("utf-8"))]
        return json.loads(path.read_text(encoding="utf-8"))
    except (zipfile.BadZipFile, json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"{path} is not a readable SaudiNewsNet day file ({err}); re-download it") from None


def read_corpus(corpus_dir: Path) -> Iterator[Article]:
    """Every article of every day file, each once (the crawl repeats some URLs). Progress by day
    file: a bar on a terminal, a line every 10 s in a log."""
    from paratype.progress import progress

    seen: set[str] = set()
    days = _day_files(corpus_dir)
    with progress("reading the corpus", unit="day files", total=len(days)) as bar:
        yield from _articles(days, seen, bar)


def _articles(days: list[Path], seen: set[str], bar) -> Iterator[Article]:
    for path in days:
        bar.update()
        for rec in _records(path):
            fields = {k: (rec.get(k) or "").strip() for k in ("source", "url", "title", "content")}
            if not fields["content"]:
                continue
            article_id = corpus_article_id(**fields)
            if article_id in seen:
                continue
            seen.add(article_id)
            yield Article(
                article_id=article_id,
                source=fields["source"] or "unknown",
                text=fields["content"],
                title=fields["title"],
                url=fields["url"],
                date=(rec.get("date_extracted") or "")[:10],
                author=(rec.get("author") or "").strip(),
            )
