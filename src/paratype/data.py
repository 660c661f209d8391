"""The data module: articles -> cleaned paragraphs -> gold labels -> grouped splits.

`build_dataset(cfg)` is the one way a labelled, split data set comes into being; trainers,
evaluation and the annotation tools all get their paragraphs from here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from datasets import ClassLabel, Dataset, DatasetDict, Features, Value

from paratype.config import DataConfig, PathsConfig
from paratype.corpus import Article, read_corpus, read_seeds
from paratype.errors import InputError
from paratype.labels import LABELS, join_annotations, read_annotations
from paratype.segment import Paragraph, SegmentationConfig, segment_article, split_paragraph_id
from paratype.splits import EXCLUDED, assign_splits

SPLITS = ("train", "dev", "test")
FEATURES = Features(
    {
        "id": Value("string"),
        "article_id": Value("string"),
        "source": Value("string"),
        "text": Value("string"),
        "label": ClassLabel(names=list(LABELS)),
    }
)


@dataclass(frozen=True)
class LabelledParagraph:
    paragraph: Paragraph
    source: str
    label: str


@dataclass
class SplitData:
    """What every trainer and evaluator receives."""

    splits: DatasetDict
    label_names: list[str]
    fingerprint: str  # hash of ids, labels and split assignment: runs compare only if equal


def segment_articles(articles: Iterable[Article], cfg: SegmentationConfig) -> list[Paragraph]:
    return [p for a in articles for p in segment_article(a.text, a.article_id, cfg, title=a.title)]


def _labelled(articles: list[Article], cfg: DataConfig, require_all: bool) -> list[LabelledParagraph]:
    paragraphs = segment_articles(articles, cfg.segmentation)
    source_of = {a.article_id: a.source for a in articles}
    by_id = {p.id: p for p in paragraphs}
    records = [
        r
        for f in cfg.annotation_files
        for r in read_annotations(Path(f))
        if split_paragraph_id(r.id)[0] in source_of
    ]
    labelled = {
        pid: LabelledParagraph(by_id[pid], source_of[by_id[pid].article_id], record.label)
        for pid, record in join_annotations(paragraphs, records, ", ".join(cfg.annotation_files)).items()
    }
    missing = [p.id for p in paragraphs if p.id not in labelled]
    if require_all and missing:
        raise InputError(
            f"{len(missing)} paragraph(s) have no gold label (first: {missing[0]}); "
            f"label them in {cfg.annotation_files[0]}"
        )
    return list(labelled.values())


def _annotated_article_ids(files: list[str]) -> set[str]:
    return {split_paragraph_id(r.id)[0] for f in files for r in read_annotations(Path(f))}


def load_labelled(cfg: DataConfig, paths: PathsConfig) -> list[LabelledParagraph]:
    """All gold paragraphs of the configured source, text rebuilt from the articles."""
    if cfg.source == "seeds":
        return _labelled(read_seeds(Path(paths.seeds_dir)), cfg, require_all=True)
    wanted = _annotated_article_ids(cfg.annotation_files)
    articles = [a for a in read_corpus(Path(paths.corpus_dir)) if a.article_id in wanted]
    seeds = [a for a in read_seeds(Path(paths.seeds_dir)) if a.article_id in wanted]
    return _labelled(seeds + articles, cfg, require_all=False)


def fingerprint(rows: Iterable[tuple[str, str, str]]) -> str:
    digest = hashlib.sha256(json.dumps(sorted(rows), ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()[:12]


def build_dataset(cfg: DataConfig, paths: PathsConfig) -> SplitData:
    """The labelled paragraphs as a train/dev/test DatasetDict, split by article groups."""
    items = load_labelled(cfg, paths)
    if not items:
        raise InputError(f"data={cfg.name} has no labelled paragraphs; check data.annotation_files")
    split_of = assign_splits(items, cfg.split)
    columns: dict[str, dict[str, list]] = {s: {k: [] for k in FEATURES} for s in SPLITS}
    for item in sorted(items, key=lambda i: i.paragraph.id):
        if split_of[item.paragraph.id] == EXCLUDED:
            continue
        row = columns[split_of[item.paragraph.id]]
        row["id"].append(item.paragraph.id)
        row["article_id"].append(item.paragraph.article_id)
        row["source"].append(item.source)
        row["text"].append(item.paragraph.text)
        row["label"].append(LABELS.index(item.label))
    splits = DatasetDict({s: Dataset.from_dict(columns[s], features=FEATURES) for s in SPLITS})
    print_rows = ((i.paragraph.id, i.label, split_of[i.paragraph.id]) for i in items)
    return SplitData(splits, list(LABELS), fingerprint(print_rows))
