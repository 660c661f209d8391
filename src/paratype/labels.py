"""The label set (defined by docs/annotation-guidelines.md) and gold annotation records.

Annotations are stand-off: a record names a paragraph by id and text hash and never holds its
text, so they can be committed while the corpus text is not. Joining them to freshly segmented
paragraphs is the only way labels enter a data set, and a hash that no longer matches is an
error, never a silent fallback.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from paratype.errors import InputError
from paratype.io import atomic_write_text, read_jsonl
from paratype.segment import Paragraph, split_paragraph_id

LABELS: tuple[str, ...] = ("field_operation", "official_warning", "expert_assessment", "other")
ADJUDICATED = "adjudicated"  # the annotator of a decision taken by adjudication; it wins


@dataclass(frozen=True)
class Annotation:
    """One gold (or silver) label for one paragraph."""

    id: str
    text_hash: str
    label: str
    annotator: str
    note: str = ""


def check_label(label: str, where: str) -> str:
    if label not in LABELS:
        raise InputError(f"{where}: label {label!r} is not one of {', '.join(LABELS)}; fix the label")
    return label


def read_annotations(path: Path) -> list[Annotation]:
    """Parse and validate a JSONL annotation file; every problem names file and line."""
    if not path.exists():
        raise InputError(f"annotation file {path} does not exist; check data.annotation_files")
    records: list[Annotation] = []
    for where, raw in read_jsonl(path):
        try:
            record = Annotation(
                **{k: raw[k] for k in ("id", "text_hash", "label", "annotator")}, note=raw.get("note", "")
            )
        except KeyError as err:
            raise InputError(
                f"{where}: missing field {err}; a record needs id, text_hash, label, annotator"
            ) from None
        check_label(record.label, where)
        records.append(record)
    return records


def write_annotations(path: Path, records: Iterable[Annotation]) -> None:
    text = "".join(json.dumps(asdict(r), ensure_ascii=False) + "\n" for r in records)
    atomic_write_text(path, text)


def join_annotations(
    paragraphs: Iterable[Paragraph], annotations: Iterable[Annotation], source: Path | str
) -> dict[str, Annotation]:
    """Match annotations to paragraphs by id; unknown or stale ids are reported, never used.

    Returns the annotation for each paragraph id that has one. When one paragraph has several
    annotations (double labelling), the last adjudicated one wins (an audit after an
    adjudication), else the first.
    """
    by_position = {(p.article_id, p.position): p for p in paragraphs}
    joined: dict[str, Annotation] = {}
    stale: list[str] = []
    for record in annotations:
        article_id, position, digest = split_paragraph_id(record.id)
        paragraph = by_position.get((article_id, position))
        if paragraph is None or paragraph.id != record.id or digest != record.text_hash:
            stale.append(record.id)
            continue
        current = joined.get(record.id)
        if current is None or record.annotator == ADJUDICATED:
            joined[record.id] = record
    if stale:
        raise InputError(
            f"{source}: {len(stale)} annotation(s) no longer match their paragraph text "
            f"(stale or unknown id, first: {stale[0]}); the corpus or the cleaning changed: "
            "re-label them with `paratype-annotate export --stale` or restore the cleaning"
        )
    return joined


@dataclass(frozen=True)
class LabelledParagraph:
    """A gold (or silver) paragraph with its outlet: what splits, audits and data sets share."""

    paragraph: Paragraph
    source: str
    label: str


SILVER_ANNOTATOR = "snorkel-label-model"


@dataclass(frozen=True)
class SilverRecord:
    """A label-model label (silver): training data only, stored apart from gold and marked so."""

    id: str
    label: str
    confidence: float


def write_silver(path: Path, records: Sequence[SilverRecord]) -> None:
    lines = (
        json.dumps(
            {
                "id": r.id,
                "text_hash": split_paragraph_id(r.id)[2],
                "label": r.label,
                "confidence": round(r.confidence, 4),
                "annotator": SILVER_ANNOTATOR,
                "silver": True,
            }
        )
        for r in records
    )
    atomic_write_text(path, "".join(line + "\n" for line in lines))


def read_silver(path: Path) -> list[SilverRecord]:
    """Silver records; a file without the silver mark is refused (gold must not come in here)."""
    if not path.exists():
        raise InputError(f"silver file {path} does not exist; create it with `paratype-weak label`")
    records = []
    for where, row in read_jsonl(path):
        if row.get("silver") is not True:
            raise InputError(
                f"{where}: record is not marked silver; silver files hold only label-model output"
            )
        try:
            records.append(
                SilverRecord(row["id"], check_label(row["label"], where), float(row["confidence"]))
            )
        except (KeyError, TypeError, ValueError) as err:
            raise InputError(
                f"{where}: a silver record needs id, label and a numeric confidence ({err})"
            ) from None
    return records
