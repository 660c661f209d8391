"""The benchmarks' shared input: unlabelled corpus paragraphs, the same ones on every run."""

from __future__ import annotations

import random
from pathlib import Path

from paratype.config import TrainConfig
from paratype.corpus import read_corpus
from paratype.data import segment_articles


def corpus_paragraphs(cfg: TrainConfig, n: int, articles: int = 2000) -> list[str]:
    """The first `n` paragraphs of `articles` corpus articles drawn with a fixed seed."""
    drawn = list(read_corpus(Path(cfg.paths.corpus_dir)))
    random.Random(0).shuffle(drawn)
    return [p.text for p in segment_articles(drawn[:articles], cfg.data.segmentation)][:n]
