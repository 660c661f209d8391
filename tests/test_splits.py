import pytest

from paratype.config import SplitConfig
from paratype.errors import InputError
from paratype.labels import LabelledParagraph
from paratype.segment import Paragraph
from paratype.splits import article_groups, assign_splits, read_split_file, write_split_file

WIRE = (
    "أعلنت وزارة الداخلية اليوم القبض على خلية إرهابية مكونة من خمسة أشخاص في محافظة القطيف "
    "كانوا يخططون لتنفيذ هجمات ضد منشآت حكومية ومساجد في المنطقة الشرقية"
)


def item(article, position, text, source="a"):
    return LabelledParagraph(Paragraph(article, position, text), source, "other")


WORDS = [
    "سوق",
    "نفط",
    "مطر",
    "بحر",
    "جبل",
    "مدرسة",
    "طبيب",
    "ملعب",
    "كتاب",
    "قطار",
    "مصنع",
    "حديقة",
    "شتاء",
    "صيف",
    "ذهب",
    "فضة",
    "سفينة",
    "مطار",
    "جامعة",
    "مسرح",
    "لون",
    "نهر",
    "غابة",
    "قمح",
    "تمر",
    "شاي",
    "قهوة",
    "ورق",
    "حاسوب",
    "هاتف",
]


def distinct(n):
    """Ten words no other paragraph shares in the same order."""
    return " ".join(WORDS[(n * 3 + k * (n + 1)) % len(WORDS)] + str(n) for k in range(10))


def corpus():
    items = [item("wire-1", 0, WIRE, "alriyadh"), item("wire-2", 3, "وقال مصدر: " + WIRE, "alyaum")]
    items += [item(f"art-{n}", 0, distinct(n), "aawsat" if n % 2 else "sabq") for n in range(10)]
    return items


def test_republished_wire_story_is_one_group():
    groups = article_groups(corpus())
    assert groups["wire-1"] == groups["wire-2"]
    assert len(set(groups.values())) == 11


@pytest.mark.parametrize("seed", range(8))
def test_near_duplicates_never_cross_splits(seed):
    items = corpus()
    split_of = assign_splits(items, SplitConfig(dev=0.2, test=0.2, seed=seed))
    assert split_of[items[0].paragraph.id] == split_of[items[1].paragraph.id]
    assert set(split_of.values()) == {"train", "dev", "test"}


def test_outlet_hold_out_tests_only_on_unseen_outlets():
    items = corpus()
    cfg = SplitConfig(hold_out="outlet", test_sources=["sabq"])
    split_of = assign_splits(items, cfg)
    assert {i.source for i in items if split_of[i.paragraph.id] == "test"} == {"sabq"}
    assert all(split_of[i.paragraph.id] == "test" for i in items if i.source == "sabq")


def test_outlet_hold_out_excludes_other_copies_of_held_out_stories():
    items = corpus()
    split_of = assign_splits(items, SplitConfig(hold_out="outlet", test_sources=["alyaum"]))
    assert split_of[items[1].paragraph.id] == "test"  # alyaum's copy of the wire story
    assert split_of[items[0].paragraph.id] == "excluded"  # alriyadh's copy: neither trained nor tested


def test_unknown_outlet_is_an_error():
    with pytest.raises(InputError, match="match no labelled"):
        assign_splits(corpus(), SplitConfig(hold_out="outlet", test_sources=["nope"]))


def test_split_file_round_trip_and_missing_ids(tmp_path):
    items = corpus()
    split_of = assign_splits(items, SplitConfig())
    write_split_file(tmp_path / "s.jsonl", split_of)
    assert read_split_file(tmp_path / "s.jsonl", split_of) == split_of
    with pytest.raises(InputError, match="not in split file"):
        read_split_file(tmp_path / "s.jsonl", [*split_of, "new-000-x"])


