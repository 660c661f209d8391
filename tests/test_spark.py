"""paratype-predict-spark on local[2] writes the records paratype-predict writes, errors included."""

import json
import os
import shutil

import pytest
from conftest import run_cli

pytest.importorskip("pyspark", reason="pyspark is not installed: pip install -e '.[spark]'")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("java") is None and "JAVA_HOME" not in os.environ, reason="Spark needs Java 17 or later"
    ),
]

BAD_LINES = [
    b"{broken",
    b'{"id": "en", "text": "hello world"}',
    b'{"id": "empty", "text": ""}',
    b"",
    b"[1]",
    b'{"id": "bytes", "text": "\xff"}',
]


def _paragraphs(trained) -> list[str]:
    return [text for split in trained.result.data.splits.values() for text in split["text"]]


def _jsonl_input(trained, path):
    """The seed paragraphs (one without an id), with a bad line after every fifth, ending in \\r\\n."""
    lines = [
        json.dumps({"id": f"p{k}", "text": t}, ensure_ascii=False).encode()
        for k, t in enumerate(_paragraphs(trained))
    ]
    lines[1] = json.dumps({"text": _paragraphs(trained)[1]}, ensure_ascii=False).encode()
    for k, bad in enumerate(BAD_LINES):
        lines.insert(5 * k + 3, bad)
    path.write_bytes(b"\n".join(lines) + b"\r\n")
    return path


def _local(trained, source, tmp_path):
    target = tmp_path / "local.jsonl"
    proc = run_cli("paratype-predict", "--input", str(source), "--output", str(target), tmp=trained.tmp)
    return target.read_bytes(), proc.stderr.decode().splitlines()


def test_jsonl_on_spark_gives_local_predicts_lines_and_replaces_an_earlier_output(trained, tmp_path):
    source = _jsonl_input(trained, tmp_path / "in.jsonl")
    expected, local_notes = _local(trained, source, tmp_path)
    target = tmp_path / "labels"
    target.mkdir()
    (target / "_SUCCESS").touch()
    (target / "part-00000-stale.txt").write_text("stale\n")
    proc = run_cli("paratype-predict-spark", "--input", str(source), "--output", str(target), tmp=trained.tmp)
    assert b"".join(p.read_bytes() for p in sorted(target.glob("part-*"))) == expected
    notes = [line for line in proc.stderr.decode().splitlines() if line.startswith("paratype-predict")]
    assert notes == [note.replace("paratype-predict", "paratype-predict-spark") for note in local_notes]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left


def test_parquet_on_spark_labels_as_local_predict(trained, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    texts = [*_paragraphs(trained), "hello world", None]
    pq.write_table(pa.table({"id": range(len(texts)), "text": texts}), tmp_path / "in.parquet")
    lines = [json.dumps({"id": k, "text": t}, ensure_ascii=False) for k, t in enumerate(texts)]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    expected = [json.loads(line) for line in _local(trained, source, tmp_path)[0].splitlines()]
    target = tmp_path / "labels.parquet"
    run_cli(
        "paratype-predict-spark",
        "--input",
        str(tmp_path / "in.parquet"),
        "--output",
        str(target),
        tmp=trained.tmp,
    )
    rows = pq.read_table(target).to_pylist()
    assert [r["line"] for r in rows] == list(range(1, len(texts) + 1))
    assert [r["id"] for r in rows] == [str(k) for k in range(len(texts))]
    got = [(r["label"], r["scores"]) if r["error"] is None else r["error"] for r in rows]
    assert got[:-1] == [(e["label"], e["scores"]) if "label" in e else e["error"] for e in expected[:-1]]
    assert got[-1] == "text must be a string, not NoneType"  # JSON null text: "needs a string field"
