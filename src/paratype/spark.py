"""Labelling paragraphs on Spark: the records of `paratype-predict`, computed by executors.

Input is JSONL (`{"id": ..., "text": ...}`, id optional) or Parquet (columns `text` and,
optionally, `id`). Each JSONL line reaches Python as its raw bytes and goes through the same
parsing as local predict (predict.py), so a malformed line becomes the same error record, and
the model, loaded as paratype-predict loads it, labels the rest through the same
`predict.label_batch`: the records are paratype-predict's, byte for byte. Records keep
input order: every partition knows the number of its first line, and Spark writes partition
k to part file k, so `cat OUTPUT/part-*` gives the lines local predict would print.

The model folder that paratype-predict would serve (local_model.py) is shipped to executors with
`SparkContext.addFile`, so they need no access to the MLflow store; each executor's Python
worker loads it once.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa
from py4j.protocol import Py4JJavaError
from pyspark import SparkFiles, TaskContext
from pyspark.accumulators import Accumulator
from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from paratype import local_model, predict
from paratype.config import TrackingConfig
from paratype.errors import InputError
from paratype.predict import Item

# Rows travel between Spark and Python as Arrow batches and never as pandas frames, so PySpark's
# caveat about pandas 3 (raised on every session start) does not apply here.
warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)

# Warnings and errors only; not the native-Hadoop notice every local run prints, nor the stack
# traces of a missing input (FileStreamSink) and of the writer's "Aborting job", which repeat the
# error the driver raises anyway.
LOG4J = """\
rootLogger.level = warn
rootLogger.appenderRef.console.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
logger.hadoop.name = org.apache.hadoop.util.NativeCodeLoader
logger.hadoop.level = error
logger.sink.name = org.apache.spark.sql.execution.streaming.sinks.FileStreamSink
logger.sink.level = error
logger.writer.name = org.apache.spark.sql.execution.datasources.FileFormatWriter
logger.writer.level = off
"""
DEFAULT_MASTER = "local[2]"
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
_MODELS: dict[str, Any] = {}  # per Python worker: shipped folder name -> loaded model


def input_format(path: str, given: str) -> str:
    """`given` unless it is auto: Parquet for a folder or a .parquet name, JSONL for .jsonl/.json."""
    if given != "auto":
        return given
    if path.endswith(".parquet") or Path(path).is_dir():
        return "parquet"
    if path.endswith(JSONL_SUFFIXES):
        return "jsonl"
    raise InputError(
        f"cannot tell whether input {path} is JSONL or Parquet from its name; give --input-format"
    )


def output_format(path: str, given: str | None) -> str:
    """`given`, else Parquet for a .parquet name and JSONL for anything else."""
    return given or ("parquet" if path.rstrip("/").endswith(".parquet") else "jsonl")


# ----------------------------------------------------------------------------- the session


@contextmanager
def session(master: str | None) -> Iterator[SparkSession]:
    """A Spark session that logs warnings only and runs this interpreter's Python on executors.

    `master` None: the one spark-submit was given, else local[2]. Stopped on leaving."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # a cluster's spark.pyspark.python wins
    under_submit = "PYSPARK_GATEWAY_PORT" in os.environ  # the JVM (and its master) came first
    master = master or (None if under_submit else DEFAULT_MASTER)
    logging.getLogger().addFilter(_not_py4j_interrupt)
    with tempfile.TemporaryDirectory(prefix="paratype-spark-") as tmp:
        log4j = Path(tmp) / "log4j2.properties"
        log4j.write_text(LOG4J)
        spark = _builder(master, log4j).getOrCreate()
        try:
            yield spark
        finally:
            spark.stop()


def _builder(master: str | None, log4j: Path) -> SparkSession.Builder:
    """Quiet logs everywhere; on a local master also a lighter JVM and no web UI (no port taken)."""
    java = [f"-Dlog4j2.configurationFile={log4j.as_uri()}"]
    builder = SparkSession.builder.appName("paratype-predict-spark")
    if master:
        builder = builder.master(master)
    if master and master.startswith("local"):
        # The JVM here only starts, reads and writes (Python labels): its optimising JIT compiler
        # and parallel GC would cost ~18 s of CPU at each start-up, half the JVM's share.
        java += ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # no "hostname is a loopback" warning
        builder = builder.config("spark.ui.enabled", "false")
    return builder.config("spark.driver.extraJavaOptions", " ".join(java)).config(
        "spark.ui.showConsoleProgress", str(sys.stderr.isatty()).lower()
    )


def _not_py4j_interrupt(record: logging.LogRecord) -> bool:
    """Py4J logs a traceback to the root logger when Ctrl-C or SIGTERM lands in a call to the JVM;
    the CLI already says `interrupted`, and removes what was half-written."""
    return not record.getMessage().startswith("KeyboardInterrupt while sending command")


