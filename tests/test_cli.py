"""The command-line tools run as subprocesses, as a user runs them."""

import json

import pytest
from conftest import run_cli, tracking_overrides

from paratype.classifier import MAX_CHARS
from paratype.config import PROJECT_ROOT

ARTICLE = (PROJECT_ROOT / "seeds" / "004_0188e2f89b34f350.txt").read_bytes()


@pytest.mark.slow
def test_train_prints_results_and_where_they_are(tmp_path):
    proc = run_cli("paratype-train", *tracking_overrides(tmp_path), tmp=tmp_path)
    out = proc.stdout.decode()
    assert "macro-F1" in out and "official_warning" in out
    assert "run:" in out and "model: models:/" in out


@pytest.mark.slow
def test_config_typo_fails_at_start_naming_the_key(tmp_path):
    proc = run_cli("paratype-train", "model.CC=3", *tracking_overrides(tmp_path), tmp=tmp_path, check=False)
    assert proc.returncode != 0
    assert b"CC" in proc.stderr
    bad = run_cli("paratype-train", "model.C=-1", *tracking_overrides(tmp_path), tmp=tmp_path, check=False)
    assert bad.returncode == 2 and bad.stderr.decode().strip().endswith("must be > 0")
    assert len(bad.stderr.decode().strip().splitlines()) == 1


@pytest.mark.slow
def test_predict_without_a_model_says_to_train_first(tmp_path):
    proc = run_cli(
        "paratype-predict", *tracking_overrides(tmp_path), stdin="داعش".encode(), tmp=tmp_path, check=False
    )
    assert proc.returncode == 2
    assert "train one first" in proc.stderr.decode() and len(proc.stderr.splitlines()) == 1


@pytest.mark.slow
def test_predict_paragraphs_in_order_with_error_records(trained):
    lines = [
        json.dumps({"id": "p1", "text": "وأعلنت وزارة الداخلية القبض على خلية إرهابية في الرياض"}),
        json.dumps({"text": "حذر وزير الداخلية من خطورة عودة الخلايا النائمة"}),
        "{broken",
        json.dumps({"id": "en", "text": "hello world"}),
        json.dumps({"id": "empty", "text": ""}),
    ]
    stdin = ("\n".join(lines) + "\n").encode() + b'{"id": "bytes", "text": "\xff"}\n'
    stdin += b'{"id": "half", "text": "\\ud800 \xd8\xaf\xd8\xa7\xd8\xb9\xd8\xb4"}\n'  # a lone surrogate crashed mmh3
    proc = run_cli("paratype-predict", stdin=stdin, tmp=trained.tmp)
    out = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert [r["id"] for r in out] == ["p1", 2, None, "en", "empty", 6, "half"]
    assert out[0]["label"] in out[0]["scores"] and abs(sum(out[0]["scores"].values()) - 1) < 1e-3
    assert [("error" in r) for r in out] == [False, False, True, True, True, True, True]
    assert "invalid JSON" in out[2]["error"] and "UTF-8" in out[5]["error"]
    assert "surrogate" in out[6]["error"]
    assert [r.get("truncated") for r in out[:2]] == [False, False]


