"""Tests on the gold data set itself, rebuilt from the corpus (PARATYPE_CORPUS_DIR).

They skip, saying why, on a clone without the corpus."""

import os
from collections import Counter
from itertools import pairwise
from pathlib import Path

import pytest

from paratype.config import compose, to_config
from paratype.data import SPLITS, build_dataset, load_labelled
from paratype.labels import read_annotations
from paratype.splits import EXCLUDED, article_groups, read_split_file

pytestmark = pytest.mark.slow  # each rebuilds the gold set from the corpus


def _corpus_config(name: str):
    cfg = to_config(compose([f"data={name}"]))
    corpus = Path(os.environ.get("PARATYPE_CORPUS_DIR", cfg.paths.corpus_dir))
    if not corpus.is_dir():
        pytest.skip(f"corpus not found at {corpus}: set PARATYPE_CORPUS_DIR or run `paratype-data download`")
    return cfg


@pytest.fixture(scope="module")
def cfg():
    return _corpus_config("corpus")


@pytest.fixture(scope="module")
def data(cfg):
    return build_dataset(cfg.data, cfg.paths)


@pytest.fixture(scope="module")
def items(cfg):
    return load_labelled(cfg.data, cfg.paths)


def test_gold_set_size_rare_labels_and_outlet_balance(items):
    counts = Counter(i.label for i in items)
    assert len(items) >= 7500
    assert counts["field_operation"] >= 1200 and counts["expert_assessment"] >= 1200
    assert counts["official_warning"] >= 350  # every warning-verb and warning-cue candidate was read
    outlets = Counter(i.source for i in items)
    assert max(outlets.values()) <= 0.3 * len(items)


def test_every_annotation_still_matches_its_text(cfg, items):
    """build_dataset raises on stale ids; here also every gold record is found."""
    annotated = {r.id for f in cfg.data.annotation_files for r in read_annotations(Path(f))}
    assert annotated == {i.paragraph.id for i in items}


def test_double_labelling_is_by_another_reader(cfg):
    folder = Path(cfg.paths.annotations_dir)
    first = {r.id: r.annotator for r in read_annotations(folder / "gold.jsonl")}
    second = {r.id: r.annotator for r in read_annotations(folder / "double.jsonl")}
    assert len(second.keys() & first.keys()) >= 1100
    assert all(first[pid] != reader for pid, reader in second.items())


@pytest.mark.parametrize("family", ["corpus", "corpus-outlets"])
def test_each_split_version_keeps_the_dev_and_test_paragraphs_of_the_one_before(cfg, family):
    folder = Path(cfg.paths.splits_dir)
    versions = [read_split_file(folder / f"{family}-v{n}.jsonl", []) for n in (1, 2, 3)]
    for old, new in pairwise(versions):
        held = {pid: s for pid, s in old.items() if s in ("dev", "test")}
        assert held and all(new[pid] == s for pid, s in held.items())
    assert sum(s == "test" for s in versions[-1].values()) >= 1500
    assert Path(cfg.data.split.file).name == "corpus-v3.jsonl"


def test_no_article_or_wire_story_crosses_splits(cfg, items, data):
    split_of = {pid: s for s in SPLITS for pid in data.splits[s]["id"]}
    used = [i for i in items if i.paragraph.id in split_of]
    assert len(items) - len(used) == sum(
        s == EXCLUDED for s in read_split_file(Path(cfg.data.split.file), []).values()
    )
    group_of = article_groups(used)
    splits_of_group: dict[str, set[str]] = {}
    for item in used:
        splits_of_group.setdefault(group_of[item.paragraph.article_id], set()).add(
            split_of[item.paragraph.id]
        )
    assert all(len(s) == 1 for s in splits_of_group.values())


def test_seed_paragraphs_are_never_trained_on(data):
    assert "seeds" not in set(data.splits["train"]["source"]) | set(data.splits["dev"]["source"])
    assert Counter(data.splits["test"]["source"])["seeds"] == 66


def test_outlet_hold_out_tests_only_unseen_outlets():
    cfg = _corpus_config("corpus_outlets")
    data = build_dataset(cfg.data, cfg.paths)
    held_out = set(cfg.data.split.test_sources)
    assert set(data.splits["test"]["source"]) == held_out | {"seeds"}
    assert not set(data.splits["train"]["source"]) & held_out
    assert len(held_out) >= 3 and sum(s in held_out for s in data.splits["test"]["source"]) >= 1200