# ----------------------------------------------------------------------------- the model


def ship_model(spark: SparkSession, folder: str, cfg: TrackingConfig) -> tuple[str, list[str]]:
    """Check the model in `folder` loads here (one clear error, not a traceback per executor) and
    ship the folder to the executors; returns the name they find it by, and the model's labels."""
    labels = list(local_model.load(folder, cfg).model_config.get("labels", []))
    spark.sparkContext.addFile(folder, recursive=True)
    return Path(folder).name, labels


def _model(name: str, cfg: TrackingConfig):
    """The shipped model, loaded once per Python worker (Spark reuses workers across tasks) the
    way paratype-predict loads it."""
    if name not in _MODELS:
        _MODELS[name] = local_model.load(SparkFiles.get(name), cfg)
    return _MODELS[name]


# ----------------------------------------------------------------------------- input


def read_input(spark: SparkSession, path: str, fmt: str) -> DataFrame:
    """JSONL as one binary column `raw`: each line's bytes, undecoded, so that invalid UTF-8 gets
    local predict's error rather than Spark's silent U+FFFD (Spark drops a leading byte-order
    mark itself). Parquet as its `text` column and, when present, `id`."""
    try:
        if fmt == "jsonl":  # only \n ends a line, as for local predict (Spark's default also splits at \r)
            lines = spark.read.option("lineSep", "\n").text(path)
            return lines.select(F.col("value").cast("binary").alias("raw"))
        return _parquet_columns(spark.read.parquet(path), path)
    except AnalysisException as err:  # no such path
        reason = str(err)
    except Py4JJavaError as err:  # a file that is no Parquet (its footer is read here)
        reason = err.java_exception.getMessage()
    raise InputError(f"cannot read input {path}: {reason.splitlines()[0]}; check the path and --input-format")


def _parquet_columns(frame: DataFrame, path: str) -> DataFrame:
    types = {f.name: f.dataType for f in frame.schema.fields}
    if not isinstance(types.get("text"), T.StringType):
        raise InputError(
            f"input {path} needs a string column `text` (it has: {', '.join(types) or 'none'}); "
            "rename the paragraphs' column to text"
        )
    if "id" in types and not isinstance(types["id"], T.StringType | T.IntegralType):
        raise InputError(
            f"input {path}: column `id` is {types['id'].simpleString()}; give string or integer ids"
        )
    return frame.select(*[name for name in ("id", "text") if name in types])


def first_lines(frame: DataFrame) -> dict[int, int]:
    """The line number of each partition's first row, from one pass of the JVM over the input
    (no Python): what lets each executor number its lines as local predict does."""
    counts = dict(frame.groupBy(F.spark_partition_id()).count().collect())
    if not counts:
        raise InputError("the input is empty; give paragraphs as JSONL records or a Parquet file")
    offsets, line = {}, 1
    for partition in sorted(counts):
        offsets[partition], line = line, line + counts[partition]
    return offsets


def _jsonl_item(raw: bytes, line: int) -> Item:
    """One line, read as `predict.read_items` reads it: the same helpers, so the same errors."""
    if len(raw) > predict.MAX_LINE_BYTES:
        return Item(line, line, error=predict.TOO_LONG)
    text, error = predict.decode_line(raw)
    return predict.check_item(
        Item(line, line, error=error) if error else predict.parse_line(text, line, jsonl=True)
    )


def _items(batch: pa.RecordBatch, first: int) -> list[Item]:
    lines = range(first, first + batch.num_rows)
    if "raw" in batch.schema.names:
        return [_jsonl_item(raw, n) for raw, n in zip(batch.column("raw").to_pylist(), lines, strict=True)]
    ids = batch.column("id").to_pylist() if "id" in batch.schema.names else lines
    texts = batch.column("text").to_pylist()
    return [predict.check_item(Item(n, i, t)) for n, i, t in zip(lines, ids, texts, strict=True)]


# ----------------------------------------------------------------------------- labelling


@dataclass(frozen=True)
class Job:
    """What each executor needs to label its partitions; pickled to it with the task."""

    model: str  # the shipped model's name (SparkFiles)
    tracking: TrackingConfig  # for a model of another flavour, loaded through MLflow
    labels: list[str]
    output_format: str
    first_lines: dict[int, int]
    batch_size: int
    errors: Accumulator  # error records written, summed on the driver


def spark_schema(fmt: str, labels: list[str]) -> T.StructType:
    """JSONL: one line of text per record. Parquet: the record's fields as columns, with
    `line` (the input line) and `id` as text (JSON ids may mix numbers and strings)."""
    if fmt == "jsonl":
        return T.StructType([T.StructField("value", T.StringType())])
    scores = T.StructType([T.StructField(name, T.DoubleType()) for name in labels])
    columns = [("line", T.LongType()), ("id", T.StringType()), ("text", T.StringType())]
    columns += [("label", T.StringType()), ("scores", scores), ("truncated", T.BooleanType())]
    return T.StructType([T.StructField(name, kind) for name, kind in [*columns, ("error", T.StringType())]])


