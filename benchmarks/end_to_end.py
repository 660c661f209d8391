"""End to end against the library's own speed: `paratype-predict` (start-up, JSON in and out
included) on N corpus paragraphs, next to plain scikit-learn pipelines predicting the same
paragraphs (model time only), all in one run. Target: ratio >= 0.5.

  PARATYPE_CORPUS_DIR=../shared/corpus/saudinewsnet python benchmarks/end_to_end.py [--n 50000] \
      [--model URI [--model URI ...]] [--workers 1,2]

The peers are trained on the gold training split: scikit-learn's TfidfVectorizer +
LogisticRegression with defaults (word unigrams), and the same with paratype's features (word
unigrams + character 2-5-grams within words), which is the fair peer of paratype's default.
The served model is the default paratype-predict resolves, or each --model in turn, run with
each `--workers` count. `--profile` adds the top of a cProfile of the in-process predict loop
(of the first model).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import corpus_paragraphs

BIN = Path(sys.executable).parent


def _peers(train_texts: list[str], train_labels: list[int]) -> dict:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    same_features = make_union(
        TfidfVectorizer(sublinear_tf=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
    )
    peers = {
        "scikit-learn defaults (words)": make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000)),
        "scikit-learn, paratype's features": make_pipeline(same_features, LogisticRegression(max_iter=1000)),
    }
    return {name: pipeline.fit(train_texts, train_labels) for name, pipeline in peers.items()}


def _model_time(pipeline, texts: list[str]) -> float:
    started = time.perf_counter()
    for i in range(0, len(texts), 1000):
        pipeline.predict_proba(texts[i : i + 1000])
    return time.perf_counter() - started


def _predict_end_to_end(source: Path, target: Path, model: str | None, workers: int = 1) -> float:
    args = [str(BIN / "paratype-predict"), "--input", str(source), "--output", str(target)]
    args += ["--workers", str(workers)]
    started = time.perf_counter()
    subprocess.run([*args, *(["--model", model] if model else [])], check=True, capture_output=True)
    return time.perf_counter() - started


def _profile(texts: list[str], model: str | None) -> str:
    from paratype import local_model, predict
    from paratype.config import compose, to_config

    cfg = to_config(compose([]))
    _, source = local_model.resolve(model, cfg.tracking, Path(cfg.paths.cache_dir))
    served = local_model.load(source, cfg.tracking)
    stream = io.BufferedReader(io.BytesIO("\n".join(json.dumps({"text": t}) for t in texts).encode()))
    profiler = cProfile.Profile()
    profiler.enable()
    for batch in predict.batched(predict.read_items(stream, "jsonl"), 64):
        for record in predict.label_batch(served, batch):
            json.dumps(record, ensure_ascii=False)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(12)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--model", action="append", help="model to serve (repeat for several)")
    parser.add_argument("--workers", default="1", help="comma-separated paratype-predict --workers counts")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    from paratype.config import compose, to_config
    from paratype.data import build_dataset

    cfg = to_config(compose([]))
    texts = corpus_paragraphs(cfg, args.n, articles=20_000)
    train = build_dataset(cfg.data, cfg.paths).splits["train"]
    ours = {}
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "in.jsonl"
        source.write_text(
            "".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n" for i, t in enumerate(texts))
        )
        for model in args.model or [None]:
            _predict_end_to_end(source, Path(tmp) / "warm.jsonl", model)  # fills the model cache
            for workers in map(int, args.workers.split(",")):
                ours[(model or "default", workers)] = _predict_end_to_end(
                    source, Path(tmp) / "out.jsonl", model, workers
                )
                assert sum(1 for _ in (Path(tmp) / "out.jsonl").open()) == len(texts)
    peers = {name: _model_time(p, texts) for name, p in _peers(train["text"], train["label"]).items()}
    print(f"{len(texts):,} corpus paragraphs, {os.cpu_count()} cores\n")
    print("| peer (one process), model time | seconds | paragraphs/s |\n|---|--:|--:|")
    for name, seconds in peers.items():
        print(f"| {name} | {seconds:.1f} | {len(texts) / seconds:,.0f} |")
    names = list(peers)
    print(
        "\n| paratype-predict, end to end (start-up, JSON in and out) | workers | seconds | paragraphs/s | "
        + " | ".join(f"ratio to {n}" for n in names)
        + " |\n|---|--:|--:|--:|"
        + "--:|" * len(names)
    )
    for (model, workers), seconds in ours.items():
        ratios = " | ".join(f"{peers[n] / seconds:.2f}x" for n in names)
        print(f"| {model} | {workers} | {seconds:.1f} | {len(texts) / seconds:,.0f} | {ratios} |")
    if args.profile:
        print("\n```\n" + _profile(texts[:10_000], (args.model or [None])[0]) + "```")


if __name__ == "__main__":
    main()
