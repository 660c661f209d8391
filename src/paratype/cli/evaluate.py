"""paratype-evaluate: score a logged model on your own labelled paragraphs.

paratype-evaluate --input labelled.jsonl                      the served champion
paratype-evaluate --model <run id> --input labelled.jsonl --out .cache/eval/mine
paratype-evaluate --input articles.jsonl --articles paragraph-labels.jsonl   whole articles, stand-off labels

Records are JSONL {"id": ..., "text": ..., "label": ...} with the four labels. Prints macro-F1
and per-class precision/recall/F1 with bootstrap 95% intervals, accuracy and calibration; writes
metrics, the confusion matrix and the misclassified paragraphs to --out; logs an evaluation run
in MLflow that names the model it scored.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from paratype.cli.common import Parser, existing_file, run_cli
from paratype.errors import InputError


def _parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="paratype-evaluate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--input", type=existing_file, required=True, help="labelled JSONL (with --articles: articles)"
    )
    parser.add_argument(
        "--articles",
        type=existing_file,
        metavar="LABELS",
        help="--input holds whole articles; LABELS is a stand-off file of {id: paragraph id, label}",
    )
    parser.add_argument("--model", help="run id, runs:/ID/model, models:/NAME@ALIAS, or a model folder")
    parser.add_argument("--out", type=Path, default=None, help="folder for metrics, plots, errors")
    parser.add_argument("--max-errors", type=int, default=200, help="misclassified paragraphs kept")
    parser.add_argument("overrides", nargs="*", default=[], help="config overrides, e.g. tracking.uri=...")
    return parser


def _run(args: argparse.Namespace) -> int:
    import mlflow

    from paratype import local_model, tracking
    from paratype.config import compose, to_config
    from paratype.evaluation_file import (
        SPLIT,
        read_labelled,
        read_labelled_articles,
        score_model,
        write_outputs,
    )
    from paratype.segment import SegmentationConfig
    from paratype.train import evaluation_table

    cfg = to_config(compose(args.overrides))
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        raise InputError(f"--out {args.out} is a file; name a folder")
    uri, source = local_model.resolve(args.model, cfg.tracking, Path(cfg.paths.cache_dir))
    model = local_model.load(source, cfg.tracking)
    if args.articles:
        segmentation = SegmentationConfig(**model.model_config.get("segmentation", {}))
        dataset = read_labelled_articles(args.input, args.articles, segmentation)
    else:
        dataset = read_labelled(args.input)
    print(f"evaluating model {uri} on {len(dataset)} paragraphs of {args.input}", file=sys.stderr)
    result = score_model(model, dataset, args.max_errors)
    print(evaluation_table(result))
    if args.out is not None:
        write_outputs(result, args.out)
        print(f"wrote metrics.json, confusion_matrix.png/.md, misclassified.jsonl to {args.out}")
    tracking.setup(cfg.tracking)
    with tracking.run(run_name=f"evaluate {args.input.name}") as run:
        mlflow.set_tags(
            {"evaluated_model": uri, "eval_input": str(args.input.resolve()), "model_kind": "evaluation"}
        )
        mlflow.log_metrics(result.metrics)
        mlflow.log_text(result.report, f"{SPLIT}/classification_report.txt")
    print(f"run:   {run.info.run_id} (evaluation) in experiment '{cfg.tracking.experiment}'")
    return 0


def main() -> None:
    args = _parser().parse_args()
    run_cli("paratype-evaluate", lambda: _run(args))
