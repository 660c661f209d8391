"""The label audit flags a planted wrong label among clean ones (cleanlab on out-of-fold TF-IDF),
and lists wire copies labelled apart."""

import json
from functools import partial

import pytest

from paratype.audit import conflicting_twins, find_suspects, out_of_fold_proba
from paratype.config import TfidfConfig
from paratype.labels import LabelledParagraph
from paratype.models import tfidf_training
from paratype.segment import Paragraph

TEMPLATES = {
    "field_operation": "أعلنت الشرطة القبض على {} مطلوبين في مداهمة بحي {} فجر اليوم وضبط أسلحة",
    "official_warning": "حذر وزير الداخلية من خطورة {} ودعا سكان {} إلى اليقظة والحذر الشديد",
    "expert_assessment": "يرى الخبير الأمني أن التنظيم يحاول {} ويتوقع مراقبون في {} مرحلة جديدة",
    "other": "افتتح المعرض الدولي {} أبوابه أمس في مدينة {} بمشاركة دور النشر",
}
FILLERS = ["ثلاثة", "الشمال", "الجنوب", "الشرق", "الغرب", "الوسط", "خمسة", "سبعة", "عشرة", "الساحل"]


def gold_set() -> list[LabelledParagraph]:
    items = []
    for label, template in TEMPLATES.items():
        for k, a in enumerate(FILLERS):
            for m, b in enumerate(FILLERS[:4]):
                article = f"{label[:3]}{k}{m}"
                items.append(LabelledParagraph(Paragraph(article, 0, template.format(a, b)), "x", label))
    return items


@pytest.mark.slow
def test_audit_flags_a_planted_wrong_label():
    items = gold_set()
    planted = items[5]  # a field operation, labelled other
    items[5] = LabelledParagraph(planted.paragraph, planted.source, "other")
    fit = partial(tfidf_training.fit, TfidfConfig(), seed=0)
    suspects = find_suspects(items, out_of_fold_proba(items, fit, folds=5))
    assert planted.paragraph.id in [s.item.paragraph.id for s in suspects[:3]]
    assert next(s for s in suspects if s.item.paragraph.id == planted.paragraph.id).given == "other"
    assert len(suspects) < len(items) // 4  # clean labels are mostly left alone


def test_twins_labelled_apart_are_listed_and_agreeing_copies_are_not():
    def item(article: str, text: str, label: str) -> LabelledParagraph:
        return LabelledParagraph(Paragraph(article, 0, text), "x", label)

    story = "أعلنت الشرطة القبض على ثلاثة مطلوبين في مداهمة بحي الشمال فجر اليوم وضبط أسلحة وذخائر"
    warning = "حذر وزير الداخلية من خطورة الشائعات ودعا سكان المدينة إلى اليقظة والحذر الشديد"
    operation, reprint = item("a", story, "field_operation"), item("b", story + " وفق بيان", "other")
    items = [
        operation,
        reprint,
        item("c", warning, "official_warning"),
        item("d", warning, "official_warning"),
    ]
    items.append(item("e", "افتتح المعرض الدولي للكتاب أبوابه أمس في مدينة جدة بمشاركة دور النشر", "other"))
    groups = conflicting_twins(items)
    assert [[i.paragraph.id for i in g] for g in groups] == [[operation.paragraph.id, reprint.paragraph.id]]


@pytest.mark.slow  # a subprocess that reads a corpus: seconds
def test_twins_command_writes_the_worksheet_of_a_wire_copy_labelled_apart(tmp_path, monkeypatch):
    from conftest import run_cli

    from paratype.config import compose, to_config
    from paratype.corpus import read_corpus
    from paratype.segment import segment_articles

    story = "أعلنت الشرطة القبض على ثلاثة مطلوبين في مداهمة بحي الشمال فجر اليوم وضبط أسلحة وذخائر كثيرة"
    own = [
        "افتتح المعرض الدولي للكتاب أبوابه أمس في مدينة جدة بمشاركة دور النشر",
        "وقال الخبير إن التنظيم يضعف",
    ]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    records = [
        {"source": outlet, "url": f"http://{outlet}.example/1", "title": "خبر", "content": f"{story}\n{text}"}
        for outlet, text in zip(("okaz", "sabq"), own, strict=True)
    ]
    (corpus / "2015-07-21.json").write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setenv("PARATYPE_CORPUS_DIR", str(corpus))
    cfg = to_config(compose(["data=corpus"]))
    paragraphs = segment_articles(read_corpus(corpus), cfg.data.segmentation)
    labels = {0: "field_operation", 1: "other"}  # the two copies of the story are labelled apart
    gold = tmp_path / "gold.jsonl"
    gold.write_text(
        "".join(
            json.dumps(
                {"id": p.id, "text_hash": p.id[-10:], "label": labels.get(k, "other"), "annotator": "a"}
            )
            + "\n"
            for k, p in enumerate(sorted(paragraphs, key=lambda p: (p.position, p.article_id)))
        )
    )
    out = tmp_path / "twins.jsonl"
    proc = run_cli(
        "paratype-data",
        "audit",
        "--twins",
        "--out",
        str(out),
        "data=corpus",
        f"data.annotation_files=[{gold}]",
    )
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["group"], r["given"], r["text"]) for r in rows] == [
        (1, "field_operation", story),
        (1, "other", story),
    ]
    assert "1 near-duplicate group(s)" in proc.stdout.decode()
