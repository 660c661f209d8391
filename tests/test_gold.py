"""Tests on the gold data set itself, rebuilt from the corpus (PARATYPE_CORPUS_DIR)."""

import os
from collections import Counter
from pathlib import Path

import pytest

from paratype.config import compose, to_config
from paratype.data import SPLITS, build_dataset, load_labelled
from paratype.labels import read_annotations
from paratype.splits import article_groups


@pytest.fixture(scope="module")
def cfg():
    corpus = Path(os.environ.get("PARATYPE_CORPUS_DIR", to_config(compose()).paths.corpus_dir))
    assert corpus.is_dir(), (
        f"corpus not found at {corpus}: set PARATYPE_CORPUS_DIR or run `paratype-data download`"
    )
    return to_config(compose(["data=corpus"]))


@pytest.fixture(scope="module")
def data(cfg):
    return build_dataset(cfg.data, cfg.paths)


def test_gold_set_size_and_rare_labels(data):
    counts = Counter(data.label_names[i] for s in SPLITS for i in data.splits[s]["label"])
    assert sum(counts.values()) >= 1500
    assert counts["field_operation"] >= 250 and counts["expert_assessment"] >= 250
    assert counts["official_warning"] >= 150


def test_every_annotation_still_matches_its_text(cfg):
    """build_dataset raises on stale ids; here also every gold record is found."""
    items = load_labelled(cfg.data, cfg.paths)
    annotated = {r.id for f in cfg.data.annotation_files for r in read_annotations(Path(f))}
    assert annotated == {i.paragraph.id for i in items}


def test_double_labelling_covers_300_gold_paragraphs(cfg):
    folder = Path(cfg.paths.annotations_dir)
    first = {r.id for r in read_annotations(folder / "gold.jsonl")}
    second = {r.id: r.annotator for r in read_annotations(folder / "double.jsonl")}
    assert len(second.keys() & first) >= 300
    annotators = {r.annotator for r in read_annotations(folder / "gold.jsonl")}
    assert not set(second.values()) & annotators  # a different reader


def test_no_article_or_wire_story_crosses_splits(cfg, data):
    items = load_labelled(cfg.data, cfg.paths)
    split_of = {pid: s for s in SPLITS for pid in data.splits[s]["id"]}
    group_of = article_groups(items)
    splits_of_group: dict[str, set[str]] = {}
    for item in items:
        splits_of_group.setdefault(group_of[item.paragraph.article_id], set()).add(
            split_of[item.paragraph.id]
        )
    assert all(len(s) == 1 for s in splits_of_group.values())


def test_outlet_hold_out_tests_only_unseen_outlets():
    cfg = to_config(compose(["data=corpus_outlets"]))
    data = build_dataset(cfg.data, cfg.paths)
    assert set(data.splits["test"]["source"]) == set(cfg.data.split.test_sources)
    assert not set(data.splits["train"]["source"]) & set(cfg.data.split.test_sources)
