"""Labelling new text with a logged model, streamed: records in, batches through, lines out.

Input is JSONL (`{"id": ..., "text": ...}`, id optional) or plain text, one paragraph per line;
with `articles=True` each record is a whole article and is segmented with the cleaning the
model was trained with. A bad line becomes an error record in its place; it never stops the
rest, and output stays in input order.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, BinaryIO, TextIO

from paratype.classifier import ParagraphClassifier
from paratype.errors import InputError
from paratype.segment import SegmentationConfig, segment_article
from paratype.text import paragraph_problem

# A line this long is not one paragraph (nor one article): it becomes an error record, and is
# skipped without being held in memory, so one bad line cannot exhaust the machine.
MAX_LINE_BYTES = 8 * 2**20
TOO_LONG = f"line longer than {MAX_LINE_BYTES // 2**20} MiB; give one paragraph (or article) per line"


@dataclass
class Item:
    """One unit of work in input order: a paragraph to label, or the error that replaced it."""

    line: int
    id: Any
    text: str = ""
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def decode_line(raw: bytes) -> tuple[str | None, str | None]:
    """(the line as text, None) or (None, the UTF-8 error): one rule for local and Spark input."""
    try:
        return raw.decode("utf-8").rstrip("\r\n"), None
    except UnicodeDecodeError as err:
        return None, f"invalid UTF-8 at byte {err.start}; re-encode the input as UTF-8"


def parse_line(text: str, line: int, jsonl: bool) -> Item:
    """A line as an Item: a JSON record's id and text, or the error that replaces them."""
    if not jsonl:
        return Item(line, line, text)
    try:
        record = json.loads(text)
    except json.JSONDecodeError as err:
        return Item(line, None, error=f"invalid JSON ({err.msg} at column {err.colno})")
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        return Item(line, None, error='a JSON line needs a string field "text"')
    return Item(line, record.get("id", line), record["text"])


def check_item(item: Item) -> Item:
    """The item, with the paragraph check's error when its text cannot be labelled."""
    if item.error is None:
        item.error = paragraph_problem(item.text)
    return item


BOM = b"\xef\xbb\xbf"


