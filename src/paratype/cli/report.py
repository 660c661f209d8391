"""paratype-report GROUP: write experiments/GROUP/README.md from the MLflow runs of that group.

paratype-report compare
paratype-report learning_curve
"""

from __future__ import annotations

import argparse
from pathlib import Path

from paratype.cli.common import run_cli


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="paratype-report", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("group", help="the experiment group (tracking.group of its runs)")
    parser.add_argument("--out", type=Path, default=None, help="folder of reports (default: experiments/)")
    parser.add_argument("overrides", nargs="*", default=[], help="config overrides, e.g. tracking.uri=...")
    args = parser.parse_args()

    def body() -> None:
        from paratype.config import compose, to_config
        from paratype.report import write_report

        cfg = to_config(compose(args.overrides))
        out = args.out or Path(cfg.paths.root) / "experiments"
        print(f"wrote {write_report(cfg.tracking, args.group, out)}")

    run_cli("paratype-report", body)
