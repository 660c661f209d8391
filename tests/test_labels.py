import json

import pytest

from paratype.errors import InputError
from paratype.labels import Annotation, join_annotations, read_annotations
from paratype.segment import Paragraph

P = Paragraph("art", 0, "أعلنت الشرطة القبض على خلية إرهابية في الرياض.")


def write(path, *records):
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in records)
    )
    return path


def record(label="field_operation", pid=P.id):
    return {"id": pid, "text_hash": pid.rsplit("-", 1)[1], "label": label, "annotator": "a"}


def test_valid_file_reads(tmp_path):
    assert read_annotations(write(tmp_path / "l.jsonl", record())) == [
        Annotation(P.id, P.id[-10:], "field_operation", "a")
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (record(label="raid"), "label 'raid' is not one of"),
        ("{not json", "invalid JSON"),
        ({"id": P.id, "label": "other"}, "missing field"),
    ],
)
def test_bad_records_name_file_and_line(tmp_path, line, message):
    path = write(tmp_path / "l.jsonl", record(), line)
    with pytest.raises(InputError, match=rf"l\.jsonl:2: .*{message}"):
        read_annotations(path)


def test_invalid_utf8_is_reported(tmp_path):
    path = tmp_path / "l.jsonl"
    path.write_bytes(b'{"id": "\xff"}\n')
    with pytest.raises(InputError, match="not valid UTF-8"):
        read_annotations(path)


def test_stale_annotation_is_reported_not_used():
    changed = Paragraph("art", 0, P.text + " وأضافت")
    with pytest.raises(InputError, match="no longer match their paragraph text"):
        join_annotations([changed], [Annotation(**record())], "labels.jsonl")


def test_adjudicated_record_wins():
    first = Annotation(**record("other"))
    final = Annotation(**(record("field_operation") | {"annotator": "adjudicated"}))
    assert join_annotations([P], [first, final], "x")[P.id].label == "field_operation"
