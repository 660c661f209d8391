"""Tests on the data itself: label set, every seed paragraph labelled, grouped splits."""

from collections import Counter

from paratype.config import compose, to_config
from paratype.data import SPLITS, build_dataset
from paratype.labels import LABELS


def seeds():
    cfg = to_config(compose(["data=seeds"]))
    return build_dataset(cfg.data, cfg.paths)


def test_seed_data_set_is_fully_labelled():
    data = seeds()
    assert data.label_names == list(LABELS)
    assert sum(len(data.splits[s]) for s in SPLITS) == 66
    labels = Counter(data.label_names[i] for s in SPLITS for i in data.splits[s]["label"])
    assert set(labels) == set(LABELS)


def test_no_article_in_two_splits():
    data = seeds()
    articles = [set(data.splits[s]["article_id"]) for s in SPLITS]
    assert all(articles) and not (
        articles[0] & articles[1] or articles[0] & articles[2] or articles[1] & articles[2]
    )


def test_fingerprint_is_reproducible_and_tracks_labels():
    assert seeds().fingerprint == seeds().fingerprint
    cfg = to_config(compose(["data=seeds", "data.split.seed=5"]))
    assert build_dataset(cfg.data, cfg.paths).fingerprint != seeds().fingerprint
