import pytest

from paratype.config import SplitConfig
from paratype.data import LabelledParagraph
from paratype.errors import InputError
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
