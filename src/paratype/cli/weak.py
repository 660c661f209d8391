"""paratype-weak: labelling functions and silver labels.

paratype-weak analyze                  per-function coverage, overlap, conflict and accuracy
                                       against the gold dev split, and the label model's score
paratype-weak label --out data/silver/silver-v1.jsonl   silver labels for security-news
                                       corpus paragraphs nobody labelled
"""

from __future__ import annotations

import argparse
from pathlib import Path

from paratype.cli.common import Parser, run_cli


def _parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="paratype-weak", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    analyze = sub.add_parser("analyze", help="labelling-function table on the gold dev split")
    analyze.add_argument("--split", default="dev", choices=["train", "dev", "test"])
    label = sub.add_parser("label", help="write silver labels for unlabelled corpus paragraphs")
    label.add_argument("--out", type=Path, required=True)
    label.add_argument("--seed", type=int, default=0)
    for p in sub.choices.values():
        p.add_argument(
            "overrides", nargs="*", default=[], help="config overrides (after the default data=corpus)"
        )
    return parser


def _analyze(args, cfg) -> None:
    from sklearn.metrics import f1_score

    from paratype.data import build_dataset
    from paratype.weak import fit_label_model, lf_table, vote_matrix

    data = build_dataset(cfg.data, cfg.paths)
    split = data.splits[args.split]
    votes = vote_matrix(split["text"])
    print(f"labelling functions on the gold {args.split} split ({len(split)} paragraphs)\n")
    print(lf_table(votes, split["label"]).to_markdown(floatfmt=".3f") + "\n")
    train_votes = votes if args.split == "train" else vote_matrix(data.splits["train"]["text"])
    model = fit_label_model(train_votes, seed=0)
    pred = model.predict_proba(votes).argmax(axis=1)
    print(
        f"label model (fit on the train split's votes, no labels): {args.split} macro-F1 "
        f"{f1_score(split['label'], pred, average='macro'):.3f}, coverage "
        f"{(votes != -1).any(axis=1).mean():.3f}"
    )


def _label(args, cfg) -> None:
    from paratype.annotate import is_topical, pool_candidates
    from paratype.corpus import read_corpus
    from paratype.labels import LABELS, SilverRecord, read_annotations, write_silver
    from paratype.segment import segment_articles
    from paratype.splits import evaluation_articles
    from paratype.weak import fit_label_model, silver_labels, vote_matrix

    gold = {r.id for f in cfg.data.annotation_files for r in read_annotations(Path(f))}
    held_out = evaluation_articles(Path(cfg.paths.splits_dir))
    articles = [
        a
        for a in read_corpus(Path(cfg.paths.corpus_dir))
        if a.article_id not in held_out and is_topical(f"{a.title}\n{a.text}", cfg.data.topic_pattern)
    ]
    sized = pool_candidates(segment_articles(articles, cfg.data.segmentation), "random")
    paragraphs = [p for p in sized if p.id not in gold]
    votes = vote_matrix([p.text for p in paragraphs])
    labels, confidence = silver_labels(fit_label_model(votes, args.seed), votes)
    records = [
        SilverRecord(p.id, LABELS[y], float(c))
        for p, y, c in zip(paragraphs, labels, confidence, strict=True)
        if y >= 0
    ]
    write_silver(args.out, records)
    print(
        f"wrote {len(records)} silver labels ({len(paragraphs)} candidate paragraphs from "
        f"{len(articles)} security-news articles) to {args.out}"
    )


def main() -> None:
    args = _parser().parse_args()

    def body() -> None:
        from paratype.config import compose, to_config

        cfg = to_config(compose(["data=corpus", *args.overrides]))  # an override adds to the default
        (_analyze if args.command == "analyze" else _label)(args, cfg)

    run_cli("paratype-weak", body)
