"""Fitting the TF-IDF model: scikit-learn's pipeline of the project's normalisation, hashed
word and character n-grams, TF-IDF and a class-weighted logistic regression. Only its fitted
arrays are kept (tfidf.py predicts from them), so serving never imports scikit-learn.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from paratype.config import TfidfConfig
from paratype.models.tfidf import TfidfModel
from paratype.text import NormalizationConfig, clean_and_normalize_all

if TYPE_CHECKING:
    from paratype.data import SplitData


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
        return clean_and_normalize_all(list(X), cfg)


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


def from_pipeline(pipeline: Pipeline, labels: list[str], cfg: TfidfConfig) -> TfidfModel:
    """The fitted pipeline's arrays as the model that predicts without scikit-learn."""
    union = dict(pipeline.named_steps["features"].transformer_list)
    classifier = pipeline.named_steps["classifier"]
    return TfidfModel(
        cfg,
        labels,
        {name: block.named_steps["tfidf"].idf_ for name, block in union.items()},
        classifier.coef_,
        classifier.intercept_,
        classifier.classes_,
    )


def fit(cfg: TfidfConfig, data: SplitData, seed: int) -> TfidfModel:
    """Fit on the train split only; dev and test stay unseen."""
    train = data.splits["train"]
    pipeline = build_pipeline(cfg, seed).fit(train["text"], train["label"])
    return from_pipeline(pipeline, data.label_names, cfg)


def load_legacy(path: Path) -> TfidfModel:
    """A model saved with skops (before the plain-array format), its types checked first, then
    read as its config and arrays."""
    import skops.io as sio

    untrusted = sio.get_untrusted_types(file=path)
    unexpected = [t for t in untrusted if not t.startswith(("paratype.", "numpy."))]
    if unexpected:
        raise ValueError(f"{path} holds types this project did not write: {unexpected}")
    state = sio.load(path, trusted=untrusted)
    pipeline = state["pipeline"]
    union = dict(pipeline.named_steps["features"].transformer_list)
    word = union["word"].named_steps["hash"]
    char = union["char"].named_steps["hash"] if "char" in union else None
    cfg = TfidfConfig(
        word_ngram_max=word.ngram_range[1],
        use_char_ngrams=char is not None,
        **({"char_ngram_min": char.ngram_range[0], "char_ngram_max": char.ngram_range[1]} if char else {}),
        hash_bits=word.n_features.bit_length() - 1,
        sublinear_tf=union["word"].named_steps["tfidf"].sublinear_tf,
        normalization=NormalizationConfig(**pipeline.named_steps["normalize"].get_params()),
    )
    return from_pipeline(pipeline, state["labels"], cfg)
