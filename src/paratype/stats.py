"""Honest numbers on small test sets: bootstrap intervals, paired tests, calibration."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

N_BOOTSTRAP = 1000


def per_class_f1(gold: np.ndarray, pred: np.ndarray, n_labels: int) -> np.ndarray:
    """F1 of each label (0 for a label never predicted nor present)."""
    counts = np.bincount(gold * n_labels + pred, minlength=n_labels * n_labels).reshape(n_labels, n_labels)
    true_pos = np.diag(counts).astype(float)
    denominator = counts.sum(axis=0) + counts.sum(axis=1)
    return np.divide(2 * true_pos, denominator, out=np.zeros(n_labels), where=denominator > 0)


def per_class_ci(
    gold: Sequence[int], pred: Sequence[int], n_labels: int, seed: int = 0, level: float = 0.95
) -> np.ndarray:
    """Percentile bootstrap interval of each label's F1: an array of (low, high) rows."""
    gold, pred = np.asarray(gold), np.asarray(pred)
    scores = np.array([per_class_f1(gold[d], pred[d], n_labels) for d in _resamples(len(gold), seed)])
    tail = (1 - level) / 2 * 100
    return np.percentile(scores, [tail, 100 - tail], axis=0).T


def macro_f1(gold: np.ndarray, pred: np.ndarray, n_labels: int) -> float:
    """Macro-F1 over all labels (0 for a label never predicted nor present), as scikit-learn's
    `f1_score(average="macro", zero_division=0)`, fast enough for 1,000 bootstrap resamples."""
    return float(per_class_f1(gold, pred, n_labels).mean())


def bootstrap_ci(
    gold: Sequence[int], pred: Sequence[int], n_labels: int, seed: int = 0, level: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap interval of macro-F1 over resampled paragraphs."""
    gold, pred = np.asarray(gold), np.asarray(pred)
    scores = [macro_f1(gold[d], pred[d], n_labels) for d in _resamples(len(gold), seed)]
    tail = (1 - level) / 2 * 100
    return float(np.percentile(scores, tail)), float(np.percentile(scores, 100 - tail))


def paired_bootstrap(
    gold: Sequence[int], pred_a: Sequence[int], pred_b: Sequence[int], n_labels: int, seed: int = 0
) -> dict[str, float]:
    """Macro-F1 difference A - B on the same paragraphs, its 95% interval, and a two-sided p-value
    (the share of resamples where the difference changes sign, doubled)."""
    gold, a, b = np.asarray(gold), np.asarray(pred_a), np.asarray(pred_b)
    diffs = np.array(
        [
            macro_f1(gold[d], a[d], n_labels) - macro_f1(gold[d], b[d], n_labels)
            for d in _resamples(len(gold), seed)
        ]
    )
    observed = macro_f1(gold, a, n_labels) - macro_f1(gold, b, n_labels)
    p = 2 * min((diffs <= 0).mean(), (diffs >= 0).mean())
    return {
        "difference": observed,
        "ci_low": float(np.percentile(diffs, 2.5)),
        "ci_high": float(np.percentile(diffs, 97.5)),
        "p_value": float(min(p, 1.0)),
    }


def _resamples(n: int, seed: int) -> np.ndarray:
    """N_BOOTSTRAP draws of n indices with replacement."""
    return np.random.default_rng(seed).integers(0, n, size=(N_BOOTSTRAP, n))


def _confidence_bins(gold: Sequence[int], proba: np.ndarray, bins: int):
    """Top-class confidence, whether it was right, the bin edges, and each row's bin."""
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == np.asarray(gold)
    edges = np.linspace(0, 1, bins + 1)
    return confidence, correct, edges, np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)


def expected_calibration_error(gold: Sequence[int], proba: np.ndarray, bins: int = 10) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by bin size."""
    confidence, correct, _edges, which = _confidence_bins(gold, proba, bins)
    return float(
        sum(
            (which == k).mean() * abs(correct[which == k].mean() - confidence[which == k].mean())
            for k in range(bins)
            if (which == k).any()
        )
    )


def reliability_figure(gold: Sequence[int], proba: np.ndarray, title: str, bins: int = 10):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _confidence, correct, edges, which = _confidence_bins(gold, proba, bins)
    centres = [(edges[k] + edges[k + 1]) / 2 for k in range(bins) if (which == k).any()]
    accuracy = [correct[which == k].mean() for k in range(bins) if (which == k).any()]
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    ax.bar(centres, accuracy, width=1 / bins, alpha=0.7, edgecolor="black", label="accuracy")
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    ax.legend(loc="upper left")
    fig.tight_layout()
    return fig
