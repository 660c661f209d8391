"""Labelling functions, the label model and the silver path."""

import json
from pathlib import Path

import numpy as np
import pytest

from paratype.config import compose, to_config
from paratype.corpus import read_corpus
from paratype.data import build_dataset, load_labelled
from paratype.errors import InputError
from paratype.labels import LABELS, SilverRecord, read_silver, write_silver
from paratype.segment import segment_articles
from paratype.splits import evaluation_articles, near_duplicates_of
from paratype.weak import ABSTAIN, LFS, fit_label_model, silver_labels, vote_matrix

BY_NAME = {lf.name: i for i, lf in enumerate(LFS)}
FO, OW, EA, OT = range(4)


@pytest.mark.parametrize(
    ("lf", "sentence", "vote"),
    [
        ("op_arrest", "وألقت الشرطة القبض على ثلاثة مطلوبين في حي الشفا", FO),
        ("op_attack", "أسفر هجوم انتحاري بحزام ناسف عن سقوط ضحايا في المسجد", FO),
        ("op_attack", "أدان الوزير الهجوم الإرهابي على المسجد", ABSTAIN),
        ("op_killed", "لقي خمسة أشخاص حتفهم في حادث سير على طريق الرياض", ABSTAIN),
        ("op_forces", "داهمت قوات الأمن وكرا للمطلوبين وضبطت أسلحة وذخائر", FO),
        ("op_announced", "أعلنت وزارة الداخلية أمس القبض على خلية من خمسة أشخاص", FO),
        ("op_airstrike", "شنت طائرات التحالف غارات على مواقع الحوثيين في صعدة", FO),
        ("warn_official", "حذر وزير الداخلية من خطورة عودة الخلايا النائمة", OW),
        ("warn_official", "وحذر الخبير الأمني من تصاعد الهجمات", ABSTAIN),
        ("warn_official", "وتحذر في الوقت ذاته كل من تسول له نفسه بأن العقاب الشرعي سيكون مصيره", ABSTAIN),
        ("warn_vigilance", "دعا القائد الأجهزة الأمنية إلى أن تكون على أهبة الاستعداد", OW),
        ("expert_speaker", "يرى الخبير الأمني أن التنظيم يحاول تكييف نفسه", EA),
        ("expert_opinion", "ويتوقع أن يزيد التنظيم من هجماته خلال الأشهر القادمة", EA),
        ("expert_strategy", "يسعى التنظيم إلى إيجاد مناطق نفوذ جديدة واستراتيجية مختلفة", EA),
        ("other_no_security", "افتتح المعرض الدولي للكتاب أبوابه أمس", OT),
        ("other_no_security", "أعلنت الشرطة اعتقال مطلوب", ABSTAIN),
        ("other_diplomacy", "استقبل ولي العهد وزير الخارجية الأمريكي وبحث معه العلاقات", OT),
        ("other_condemn", "استنكر مجلس الوزراء التفجير الإرهابي وقدم التعازي لأسر الضحايا", OT),
        ("other_deterrent", "وتحذر كل من تسول له نفسه بأن العقاب الشرعي سيكون مصيره", OT),
        ("other_economy", "ارتفع المؤشر العام للأسهم السعودية بدعم من قطاع البتروكيماويات", OT),
    ],
)
def test_labelling_function_votes(lf, sentence, vote):
    assert vote_matrix([sentence])[0, BY_NAME[lf]] == vote


def test_every_function_has_a_name_and_a_reason():
    assert len({lf.name for lf in LFS}) == len(LFS)
    assert all(lf.reason and lf.label in range(len(LABELS)) for lf in LFS)


def test_label_model_recovers_a_known_answer():
    """Five noisy voters (80% right where they vote, 70% coverage) on a known truth."""
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 4, size=3000)
    votes = np.full((3000, 5), ABSTAIN)
    for j in range(5):
        covered = rng.random(3000) < 0.7
        wrong = (truth + rng.integers(1, 4, size=3000)) % 4
        votes[covered, j] = np.where(rng.random(covered.sum()) < 0.8, truth[covered], wrong[covered])
    labels, confidence = silver_labels(fit_label_model(votes, seed=0), votes)
    voted = labels != ABSTAIN
    single = votes[:, 0] != ABSTAIN
    assert (labels[voted] == truth[voted]).mean() > (votes[single, 0] == truth[single]).mean()
    assert (labels[voted] == truth[voted]).mean() > 0.9
    assert ((votes == ABSTAIN).all(axis=1) == ~voted).all()
    assert ((confidence >= 0) & (confidence <= 1)).all()


