import json

import pytest
from conftest import run_cli

from paratype.annotate import (
    as_adjudicated,
    deal,
    is_opinion,
    merge_into,
    model_ranked,
    outside_evaluation,
    pool_candidates,
    read_worksheet,
    route_by_manifest,
    sample,
    write_worksheet,
)
from paratype.errors import InputError
from paratype.labels import Annotation, join_annotations, read_annotations
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


def test_model_ranked_orders_by_the_models_confidence():
    assert model_ranked(PARAS[:3], FakeModel(), 2, exclude=set()) == [PARAS[0], PARAS[1]]
    assert model_ranked(PARAS[:3], FakeModel(), 5, exclude={PARAS[0].id}) == [PARAS[1], PARAS[2]]


def test_model_ranked_caps_each_outlet():
    source_of = {"a": "aawsat", "b": "alyaum"}
    chosen = model_ranked(PARAS[:3], FakeModel(), 2, exclude=set(), source_of=source_of, max_share=0.5)
    assert chosen == [PARAS[0], PARAS[2]]  # the second `a` paragraph would give aawsat both places


def test_train_only_candidates_skip_evaluated_articles_and_their_copies():
    copy = Paragraph("c", 0, PARAS[0].text + " وفق بيان")  # another outlet reprints a test paragraph
    fresh = Paragraph("d", 0, "وقال محلل إن التنظيم يعيد بناء شبكاته في البادية بعد خسارة المدن")
    assert outside_evaluation([PARAS[1], PARAS[2], copy, fresh], evaluated=[PARAS[0]]) == [PARAS[2], fresh]


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


def test_a_later_audit_of_a_decided_paragraph_is_recorded_and_wins(tmp_path):
    target = tmp_path / "audit.jsonl"
    first = as_adjudicated([Annotation(PARAS[0].id, PARAS[0].id[-10:], "expert_assessment", "x")], "audit-a")
    later = as_adjudicated([Annotation(PARAS[0].id, PARAS[0].id[-10:], "other", "x", "a column")], "audit-b")
    assert merge_into(target, first) == (1, 0)
    assert merge_into(target, later) == (1, 0)
    assert merge_into(target, later) == (0, 1)  # a re-import adds nothing
    joined = join_annotations(PARAS, read_annotations(target), target)
    assert joined[PARAS[0].id].label == "other"


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


def test_warning_cues_pool_needs_an_official_speaker_and_skips_warning_verbs():
    cue_official = Paragraph(
        "c", 0, "أكد مدير الدفاع المدني خطورة السيول على سكان الأودية ودعا إلى البقاء في المنازل"
    )
    cue_only = Paragraph(
        "c", 1, "تبقى مخاطر الاستثمار في الأسهم منخفضة لمن يختار الشركات القيادية ذات العوائد الثابتة"
    )
    assert pool_candidates([cue_official, cue_only, PARAS[0]], "warning_cues") == [cue_official]


def test_opinion_articles_are_found_by_section_or_bare_byline():
    from paratype.corpus import Article

    column = Article("x", "alriyadh", "نص", author="محمد بن عبدالله الغامدي")
    news = Article("y", "alriyadh", "نص", author="الرياض - واس")
    section = Article("z", "3alyoum", "نص", url="http://www.3alyoum.com/opinion/articles/a1")
    assert [is_opinion(a) for a in (column, news, section)] == [True, False, True]


def test_sample_caps_each_outlets_share():
    paras = [Paragraph(f"big{k}", 0, "نص") for k in range(8)] + [Paragraph("small", 0, "نص")]
    source_of = {p.article_id: ("small" if p.article_id == "small" else "big") for p in paras}
    chosen = sample(paras, 4, seed=0, exclude=set(), source_of=source_of, max_share=0.5)
    assert sum(source_of[p.article_id] == "big" for p in chosen) <= 2


class ScoredModel:
    """A fake pyfunc whose confidence in each text is given."""

    def __init__(self, confidence):
        self.confidence = confidence

    def predict(self, frame):
        import pandas as pd

        return pd.DataFrame({"score_other": [self.confidence[t] for t in frame["text"]]})


def test_likely_pool_ranks_by_one_labels_probability():
    model = ScoredModel({PARAS[0].text: 0.3, PARAS[1].text: 0.9, PARAS[2].text: 0.6})
    assert model_ranked(PARAS[:3], model, 2, exclude=set(), likely="other") == [PARAS[1], PARAS[2]]


