"""paratype-evaluate scores a logged model on the user's own labelled paragraphs."""

import json

import pytest
from conftest import run_cli

from paratype.errors import InputError
from paratype.evaluation_file import read_labelled


def _write(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


@pytest.mark.slow
def test_evaluate_gives_the_training_runs_numbers_on_the_same_paragraphs(trained, tmp_path):
    test = trained.result.data.splits["test"]
    names = trained.result.data.label_names
    _write(
        tmp_path / "mine.jsonl",
        [
            {"id": i, "text": t, "label": names[y]}
            for i, t, y in zip(test["id"], test["text"], test["label"], strict=True)
        ],
    )
    proc = run_cli(
        "paratype-evaluate",
        "--model",
        trained.result.model_uri,
        "--input",
        str(tmp_path / "mine.jsonl"),
        "--out",
        str(tmp_path / "out"),
        tmp=trained.tmp,
    )
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    served = next(e for e in trained.result.evaluations if e.split == "test_tuned")  # the served rule
    assert metrics["eval/macro_f1"] == pytest.approx(served.metrics["test_tuned/macro_f1"])
    assert {"eval/f1_ci_low/other", "eval/ece", "eval/accuracy"} <= metrics.keys()
    assert (tmp_path / "out" / "confusion_matrix.png").stat().st_size > 0
    assert "macro-F1" in proc.stdout.decode() and "evaluation" in proc.stdout.decode()
    assert trained.result.model_uri in proc.stderr.decode()


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"text": "نص", "label": "other"}, 'missing "id"'),
        ({"id": 1, "label": "other"}, 'missing or empty "text"'),
        ({"id": 1, "text": "نص", "label": "warning"}, "is not one of"),
    ],
)
def test_bad_records_are_one_line_errors_naming_the_line(tmp_path, row, message):
    _write(tmp_path / "bad.jsonl", [{"id": 0, "text": "نص", "label": "other"}, row])
    with pytest.raises(InputError, match=rf"bad.jsonl:2: .*{message}"):
        read_labelled(tmp_path / "bad.jsonl")


def test_duplicate_ids_are_refused(tmp_path):
    _write(tmp_path / "dup.jsonl", [{"id": 1, "text": "نص", "label": "other"}] * 2)
    with pytest.raises(InputError, match="already used at"):
        read_labelled(tmp_path / "dup.jsonl")


def _seed_articles(tmp_path):
    from paratype.config import PROJECT_ROOT

    articles = tmp_path / "articles.jsonl"
    lines = [
        json.dumps({"id": p.stem, "text": p.read_text()}, ensure_ascii=False)
        for p in sorted((PROJECT_ROOT / "seeds").glob("*.txt"))
    ]
    articles.write_text("\n".join(lines) + "\n")
    return articles, (PROJECT_ROOT / "seeds" / "labels.jsonl").read_text().splitlines()


def test_whole_articles_with_stand_off_labels_are_cut_as_the_model_cuts_them(tmp_path):
    from paratype.evaluation_file import read_labelled_articles
    from paratype.segment import SegmentationConfig

    articles, labels = _seed_articles(tmp_path)
    (tmp_path / "labels.jsonl").write_text("\n".join(labels[:10]) + "\n")
    data = read_labelled_articles(articles, tmp_path / "labels.jsonl", SegmentationConfig())
    assert data["id"] == [json.loads(line)["id"] for line in labels[:10]] and all(data["text"])
    (tmp_path / "bad.jsonl").write_text('{"id": "no-such-paragraph", "label": "other"}\n')
    with pytest.raises(
        InputError, match=r"bad\.jsonl:1: paragraph 'no-such-paragraph' is not in .*paragraph_id"
    ):
        read_labelled_articles(articles, tmp_path / "bad.jsonl", SegmentationConfig())
