"""What the benchmarks share: the same unlabelled corpus paragraphs on every run, and one way
of timing prediction."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from paratype.config import TrainConfig
from paratype.corpus import read_corpus
from paratype.segment import segment_articles


def corpus_paragraphs(cfg: TrainConfig, n: int, articles: int = 2000) -> list[str]:
    """The first `n` paragraphs of `articles` corpus articles drawn with a fixed seed."""
    drawn = list(read_corpus(Path(cfg.paths.corpus_dir)))
    random.Random(0).shuffle(drawn)
    return [p.text for p in segment_articles(drawn[:articles], cfg.data.segmentation)][:n]


def paragraphs_per_second(
    predict: Callable[[Sequence[str]], object], texts: list[str], batch: int, repeats: int = 3
) -> float:
    """`predict` over `texts` in batches of `batch`, after one warm-up batch: the best of
    `repeats` passes, as timeit does, since on a shared machine the slower passes measure the
    neighbours (single passes of ONNX Runtime at batch 1 varied by 25% here)."""
    predict(texts[:batch])
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for i in range(0, len(texts), batch):
            predict(texts[i : i + batch])
        best = min(best, time.perf_counter() - started)
    return len(texts) / best