@pytest.mark.slow
def test_predict_cuts_an_over_long_paragraph_and_flags_it(trained):
    long_text = "أعلنت الشرطة القبض على خلية إرهابية في الرياض " * (MAX_CHARS // 40)
    lines = [json.dumps({"id": i, "text": t}) for i, t in enumerate([long_text, "حذر الوزير من خطورة الوضع"])]
    proc = run_cli("paratype-predict", stdin="\n".join(lines).encode(), tmp=trained.tmp)
    out = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert [r["truncated"] for r in out] == [True, False]
    assert all("label" in r for r in out)


@pytest.mark.slow
def test_predict_whole_articles_to_a_file(trained, tmp_path):
    source = tmp_path / "article.txt"
    source.write_bytes(ARTICLE)
    target = tmp_path / "labels.jsonl"
    run_cli(
        "paratype-predict", "--articles", "--input", str(source), "--output", str(target), tmp=trained.tmp
    )
    records = [json.loads(line) for line in target.read_text().splitlines()]
    assert [r["paragraph"] for r in records] == list(range(8))
    assert all(r["label"] in r["scores"] for r in records)


@pytest.mark.slow
def test_predict_empty_input_is_one_line_and_writes_nothing(trained, tmp_path):
    target = tmp_path / "out.jsonl"
    proc = run_cli("paratype-predict", "--output", str(target), stdin=b"", tmp=trained.tmp, check=False)
    assert proc.returncode == 2 and "input is empty" in proc.stderr.decode()
    assert not target.exists() and not list(tmp_path.glob(".out.jsonl*"))


@pytest.mark.slow
def test_two_workers_write_what_one_process_writes(trained):
    texts = [*trained.result.data.splits["test"]["text"], "", "not Arabic"]
    stdin = "\n".join(json.dumps({"id": n, "text": t}, ensure_ascii=False) for n, t in enumerate(texts))
    one = run_cli(
        "paratype-predict", "--batch-size", "3", "--explain", "2", stdin=stdin.encode(), tmp=trained.tmp
    )
    two = run_cli(
        "paratype-predict",
        "--batch-size",
        "3",
        "--explain",
        "2",
        "--workers",
        "2",
        stdin=stdin.encode(),
        tmp=trained.tmp,
    )
    assert two.stdout == one.stdout and len(one.stdout.splitlines()) == len(texts)


@pytest.mark.slow
def test_predict_streams_in_input_order_across_batches(trained):
    texts = [f"أعلنت الشرطة القبض على {n} مطلوبين في حي السلام" if n % 3 else "" for n in range(1, 12)]
    stdin = "\n".join(
        json.dumps({"id": n, "text": t}, ensure_ascii=False) for n, t in enumerate(texts)
    ).encode()
    proc = run_cli("paratype-predict", "--batch-size", "2", stdin=stdin, tmp=trained.tmp)
    out = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert [r["id"] for r in out] == list(range(len(texts)))
    assert [("error" in r) for r in out] == [not t for t in texts]


@pytest.mark.slow
def test_predict_csv_and_table_formats_and_article_summary(trained, tmp_path):
    source = tmp_path / "article.txt"
    source.write_bytes(ARTICLE)
    csv_out = run_cli(
        "paratype-predict", "--articles", "--format", "csv", "--input", str(source), tmp=trained.tmp
    )
    rows = csv_out.stdout.decode().splitlines()
    assert rows[0].startswith("id,paragraph,label,score_field_operation") and len(rows) == 9
    assert "article-1" in csv_out.stderr.decode() and "official_warning" in csv_out.stderr.decode()
    table = run_cli(
        "paratype-predict", "--format", "table", stdin="حذر الوزير من خطورة الوضع".encode(), tmp=trained.tmp
    )
    assert table.stdout.decode().splitlines()[0].split()[:3] == ["id", "label", "conf"]


def test_predict_batch_size_must_be_positive(tmp_path):
    for size in ("0", "-1"):
        proc = run_cli("paratype-predict", "--batch-size", size, tmp=tmp_path, check=False)
        assert proc.returncode == 2 and b"at least 1" in proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    ("command", "message"),
    [
        (["paratype-pretrain", "pretrain.max_minutes=-1"], "pretrain.max_minutes=-1.0 must be >= 0"),
        (["paratype-pretrain", "pretrain.save_dtype=int8"], "pretrain.save_dtype='int8' must be float32"),
        (["paratype-weak", "analyze", "paths.corpus_dir=/nowhere"], "corpus folder /nowhere does not exist"),
    ],
)
def test_pretrain_and_weak_refuse_bad_values_in_one_line(command, message, tmp_path):
    proc = run_cli(*command, tmp=tmp_path, check=False)
    err = proc.stderr.decode().strip().splitlines()
    assert proc.returncode == 2 and len(err) == 1 and message in err[0], err


@pytest.mark.parametrize("value", ["/nonexistent/paragraphs.jsonl", "/tmp"])
def test_a_bad_input_path_is_one_line_before_anything_loads(value):
    proc = run_cli("paratype-predict", "--input", value, check=False)
    err = proc.stderr.decode().strip().splitlines()
    assert (
        proc.returncode == 2
        and len(err) == 1
        and err[0].startswith("paratype-predict: error: argument --input")
    )
