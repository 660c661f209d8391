"""Reading prediction input: a bad line becomes an error record in its place, never a crash."""

import io
import json

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
