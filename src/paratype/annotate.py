"""Growing the gold set: export worksheets of candidate paragraphs, import them once labelled.

Candidate *pools* may be found by rules (to reach the rare labels) or at random (to keep
`other` realistic), or by model uncertainty; the *labels* always come from a reader filling
in the worksheet against docs/annotation-guidelines.md. Worksheets hold corpus text, so they
live in the ignored cache; only the imported stand-off records are committed.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from paratype.errors import InputError
from paratype.io import atomic_write_text
from paratype.labels import Annotation, check_label, read_annotations, write_annotations
from paratype.segment import Paragraph
from paratype.text import fold_for_matching, text_hash, word_count

# Candidate finders (never labellers): each pool over-samples paragraphs likely to hold one type.
POOLS: dict[str, re.Pattern[str]] = {
    "warning": re.compile(
        r"(?:^|[\s«\"(])[وف]?[لب]?(?:حذر|يحذر|تحذر|حذرت|حذروا|يحذرون|تحذير|التحذير|تحذيرات|"
        r"محذرا|محذره|محذرين|نبه|ينبه|نبهت)"
    ),
    "operation": re.compile(
        r"اعتقال|القبض|مقتل|قتل|هجوم|كمين|تفجير|ناسفه|مداهمه|غاره|ضبط|احباط|تفكيك|اعدم|اشتباك|قصف"
    ),
    "expert": re.compile(r"يري|يعتقد|يتوقع|خبير|خبراء|محلل|باحث|مراقبون|مراقبين|استراتيجيه|تحليل"),
}


def is_topical(text: str, pattern: str) -> bool:
    """Does the text look like security news (the corpus is mostly not)? `data.topic_pattern`."""
    return re.search(pattern, fold_for_matching(text)) is not None


def pool_candidates(
    paragraphs: Iterable[Paragraph], pool: str, min_words: int = 8, max_words: int = 200
) -> list[Paragraph]:
    """Paragraphs of a reasonable length that a pool's rule picks (`random`: all of them)."""
    if pool != "random" and pool not in POOLS:
        raise InputError(f"unknown pool {pool!r}; choose one of random, {', '.join(POOLS)}")
    sized = [p for p in paragraphs if min_words <= word_count(p.text) <= max_words]
    if pool == "random":
        return sized
    return [p for p in sized if POOLS[pool].search(fold_for_matching(p.text))]


def sample(candidates: Sequence[Paragraph], n: int, seed: int, exclude: set[str]) -> list[Paragraph]:
    """A reproducible random sample of at most n candidates not already annotated."""
    fresh = [p for p in candidates if p.id not in exclude]
    return random.Random(seed).sample(fresh, min(n, len(fresh)))


def least_sure(
    candidates: Sequence[Paragraph], model, n: int, exclude: set[str], batch: int = 512
) -> list[Paragraph]:
    """The n candidates whose most likely label the model (an MLflow pyfunc) is least sure of."""
    import pandas as pd

    fresh = [p for p in candidates if p.id not in exclude]
    confidence: list[float] = []
    for start in range(0, len(fresh), batch):
        texts = [p.text for p in fresh[start : start + batch]]
        scores = model.predict(pd.DataFrame({"text": texts})).filter(like="score_")
        confidence.extend(scores.max(axis=1).tolist())
    order = sorted(range(len(fresh)), key=confidence.__getitem__)
    return [fresh[i] for i in order[:n]]


def write_worksheet(path: Path, rows: Iterable[tuple[Paragraph, str]]) -> int:
    """Write (paragraph, outlet) rows as a JSONL worksheet with an empty `label` to fill in."""
    lines = [
        json.dumps(
            {"id": p.id, "source": source, "text": p.text, "label": "", "note": ""}, ensure_ascii=False
        )
        for p, source in rows
    ]
    atomic_write_text(path, "".join(line + "\n" for line in lines))
    return len(lines)


def read_worksheet(path: Path, annotator: str, known: dict[str, Paragraph]) -> list[Annotation]:
    """Validate a labelled worksheet: known ids, known labels, text unchanged since export."""
    records: list[Annotation] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise InputError(f"{where}: invalid JSON ({err.msg}); fix the line") from None
        paragraph = known.get(row.get("id", ""))
        if paragraph is None:
            raise InputError(
                f"{where}: paragraph id {row.get('id')!r} is not in the corpus "
                "as cleaned now; export a fresh worksheet"
            )
        if "text" in row and row["text"] != paragraph.text:
            raise InputError(f"{where}: the text of {paragraph.id} changed since export; re-export it")
        label = check_label(row.get("label", ""), where)
        records.append(
            Annotation(
                paragraph.id,
                text_hash(paragraph.text),
                label,
                row.get("annotator") or annotator,
                row.get("note", ""),
            )
        )
    if not records:
        raise InputError(f"{path} has no labelled rows; fill in the `label` fields first")
    return records


def merge_into(target: Path, new: list[Annotation]) -> tuple[int, int]:
    """Add new records to an annotation file; a paragraph keeps one record per annotator."""
    existing = read_annotations(target) if target.exists() else []
    keys = {(r.id, r.annotator) for r in existing}
    added = [r for r in new if (r.id, r.annotator) not in keys]
    write_annotations(target, [*existing, *added])
    return len(added), len(new) - len(added)
