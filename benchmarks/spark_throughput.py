"""paratype-predict-spark on local[2] against one paratype-predict process, end to end.

  pip install -e ".[spark]"
  PARATYPE_CORPUS_DIR=../shared/corpus/saudinewsnet python benchmarks/spark_throughput.py [--n 1000000]

Writes N paragraphs as JSONL (corpus paragraphs repeated under fresh ids; the seed paragraphs
when the corpus is absent), then times each command as a user runs it: start-up, reading,
labelling and writing included, each tool at its own default batch size. Both outputs must
hold the same lines, byte for byte, or the run fails.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import corpus_paragraphs

from paratype.config import TrainConfig, compose, to_config
from paratype.corpus import read_seeds
from paratype.errors import InputError
from paratype.segment import segment_articles

BIN = Path(sys.executable).parent


def paragraphs(cfg: TrainConfig) -> tuple[list[str], str]:
    """5,000 corpus paragraphs, or the seed paragraphs without the corpus; and which."""
    try:
        return corpus_paragraphs(cfg, 5000), "corpus"
    except InputError:
        articles = read_seeds(Path(cfg.paths.seeds_dir))
        return [p.text for p in segment_articles(articles, cfg.data.segmentation)], "seed"


def write_input(path: Path, pool: list[str], n: int) -> None:
    with path.open("w", encoding="utf-8") as f:
        for k in range(n):
            f.write(json.dumps({"id": k, "text": pool[k % len(pool)]}, ensure_ascii=False) + "\n")


def timed(command: list[str]) -> float:
    """Wall seconds of one command; its stderr is shown only if it fails."""
    started = time.perf_counter()
    done = subprocess.run(command, stderr=subprocess.PIPE, text=True)
    if done.returncode:
        raise SystemExit(f"{Path(command[0]).name} failed (exit {done.returncode}):\n{done.stderr}")
    return time.perf_counter() - started


def digest(files: list[Path]) -> str:
    """SHA-256 of the files' bytes, concatenated in order."""
    sha = hashlib.sha256()
    for file in files:
        with file.open("rb") as f:
            while chunk := f.read(2**20):
                sha.update(chunk)
    return sha.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000, help="paragraphs to label")
    parser.add_argument("--model", help="as for paratype-predict (default: the champion)")
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args()
    model = ["--model", args.model] if args.model else []
    pool, source = paragraphs(to_config(compose(["data=corpus"])))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        write_input(work / "in.jsonl", pool, args.n)
        size_mb = (work / "in.jsonl").stat().st_size / 1e6
        local = [
            str(BIN / "paratype-predict"),
            "--input",
            str(work / "in.jsonl"),
            "--output",
            str(work / "local"),
        ]
        spark = [str(BIN / "paratype-predict-spark"), "--input", str(work / "in.jsonl")]
        spark += ["--output", str(work / "spark"), "--master", args.master]
        seconds = {"paratype-predict (one process, batch 64)": timed([*local, *model])}
        seconds[f"paratype-predict-spark ({args.master}, batch 1000)"] = timed([*spark, *model])
        same = digest([work / "local"]) == digest(sorted((work / "spark").glob("part-*")))
    if not same:
        raise SystemExit("the Spark output differs from paratype-predict's")
    print(f"{args.n:,} {source} paragraphs ({size_mb:,.0f} MB of JSONL); identical outputs\n")
    print("| command | wall s | paragraphs/s |")
    print("|---|---|---|")
    for name, wall in seconds.items():
        print(f"| {name} | {wall:,.1f} | {args.n / wall:,.0f} |")


if __name__ == "__main__":
    main()
