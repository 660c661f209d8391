"""Reading prediction input: a bad line becomes an error record in its place, never a crash."""

import io
import json
import time

from paratype import predict


def test_an_over_long_line_is_skipped_unread_and_reported_in_place(monkeypatch):
    monkeypatch.setattr(predict, "MAX_LINE_BYTES", 64)
    lines = [
        json.dumps({"id": "a", "text": "خبر قصير"}, ensure_ascii=False),
        json.dumps({"id": "b", "text": "خبر طويل جدا " * 20}, ensure_ascii=False),
        json.dumps({"id": "c", "text": "خبر آخر"}, ensure_ascii=False),
    ]
    items = list(predict.read_items(io.BytesIO("\n".join(lines).encode()), "auto"))
    assert [(i.id, i.error is None) for i in items] == [("a", True), (2, False), ("c", True)]
    assert "longer than" in items[1].error


def test_a_last_line_without_newline_is_read_whole(monkeypatch):
    monkeypatch.setattr(predict, "MAX_LINE_BYTES", 64)
    items = list(predict.read_items(io.BytesIO("خبر\nخبر أخير بلا سطر جديد".encode()), "text"))
    assert [i.text for i in items] == ["خبر", "خبر أخير بلا سطر جديد"]


def test_a_byte_order_mark_does_not_turn_jsonl_into_text():
    stream = io.BufferedReader(io.BytesIO(b'\xef\xbb\xbf{"id": "a", "text": "\xd9\x86\xd8\xb5"}\n'))
    [item] = predict.read_items(stream, "auto")
    assert (item.id, item.text, item.error) == ("a", "نص", None)


def test_an_article_saved_with_a_bom_keeps_its_first_line():
    from paratype.predict import read_articles
    from paratype.segment import SegmentationConfig

    page = "العنوان\n" + "أعلنت وزارة الداخلية القبض على خلية إرهابية مكونة من خمسة أشخاص في المنطقة الشرقية."
    stream = io.BufferedReader(io.BytesIO(b"\xef\xbb\xbf" + page.encode()))
    [item] = read_articles(stream, "auto", SegmentationConfig())
    assert item.text.startswith("أعلنت")


def test_csv_cells_cannot_run_as_formulas_and_the_table_drops_escapes():
    out = io.StringIO()
    record = {"id": '=HYPERLINK("x")', "text": "@SUM(1)", "label": "other", "scores": {"other": 1.0}}
    predict.CsvWriter(out, ["other"]).write(record)
    assert "'=HYPERLINK" in out.getvalue() and "'@SUM" in out.getvalue()
    table = io.StringIO()
    predict.TableWriter(table, ["other"]).write(record | {"text": "نص \x1b[31mأحمر\x1b[0m"})
    assert "\x1b" not in table.getvalue()


def test_progress_off_a_terminal_is_a_plain_line_now_and_then(capsys):
    from paratype.progress import progress

    started = time.monotonic()
    with progress("work", unit="items", every=0.05) as bar:  # pytest's stderr is no terminal
        while time.monotonic() - started < 0.3:
            bar.update()
    lines = capsys.readouterr().err.splitlines()
    assert 3 <= len(lines) <= 8 and "\r" not in "".join(lines)
    assert all(line.startswith("work: ") and line.endswith("/s)") for line in lines)


def test_start_up_work_runs_once_however_many_batches(trained, tmp_path, monkeypatch, capsys):
    """Resolving, loading and config are start-up: a stream of many batches pays them once."""
    from paratype import classifier, config, local_model
    from paratype.cli import predict as cli
    from paratype.models import tfidf

    calls: dict[str, int] = {}

    def counted(owner, name):
        original = getattr(owner, name)

        def wrapper(*args, **kwargs):
            calls[name] = calls.get(name, 0) + 1
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, wrapper)

    for owner, name in [
        (config, "compose"),
        (local_model, "resolve"),
        (local_model, "load"),
        (classifier.ParagraphClassifier, "__init__"),
        (tfidf, "load_model"),
        (classifier.ParagraphClassifier, "rows"),
    ]:
        counted(owner, name)
    paragraphs = trained.result.data.splits["test"]["text"][:9]
    source = tmp_path / "in.txt"
    source.write_text("\n".join(paragraphs), encoding="utf-8")
    overrides = [f"tracking.uri={trained.cfg.tracking.uri}", f"paths.cache_dir={tmp_path}"]
    args = cli._parser().parse_args(["--input", str(source), "--batch-size", "2", *overrides])
    assert cli._run(args) == 0
    assert len(capsys.readouterr().out.splitlines()) == 9
    assert calls.pop("rows") == 5  # one model call per batch of 2
    assert calls == {"compose": 1, "resolve": 1, "load": 1, "__init__": 1, "load_model": 1}
