import json

import pytest

from paratype.annotate import least_sure, merge_into, pool_candidates, read_worksheet, sample, write_worksheet
from paratype.errors import InputError
from paratype.labels import read_annotations
from paratype.segment import Paragraph

PARAS = [
    Paragraph("a", 0, "حذر وزير الداخلية من خطورة عودة الخلايا النائمة إلى المدن المحررة في الأيام المقبلة"),
    Paragraph("a", 1, "أعلنت الشرطة القبض على ثلاثة مطلوبين في عملية مداهمة فجر اليوم في حي السلام"),
    Paragraph("b", 0, "افتتح المعرض الدولي للكتاب أبوابه أمس بمشاركة مئات دور النشر من عشرين دولة"),
    Paragraph("b", 1, "قصير جدا"),
]


def test_pools_find_candidates_but_do_not_label():
    assert pool_candidates(PARAS, "warning") == PARAS[:1]
    assert pool_candidates(PARAS, "operation") == PARAS[1:2]
    assert pool_candidates(PARAS, "random") == PARAS[:3]  # too short to label is never offered
    with pytest.raises(InputError, match="unknown pool"):
        pool_candidates(PARAS, "guess")


def test_sample_is_reproducible_and_skips_annotated():
    assert sample(PARAS, 2, seed=1, exclude=set()) == sample(PARAS, 2, seed=1, exclude=set())
    assert PARAS[0] not in sample(PARAS, 10, seed=1, exclude={PARAS[0].id})


class FakeModel:
    """Stands in for a logged pyfunc: confidence grows with the paragraph's position."""

    def predict(self, frame):
        import pandas as pd

        sure = [0.3 + 0.1 * [p.text for p in PARAS].index(t) for t in frame["text"]]
        return pd.DataFrame(
            {
                "label": ["other"] * len(sure),
                "score_other": sure,
                "score_field_operation": [0.0] * len(sure),
            }
        )


def test_least_sure_orders_by_the_models_confidence():
    assert least_sure(PARAS[:3], FakeModel(), 2, exclude=set()) == [PARAS[0], PARAS[1]]
    assert least_sure(PARAS[:3], FakeModel(), 5, exclude={PARAS[0].id}) == [PARAS[1], PARAS[2]]


def test_worksheet_round_trip_and_merge(tmp_path):
    sheet = tmp_path / "ws.jsonl"
    write_worksheet(sheet, [(p, "aawsat") for p in PARAS[:2]])
    rows = [json.loads(line) for line in sheet.read_text().splitlines()]
    rows[0]["label"], rows[1]["label"] = "official_warning", "field_operation"
    sheet.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    records = read_worksheet(sheet, "reader-a", {p.id: p for p in PARAS})
    target = tmp_path / "gold.jsonl"
    assert merge_into(target, records) == (2, 0)
    assert merge_into(target, records) == (0, 2)
    assert [r.label for r in read_annotations(target)] == ["official_warning", "field_operation"]
    assert all("text" not in json.loads(line) for line in target.read_text().splitlines())  # stand-off


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"id": "zzz-000-abc", "label": "other"}, "not in the corpus"),
        ({"id": PARAS[0].id, "label": "warning"}, "is not one of"),
        ({"id": PARAS[0].id, "label": "other", "text": "نص آخر"}, "changed since export"),
    ],
)
def test_import_rejects_bad_rows(tmp_path, row, message):
    sheet = tmp_path / "ws.jsonl"
    sheet.write_text(json.dumps(row, ensure_ascii=False) + "\n")
    with pytest.raises(InputError, match=message):
        read_worksheet(sheet, "reader-a", {p.id: p for p in PARAS})
