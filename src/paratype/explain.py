"""Why a paragraph got its label, for models with no attribution of their own (TF-IDF has one:
coefficient x feature value, models/tfidf.py): the words whose removal lowers that label's
score the most. Occlusion needs nothing but `predict_proba`, so it measures each word through
the whole model (cleaning, a transformer's windows, an ensemble's two halves).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

# punctuation trimmed from a word before it is shown (the model still saw it)
WORD_EDGES = "«»\"'()[]{}.,:;!?،؛؟-–—…"


def occlusion(
    predict_proba: Callable[[list[str]], np.ndarray], texts: Sequence[str], targets: Sequence[int], k: int
) -> list[list[dict[str, float | str]]]:
    """For each text, up to `k` of its own words (punctuation trimmed) with the largest positive
    drop in the score of label index `targets[i]` when that word (every occurrence) is left out."""
    variants, owners, words_of = [], [], []
    for i, text in enumerate(texts):
        tokens = text.split()
        words = [w for w in dict.fromkeys(t.strip(WORD_EDGES) for t in tokens) if w]
        words_of.append(words)
        for word in words:  # every occurrence, whatever punctuation clings to it
            variants.append(" ".join(t for t in tokens if t.strip(WORD_EDGES) != word))
            owners.append(i)
    full = predict_proba(list(texts))
    occluded = predict_proba(variants) if variants else np.zeros((0, full.shape[1]))
    drops: list[list[tuple[float, str]]] = [[] for _ in texts]
    for row, (owner, word) in enumerate(zip(owners, (w for ws in words_of for w in ws), strict=True)):
        target = targets[owner]
        drops[owner].append((float(full[owner, target] - occluded[row, target]), word))
    return [
        [{"word": word, "weight": round(drop, 4)} for drop, word in sorted(d, reverse=True)[:k] if drop > 0]
        for d in drops
    ]