def test_model_ranked_keeps_one_paragraph_per_near_duplicate_cluster():
    copy = Paragraph("z", 0, PARAS[0].text + " اليوم")
    model = ScoredModel({PARAS[0].text: 0.3, copy.text: 0.35, PARAS[1].text: 0.6})
    candidates = [PARAS[0], copy, PARAS[1]]
    assert model_ranked(candidates, model, 2, exclude=set()) == [PARAS[0], PARAS[1]]
    assert model_ranked(candidates, model, 2, exclude=set(), diverse=False) == [PARAS[0], copy]


def _labelled_sheet(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            [{"id": PARAS[0].id, "label": "other"}, {"id": PARAS[0].id, "label": "official_warning"}],
            "already labelled at",
        ),
        ([{"id": PARAS[0].id, "label": "other", "annotator": "adjudicated"}], "reserved for adjudicated"),
        (["not an object"], "expected a JSON object"),
    ],
)
def test_import_refuses_duplicates_self_adjudication_and_non_objects(tmp_path, rows, message):
    sheet = tmp_path / "ws.jsonl"
    _labelled_sheet(sheet, rows)
    with pytest.raises(InputError, match=message):
        read_worksheet(sheet, "reader-a", {p.id: p for p in PARAS})


def test_import_reads_a_worksheet_saved_with_a_bom(tmp_path):
    sheet = tmp_path / "ws.jsonl"
    sheet.write_bytes(b"\xef\xbb\xbf" + json.dumps({"id": PARAS[0].id, "label": "other"}).encode() + b"\n")
    assert [r.label for r in read_worksheet(sheet, "reader-a", {p.id: p for p in PARAS})] == ["other"]


def test_deal_gives_double_rows_to_a_second_reader_stratified_by_pool(tmp_path):
    pools = {}
    for pool, n in (("warning", 30), ("random", 10)):
        paras = [Paragraph(f"{pool}{k}", 0, f"نص رقم {k} من {pool}") for k in range(n)]
        write_worksheet(tmp_path / f"{pool}.jsonl", [(p, "aawsat") for p in paras])
        pools[tmp_path / f"{pool}.jsonl"] = pool
    assert deal(pools, readers=3, double=8, seed=0, out=tmp_path / "round") == 48
    manifest = [json.loads(line) for line in (tmp_path / "round" / "manifest.jsonl").read_text().splitlines()]
    second = [r for r in manifest if r["role"] == "second"]
    assert sorted(r["pool"] for r in second).count("warning") == 6  # 30/40 of 8
    first_reader = {r["id"]: r["reader"] for r in manifest if r["role"] == "first"}
    assert all(r["reader"] != first_reader[r["id"]] for r in second)
    sheets = sorted((tmp_path / "round").glob("reader-*.jsonl"))
    sizes = [len(s.read_text().splitlines()) for s in sheets]
    assert sum(sizes) == 48 and max(sizes) - min(sizes) <= 2
    assert all("pool" not in json.loads(line) for s in sheets for line in s.read_text().splitlines())


def test_manifest_routes_first_readings_to_gold_and_second_to_double(tmp_path):
    manifest = tmp_path / "manifest.jsonl"
    rows = [
        {"id": PARAS[0].id, "pool": "warning", "reader": "reader-01", "role": "first"},
        {"id": PARAS[1].id, "pool": "random", "reader": "reader-01", "role": "second"},
    ]
    _labelled_sheet(manifest, rows)
    records = [Annotation(p.id, "h", "other", "claude-x") for p in PARAS[:2]]
    routed = route_by_manifest(records, manifest, "reader-01", tmp_path)
    assert [r.id for r in routed[tmp_path / "gold.jsonl"]] == [PARAS[0].id]
    assert [r.id for r in routed[tmp_path / "double.jsonl"]] == [PARAS[1].id]
    with pytest.raises(InputError, match="not dealt to reader-02"):
        route_by_manifest(records, manifest, "reader-02", tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize(
    "command", [["export", "--n", "1", "--out", "x.jsonl"], ["import", "README.md", "--annotator", "a"]]
)
def test_config_overrides_follow_the_subcommand(command, tmp_path):
    proc = run_cli("paratype-annotate", *command, f"paths.corpus_dir={tmp_path}/nowhere", check=False)
    assert proc.returncode == 2 and f"corpus folder {tmp_path}/nowhere does not exist" in proc.stderr.decode()
