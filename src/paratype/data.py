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
from paratype.labels import LABELS, Annotation, LabelledParagraph, join_annotations, read_annotations
from paratype.segment import segment_articles, split_paragraph_id
from paratype.splits import EXCLUDED, assign_splits, evaluation_articles

SPLITS = ("train", "dev", "test")
FEATURES = Features(
    {
        "id": Value("string"),
        "article_id": Value("string"),
        "source": Value("string"),
        "text": Value("string"),
        "label": ClassLabel(names=list(LABELS)),
        "silver": Value("bool"),  # a label-model label (training split only), not a gold one
    }
)


@dataclass
class SplitData:
    """What every trainer and evaluator receives."""

    splits: DatasetDict
    label_names: list[str]
    fingerprint: str  # hash of ids, labels and split assignment: runs compare only if equal


def _labelled(
    articles: list[Article], records: list[Annotation], cfg: DataConfig, require_all: bool
) -> list[LabelledParagraph]:
    paragraphs = segment_articles(articles, cfg.segmentation)
    source_of = {a.article_id: a.source for a in articles}
    by_id = {p.id: p for p in paragraphs}
    records = [r for r in records if split_paragraph_id(r.id)[0] in source_of]
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


def load_labelled(cfg: DataConfig, paths: PathsConfig) -> list[LabelledParagraph]:
    """All gold paragraphs of the configured source, text rebuilt from the articles."""
    records = [r for f in cfg.annotation_files for r in read_annotations(Path(f))]
    if cfg.source == "seeds":
        return _labelled(read_seeds(Path(paths.seeds_dir)), records, cfg, require_all=True)
    wanted = {split_paragraph_id(r.id)[0] for r in records}
    articles = [a for a in read_corpus(Path(paths.corpus_dir)) if a.article_id in wanted]
    seeds = [a for a in read_seeds(Path(paths.seeds_dir)) if a.article_id in wanted]
    return _labelled(seeds + articles, records, cfg, require_all=False)


def fingerprint(rows: Iterable[tuple[str, str, str]]) -> str:
    digest = hashlib.sha256(json.dumps(sorted(rows), ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()[:12]


def load_silver(
    cfg: DataConfig, paths: PathsConfig, gold: list[LabelledParagraph], split_of: dict[str, str]
) -> list[LabelledParagraph]:
    """Silver paragraphs above the threshold that may train a model: none that is gold, none from
    an article with an evaluation paragraph, none a near-duplicate of a dev or test paragraph."""
    from paratype.labels import read_silver
    from paratype.splits import near_duplicates_of

    records = [r for r in read_silver(Path(cfg.silver.file)) if r.confidence >= cfg.silver.threshold]
    held_out = [g for g in gold if split_of[g.paragraph.id] in ("dev", "test")]
    banned_articles = {g.paragraph.article_id for g in held_out} | evaluation_articles(Path(paths.splits_dir))
    gold_ids = {g.paragraph.id for g in gold}
    label_of = {r.id: r.label for r in records if r.id not in gold_ids}
    wanted = {split_paragraph_id(pid)[0] for pid in label_of} - banned_articles
    articles = [a for a in read_corpus(Path(paths.corpus_dir)) if a.article_id in wanted]
    paragraphs = [p for p in segment_articles(articles, cfg.segmentation) if p.id in label_of]
    source_of = {a.article_id: a.source for a in articles}
    leaks = near_duplicates_of([p.text for p in paragraphs], [g.paragraph.text for g in held_out])
    silver = [
        LabelledParagraph(p, source_of[p.article_id], label_of[p.id])
        for k, p in enumerate(paragraphs)
        if k not in leaks
    ]
    return silver[: cfg.silver.max_paragraphs] if cfg.silver.max_paragraphs else silver


def build_dataset(cfg: DataConfig, paths: PathsConfig) -> SplitData:
    """The labelled paragraphs as a train/dev/test DatasetDict, split by article groups.

    With `data.silver.file`, silver paragraphs join the training split (marked `silver`).
    """
    items = load_labelled(cfg, paths)
    if not items:
        raise InputError(f"data={cfg.name} has no labelled paragraphs; check data.annotation_files")
    split_of = assign_splits(items, cfg.split)
    rows = [(i, split_of[i.paragraph.id], False) for i in sorted(items, key=lambda i: i.paragraph.id)]
    if cfg.silver.file:
        rows += [(i, "train", True) for i in load_silver(cfg, paths, items, split_of)]
    columns: dict[str, dict[str, list]] = {s: {k: [] for k in FEATURES} for s in SPLITS}
    for item, split, silver in rows:
        if split == EXCLUDED:
            continue
        row = columns[split]
        row["id"].append(item.paragraph.id)
        row["article_id"].append(item.paragraph.article_id)
        row["source"].append(item.source)
        row["text"].append(item.paragraph.text)
        row["label"].append(LABELS.index(item.label))
        row["silver"].append(silver)
    splits = DatasetDict({s: Dataset.from_dict(columns[s], features=FEATURES) for s in SPLITS})
    marks = ((i.paragraph.id, i.label, split + ("/silver" if silver else "")) for i, split, silver in rows)
    return SplitData(splits, list(LABELS), fingerprint(marks))


def subsample_train(data: SplitData, size: int, seed: int) -> SplitData:
    """A random `size` paragraphs of the training split (dev and test untouched)."""
    train = data.splits["train"]
    if size <= 0 or size >= len(train):
        return data
    keep = train.shuffle(seed=seed).select(range(size))
    splits = DatasetDict({**data.splits, "train": keep})
    marks = [
        (pid, str(label), s)
        for s in SPLITS
        for pid, label in zip(splits[s]["id"], splits[s]["label"], strict=True)
    ]
    return SplitData(splits, data.label_names, fingerprint(marks))
