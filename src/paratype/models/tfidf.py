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
from itertools import repeat
from pathlib import Path

import mmh3
import numpy as np

from paratype.config import TfidfConfig
from paratype.text import NormalizationConfig, clean_and_normalize, clean_and_normalize_all

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


def hashed(grams: Sequence[str], n_features: int) -> np.ndarray:
    """Feature indices as scikit-learn's FeatureHasher computes them (signed MurmurHash3 of the
    UTF-8 bytes, seed 0, absolute value modulo the size), for all `grams` in one numpy pass."""
    hashes = np.fromiter(map(mmh3.hash, grams), dtype=np.int64, count=len(grams))
    return np.abs(hashes) % n_features


def char_wb_hashes(tokens: Sequence[str], shortest: int, longest: int, n_features: int):
    """`hashed(char_wb_grams(token, ...))` for every token at once, in numpy: each n-gram is a
    slice of the tokens' joined UTF-8 bytes, hashed by `murmurhash3`, so no n-gram becomes a
    Python string (most of the cost of a new token, before). Returns the indices, token after
    token, and how many belong to each token."""
    padded = [f" {t} " for t in tokens]
    chars = np.fromiter(map(len, padded), dtype=np.int64, count=len(padded))  # P per token
    sizes = np.arange(shortest, longest + 1)
    # as char_wb_grams: sizes up to the first one the padded token does not exceed, each giving
    # max(P - n + 1, 1) n-grams of min(n, P) characters
    kept = (sizes[None, :] == shortest) | (chars[:, None] > sizes[None, :] - 1)
    counts = np.where(kept, np.maximum(chars[:, None] - sizes[None, :] + 1, 1), 0).ravel()
    pair = np.repeat(np.arange(counts.size), counts)  # (token, size) of each n-gram
    ends = np.cumsum(counts)
    position = np.arange(ends[-1] if len(ends) else 0) - np.repeat(ends - counts, counts)
    token, size = np.divmod(pair, len(sizes))
    first_char = np.cumsum(chars) - chars  # where each padded token starts in the joined text
    start = first_char[token] + position
    stop = start + np.minimum(sizes[size], chars[token])
    text = "".join(padded)
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    widths = 1 + (codes >= 0x80) + (codes >= 0x800) + (codes >= 0x10000)  # UTF-8 bytes
    byte_at = np.concatenate([[0], np.cumsum(widths)])
    data = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    hashes = murmurhash3(data, byte_at[start], byte_at[stop] - byte_at[start])
    per_token = counts.reshape(len(tokens), len(sizes)).sum(axis=1)
    return np.abs(hashes.astype(np.int64)) % n_features, per_token


_C1, _C2 = np.uint32(0xCC9E2D51), np.uint32(0x1B873593)


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def _scrambled(k: np.ndarray) -> np.ndarray:
    return _rotl(k * _C1, 15) * _C2


