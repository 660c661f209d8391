"""paratype-champion: give the `champion` alias to the best run if it really is better.

paratype-champion                         best dev macro-F1 among runs of the frozen split
paratype-champion --run <run id>          a given run
"""

from __future__ import annotations

import argparse
from pathlib import Path

from paratype.cli.common import Parser, run_cli


def main() -> None:
    parser = Parser(
        prog="paratype-champion", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--run", help="candidate run id (default: best dev macro-F1)")
    parser.add_argument(
        "--split-version",
        default=None,
        help="only runs judged on this split file (default: that of the configured data, e.g. corpus-v3)",
    )
    parser.add_argument(
        "--data-fingerprint",
        default=None,
        help="only runs of this data (default: that of the newest run of the split version)",
    )
    parser.add_argument("overrides", nargs="*", default=[], help="config overrides")
    args = parser.parse_args()

    def body() -> None:
        from paratype.config import compose, to_config
        from paratype.registry import ALIAS, REGISTERED_MODEL, best_comparable_run, best_run, promote

        full = to_config(compose(args.overrides))
        cfg = full.tracking
        split_version = args.split_version or Path(full.data.split.file or "computed").stem
        if args.run is None:
            if args.data_fingerprint:
                where = f"tags.split_version = '{split_version}'"
                best = best_run(cfg, f"{where} and tags.data_fingerprint = '{args.data_fingerprint}'")
            else:
                best = best_comparable_run(cfg, split_version)
            run_id = best["run_id"]
            print(f"candidates: runs of split {split_version} on data {best['tags.data_fingerprint']}")
        else:
            run_id = args.run

        def test_texts() -> dict[str, str]:
            """The configured data's test paragraphs: a holder of an older split is re-scored on them."""
            from paratype.data import build_dataset

            test = build_dataset(full.data, full.paths).splits["test"]
            return dict(zip(test["id"], test["text"], strict=True))

        decision = promote(run_id, cfg, test_texts, Path(full.paths.splits_dir))
        verdict = "promoted to" if decision.promoted else "not promoted to"
        print(f"run {run_id}: {verdict} {REGISTERED_MODEL}@{ALIAS} ({decision.reason})")
        if decision.comparison:
            c = decision.comparison
            print(
                f"test macro-F1 difference {c['difference']:+.3f} on {int(c['n'])} test paragraphs "
                f"(95% CI {c['ci_low']:+.3f} to {c['ci_high']:+.3f}, p={c['p_value']:.3f})"
            )

    run_cli("paratype-champion", body)