def _arrow_schema(fmt: str, labels: list[str]) -> pa.Schema:
    """spark_schema, as the Arrow batches an executor hands back."""
    if fmt == "jsonl":
        return pa.schema([("value", pa.string())])
    scores = pa.struct([(name, pa.float64()) for name in labels])
    return pa.schema(
        [
            ("line", pa.int64()),
            ("id", pa.string()),
            ("text", pa.string()),
            ("label", pa.string()),
            ("scores", scores),
            ("truncated", pa.bool_()),
            ("error", pa.string()),
        ]
    )


def _id_text(value: Any) -> str | None:
    return value if value is None or isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _encode(job: Job, items: list[Item], records: list[dict[str, Any]]) -> pa.RecordBatch:
    schema = _arrow_schema(job.output_format, job.labels)
    if job.output_format == "jsonl":  # exactly predict.Writer's lines
        return pa.RecordBatch.from_pydict(
            {"value": [json.dumps(r, ensure_ascii=False) for r in records]}, schema=schema
        )
    rows = [{**r, "line": item.line, "id": _id_text(r["id"])} for item, r in zip(items, records, strict=True)]
    return pa.RecordBatch.from_pylist(rows, schema=schema)


def label_partition(job: Job, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """An executor's share: input rows in, one record per row out, in order, errors in place."""
    line = job.first_lines.get(TaskContext.get().partitionId(), 1)  # absent: empty, no batch comes
    for batch in batches:
        items = _items(batch, line)
        line += batch.num_rows
        model = _model(job.model, job.tracking)
        records = [
            r for chunk in predict.batched(items, job.batch_size) for r in predict.label_batch(model, chunk)
        ]
        job.errors.add(sum("error" in r for r in records))
        yield _encode(job, items, records)


# ----------------------------------------------------------------------------- output


@contextmanager
def atomic_output(spark: SparkSession, path: str) -> Iterator[str]:
    """A temporary sibling of `path` to write into, renamed to `path` only when the block
    succeeds. Any filesystem Spark knows (local, HDFS, S3...) through Hadoop's API. On failure or
    interrupt Spark is stopped first, so no task writes into the sibling after it is removed."""
    jvm = spark.sparkContext._jvm
    fs_path = jvm.org.apache.hadoop.fs.Path
    fs = fs_path(path).getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    target = fs.makeQualified(fs_path(path))
    _check_replaceable(fs, target, fs_path(target, "_SUCCESS"), path)
    stem = f".{target.getName()}.{uuid.uuid4().hex[:8]}"
    tmp = fs_path(target.getParent(), f"{stem}.part")
    try:
        yield tmp.toString()
    except BaseException:
        spark.sparkContext.setLogLevel("OFF")  # the cause is reported; not the tasks it aborts
        spark.stop()
        fs.delete(tmp, True)
        raise
    old = fs_path(target.getParent(), f"{stem}.old")
    if fs.exists(target):
        fs.rename(target, old)
    if not fs.rename(tmp, target):
        raise OSError(f"could not rename {tmp.toString()} to {path}; the complete output is left there")
    fs.delete(old, True)


def _check_replaceable(fs, target, marker, path: str) -> None:
    """Only an earlier Spark output (a folder with its _SUCCESS `marker`) is replaced: never a file,
    nor a folder of other things that --output happened to name."""
    if not fs.exists(target):
        return
    if fs.isFile(target):
        raise InputError(f"output {path} is a file, and Spark writes a folder; name a new folder")
    if not fs.exists(marker):
        raise InputError(
            f"output {path} is a folder but no Spark output (it has no _SUCCESS); remove it or name a new one"
        )


def predict_to(
    spark: SparkSession,
    source: tuple[str, str],
    output: tuple[str, str],
    model_folder: str,
    cfg: TrackingConfig,
    batch_size: int,
) -> int:
    """Label `source` (path, format) into `output` (path, format) with the model in
    `model_folder` (local_model.resolve's); returns how many inputs became error records."""
    with atomic_output(spark, output[0]) as tmp:  # first: a bad --output fails before any work
        model, labels = ship_model(spark, model_folder, cfg)
        frame = read_input(spark, *source)
        errors = spark.sparkContext.accumulator(0)
        job = Job(model, cfg, labels, output[1], first_lines(frame), batch_size, errors)
        labelled = frame.mapInArrow(partial(label_partition, job), spark_schema(output[1], labels))
        (labelled.write.text if output[1] == "jsonl" else labelled.write.parquet)(tmp)
    return errors.value
