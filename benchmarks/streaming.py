"""Constant memory when streaming: paratype-predict's peak RSS as the input grows to 1 GB.

  PARATYPE_CORPUS_DIR=../shared/corpus/saudinewsnet python benchmarks/streaming.py --model RUN_ID

Writes JSONL inputs of each size (corpus paragraphs, repeated under fresh ids) to a temporary
folder, runs `paratype-predict --input ... --output ...` on each as a user would, samples the
process's resident memory every 0.2 s, and checks the output has one record per input line.
Constant memory: the peak stays flat while the input grows a hundredfold.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from common import corpus_paragraphs

from paratype.config import compose, to_config

SAMPLE_SECONDS = 0.2


def write_input(path: Path, paragraphs: list[str], megabytes: int) -> int:
    """A JSONL file of at least `megabytes` MB; returns its number of lines."""
    lines, size = 0, 0
    with path.open("w", encoding="utf-8") as f:
        while size < megabytes * 10**6:
            line = json.dumps({"id": lines, "text": paragraphs[lines % len(paragraphs)]}, ensure_ascii=False)
            f.write(line + "\n")
            size += len(line.encode()) + 1
            lines += 1
    return lines


def predict_peak_rss(source: Path, target: Path, model: str) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one paragraph-predict run."""
    command = [str(Path(sys.executable).parent / "paratype-predict"), "--input", str(source)]
    command += ["--output", str(target), *(["--model", model] if model else [])]
    started = time.perf_counter()
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    watched, peak = psutil.Process(process.pid), 0
    while process.poll() is None:
        try:
            peak = max(peak, watched.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        time.sleep(SAMPLE_SECONDS)
    if process.returncode:
        raise SystemExit(f"paratype-predict failed on {source.name} (exit {process.returncode})")
    return time.perf_counter() - started, peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", help="as for paratype-predict (default: the champion)")
    parser.add_argument("--sizes-mb", type=int, nargs="+", default=[10, 100, 1000])
    args = parser.parse_args()
    paragraphs = corpus_paragraphs(to_config(compose(["data=corpus"])), 5000)
    print("| input | paragraphs | seconds | paragraphs/s | peak RSS MB |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for megabytes in args.sizes_mb:
            source, target = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
            lines = write_input(source, paragraphs, megabytes)
            seconds, peak = predict_peak_rss(source, target, args.model)
            with target.open("rb") as out:
                written = sum(1 for _ in out)
            assert written == lines, f"{written} records for {lines} input lines"
            print(f"| {megabytes:,} MB | {lines:,} | {seconds:.0f} | {lines / seconds:,.0f} | {peak:,.0f} |")
            source.unlink()
            target.unlink()


if __name__ == "__main__":
    main()