def grown_corpus():
    """The corpus above grown by new articles, one of them republishing a kept test story."""
    items = corpus()
    items += [item(f"new-{n}", 0, distinct(n + 20), "alwatan") for n in range(12)]
    return items


def test_a_new_version_keeps_old_dev_and_test_where_they_were(tmp_path):
    old_items = corpus()
    old = assign_splits(old_items, SplitConfig(dev=0.2, test=0.2, seed=1))
    write_split_file(tmp_path / "v1.jsonl", old)
    items = grown_corpus()
    items.append(item("new-copy", 0, "وقال مصدر أمني: " + WIRE, "almadina"))  # joins the wire group
    for seed in range(5):
        new = assign_splits(items, SplitConfig(dev=0.2, test=0.2, seed=seed, keep=str(tmp_path / "v1.jsonl")))
        assert all(new[pid] == s for pid, s in old.items() if s in ("dev", "test"))
        assert new[items[-1].paragraph.id] == new[items[0].paragraph.id]  # the copy goes with its story
        assert sum(s == "test" for s in new.values()) >= 0.15 * len(items)


def test_growing_into_train_leaves_test_and_dev_exactly_as_kept(tmp_path):
    old = assign_splits(corpus(), SplitConfig(dev=0.2, test=0.2, seed=1))
    write_split_file(tmp_path / "v1.jsonl", old)
    items = grown_corpus()
    items.append(item("new-copy", 0, "وقال مصدر أمني: " + WIRE, "almadina"))  # a copy of a kept story
    new = assign_splits(items, SplitConfig(seed=3, keep=str(tmp_path / "v1.jsonl"), grow="train"))
    copy_split = new.pop(items[-1].paragraph.id)
    assert copy_split == new[items[0].paragraph.id]  # a copy still goes with its story, wherever it is
    grown = {pid: s for pid, s in new.items() if pid not in old}
    assert grown and set(grown.values()) == {"train"}
    assert all(new[pid] == s for pid, s in old.items())


def test_growing_into_train_needs_a_kept_version():
    with pytest.raises(InputError, match=r"data\.split\.keep"):
        SplitConfig(grow="train")


def test_paragraphs_that_bridge_a_kept_dev_and_a_kept_test_group_are_used_nowhere(tmp_path):
    items = corpus()
    dev_text, test_text = distinct(1), distinct(2)
    kept = {i.paragraph.id: "train" for i in items}
    kept[items[3].paragraph.id], kept[items[4].paragraph.id] = "dev", "test"
    write_split_file(tmp_path / "v1.jsonl", kept)
    bridge = item("bridge", 0, dev_text)  # a copy of the dev story...
    bridge_2 = item("bridge", 1, test_text)  # ...in an article that also copies the test story
    new = assign_splits([*items, bridge, bridge_2], SplitConfig(keep=str(tmp_path / "v1.jsonl")))
    assert new[items[3].paragraph.id] == "dev" and new[items[4].paragraph.id] == "test"
    assert new[bridge.paragraph.id] == new[bridge_2.paragraph.id] == "excluded"


def test_test_always_sources_are_never_trained_on():
    split_of = assign_splits(corpus(), SplitConfig(test_always=["sabq"]))
    assert all(split_of[i.paragraph.id] == "test" for i in corpus() if i.source == "sabq")


@pytest.mark.slow
def test_the_assignment_does_not_depend_on_the_hash_seed(tmp_path):
    """Group names come from article ids, not from the order LSH returns its (set) answers."""
    code = (
        "from tests.test_splits import grown_corpus; from paratype.splits import assign_splits;"
        "from paratype.config import SplitConfig; import json;"
        "print(json.dumps(sorted(assign_splits(grown_corpus(), SplitConfig(seed=3)).items())))"
    )
    import os
    import subprocess
    import sys

    from paratype.config import PROJECT_ROOT

    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            cwd=PROJECT_ROOT,
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            check=True,
        ).stdout
        for seed in (1, 2, 3)
    }
    assert len(outputs) == 1
