"""paratype-annotate: export candidate worksheets and import labelled ones.

paratype-annotate export --pool warning --n 300 --out .cache/worksheets/warning-1.jsonl
paratype-annotate deal .cache/worksheets/*.jsonl --readers 4 --double 100 --out .cache/worksheets/round
paratype-annotate import .cache/worksheets/warning-1.jsonl --annotator reader-a
paratype-annotate import .cache/worksheets/round/reader-01.jsonl --annotator reader-a \
    --manifest .cache/worksheets/round/manifest.jsonl
paratype-annotate export --format label-studio --n 100 --out .cache/label-studio/round-1.json
paratype-annotate import .cache/label-studio/round-1-export.json --annotator reader-a
"""

from __future__ import annotations

import argparse
import sys
from functools import cache
from pathlib import Path

from paratype import annotate, label_studio
from paratype.cli.common import Parser, existing_file, run_cli
from paratype.config import compose, to_config
from paratype.corpus import Article, read_corpus, read_seeds
from paratype.errors import InputError
from paratype.io import read_jsonl, write_jsonl
from paratype.labels import check_label, read_annotations
from paratype.segment import segment_articles, split_paragraph_id


def _parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="paratype-annotate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    export = sub.add_parser("export", help="write a worksheet of candidate paragraphs")
    export.add_argument(
        "--pool",
        default="random",
        help="random | opinion (columns, editorials, interviews) | uncertain (the model's least "
        "sure, one per near-duplicate cluster) | likely:<label> (the model's likeliest of a label) | "
        + " | ".join(annotate.POOLS),
    )
    export.add_argument(
        "--model",
        default=None,
        help="model for uncertain/likely pools and Label Studio pre-annotations (default: the served "
        "champion, else the best comparable run)",
    )
    export.add_argument("--n", type=int, default=100, help="paragraphs to export")
    export.add_argument("--seed", type=int, default=0)
    export.add_argument(
        "--topic",
        choices=("any", "security", "non-security"),
        default="any",
        help="keep only articles that match data.topic_pattern (security) or only those that do not",
    )
    export.add_argument(
        "--max-share", type=float, default=1.0, help="largest share of the worksheet one outlet may take"
    )
    export.add_argument(
        "--skip-outlets", nargs="*", default=[], help="outlets not to export (one already over-represented)"
    )
    export.add_argument(
        "--train-only",
        action="store_true",
        help="only paragraphs a new split version can put in training: no article with a dev or test "
        "paragraph in a committed split, no near-duplicate of one (see data.split.grow)",
    )
    export.add_argument(
        "--exclude",
        type=existing_file,
        nargs="*",
        default=[],
        help="worksheets or Label Studio task files whose paragraphs are not exported again",
    )
    export.add_argument(
        "--format",
        choices=("worksheet", "label-studio"),
        default="worksheet",
        help="worksheet: JSONL to fill in; label-studio: a JSON array of tasks pre-annotated by the model, "
        "and the labelling config beside it (OUT.label-config.xml)",
    )
    export.add_argument(
        "--out", type=Path, required=True, help="worksheet JSONL or task JSON (keep it out of git)"
    )
    deal = sub.add_parser("deal", help="deal pool worksheets out to readers, some paragraphs twice")
    deal.add_argument("worksheets", type=existing_file, nargs="+", help="exported pool worksheets")
    deal.add_argument("--readers", type=int, required=True, help="how many reader worksheets")
    deal.add_argument("--double", type=int, default=0, help="paragraphs a second reader also labels")
    deal.add_argument("--seed", type=int, default=0)
    deal.add_argument("--out", type=Path, required=True, help="folder for reader-NN.jsonl + manifest.jsonl")
    imp = sub.add_parser("import", help="validate a labelled worksheet and merge it")
    imp.add_argument(
        "worksheets",
        nargs="+",
        help="labelled worksheets (JSONL), or Label Studio JSON exports (recognised as a JSON array); "
        "then any config overrides, e.g. paths.corpus_dir=...",
    )
    imp.add_argument(
        "--annotator",
        required=True,
        nargs="+",
        help="who labelled each worksheet (a name, not a model): one name, or one per worksheet; "
        "in a Label Studio export, an annotation's completed_by email wins",
    )
    imp.add_argument(
        "--skip-unlabelled",
        action="store_true",
        help="Label Studio exports: import the labelled tasks of a partly labelled project",
    )
    imp.add_argument("--into", type=Path, default=None, help="annotation file (default: gold.jsonl)")
    imp.add_argument(
        "--manifest",
        type=existing_file,
        default=None,
        help="a `deal` manifest: second readings go to double.jsonl, pools to pools.jsonl",
    )
    dis = sub.add_parser(
        "disagreements",
        help="worksheet of double-labelled paragraphs whose readers disagree, not yet adjudicated",
    )
    dis.add_argument("--out", type=Path, required=True, help="worksheet JSONL (keep it out of git)")
    adj = sub.add_parser(
        "adjudicate", help="record a reader's decisions on disagreements or audit suspects (they win)"
    )
    adj.add_argument("worksheet", type=existing_file, help="labelled adjudication or audit worksheet")
    adj.add_argument("--by", required=True, help="who decided (a name, not a model)")
    adj.add_argument(
        "--into", default="adjudicated.jsonl", help="file in paths.annotations_dir (audits: audit.jsonl)"
    )
    for command in (export, dis, adj):  # after the subcommand's own arguments, as users type them
        command.add_argument(
            "overrides", nargs="*", default=[], help="config overrides, e.g. paths.corpus_dir=..."
        )
    return parser


