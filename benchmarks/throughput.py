"""Prediction throughput and accuracy: paratype's models against the peers a user might pick.

  PARATYPE_CORPUS_DIR=../shared/corpus/saudinewsnet python benchmarks/throughput.py [--transformer]

Every model is trained on the gold training split and scored on the gold test split; speed is
measured on 5,000 corpus paragraphs (batch 1 on the first 1,000); "peak MB" is tracemalloc's
peak of Python-heap allocations during the batch-64 pass (numpy included; torch's and ONNX
Runtime's native buffers are not seen by it). Peers: fastText supervised and a scikit-learn TfidfVectorizer +
LogisticRegression, both with default settings.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.pipeline import make_pipeline

from paratype.config import compose, to_config
from paratype.corpus import read_corpus
from paratype.data import build_dataset, segment_articles
from paratype.models import tfidf
from paratype.text import deobfuscate

N_PARAGRAPHS = 5000


class FastText:
    """fastText supervised, default settings, on the same (de-obfuscated) text."""

    def __init__(self, texts, labels):
        import fasttext

        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
            for text, label in zip(texts, labels, strict=True):
                f.write(f"__label__{label} {self.clean(text)}\n")
        self.failures = 0
        try:
            while True:  # this build of fastText's trainer hits NaN on some runs: retry, and say so
                try:
                    self.model = fasttext.train_supervised(input=f.name, verbose=0)
                    break
                except RuntimeError:
                    self.failures += 1
                    if self.failures == 10:
                        raise
        finally:
            Path(f.name).unlink()

    @staticmethod
    def clean(text: str) -> str:
        return " ".join(deobfuscate(text).split())

    def predict(self, texts):
        labels, _ = self.model.predict([self.clean(t) for t in texts])
        return np.array([int(row[0].removeprefix("__label__")) for row in labels])


class Sklearn:
    def __init__(self, pipeline):
        self.pipeline = pipeline

    def predict(self, texts):
        return self.pipeline.predict(list(texts))


class Paratype:
    def __init__(self, model):
        self.model = model

    def predict(self, texts):
        return self.model.predict_proba(list(texts)).argmax(axis=1)


def speed(model, texts: list[str], batch: int) -> float:
    model.predict(texts[:batch])
    started = time.perf_counter()
    for i in range(0, len(texts), batch):
        model.predict(texts[i : i + batch])
    return len(texts) / (time.perf_counter() - started)


def peak_mb(model, texts: list[str]) -> float:
    tracemalloc.start()
    for i in range(0, len(texts), 64):
        model.predict(texts[i : i + 64])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transformer", action="store_true", help="also the fine-tuned mini BERT")
    args = parser.parse_args()
    cfg = to_config(compose(["data=corpus"]))
    data = build_dataset(cfg.data, cfg.paths)
    train, test = data.splits["train"], data.splits["test"]
    articles = list(read_corpus(Path(cfg.paths.corpus_dir)))
    random.Random(0).shuffle(articles)
    pool = [p.text for p in segment_articles(articles[:2000], cfg.data.segmentation)][:N_PARAGRAPHS]

    started = time.perf_counter()
    models = {"paratype TF-IDF (default: words)": Paratype(tfidf.fit(cfg.model, data, seed=0))}
    with_chars = dataclasses.replace(cfg.model, use_char_ngrams=True)
    models["paratype TF-IDF (+ char 2-5-grams)"] = Paratype(tfidf.fit(with_chars, data, seed=0))
    models["scikit-learn defaults"] = Sklearn(
        make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(train["text"], train["label"])
    )
    try:
        models["fastText defaults"] = FastText(train["text"], train["label"])
    except RuntimeError as err:  # reported in the table's caption, not hidden
        print(f"fastText could not be trained here: {err} (10 attempts)")
    if args.transformer:
        from paratype.models import transformer

        mini = to_config(compose(["data=corpus", "model=mini_bert"])).model
        fitted = transformer.fit(mini, data, seed=0)
        models["paratype mini BERT (PyTorch)"] = Paratype(fitted)
        models["paratype mini BERT (ONNX int8)"] = Paratype(
            transformer.TransformerModel(
                fitted.model,
                fitted.tokenizer,
                fitted.labels,
                fitted.cfg,
                fitted.preprocess,
                transformer.export_onnx_int8(fitted),
            )
        )
    print(
        f"trained {len(models)} models in {time.perf_counter() - started:.0f} s; "
        f"speed on {len(pool)} corpus paragraphs\n"
    )

    rows = []
    for name, model in models.items():
        f1 = f1_score(test["label"], model.predict(test["text"]), average="macro")
        rows.append((name, f1, speed(model, pool[:1000], 1), speed(model, pool, 64), peak_mb(model, pool)))
    reference = rows[0]
    print(
        "| model | test macro-F1 | paragraphs/s, batch 1 | paragraphs/s, batch 64 | "
        "paratype TF-IDF speed ratio (batch 64) | peak MB (batch 64) |"
    )
    print("|---|---|---|---|---|---|")
    for name, f1, one, many, mb in rows:
        print(f"| {name} | {f1:.3f} | {one:,.0f} | {many:,.0f} | {reference[3] / many:.2f}x | {mb:.0f} |")


if __name__ == "__main__":
    main()