def murmurhash3(data: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Signed 32-bit MurmurHash3 (x86, seed 0) of each slice `data[start : start + length]`,
    all slices at once: exactly `mmh3.hash` of those bytes (tests/test_tfidf.py)."""
    data = np.concatenate([data, np.zeros(4, np.uint8)]).astype(np.uint32)  # tails read past the end
    h = np.zeros(len(starts), np.uint32)
    for block in range(int(lengths.max()) // 4 if len(lengths) else 0):
        live = np.flatnonzero(lengths >= 4 * (block + 1))
        at = starts[live] + 4 * block
        k = data[at] | data[at + 1] << 8 | data[at + 2] << 16 | data[at + 3] << 24
        mixed = _rotl(h[live] ^ _scrambled(k), 13)
        h[live] = mixed * np.uint32(5) + np.uint32(0xE6546B64)
    tail = lengths & 3
    live = np.flatnonzero(tail)
    at, tail = starts[live] + (lengths[live] - tail[live]), tail[live]
    k = np.zeros(len(live), np.uint32)
    for byte in range(3):
        k |= (data[at + byte] << np.uint32(8 * byte)) * (tail > byte)
    h[live] ^= _scrambled(k)
    h ^= lengths.astype(np.uint32)
    h ^= h >> np.uint32(16)
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    h ^= h >> np.uint32(16)
    return h.view(np.int32)


class TokenFeatures:
    """One block's feature indices for every whitespace token seen so far, stored flat: token
    id `i` owns `indices[starts[i] : starts[i] + lengths[i]]`. A batch then gathers all its
    tokens' features with a few numpy calls, however many tokens it holds."""

    def __init__(self) -> None:
        self.indices = np.zeros(1024, dtype=np.int64)
        self.starts = np.zeros(1024, dtype=np.int64)
        self.lengths = np.zeros(1024, dtype=np.int64)
        self.size = self.tokens = 0

    def add(self, per_token: Sequence[Sequence[str]], n_features: int) -> None:
        """Append new tokens' features from their n-grams (ids in order from `self.tokens`)."""
        lengths = np.fromiter(map(len, per_token), dtype=np.int64, count=len(per_token))
        self.add_hashed(hashed([g for grams in per_token for g in grams], n_features), lengths)

    def add_hashed(self, indices: np.ndarray, lengths: np.ndarray) -> None:
        """Append new tokens' feature indices, given token after token with their counts."""
        self.indices = _fit(self.indices, self.size + len(indices))
        self.indices[self.size : self.size + len(indices)] = indices
        ids = slice(self.tokens, self.tokens + len(lengths))
        self.starts, self.lengths = _fit(self.starts, ids.stop), _fit(self.lengths, ids.stop)
        self.starts[ids] = self.size + np.cumsum(lengths) - lengths
        self.lengths[ids] = lengths
        self.size += len(indices)
        self.tokens = ids.stop

    def gather(self, token_ids: np.ndarray, token_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of every feature of these token occurrences."""
        starts, lengths = self.starts[token_ids], self.lengths[token_ids]
        ends = np.cumsum(lengths)
        shift = np.repeat(starts - (ends - lengths), lengths)  # from place in output to in indices
        return np.repeat(token_rows, lengths), self.indices[np.arange(ends[-1] if len(ends) else 0) + shift]


def _fit(array: np.ndarray, size: int) -> np.ndarray:
    """`array`, grown (doubled) when it cannot hold `size` items: appends stay amortised O(1)."""
    if size <= len(array):
        return array
    grown = np.zeros(max(size, 2 * len(array)), dtype=array.dtype)
    grown[: len(array)] = array
    return grown


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
        self.idf, self.intercept, self.classes = idf, intercept, np.asarray(classes)
        self.coef = np.ascontiguousarray(coef.T).T  # feature-major: a batch gathers whole rows
        self.n_features = 2**cfg.hash_bits
        self._reset_tokens()

    def _reset_tokens(self) -> None:
        self._token_ids: dict[str, int] = {}
        self._features = [TokenFeatures() for _ in self.blocks]

    @property
    def blocks(self) -> list[str]:
        """The feature blocks in the order of the coefficients: words, then characters."""
        return ["word", "char"] if self.cfg.use_char_ngrams else ["word"]

    def _analyse(self, tokens: list[str]) -> None:
        """Give new whitespace tokens ids and each block's feature indices (lowercased, as
        scikit-learn's analysers do; word unigrams here: longer n-grams span tokens)."""
        cfg = self.cfg
        lower = [token.lower() for token in tokens]
        first = len(self._token_ids)
        self._token_ids.update(zip(tokens, range(first, first + len(tokens)), strict=True))
        self._features[0].add(list(map(WORD_TOKEN.findall, lower)), self.n_features)
        if cfg.use_char_ngrams:
            hashes = char_wb_hashes(lower, cfg.char_ngram_min, cfg.char_ngram_max, self.n_features)
            self._features[1].add_hashed(*hashes)

    def _ids(self, flat: list[str]) -> np.ndarray:
        """The cache ids of these token occurrences, new tokens analysed (once each) first."""
        ids = np.fromiter(map(self._token_ids.get, flat, repeat(-1)), dtype=np.int64, count=len(flat))
        new_at = np.flatnonzero(ids < 0)
        if not len(new_at):
            return ids
        new = list(dict.fromkeys(flat[i] for i in new_at.tolist()))
        if len(self._token_ids) + len(new) > MAX_CACHED_TOKENS:  # start afresh, not grow
            self._reset_tokens()
            new, new_at = list(dict.fromkeys(flat)), np.arange(len(flat))
        self._analyse(new)
        ids[new_at] = [self._token_ids[flat[i]] for i in new_at.tolist()]
        return ids

    def _block_rows(self, docs: list[str]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Each block's TF-IDF matrix in coordinate form, (row, column, value), sorted by row
        then column and L2-normalised per row as TfidfTransformer leaves it. A batch's new
        tokens are analysed once; every token's features come from the flat caches."""
        tokens = [doc.split() for doc in docs]
        flat = [t for ts in tokens for t in ts]
        token_ids = self._ids(flat)
        token_rows = np.repeat(np.arange(len(docs)), list(map(len, tokens)))
        blocks = []
        for features, block in zip(self._features, self.blocks, strict=True):
            rows, cols = features.gather(token_ids, token_rows)
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
            extra_cols.append(longer)
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
        docs = clean_and_normalize_all(texts, self.cfg.normalization)
        scores = np.tile(self.intercept, (len(docs), 1))
        by_feature = self.coef.T
        for offset, (rows, cols, values) in enumerate(self._block_rows(docs)):
            if len(rows):
                first = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])  # rows come sorted
                present = rows[first]
                contributions = by_feature[offset * self.n_features + cols] * values[:, None]
                scores[present] += np.add.reduceat(contributions, first)
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
            index = dict(zip(grams, hashed(grams, self.n_features).tolist(), strict=True))
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