def _corpus_paragraphs(
    overrides: list[str], topic: str = "any", opinion: bool = False, skip_outlets: tuple[str, ...] = ()
):
    cfg = to_config(compose(["data=corpus", *overrides]))
    articles = _articles(cfg.paths.seeds_dir, cfg.paths.corpus_dir)
    if topic != "any":
        wanted = topic == "security"
        articles = [
            a
            for a in articles
            if annotate.is_topical(f"{a.title}\n{a.text}", cfg.data.topic_pattern) == wanted
        ]
    if opinion:
        articles = [a for a in articles if annotate.is_opinion(a)]
    articles = [a for a in articles if a.source not in skip_outlets]
    source_of = {a.article_id: a.source for a in articles}
    return cfg, segment_articles(articles, cfg.data.segmentation), source_of


@cache
def _articles(seeds_dir: str, corpus_dir: str) -> tuple[Article, ...]:
    """Every article, read once per process: the seeds too (they are gold already, never
    exported, but audits may re-read them)."""
    return (*read_seeds(Path(seeds_dir)), *read_corpus(Path(corpus_dir)))


def _annotated_ids(files: list[str]) -> set[str]:
    return {r.id for f in files if Path(f).exists() for r in read_annotations(Path(f))}


def _export(args: argparse.Namespace) -> int:
    cfg, paragraphs, source_of = _corpus_paragraphs(
        args.overrides, args.topic, args.pool == "opinion", tuple(args.skip_outlets)
    )
    ranked = args.pool == "uncertain" or args.pool.startswith("likely:")
    likely = args.pool.removeprefix("likely:") if args.pool.startswith("likely:") else None
    if likely is not None:
        check_label(likely, "--pool likely:<label>")
    candidates = annotate.pool_candidates(paragraphs, "random" if ranked else args.pool)
    if args.train_only:
        candidates = _outside_evaluation(candidates, cfg)
    exclude = _annotated_ids(cfg.data.annotation_files) | {pid for ws in args.exclude for pid in _ids(ws)}
    tasks = args.format == "label-studio"
    uri, model = _model(cfg, args.model, required=ranked) if ranked or tasks else (None, None)
    if ranked:
        chosen = annotate.model_ranked(
            candidates, model, args.n, exclude, likely, source_of=source_of, max_share=args.max_share
        )
    else:
        chosen = annotate.sample(candidates, args.n, args.seed, exclude, source_of, args.max_share)
    rows = [(p, source_of[p.article_id]) for p in chosen]
    written = _write_tasks(args.out, rows, uri, model) if tasks else annotate.write_worksheet(args.out, rows)
    fresh = sum(p.id not in exclude for p in candidates)
    print(
        f"wrote {written} of {len(candidates)} '{args.pool}' candidates "
        f"({fresh} not yet annotated) to {args.out}"
    )
    return 0


def _outside_evaluation(candidates: list, cfg) -> list:
    """The candidates a new split version can train on: every dev and test paragraph of the
    committed splits, whatever outlet or topic the export kept, rules them out."""
    from paratype.splits import split_file_ids

    evaluated = split_file_ids(Path(cfg.paths.splits_dir), ("dev", "test"))
    wanted = {split_paragraph_id(pid)[0] for pid in evaluated}
    articles = [a for a in _articles(cfg.paths.seeds_dir, cfg.paths.corpus_dir) if a.article_id in wanted]
    held = [p for p in segment_articles(articles, cfg.data.segmentation) if p.id in evaluated]
    return annotate.outside_evaluation(candidates, held)


def _deal(args: argparse.Namespace) -> int:
    pools = {ws: ws.stem for ws in args.worksheets}
    written = annotate.deal(pools, args.readers, args.double, args.seed, args.out)
    print(f"wrote {args.readers} reader worksheets ({written} rows, {args.double} read twice) to {args.out}")
    return 0


def _ids(path: Path) -> set[str]:
    """Paragraph ids of a worksheet (JSONL) or of Label Studio tasks (a JSON array)."""
    if label_studio.is_json_array(path):
        return label_studio.task_ids(path)
    return {row["id"] for _, row in read_jsonl(path)}


def _model(cfg, spec: str | None, required: bool = True):
    """(URI, pyfunc) of `--model` or the default; (None, None) when the default cannot be
    resolved and the model is only a helper (Label Studio pre-annotations)."""
    from paratype import local_model

    try:
        uri, source = local_model.resolve(spec, cfg.tracking, Path(cfg.paths.cache_dir))
    except InputError as err:
        if required or spec is not None:
            raise
        print(f"no model to pre-annotate with ({err}); writing tasks without predictions", file=sys.stderr)
        return None, None
    print(f"using model {uri}", file=sys.stderr)
    return uri, local_model.load(source, cfg.tracking)


