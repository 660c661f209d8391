"""paratype-predict: label paragraphs (or whole articles) with a logged model.

  echo '{"id": 1, "text": "..."}' | paratype-predict
  paratype-predict --articles --input article.txt --output labels.jsonl
  paratype-predict --model runs:/<run id>/model --input paragraphs.txt

Without --model it serves the registered champion, else the best dev run comparable with the
newest (same split version and data); the model served is named on stderr.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from contextlib import ExitStack
from pathlib import Path

from paratype.cli.common import Parser, existing_file, positive_int, run_cli


def _parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="paratype-predict", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--input", type=existing_file, help="input file (default: stdin)")
    parser.add_argument("--output", type=Path, help="output file (default: stdout)")
    parser.add_argument(
        "--format",
        choices=["jsonl", "csv", "table", "html"],
        default="jsonl",
        help="output format (html: one self-contained article page; best with --articles)",
    )
    parser.add_argument("--input-format", choices=["auto", "jsonl", "text"], default="auto")
    parser.add_argument("--articles", action="store_true", help="each input is a whole article")
    parser.add_argument("--model", help="run id, runs:/ID/model, models:/NAME@ALIAS, or a model folder")
    parser.add_argument("--batch-size", type=positive_int, default=64, help="paragraphs per model call")
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=1,
        help="processes that label batches side by side (TF-IDF; a transformer uses every core already)",
    )
    parser.add_argument(
        "--explain",
        type=positive_int,
        metavar="K",
        help="add the K words that pushed each paragraph most to its label",
    )
    parser.add_argument(
        "overrides", nargs="*", default=[], help="config overrides, e.g. tracking.experiment=x"
    )
    return parser


def _run(args: argparse.Namespace) -> int:
    from paratype import local_model, predict
    from paratype.config import compose, to_config
    from paratype.errors import InputError
    from paratype.io import atomic_path
    from paratype.progress import progress
    from paratype.segment import SegmentationConfig

    cfg = to_config(compose(args.overrides))
    uri, source = local_model.resolve(args.model, cfg.tracking, Path(cfg.paths.cache_dir))
    print(f"paratype-predict: model {uri}", file=sys.stderr)
    model = local_model.load(source, cfg.tracking)
    kind = model.model_config.get("kind")
    if args.workers > 1 and kind != "tfidf":
        raise InputError(
            f"--workers {args.workers}: a {kind} model already uses every core in one process; drop --workers"
        )
    with ExitStack() as stack:
        source = stack.enter_context(args.input.open("rb")) if args.input else sys.stdin.buffer
        if args.articles:
            segmentation = SegmentationConfig(**model.model_config.get("segmentation", {}))
            items = predict.read_articles(source, args.input_format, segmentation)
        else:
            items = predict.read_items(source, args.input_format)
        if args.output:
            tmp = stack.enter_context(atomic_path(args.output))
            sink = stack.enter_context(tmp.open("w", encoding="utf-8", newline=""))
        else:
            sink = sys.stdout
        labels = list(model.model_config.get("labels", []))
        writer = predict.WRITERS[args.format](sink, labels, uri)
        bar = stack.enter_context(progress("paratype-predict", unit="paragraphs"))
        errors, per_article = 0, defaultdict(Counter)
        batches = predict.batched(items, args.batch_size)
        for records in predict.labelled_batches(model, batches, args.explain or 0, args.workers):
            for record in records:
                errors += "error" in record
                if args.articles:  # counts per article, kept only when asked: memory stays constant
                    per_article[record["id"]][record.get("label", "error")] += 1
                writer.write(record)
            bar.update(len(records))
        writer.close()
    if args.articles:
        print(predict.article_summary(per_article, [*labels, "error"]), file=sys.stderr)
    if errors:
        print(
            f"paratype-predict: {errors} input(s) could not be labelled (see their error records)",
            file=sys.stderr,
        )
    return 0


def main() -> None:
    args = _parser().parse_args()
    run_cli("paratype-predict", lambda: _run(args))
