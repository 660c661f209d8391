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


def paragraphs_per_second(predict: Callable[[Sequence[str]], object], texts: list[str], batch: int) -> float:
    """`predict` over `texts` in batches of `batch`, after one warm-up batch."""
    predict(texts[:batch])
    started = time.perf_counter()
    for i in range(0, len(texts), batch):
        predict(texts[i : i + batch])
    return len(texts) / (time.perf_counter() - started)
