"""TF-IDF baseline: word and character n-grams into a class-weighted logistic regression.

The scikit-learn Pipeline starts with the project's own cleaning and normalisation, so the
saved model turns raw paragraphs into features exactly as in training.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from paratype.config import TfidfConfig
from paratype.text import NormalizationConfig, clean_and_normalize

if TYPE_CHECKING:  # only for type hints: serving a TF-IDF model needs no `datasets`
    from paratype.data import SplitData

CONFIG_FILE, ARRAYS_FILE = "tfidf.json", "tfidf.npz"  # the config and the fitted arrays: no pickle
LEGACY_FILE = "model.skops"  # models logged before the plain-array format


class ArabicNormalizer(TransformerMixin, BaseEstimator):
    """Pipeline step: undo filter-dodging spelling, then fold spelling variants as configured."""

    def __init__(
        self,
        strip_diacritics=True,
        strip_tatweel=True,
        unify_alef=True,
        alef_maqsura_to_ya=True,
        ta_marbuta_to_ha=False,
        western_digits=True,
    ):
        self.strip_diacritics = strip_diacritics
        self.strip_tatweel = strip_tatweel
        self.unify_alef = unify_alef
        self.alef_maqsura_to_ya = alef_maqsura_to_ya
        self.ta_marbuta_to_ha = ta_marbuta_to_ha
        self.western_digits = western_digits

    def __sklearn_tags__(self):
        """Raw strings in, strings out, nothing learnt: what scikit-learn's checks may feed it."""
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array, tags.input_tags.string = False, True
        tags.requires_fit = False
        return tags

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        cfg = NormalizationConfig(**self.get_params())
        return [clean_and_normalize(text, cfg) for text in X]


def _ngrams(analyzer: str, ngram_range: tuple[int, int], cfg: TfidfConfig) -> Pipeline:
    """Hashed n-gram counts -> TF-IDF. Hashing keeps no vocabulary: the model stays small,
    loads fast and saves as plain arrays."""
    return Pipeline(
        [
            (
                "hash",
                HashingVectorizer(
                    analyzer=analyzer,
                    ngram_range=ngram_range,
                    n_features=2**cfg.hash_bits,
                    alternate_sign=False,
                    norm=None,
                ),
            ),
            ("tfidf", TfidfTransformer(sublinear_tf=cfg.sublinear_tf)),
        ]
    )


def build_pipeline(cfg: TfidfConfig, seed: int) -> Pipeline:
    features = [("word", _ngrams("word", (1, cfg.word_ngram_max), cfg))]
    if cfg.use_char_ngrams:
        features.append(("char", _ngrams("char_wb", (cfg.char_ngram_min, cfg.char_ngram_max), cfg)))
    return Pipeline(
        [
            ("normalize", ArabicNormalizer(**asdict(cfg.normalization))),
            ("features", FeatureUnion(features)),
            (
                "classifier",
                LogisticRegression(
                    C=cfg.C, class_weight=cfg.class_weight, max_iter=cfg.max_iter, random_state=seed
                ),
            ),
        ]
    )