def test_silver_files_must_be_marked(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps({"id": "a-000-x", "label": "other", "confidence": 0.9}) + "\n")
    with pytest.raises(InputError, match="not marked silver"):
        read_silver(path)


def test_near_duplicates_of_protected_texts_are_found():
    wire = "أعلنت وزارة الداخلية القبض على خلية إرهابية من خمسة أشخاص في القطيف كانوا يخططون لهجمات على مساجد"
    assert near_duplicates_of(["وقال مصدر: " + wire, "افتتح المعرض الدولي للكتاب أبوابه"], [wire]) == {0}


def _unlabelled_paragraphs(cfg, split, gold_ids, skip=frozenset()):
    """Corpus paragraphs nobody labelled, from the first article of `split` that has some."""
    articles = {a.article_id: a for a in read_corpus(Path(cfg.paths.corpus_dir))}
    for article_id in dict.fromkeys(split["article_id"]):
        if article_id in articles and article_id not in skip:
            fresh = [
                p
                for p in segment_articles([articles[article_id]], cfg.data.segmentation)
                if p.id not in gold_ids
            ]
            if fresh:
                return fresh
    raise AssertionError("no unlabelled paragraph in any article of the split")


@pytest.mark.slow
def test_silver_only_ever_reaches_training(tmp_path):
    """Gold dev/test paragraphs, and paragraphs of their articles, are refused as silver."""
    cfg = to_config(compose(["data=corpus"]))
    gold_ids = {g.paragraph.id for g in load_labelled(cfg.data, cfg.paths)}
    plain = build_dataset(cfg.data, cfg.paths)
    evaluation = evaluation_articles(Path(cfg.paths.splits_dir))  # dev/test in any split file
    fresh = _unlabelled_paragraphs(cfg, plain.splits["train"], gold_ids, skip=evaluation)
    beside_test = _unlabelled_paragraphs(cfg, plain.splits["test"], gold_ids)[0]
    records = [
        SilverRecord(plain.splits["test"]["id"][0], "other", 0.99),  # a gold test paragraph
        SilverRecord(beside_test.id, "other", 0.99),  # same article as a test paragraph
        *[SilverRecord(p.id, "field_operation", 0.99) for p in fresh],
    ]
    write_silver(tmp_path / "silver.jsonl", [*records, SilverRecord(fresh[0].id, "other", 0.1)])
    silver_cfg = to_config(compose(["data=corpus", f"data.silver.file={tmp_path / 'silver.jsonl'}"]))
    data = build_dataset(silver_cfg.data, silver_cfg.paths)
    for split in ("dev", "test"):
        assert data.splits[split]["id"] == plain.splits[split]["id"]
        assert not any(data.splits[split]["silver"])
    train = data.splits["train"]
    added = [pid for pid, silver in zip(train["id"], train["silver"], strict=True) if silver]
    assert sorted(added) == sorted(p.id for p in fresh)
    assert data.fingerprint != plain.fingerprint


def test_label_model_saves_as_plain_arrays_and_serves_as_snorkel_does(tmp_path):
    from paratype.models.label_model import STATE_FILE, LabelModelClassifier
    from paratype.weak import fit_label_model, vote_matrix

    texts = [
        "أعلنت الشرطة القبض على ثلاثة مطلوبين في مداهمة فجر اليوم",
        "حذر وزير الداخلية من خطورة عودة الخلايا النائمة",
        "يرى الخبير الأمني أن التنظيم يحاول إعادة بناء صفوفه",
        "افتتح المعرض الدولي للكتاب أبوابه أمس",
    ] * 10
    votes = vote_matrix(texts)
    snorkel_model = fit_label_model(votes, seed=0, epochs=50)
    model = LabelModelClassifier.from_snorkel(
        snorkel_model, ["field_operation", "official_warning", "expert_assessment", "other"]
    )
    model.save(tmp_path)
    assert (tmp_path / STATE_FILE).suffix == ".npz"
    loaded = LabelModelClassifier.load(tmp_path)
    np.testing.assert_allclose(loaded.predict_proba(texts), snorkel_model.predict_proba(votes), rtol=1e-6)
