"""paratype-data: the corpus and the gold data set.

paratype-data download                 fetch the upstream SaudiNewsNet files (verified)
paratype-data stats data=corpus        counts per label, split and outlet (Markdown)
paratype-data split data=corpus --out data/splits/corpus-v4.jsonl   freeze a new split version
paratype-data agreement                Cohen's kappa of the double labelling
paratype-data audit data=corpus --out .cache/worksheets/audit.jsonl   suspects to re-read
paratype-data audit data=corpus --twins --out .cache/worksheets/twins.jsonl   twins labelled apart
"""

from __future__ import annotations

import argparse
from pathlib import Path

from paratype.cli.common import Parser, run_cli
from paratype.errors import InputError


def _parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="paratype-data", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    down = sub.add_parser("download", help="fetch the upstream corpus into paths.download_dir")
    down.add_argument("--base-url", default=None, help="mirror of the upstream dataset/ folder")
    sub.add_parser("stats", help="counts of the labelled data set")
    split = sub.add_parser(
        "split",
        help="write a NEW split version from data.split.seed, keeping the dev and test paragraphs "
        "of data.split.keep (data.split.file is not read)",
    )
    split.add_argument(
        "--out", type=Path, required=True, help="the new version, e.g. data/splits/corpus-v3.jsonl"
    )
    agree = sub.add_parser("agreement", help="kappa between gold.jsonl and double.jsonl")
    agree.add_argument("--second", default="double.jsonl", help="file in paths.annotations_dir")
    audit = sub.add_parser("audit", help="gold labels to re-read (cleanlab, out-of-fold TF-IDF)")
    audit.add_argument("--out", type=Path, required=True, help="worksheet JSONL (keep it out of git)")
    audit.add_argument("--folds", type=int, default=5, help="grouped folds for the out-of-fold model")
    audit.add_argument(
        "--twins",
        action="store_true",
        help="instead: near-duplicate paragraphs whose labels differ (no model), each group side by side",
    )
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

    from paratype.annotate import EARLIER_ROUNDS, read_pools
    from paratype.data import SPLITS, build_dataset

    data = build_dataset(cfg.data, cfg.paths)
    frame = pd.concat([data.splits[s].to_pandas().assign(split=s) for s in SPLITS])
    frame["label"] = frame["label"].map(dict(enumerate(data.label_names)))
    print(
        f"data={cfg.data.name}: {len(frame)} paragraphs from {frame.article_id.nunique()} articles, "
        f"fingerprint {data.fingerprint}\n"
    )
    pool_of = read_pools(Path(cfg.paths.pools))
    frame["pool"] = [pool_of.get(pid, EARLIER_ROUNDS) for pid in frame["id"]]
    for column in ("split", "source", "pool"):
        table = pd.crosstab(frame[column], frame["label"], margins=True, margins_name="total")
        print(table.to_markdown() + "\n")


def _split(args, cfg) -> None:
    from collections import Counter

    from paratype.data import load_labelled
    from paratype.splits import assign_splits, read_split_file, write_split_file

    current = Path(cfg.data.split.file) if cfg.data.split.file else None
    cfg.data.split.file = None
    split_of = assign_splits(load_labelled(cfg.data, cfg.paths), cfg.data.split)
    counts = Counter(split_of.values())
    if args.out.exists():
        if read_split_file(args.out, []) != split_of:
            raise InputError(
                f"{args.out} exists with another assignment; a frozen split is never rewritten: "
                "choose a new version name"
            )
        print(f"reproduced the frozen split {args.out} exactly; nothing written")
        return
    write_split_file(args.out, split_of)
    print(
        f"wrote a new split version {args.out}: "
        + ", ".join(f"{s} {counts[s]}" for s in ("train", "dev", "test", "excluded") if counts[s])
    )
    if cfg.data.split.keep:
        old = read_split_file(Path(cfg.data.split.keep), [])
        held = [pid for pid, s in old.items() if s in ("dev", "test") and pid in split_of]
        same = sum(split_of[pid] == old[pid] for pid in held)
        print(f"kept {same} of {len(held)} dev/test paragraphs of {cfg.data.split.keep} where they were")
    if current and current.exists() and current.resolve() != args.out.resolve():
        moved = sum(split_of.get(pid, s) != s for pid, s in read_split_file(current, []).items())
        print(
            f"{moved} paragraphs differ from the frozen {current}; set data.split.file={args.out} to use it"
        )


def _agreement(args, cfg) -> None:
    from paratype.agreement import agreement, by_pool, markdown
    from paratype.annotate import EARLIER_ROUNDS, read_pools
    from paratype.labels import read_annotations

    folder = Path(cfg.paths.annotations_dir)
    first, second = read_annotations(folder / "gold.jsonl"), read_annotations(folder / args.second)
    print(markdown(agreement(first, second)))
    pool_of = read_pools(Path(cfg.paths.pools))
    print("\n" + by_pool(first, second, {r.id: pool_of.get(r.id, EARLIER_ROUNDS) for r in second}))


def _audit(args, cfg) -> None:
    from paratype.data import load_labelled
    from paratype.io import write_jsonl

    if not args.twins and cfg.model.kind != "tfidf":
        raise InputError(f"model={cfg.model.kind}: the audit fits one model per fold; use model=tfidf")
    items = load_labelled(cfg.data, cfg.paths)
    rows = _twin_rows(items) if args.twins else _suspect_rows(items, args, cfg)
    written = write_jsonl(args.out, rows)
    print(
        f"re-read the {written} paragraphs in {args.out}, then `paratype-annotate adjudicate "
        f"{args.out} --by <name> --into audit.jsonl`"
    )


def _suspect_rows(items, args, cfg) -> list[dict]:
    """cleanlab's suspects that no earlier audit decided, as worksheet rows."""
    from functools import partial

    from paratype.audit import find_suspects, out_of_fold_proba
    from paratype.labels import read_annotations
    from paratype.models import trainer

    fit = partial(trainer("tfidf").fit, cfg.model, seed=cfg.seed)
    suspects = find_suspects(items, out_of_fold_proba(items, fit, args.folds))
    decided = Path(cfg.paths.annotations_dir) / "audit.jsonl"
    audited = {r.id for r in read_annotations(decided)} if decided.exists() else set()
    fresh = [s for s in suspects if s.item.paragraph.id not in audited]
    print(
        f"{len(suspects)} of {len(items)} gold labels flagged by cleanlab ({args.folds}-fold out-of-fold "
        f"TF-IDF), {len(suspects) - len(fresh)} of them re-read in an earlier audit"
    )
    return [_row(s.item, s.given) for s in fresh]


def _twin_rows(items) -> list[dict]:
    """Every member of each near-duplicate group with more than one label, `group` numbering them."""
    from paratype.audit import conflicting_twins

    groups = conflicting_twins(items)
    print(f"{len(groups)} near-duplicate group(s) of the {len(items)} gold paragraphs carry differing labels")
    return [{**_row(item, item.label), "group": k} for k, group in enumerate(groups, 1) for item in group]


def _row(item, given: str) -> dict:
    return {
        "id": item.paragraph.id,
        "source": item.source,
        "text": item.paragraph.text,
        "given": given,
        "label": "",
        "note": "",
    }


def main() -> None:
    args = _parser().parse_args()

    def body() -> None:
        from paratype.config import compose, to_config

        cfg = to_config(compose(args.overrides))
        commands = {
            "download": _download,
            "stats": _stats,
            "split": _split,
            "agreement": _agreement,
            "audit": _audit,
        }
        commands[args.command](args, cfg)

    run_cli("paratype-data", body)
