"""paratype-data: the corpus and the gold data set.

paratype-data download                 fetch the upstream SaudiNewsNet files (verified)
paratype-data stats data=corpus        counts per label, split and outlet (Markdown)
paratype-data split data=corpus --out data/splits/corpus-v2.jsonl   freeze a split
paratype-data agreement                Cohen's kappa of the double labelling
"""

from __future__ import annotations

import argparse
from pathlib import Path

from paratype.cli.common import run_cli


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paratype-data", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    down = sub.add_parser("download", help="fetch the upstream corpus into paths.download_dir")
    down.add_argument("--base-url", default=None, help="mirror of the upstream dataset/ folder")
    sub.add_parser("stats", help="counts of the labelled data set")
    split = sub.add_parser("split", help="write the current split assignment to a file")
    split.add_argument("--out", type=Path, required=True)
    agree = sub.add_parser("agreement", help="kappa between gold.jsonl and double.jsonl")
    agree.add_argument("--second", default="double.jsonl", help="file in paths.annotations_dir")
    for p in (down, *sub.choices.values()):
        p.add_argument("overrides", nargs="*", default=[], help="config overrides, e.g. data=corpus")
    return parser


def _download(args, cfg) -> None:
    from paratype.download import UPSTREAM, download_corpus, read_checksums

    dest = Path(cfg.paths.download_dir)
    fetched, present = download_corpus(
        dest, read_checksums(Path(cfg.paths.checksums)), args.base_url or UPSTREAM
    )
    print(
        f"{dest}: {fetched} file(s) downloaded, {present} already verified; "
        f"read it with PARATYPE_CORPUS_DIR={dest} (the default)"
    )


def _stats(args, cfg) -> None:
    import pandas as pd

    from paratype.data import SPLITS, build_dataset

    data = build_dataset(cfg.data, cfg.paths)
    frame = pd.concat([data.splits[s].to_pandas().assign(split=s) for s in SPLITS])
    frame["label"] = frame["label"].map(dict(enumerate(data.label_names)))
    print(
        f"data={cfg.data.name}: {len(frame)} paragraphs from {frame.article_id.nunique()} articles, "
        f"fingerprint {data.fingerprint}\n"
    )
    for column in ("split", "source"):
        table = pd.crosstab(frame[column], frame["label"], margins=True, margins_name="total")
        print(table.to_markdown() + "\n")


def _split(args, cfg) -> None:
    from paratype.data import load_labelled
    from paratype.splits import assign_splits, write_split_file

    cfg.data.split.file = None
    split_of = assign_splits(load_labelled(cfg.data, cfg.paths), cfg.data.split)
    write_split_file(args.out, split_of)
    print(f"wrote {len(split_of)} assignments to {args.out}; set data.split.file to use it")


def _agreement(args, cfg) -> None:
    from paratype.agreement import agreement, markdown
    from paratype.labels import read_annotations

    folder = Path(cfg.paths.annotations_dir)
    print(
        markdown(agreement(read_annotations(folder / "gold.jsonl"), read_annotations(folder / args.second)))
    )


def main() -> None:
    args = _parser().parse_args()

    def body() -> None:
        from paratype.config import compose, to_config

        cfg = to_config(compose(args.overrides))
        {"download": _download, "stats": _stats, "split": _split, "agreement": _agreement}[args.command](
            args, cfg
        )

    run_cli("paratype-data", body)
