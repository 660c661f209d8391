"""The decision rule: which label a paragraph gets from its calibrated probabilities.

Plain argmax favours the large `other` class, and macro-F1, the metric we report, weighs every
label equally. Per-class offsets on the log-probabilities, fitted on dev, move the decision
towards the rare labels; the probabilities themselves are reported unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from paratype.stats import macro_f1

GRID = np.round(np.arange(-2.0, 2.01, 0.1), 2)  # offsets tried for each label, in log-probability
PASSES = 3  # rounds of coordinate ascent; later rounds rarely move an offset
_EPS = 1e-9


def decide(proba: np.ndarray, offsets: Sequence[float] | None) -> np.ndarray:
    """Label index per row: argmax of log-probability plus the label's offset."""
    if offsets is None:
        return proba.argmax(axis=1)
    return (np.log(proba + _EPS) + np.asarray(offsets)).argmax(axis=1)


def fit_offsets(gold: Sequence[int], proba: np.ndarray, reference: int) -> np.ndarray:
    """Offsets that maximise macro-F1 on (gold, proba), by coordinate ascent over GRID.

    The `reference` label keeps offset 0 (only differences matter). Ties keep the smaller
    move, so labels whose offset does not help stay at 0.
    """
    gold = np.asarray(gold)
    n_labels = proba.shape[1]
    offsets = np.zeros(n_labels)
    best = macro_f1(gold, decide(proba, offsets), n_labels)
    for _ in range(PASSES):
        moved = False
        for label in (k for k in range(n_labels) if k != reference):
            for value in sorted(GRID, key=abs):
                trial = offsets.copy()
                trial[label] = value
                f1 = macro_f1(gold, decide(proba, trial), n_labels)
                if f1 > best + 1e-12:
                    best, offsets, moved = f1, trial, True
        if not moved:
            break
    return offsets
