"""From a scraped article to its body paragraphs: boilerplate out, bullets in, duplicates out.

Every line of a page is either a body paragraph or one named kind of boilerplate
(`classify_line`); keeping the kinds named makes the cleaning testable kind by kind and lets
`paratype-data` report what it dropped.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from paratype.text import (
    NormalizationConfig,
    deobfuscate,
    has_arabic,
    normalize,
    text_hash,
    word_count,
)

if TYPE_CHECKING:
    from paratype.corpus import Article

BODY = "body"
_TERMINAL = tuple('.!?؟:»"”…)')
_BULLET = re.compile(r"^\s*(?:[*•·▪◾●■\-–]|\d{1,2}[.)-])\s+")
_DATE = re.compile(
    r"^(?:\d{1,4}[/.\-]\d{1,2}[/.\-]\d{1,4}|\d{1,2} \S+ \d{4})(?:\s*[-|،,]?\s*\d{1,2}:\d{2}(?:\s*\S+)?)?$"
)
_CREDIT_AT_END = re.compile(r"\(([^()]{1,40})\)$")
_RELATED_HEADER = re.compile(r"^(?:مقالات|أخبار|مواضيع|موضوعات|قصص) (?:ذات صلة|متعلقة|مشابهة)|^اقرأ أيضا")
_COMMENT = re.compile(r"التعليقات مغلقة|أضف تعليق|اترك تعليقا|تعليقات الفيسبوك|\bcomments?\b", re.IGNORECASE)
_DISCLAIMER = re.compile(r"^تنويه|^إخلاء (?:ال)?مسؤولية|تمثل رأي (?:كتابها|كاتبها|أصحابها)")
_NAVIGATION = re.compile(
    r"الصفحة الرئيسية|آخر الأخبار|انشر مقالك|اضغط هنا|للنشر في|شارك (?:هذا|المقال)|"
    r"تابعونا|اشترك في|privacy policy|cookies",
    re.IGNORECASE,
)
_FOLD = NormalizationConfig()


@dataclass(frozen=True)
class Paragraph:
    """One body paragraph, addressed as article + position, fingerprinted by its text."""

    article_id: str
    position: int
    text: str

    @functools.cached_property
    def id(self) -> str:
        return paragraph_id(self.article_id, self.position, self.text)


@dataclass
class SegmentationConfig:
    """Thresholds for telling body text from page furniture."""

    min_words: int = 10  # shorter lines without final punctuation are headings or labels
    near_duplicate: float = 0.8  # share of a paragraph's 3-word shingles found in another
    similar_length: float = 0.7  # above this length ratio a near-duplicate is a repeat, not a quote
    related_teaser_lines: int = 6  # a related-article teaser is at most this many lines long


def paragraph_id(article_id: str, position: int, text: str) -> str:
    return f"{article_id}-{position:03d}-{text_hash(text)}"


def split_paragraph_id(pid: str) -> tuple[str, int, str]:
    """Inverse of `paragraph_id`: (article id, position, text hash)."""
    article_id, position, digest = pid.rsplit("-", 2)
    return article_id, int(position), digest


def strip_bullet(line: str) -> str:
    return _BULLET.sub("", line, count=1)


def classify_line(line: str, title: str, cfg: SegmentationConfig) -> str:
    """Name the kind of a cleaned line: `body` or the boilerplate kind that removes it."""
    words = word_count(line)
    ends_sentence = line.endswith(_TERMINAL)
    credit = _CREDIT_AT_END.search(line)
    checks = [
        ("empty", not line),
        ("title", bool(title) and _fold(line) == _fold(title)),
        ("date", _DATE.match(line) is not None),
        ("non_arabic", not has_arabic(line)),
        ("comment_notice", _COMMENT.search(line) is not None and words < 25),
        ("disclaimer", _DISCLAIMER.search(line) is not None and words < 40),
        ("navigation", _NAVIGATION.search(line) is not None and words < 20),
        ("byline", credit is not None and words - word_count(credit.group(0)) <= 4),
        ("caption", credit is not None and words <= 30 and not line.endswith(").")),
        ("heading", words < cfg.min_words and not ends_sentence),
    ]
    return next((kind for kind, hit in checks if hit), BODY)


@functools.lru_cache(maxsize=4096)
def _fold(text: str) -> str:
    """A comparison key: normalised letters and digits only."""
    return re.sub(r"[^\w]+", " ", normalize(text, _FOLD)).strip()


def _shingles(text: str, n: int = 3) -> set[tuple[str, ...]]:
    words = _fold(text).split()
    if len(words) < n:
        return {tuple(words)}
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def drop_related_block(lines: list[str], cfg: SegmentationConfig) -> list[str]:
    """Remove a "related articles" block: teasers (title, caption, summary) each closed by a byline.

    The block runs from its header while a byline still follows within the next few lines.
    """
    content = [line for line in lines if line]
    kept: list[str] = []
    in_block = False
    for i, line in enumerate(content):
        if _RELATED_HEADER.match(line):
            in_block = True
            continue
        if in_block:
            window = content[i : i + cfg.related_teaser_lines]
            in_block = any(classify_line(nxt, "", cfg) == "byline" for nxt in window)
        if not in_block:
            kept.append(line)
    return kept


def drop_near_duplicates(texts: list[str], cfg: SegmentationConfig) -> list[str]:
    """Keep the first of repeated paragraphs, and drop pull quotes found inside a longer one."""
    shingles = [_shingles(t) for t in texts]
    dropped: set[int] = set()
    for i, j in itertools.combinations(range(len(texts)), 2):
        if i in dropped or j in dropped:
            continue
        short, long_ = (i, j) if len(shingles[i]) <= len(shingles[j]) else (j, i)
        overlap = len(shingles[short] & shingles[long_]) / max(len(shingles[short]), 1)
        if overlap < cfg.near_duplicate:
            continue
        similar = len(shingles[short]) / max(len(shingles[long_]), 1) >= cfg.similar_length
        dropped.add(j if similar else short)
    return [t for k, t in enumerate(texts) if k not in dropped]


def segment_article(
    raw: str, article_id: str, cfg: SegmentationConfig, title: str | None = None
) -> list[Paragraph]:
    """Clean a scraped page into numbered body paragraphs.

    `title` is the known headline; when absent (a raw page) the first line is taken as it.
    """
    lines = [deobfuscate(line) for line in raw.splitlines()]
    if title is None:
        title = next((line for line in lines if line), "")
        lines = lines[lines.index(title) + 1 :] if title else lines
    title = deobfuscate(title)
    lines = drop_related_block(lines, cfg)
    body = [text for text in map(strip_bullet, lines) if classify_line(text, title, cfg) == BODY]
    body = drop_near_duplicates(body, cfg)
    return [Paragraph(article_id, position, text) for position, text in enumerate(body)]


def segment_articles(articles: Iterable[Article], cfg: SegmentationConfig) -> list[Paragraph]:
    """Every article's body paragraphs, in order."""
    return [p for a in articles for p in segment_article(a.text, a.article_id, cfg, title=a.title)]