class TfidfModel:
    """A fitted pipeline plus the label names its probability columns stand for.

    Saved as its config and fitted arrays (IDF weights, coefficients): hashing keeps no
    vocabulary, so nothing else is learnt. Loading rebuilds the pipeline from the config, with
    no pickle and no scan of every scikit-learn type (skops took seconds of each start-up)."""

    kind = "tfidf"

    def __init__(self, pipeline: Pipeline, labels: list[str], cfg: TfidfConfig | None = None):
        self.pipeline = pipeline
        self.labels = labels
        self.cfg = cfg

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        proba = self.pipeline.predict_proba(list(texts))
        # the classifier only knows the classes it saw; give every label its column
        full = np.zeros((len(texts), len(self.labels)))
        full[:, self.pipeline.classes_] = proba
        return full

    def extra_outputs(self, texts: Sequence[str]) -> dict[str, list]:
        return {}

    def explain(self, texts: Sequence[str], targets: Sequence[int], k: int) -> list[list[dict]]:
        """Per text, the `k` words with the largest coefficient x feature value towards label
        `targets[i]` (against the mean of the labels: the softmax's own reference), each word
        credited with its unigram and with its share of every character n-gram it holds."""
        normalizer = self.pipeline.named_steps["normalize"]
        coef = self.pipeline.named_steps["classifier"].coef_
        blocks, offset = [], 0
        for _, block in self.pipeline.named_steps["features"].transformer_list:
            blocks.append((block, offset))
            offset += block.named_steps["hash"].n_features
        towards = coef - coef.mean(axis=0)
        return [
            _top_words(text, normalizer, blocks, towards[self.pipeline.classes_.tolist().index(t)], k)
            if t in self.pipeline.classes_
            else []
            for text, t in zip(texts, targets, strict=True)
        ]

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        union = dict(self.pipeline.named_steps["features"].transformer_list)
        classifier = self.pipeline.named_steps["classifier"]
        arrays = {f"idf_{name}": union[name].named_steps["tfidf"].idf_ for name in union}
        arrays |= {"coef": classifier.coef_, "intercept": classifier.intercept_}
        arrays["classes"] = classifier.classes_
        np.savez_compressed(directory / ARRAYS_FILE, **arrays)  # unseen hashed features: zero weights
        (directory / CONFIG_FILE).write_text(json.dumps({"config": asdict(self.cfg), "labels": self.labels}))

    @classmethod
    def load(cls, directory: Path) -> TfidfModel:
        if (directory / LEGACY_FILE).is_file():
            return _load_legacy(directory / LEGACY_FILE)
        state = json.loads((directory / CONFIG_FILE).read_text())
        config = state["config"]
        cfg = TfidfConfig(**{**config, "normalization": NormalizationConfig(**config["normalization"])})
        pipeline = build_pipeline(cfg, seed=0)
        with np.load(directory / ARRAYS_FILE, allow_pickle=False) as arrays:
            for name, step in pipeline.named_steps["features"].transformer_list:
                step.named_steps["tfidf"].idf_ = arrays[f"idf_{name}"]
            classifier = pipeline.named_steps["classifier"]
            classifier.coef_, classifier.intercept_ = arrays["coef"], arrays["intercept"]
            classifier.classes_ = arrays["classes"]
            classifier.n_features_in_ = classifier.coef_.shape[1]
        return cls(pipeline, state["labels"], cfg)


def _load_legacy(path: Path) -> TfidfModel:
    """A model saved with skops (before the plain-array format), its types checked first."""
    import skops.io as sio

    untrusted = sio.get_untrusted_types(file=path)
    unexpected = [t for t in untrusted if not t.startswith(("paratype.", "numpy."))]
    if unexpected:
        raise ValueError(f"{path} holds types this project did not write: {unexpected}")
    state = sio.load(path, trusted=untrusted)
    return TfidfModel(state["pipeline"], state["labels"])


def _top_words(text: str, normalizer, blocks, weights: np.ndarray, k: int) -> list[dict]:
    """Coefficient x TF-IDF value of each feature of `text`, shared out among the words that
    produce it (in proportion to how often each does), summed per word of the text as written."""
    from sklearn.feature_extraction import FeatureHasher

    from paratype.explain import WORD_EDGES

    words = [w for w in dict.fromkeys(t.strip(WORD_EDGES) for t in text.split()) if w]
    credit = dict.fromkeys(words, 0.0)
    normalized = normalizer.transform([text, *words])  # the text, then each word: once for all blocks
    for block, offset in blocks:
        hashing = block.named_steps["hash"]
        analyze = hashing.build_analyzer()
        hasher = FeatureHasher(n_features=hashing.n_features, input_type="string", alternate_sign=False)
        row = block.transform(normalized[:1]).tocsr()
        value = dict(zip(row.indices, row.data, strict=True))
        per_word = {w: analyze(form) for w, form in zip(words, normalized[1:], strict=True)}
        grams = sorted({g for gs in per_word.values() for g in gs})
        index = (
            dict(zip(grams, hasher.transform([[g] for g in grams]).tocsr().indices, strict=True))
            if grams
            else {}
        )
        produced = Counter(g for gs in per_word.values() for g in gs)
        for word, gs in per_word.items():
            credit[word] += sum(
                weights[offset + index[g]] * value.get(index[g], 0.0) / produced[g] for g in gs
            )
    ranked = sorted(((c, w) for w, c in credit.items() if c > 0), reverse=True)[:k]
    return [{"word": w, "weight": round(float(c), 4)} for c, w in ranked]


def fit(cfg: TfidfConfig, data: SplitData, seed: int) -> TfidfModel:
    """Fit on the train split only; dev and test stay unseen."""
    train = data.splits["train"]
    pipeline = build_pipeline(cfg, seed).fit(train["text"], train["label"])
    return TfidfModel(pipeline, data.label_names, cfg)


def load_model(directory: Path) -> TfidfModel:
    return TfidfModel.load(directory)
