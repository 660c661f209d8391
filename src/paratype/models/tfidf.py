"""The TF-IDF model as it predicts: hashed word and character n-grams, TF-IDF, logistic
regression, in numpy alone.

tfidf_training.py fits scikit-learn's pipeline and keeps its fitted arrays (IDF weights,
coefficients); this module computes the same features the way scikit-learn does (its word
tokens and `char_wb` n-grams, MurmurHash3 from `mmh3`, sublinear TF, IDF, L2 per block) and
the same probabilities, to the last digits (tests/test_tfidf.py), without importing
scikit-learn: that import was most of a `paratype-predict` start-up. A paragraph's features
are the sum of its whitespace tokens' features, so each distinct token is analysed and hashed
once per process, not once per occurrence: the rest of a batch is a few numpy calls.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import mmh3
import numpy as np

from paratype.config import TfidfConfig
from paratype.text import NormalizationConfig, clean_and_normalize

CONFIG_FILE, ARRAYS_FILE = "tfidf.json", "tfidf.npz"  # the config and the fitted arrays: no pickle
LEGACY_FILE = "model.skops"  # models logged before the plain-array format

WORD_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token_pattern
MAX_CACHED_TOKENS = 500_000  # the token cache is emptied beyond this: memory stays bounded


def word_grams(tokens: Sequence[str], longest: int) -> list[str]:
    """scikit-learn's word n-grams of 1..`longest` tokens (unigrams first)."""
    grams = list(tokens)
    for n in range(2, min(longest, len(tokens)) + 1):
        grams += [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    return grams


def char_wb_grams(token: str, shortest: int, longest: int) -> list[str]:
    """scikit-learn's `char_wb` n-grams of one whitespace token, padded with a space each side
    (a token shorter than n yields itself once)."""
    padded = f" {token} "
    grams = []
    for n in range(shortest, longest + 1):
        grams += [padded[i : i + n] for i in range(max(len(padded) - n + 1, 1))]
        if len(padded) <= n:
            break
    return grams


def hashed(grams: Sequence[str], n_features: int) -> list[int]:
    """Feature indices as scikit-learn's FeatureHasher computes them (signed MurmurHash3 of the
    UTF-8 bytes, seed 0, absolute value modulo the size)."""
    return [abs(mmh3.hash(g, 0, True)) % n_features for g in grams]


class TfidfModel:
    """Fitted arrays plus the config that says how features are made; `predict_proba` takes
    raw paragraphs."""

    kind = "tfidf"

    def __init__(
        self,
        cfg: TfidfConfig,
        labels: list[str],
        idf: dict[str, np.ndarray],
        coef: np.ndarray,
        intercept: np.ndarray,
        classes: np.ndarray,
    ):
        self.cfg, self.labels = cfg, labels
        self.idf, self.coef, self.intercept, self.classes = idf, coef, intercept, np.asarray(classes)
        self.n_features = 2**cfg.hash_bits
        self._tokens: tuple[dict[str, np.ndarray], ...] = ({}, {})  # per block: token -> indices

    @property
    def blocks(self) -> list[str]:
        """The feature blocks in the order of the coefficients: words, then characters."""
        return ["word", "char"] if self.cfg.use_char_ngrams else ["word"]

    def _analyse(self, tokens: set[str]) -> None:
        """Each block's feature indices for these whitespace tokens, into the per-block caches
        (lowercased, as scikit-learn's analysers do; word unigrams here: longer n-grams span
        tokens)."""
        cfg, n = self.cfg, self.n_features
        for token in tokens:
            lower = token.lower()
            self._tokens[0][token] = np.array(hashed(WORD_TOKEN.findall(lower), n), dtype=np.int64)
            if cfg.use_char_ngrams:
                grams = char_wb_grams(lower, cfg.char_ngram_min, cfg.char_ngram_max)
                self._tokens[1][token] = np.array(hashed(grams, n), dtype=np.int64)

    def _block_rows(self, docs: list[str]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Each block's TF-IDF matrix in coordinate form, (row, column, value), L2-normalised
        per row as TfidfTransformer leaves it. The per-token work is set and map calls, which
        loop in C: a batch's new tokens are analysed once, the rest come from the caches."""
        tokens = [doc.split() for doc in docs]
        flat = [t for ts in tokens for t in ts]
        unique = set(flat)
        missing = unique.difference(self._tokens[0])
        if len(self._tokens[0]) + len(missing) > MAX_CACHED_TOKENS:  # start afresh, not grow
            for cache in self._tokens:
                cache.clear()
            missing = unique
        self._analyse(missing)
        token_row = np.repeat(np.arange(len(docs)), list(map(len, tokens)))
        blocks = []
        for cache, block in zip(self._tokens, self.blocks, strict=False):
            parts = list(map(cache.__getitem__, flat))
            rows = np.repeat(token_row, list(map(len, parts)))
            cols = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
            if block == "word" and self.cfg.word_ngram_max > 1:  # n-grams across tokens
                rows, cols = self._longer_word_grams(docs, rows, cols)
            blocks.append(self._tfidf(len(docs), rows, cols, self.idf[block]))
        return blocks

    def _longer_word_grams(self, docs: list[str], rows: np.ndarray, cols: np.ndarray):
        """`rows`, `cols` with each doc's word n-grams of 2 tokens and more added."""
        extra_rows, extra_cols = [rows], [cols]
        for row, doc in enumerate(docs):
            tokens = WORD_TOKEN.findall(doc.lower())
            longer = hashed(word_grams(tokens, self.cfg.word_ngram_max)[len(tokens) :], self.n_features)
            extra_rows.append(np.full(len(longer), row))
            extra_cols.append(np.array(longer, dtype=np.int64))
        return np.concatenate(extra_rows), np.concatenate(extra_cols)

    def _tfidf(self, n_docs: int, rows: np.ndarray, cols: np.ndarray, idf: np.ndarray):
        """Counts of (row, column) pairs -> sublinear TF x IDF, L2 per row."""
        keys, counts = np.unique(rows * self.n_features + cols, return_counts=True)
        row_of, col_of = np.divmod(keys, self.n_features)
        values = counts.astype(float)
        if self.cfg.sublinear_tf:
            values = np.log(values) + 1
        values *= idf[col_of]
        norms = np.sqrt(np.bincount(row_of, weights=values**2, minlength=n_docs))
        values /= norms[row_of]
        return row_of, col_of, values

    def decision_function(self, texts: Sequence[str]) -> np.ndarray:
        """The logistic regression's scores, one row per text, one column per fitted class
        (one column for a two-class model, as scikit-learn has it)."""
        docs = [clean_and_normalize(t, self.cfg.normalization) for t in texts]
        scores = np.tile(self.intercept, (len(docs), 1))
        for offset, (rows, cols, values) in enumerate(self._block_rows(docs)):
            weights = self.coef[:, offset * self.n_features + cols]
            for k in range(self.coef.shape[0]):
                scores[:, k] += np.bincount(rows, weights=weights[k] * values, minlength=len(docs))
        return scores

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        scores = self.decision_function(texts)
        if scores.shape[1] == 1:  # two classes: the logistic function, as scikit-learn
            positive = 1 / (1 + np.exp(-scores[:, 0]))
            proba = np.column_stack([1 - positive, positive])
        else:
            proba = np.exp(scores - scores.max(axis=1, keepdims=True))
            proba /= proba.sum(axis=1, keepdims=True)
        # the classifier only knows the classes it saw; give every label its column
        full = np.zeros((len(texts), len(self.labels)))
        full[:, self.classes] = proba
        return full

    def extra_outputs(self, texts: Sequence[str]) -> dict[str, list]:
        return {}

    def explain(self, texts: Sequence[str], targets: Sequence[int], k: int) -> list[list[dict]]:
        """Per text, the `k` words with the largest coefficient x feature value towards label
        `targets[i]` (against the mean of the labels: the softmax's own reference), each word
        credited with its unigram and with its share of every character n-gram it holds."""
        towards = self.coef - self.coef.mean(axis=0)
        classes = self.classes.tolist()
        return [
            self._top_words(text, towards[classes.index(t)], k) if t in classes else []
            for text, t in zip(texts, targets, strict=True)
        ]

    def _top_words(self, text: str, weights: np.ndarray, k: int) -> list[dict]:
        """Coefficient x TF-IDF value of each feature of `text`, shared out among the words that
        produce it (in proportion to how often each does), summed per word as written."""
        from paratype.explain import WORD_EDGES

        words = [w for w in dict.fromkeys(t.strip(WORD_EDGES) for t in text.split()) if w]
        credit = dict.fromkeys(words, 0.0)
        doc = clean_and_normalize(text, self.cfg.normalization)
        forms = [clean_and_normalize(w, self.cfg.normalization).lower() for w in words]
        blocks = zip(self.blocks, self._block_rows([doc]), strict=True)
        for offset, (block, (_rows, cols, values)) in enumerate(blocks):
            value = dict(zip(cols.tolist(), values.tolist(), strict=True))
            per_word = {w: self._grams(f, block) for w, f in zip(words, forms, strict=True)}
            grams = sorted({g for gs in per_word.values() for g in gs})
            index = dict(zip(grams, hashed(grams, self.n_features), strict=True))
            produced = Counter(g for gs in per_word.values() for g in gs)
            base = offset * self.n_features
            for word, gs in per_word.items():
                credit[word] += sum(
                    weights[base + index[g]] * value.get(index[g], 0.0) / produced[g] for g in gs
                )
        ranked = sorted(((c, w) for w, c in credit.items() if c > 0), reverse=True)[:k]
        return [{"word": w, "weight": round(float(c), 4)} for c, w in ranked]

    def _grams(self, form: str, block: str) -> list[str]:
        """The n-grams of one block that a lowercased text yields, as strings."""
        cfg = self.cfg
        if block == "word":
            return word_grams(WORD_TOKEN.findall(form), cfg.word_ngram_max)
        return [
            g for part in form.split() for g in char_wb_grams(part, cfg.char_ngram_min, cfg.char_ngram_max)
        ]

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        arrays = {f"idf_{name}": idf for name, idf in self.idf.items()}
        arrays |= {"coef": self.coef, "intercept": self.intercept, "classes": self.classes}
        np.savez_compressed(directory / ARRAYS_FILE, **arrays)  # unseen hashed features: zero weights
        (directory / CONFIG_FILE).write_text(json.dumps({"config": asdict(self.cfg), "labels": self.labels}))

    @classmethod
    def load(cls, directory: Path) -> TfidfModel:
        if (directory / LEGACY_FILE).is_file():
            from paratype.models.tfidf_training import load_legacy

            return load_legacy(directory / LEGACY_FILE)
        state = json.loads((directory / CONFIG_FILE).read_text())
        config = state["config"]
        cfg = TfidfConfig(**{**config, "normalization": NormalizationConfig(**config["normalization"])})
        with np.load(directory / ARRAYS_FILE, allow_pickle=False) as arrays:
            idf = {name: arrays[f"idf_{name}"] for name in ("word", "char") if f"idf_{name}" in arrays}
            return cls(cfg, state["labels"], idf, arrays["coef"], arrays["intercept"], arrays["classes"])


def load_model(directory: Path) -> TfidfModel:
    return TfidfModel.load(directory)


def __getattr__(name: str):
    """`ArabicNormalizer` where models saved with skops look for it (it lives with training)."""
    if name == "ArabicNormalizer":
        from paratype.models.tfidf_training import ArabicNormalizer

        return ArabicNormalizer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