def _lines(stream: BinaryIO) -> Iterator[bytes | None]:
    """The input's lines, each read with bounded memory; None for one over MAX_LINE_BYTES.
    A UTF-8 byte-order mark (Windows editors write one) is dropped from the first line."""
    first = True
    while raw := stream.readline(MAX_LINE_BYTES + 1):
        if first:
            raw, first = raw.removeprefix(BOM), False
        if len(raw) <= MAX_LINE_BYTES or raw.endswith(b"\n"):
            yield raw
            continue
        while (rest := stream.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
            pass  # skip the rest of the over-long line without holding it
        yield None


def read_items(stream: BinaryIO, input_format: str) -> Iterator[Item]:
    """Parse input lines lazily; `input_format` is jsonl, text or auto (sniffed from line 1)."""
    jsonl = None if input_format == "auto" else input_format == "jsonl"
    seen_any = False
    for line, raw in enumerate(_lines(stream), start=1):
        seen_any = True
        if raw is None:
            yield Item(line, line, error=TOO_LONG)
            continue
        text, error = decode_line(raw)
        if jsonl is None:
            jsonl = text is not None and text.lstrip().startswith("{")
        yield check_item(Item(line, line, error=error) if error else parse_line(text, line, jsonl))
    if not seen_any:
        raise InputError("the input is empty; give paragraphs as JSONL or one per line")


def read_articles(stream: BinaryIO, input_format: str, segmentation: SegmentationConfig) -> Iterator[Item]:
    """Each JSONL record (or, for plain text, the whole input) is an article, cut into paragraphs."""
    if stream.peek(len(BOM))[: len(BOM)] == BOM:
        stream.read(len(BOM))
    if input_format == "text" or (input_format == "auto" and stream.peek(1)[:1] != b"{"):
        raw = stream.read()
        if not raw.strip():
            raise InputError("the input is empty; give an article as text or JSONL records")
        text, error = decode_line(raw)
        records: Iterable[Item] = [Item(1, "article-1", text or "", error=error)]
    else:
        records = read_items(stream, "jsonl")
    for record in records:
        if record.error:
            yield record
            continue
        paragraphs = segment_article(record.text, str(record.id), segmentation)
        if not paragraphs:
            yield Item(record.line, record.id, error="no body paragraph left after cleaning")
        for p in paragraphs:
            yield check_item(
                Item(record.line, record.id, p.text, extra={"paragraph": p.position, "paragraph_id": p.id})
            )


def batched(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def _plain(value: Any) -> Any:
    """numpy scalars (bool_, int64) as JSON-ready Python values."""
    return value.item() if hasattr(value, "item") else value


def label_batch(model, batch: list[Item], explain: int = 0) -> list[dict[str, Any]]:
    """Records for a batch, in order: predictions for good items, errors in place of bad ones;
    `explain` > 0 adds each paragraph's `explanation` (its top words, explain.py)."""
    good = [item.text for item in batch if item.error is None]
    rows = iter(_output_rows(model, good, explain) if good else ())
    out = []
    for item in batch:
        if item.error:
            out.append({"id": item.id, "line": item.line, "error": item.error, **item.extra})
            continue
        row = next(rows)
        scores = {
            k.removeprefix("score_"): round(float(v), 4) for k, v in row.items() if k.startswith("score_")
        }
        flags = {
            k: _plain(v) for k, v in row.items() if k not in ("label", "error") and not k.startswith("score_")
        }
        out.append(
            {"id": item.id, **item.extra, "text": item.text, "label": row["label"], "scores": scores, **flags}
        )
    return out


_WORKER_MODEL: tuple[Any, int] | None = None  # (model, explain) a forked worker inherits


def labelled_batches(model, batches: Iterable[list[Item]], explain: int = 0, workers: int = 1):
    """`label_batch` over `batches`, in input order. With `workers` > 1, forked processes
    label them (each inherits the loaded model: nothing is loaded twice) while this process
    reads and writes; at most two batches per worker are in flight, so memory stays flat
    however long the stream."""
    if workers == 1:
        for batch in batches:
            yield label_batch(model, batch, explain)
        return
    import multiprocessing
    from collections import deque

    global _WORKER_MODEL
    _WORKER_MODEL = (model, explain)
    with multiprocessing.get_context("fork").Pool(workers, initializer=_worker_signals) as pool:
        pending: deque = deque()
        for batch in batches:
            pending.append(pool.apply_async(_label_in_worker, (batch,)))
            if len(pending) >= 2 * workers:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


def _worker_signals() -> None:
    """Ctrl-C and SIGTERM are the parent's to handle: it stops the pool and cleans up."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _label_in_worker(batch: list[Item]) -> list[dict[str, Any]]:
    model, explain = _WORKER_MODEL
    return label_batch(model, batch, explain)


def _output_rows(model, texts: list[str], explain: int) -> list[dict[str, Any]]:
    """The model's output rows: straight from paratype's classifier, else through the pyfunc's
    DataFrame (a model of another flavour, a remote store)."""
    if isinstance(model, ParagraphClassifier):
        return model.rows(texts, explain)
    import pandas as pd

    frame = pd.DataFrame({"text": texts})
    predictions = model.predict(frame, params={"explain": explain}) if explain else model.predict(frame)
    if explain and "explanation" not in predictions:
        raise InputError("this model was logged before --explain existed; retrain it with paratype-train")
    return predictions.to_dict("records")


# ----------------------------------------------------------------------------- output


class Writer:
    """Streams records in one output format, one at a time; `close` ends the output."""

    def __init__(self, sink: TextIO, labels: list[str], model: str = ""):
        self.sink = sink
        self.labels = labels
        self.model = model  # the model's URI, for formats that name it

    def write(self, record: dict[str, Any]) -> None:
        self.sink.write(json.dumps(record, ensure_ascii=False) + "\n")

    def close(self) -> None:
        """Nothing to finish for a stream of lines."""


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _inert(value: Any) -> Any:
    """A CSV cell a spreadsheet will not run: text starting like a formula gets a leading quote
    (OWASP's advice against CSV injection)."""
    return f"'{value}" if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def _printable(text: str) -> str:
    """Text for a terminal: control characters (ANSI escapes included) removed."""
    return _CONTROL.sub("", text)


class CsvWriter(Writer):
    """One row per record, one `score_<label>` column per label; errors in the `error` column."""

    def __init__(self, sink: TextIO, labels: list[str], model: str = ""):
        super().__init__(sink, labels, model)
        self.columns = [
            "id",
            "paragraph",
            "label",
            *[f"score_{n}" for n in labels],
            "truncated",
            "explanation",
            "error",
            "text",
        ]
        self.csv = csv.DictWriter(sink, fieldnames=self.columns, extrasaction="ignore")
        self.csv.writeheader()

    def write(self, record: dict[str, Any]) -> None:
        row = record | {f"score_{k}": v for k, v in record.get("scores", {}).items()}
        if "explanation" in record:
            row["explanation"] = "; ".join(f"{e['word']} {e['weight']:+.3f}" for e in record["explanation"])
        self.csv.writerow({k: _inert(v) for k, v in row.items()})


class TableWriter(Writer):
    """Aligned text for people: id, label, confidence and the start of the paragraph."""

    def __init__(self, sink: TextIO, labels: list[str], model: str = ""):
        super().__init__(sink, labels, model)
        sink.write(f"{'id':<24} {'label':<18} {'conf':>5}  text\n")

    def write(self, record: dict[str, Any]) -> None:
        key = f"{record['id']}" + (f"#{record['paragraph']}" if "paragraph" in record else "")
        if "error" in record:
            self.sink.write(f"{_printable(key):<24} {'(error)':<18} {'':>5}  {record['error']}\n")
            return
        confidence = record["scores"][record["label"]]
        text = _printable(record["text"])[:70]
        why = (
            "  <- " + " ".join(_printable(e["word"]) for e in record["explanation"])
            if "explanation" in record
            else ""
        )
        self.sink.write(f"{_printable(key):<24} {record['label']:<18} {confidence:>5.2f}  {text}{why}\n")


class HtmlWriter(Writer):
    """One self-contained page (page.py): the records are kept until `close` renders them."""

    def __init__(self, sink: TextIO, labels: list[str], model: str = ""):
        super().__init__(sink, labels, model)
        self.records: list[dict[str, Any]] = []

    def write(self, record: dict[str, Any]) -> None:
        self.records.append(record)

    def close(self) -> None:
        from paratype.page import render_page

        self.sink.write(render_page(self.records, self.labels, self.model))


WRITERS: dict[str, type[Writer]] = {
    "jsonl": Writer,
    "csv": CsvWriter,
    "table": TableWriter,
    "html": HtmlWriter,
}


def article_summary(counts: dict[Any, Counter], labels: list[str]) -> str:
    """Paragraph counts per label for each article, as an aligned table."""
    head = f"{'article':<24} " + " ".join(f"{n:>17}" for n in labels)
    rows = [f"{a!s:<24} " + " ".join(f"{c[n]:>17}" for n in labels) for a, c in counts.items()]
    return "\n".join([head, *rows])
