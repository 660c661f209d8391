"""paratype-predict-spark: label paragraphs on Spark, with the records paratype-predict writes.

  paratype-predict-spark --input paragraphs.jsonl --output labels
  paratype-predict-spark --input paragraphs.parquet --output labels.parquet --master 'local[8]'
  spark-submit --master yarn $(python -c 'import paratype.cli.predict_spark as m; print(m.__file__)') \\
      --input hdfs:///news/paragraphs.jsonl --output hdfs:///news/labels

Input: JSONL records {"id": ..., "text": ...} (id optional), or Parquet with a string column
`text` and, optionally, `id`. Output: a folder of part files, written under a temporary name
and renamed when complete, so it is never half-written; an earlier output there is replaced.
JSONL output: `cat OUTPUT/part-*` gives the lines paratype-predict prints, in input order.
Parquet output: columns line, id (as text), text, label, scores, truncated, error.

Without --model it serves the registered champion, else the best dev run comparable with the
newest, as paratype-predict does; the model served is named on stderr. Without --master it
runs on local[2], or on the master spark-submit was given.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from paratype.cli.common import Parser, positive_int, run_cli
from paratype.errors import InputError

PROG = "paratype-predict-spark"


def input_path(value: str) -> str:
    """argparse type: a local input must exist (a URI such as hdfs://... is Spark's to check)."""
    if "://" not in value and not Path(value).exists():
        raise InputError(f"input {value} does not exist; check the path")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = Parser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--input", type=input_path, required=True, help="JSONL file, or Parquet file or folder"
    )
    parser.add_argument("--output", required=True, help="output folder (replaced only if a Spark output)")
    parser.add_argument(
        "--input-format",
        choices=["auto", "jsonl", "parquet"],
        default="auto",
        help="auto: Parquet for a folder or .parquet, JSONL for .jsonl/.ndjson/.json",
    )
    parser.add_argument(
        "--output-format", choices=["jsonl", "parquet"], help="default: parquet if --output ends in .parquet"
    )
    parser.add_argument("--model", help="run id, runs:/ID/model, models:/NAME@ALIAS, or a model folder")
    parser.add_argument("--master", help="Spark master URL (default: local[2], or spark-submit's)")
    parser.add_argument("--batch-size", type=positive_int, default=1000, help="paragraphs per model call")
    parser.add_argument(
        "overrides", nargs="*", default=[], help="config overrides, e.g. tracking.experiment=x"
    )
    return parser


def _run(args: argparse.Namespace) -> int:
    from paratype import local_model, spark
    from paratype.config import compose, to_config

    source = (args.input, spark.input_format(args.input, args.input_format))
    output = (args.output, spark.output_format(args.output, args.output_format))
    cfg = to_config(compose(args.overrides))
    uri, folder = local_model.resolve(args.model, cfg.tracking, Path(cfg.paths.cache_dir))
    print(f"{PROG}: model {uri}", file=sys.stderr)
    with spark.session(args.master) as session:
        errors = spark.predict_to(session, source, output, folder, cfg.tracking, args.batch_size)
    if errors:
        print(f"{PROG}: {errors} input(s) could not be labelled (see their error records)", file=sys.stderr)
    return 0


def main() -> None:
    run_cli(PROG, lambda: _run(_parser().parse_args()))  # parsed inside: a bad --input is one line


if __name__ == "__main__":  # spark-submit runs this file
    main()
