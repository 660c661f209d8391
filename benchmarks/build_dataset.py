"""Benchmark: building the full gold data set from the corpus (target: under 60 s on 2 cores).

PARATYPE_CORPUS_DIR=../shared/corpus/saudinewsnet python benchmarks/build_dataset.py
"""

from __future__ import annotations

import time
from pathlib import Path

from paratype.config import compose, to_config
from paratype.corpus import read_corpus
from paratype.data import SPLITS, build_dataset
from paratype.segment import segment_articles

TARGET_SECONDS = 60


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def main() -> None:
    cfg = to_config(compose(["data=corpus"]))
    articles, read_s = timed(lambda: list(read_corpus(Path(cfg.paths.corpus_dir))))
    paragraphs, segment_s = timed(lambda: segment_articles(articles, cfg.data.segmentation))
    data, build_s = timed(lambda: build_dataset(cfg.data, cfg.paths))
    rows = sum(len(data.splits[s]) for s in SPLITS)
    print("| step | seconds | what |")
    print("|---|---|---|")
    print(f"| read the corpus | {read_s:.1f} | {len(articles)} articles |")
    print(f"| clean and segment every article | {segment_s:.1f} | {len(paragraphs)} paragraphs |")
    print(f"| build_dataset(data=corpus) | {build_s:.1f} | {rows} gold paragraphs, split |")
    verdict = "meets" if build_s < TARGET_SECONDS else "MISSES"
    print(f"\nbuild_dataset {verdict} the {TARGET_SECONDS} s target")


if __name__ == "__main__":
    main()
