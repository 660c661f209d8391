"""paratype-report GROUP: write GROUP/README.md and its figures from the MLflow runs of that group.

paratype-report compare                          the project's store: into experiments/compare/
paratype-report compare --out reports/           any other store: into a folder you choose
"""

from __future__ import annotations

import argparse
from pathlib import Path

from paratype.cli.common import Parser, run_cli
from paratype.errors import InputError


def main() -> None:
    parser = Parser(
        prog="paratype-report", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("group", help="the experiment group (tracking.group of its runs)")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder of reports (default: experiments/, for the project's store)",
    )
    parser.add_argument("overrides", nargs="*", default=[], help="config overrides, e.g. tracking.uri=...")
    args = parser.parse_args()

    def body() -> None:
        from paratype.config import compose, to_config
        from paratype.report import write_report

        cfg = to_config(compose(args.overrides))
        own_store = cfg.tracking.uri == f"sqlite:///{Path(cfg.paths.root) / 'mlruns.db'}"
        if args.out is None and not own_store:
            raise InputError(
                f"the runs are in {cfg.tracking.uri}, not the project's own store, whose reports "
                "experiments/ holds; give --out FOLDER for this one"
            )
        out = args.out or Path(cfg.paths.root) / "experiments"
        print(f"wrote {write_report(cfg.tracking, args.group, out)}")

    run_cli("paratype-report", body)