def _write_tasks(path: Path, rows: list, uri: str | None, model) -> int:
    """Label Studio tasks, pre-annotated when there is a model, and the config beside them."""
    predictions = None if model is None else label_studio.predict(model, [p.text for p, _ in rows])
    config = label_studio.write_tasks(path, label_studio.build_tasks(rows, predictions, uri or ""))
    print(f"wrote the labelling config to {config}", file=sys.stderr)
    return len(rows)


def _files_and_overrides(values: list[str]) -> tuple[list[Path], list[str]]:
    """Positional values: files, then `key=value` config overrides (what is no file but has `=`)."""
    overrides = [v for v in values if "=" in v and not Path(v).exists()]
    return [existing_file(v) for v in values if v not in overrides], overrides


def _import(args: argparse.Namespace) -> int:
    args.worksheets, args.overrides = _files_and_overrides(args.worksheets)
    args.overrides += [name for name in args.annotator if "=" in name]  # overrides typed after the names
    args.annotator = [name for name in args.annotator if "=" not in name]
    names = args.annotator * len(args.worksheets) if len(args.annotator) == 1 else args.annotator
    if len(names) != len(args.worksheets):
        raise InputError(
            f"--annotator gives {len(names)} names for {len(args.worksheets)} worksheets; "
            "give one name, or one per worksheet in the same order"
        )
    cfg, paragraphs, _ = _corpus_paragraphs(args.overrides)
    known = {p.id: p for p in paragraphs}
    folder = Path(cfg.paths.annotations_dir)
    batches: dict[Path, list] = {}
    imported = []
    for worksheet, name in zip(args.worksheets, names, strict=True):
        records = _read_labelled(worksheet, name, known, args.skip_unlabelled)
        imported += records
        if args.manifest is None:
            routed = {args.into or folder / "gold.jsonl": records}
        else:
            routed = annotate.route_by_manifest(records, args.manifest, worksheet.stem, folder)
        for target, batch in routed.items():
            batches.setdefault(target, []).extend(batch)
    if args.manifest is not None:  # once for all worksheets: one read of the pool file, one write
        annotate.record_pools(Path(cfg.paths.pools), args.manifest, imported)
    for target, batch in batches.items():
        added, skipped = annotate.merge_into(target, batch)
        print(f"merged {added} annotation(s) into {target} ({skipped} already there)")
    return 0


def _read_labelled(path: Path, annotator: str, known: dict, skip_unlabelled: bool) -> list:
    """Validated records of a worksheet or of a Label Studio export (a JSON array)."""
    if not label_studio.is_json_array(path):
        return annotate.read_worksheet(path, annotator, known)
    records, skipped = label_studio.read_export(path, annotator, known, skip_unlabelled)
    if skipped:
        print(f"skipped {skipped} unlabelled task(s) in {path}")
    return records


def _disagreements(args: argparse.Namespace) -> int:
    cfg, paragraphs, source_of = _corpus_paragraphs(args.overrides)
    folder = Path(cfg.paths.annotations_dir)
    first = {r.id: r for r in read_annotations(folder / "gold.jsonl")}
    decided = {r.id for r in read_annotations(folder / "adjudicated.jsonl")}
    by_id = {p.id: p for p in paragraphs}
    second: dict[str, list] = {}
    for b in read_annotations(folder / "double.jsonl"):
        if b.id in first and b.id in by_id and b.id not in decided:
            second.setdefault(b.id, []).append(b)
    rows = [
        {
            "id": pid,
            "source": source_of[by_id[pid].article_id],
            "text": by_id[pid].text,
            "reading_a": first[pid].label,
            "note_a": first[pid].note,
            "reading_b": " / ".join(b.label for b in others),
            "note_b": " / ".join(b.note for b in others),
            "label": "",
            "note": "",
        }
        for pid, others in second.items()
        if any(b.label != first[pid].label for b in others)
    ]
    written = write_jsonl(args.out, rows)
    print(f"wrote {written} undecided disagreements to {args.out}; decide them, then `adjudicate` it")
    return 0


def _adjudicate(args: argparse.Namespace) -> int:
    cfg, paragraphs, _ = _corpus_paragraphs(args.overrides)
    records = annotate.read_worksheet(args.worksheet, args.by, {p.id: p for p in paragraphs})
    target = Path(cfg.paths.annotations_dir) / args.into
    added, skipped = annotate.merge_into(target, annotate.as_adjudicated(records, args.by))
    print(f"recorded {added} decision(s) by {args.by} in {target} ({skipped} decided before)")
    return 0


def main() -> None:
    args = _parser().parse_args()
    commands = {
        "export": _export,
        "deal": _deal,
        "import": _import,
        "disagreements": _disagreements,
        "adjudicate": _adjudicate,
    }
    run_cli("paratype-annotate", lambda: commands[args.command](args))
