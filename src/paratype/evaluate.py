"""Scoring a model on a split: metrics, confusion matrix (table and PNG), the errors.

Metric names are namespaced and stable (`dev/macro_f1`, `test/f1/field_operation`): the
predict script, the reports and the champion logic find runs by them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from datasets import Dataset, DatasetDict, concatenate_datasets
from sklearn.metrics import (
    ConfusionMatrixDisplay,
    accuracy_score,
    classification_report,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)
from sklearn.model_selection import GroupKFold, LeaveOneGroupOut

from paratype.data import SplitData
from paratype.decision import decide
from paratype.models.base import Model
from paratype.progress import progress
from paratype.stats import bootstrap_ci, expected_calibration_error, per_class_ci


@dataclass
class Evaluation:
    """Everything measured on one split."""

    split: str
    metrics: dict[str, float]
    confusion: np.ndarray
    report: str
    errors: list[dict]
    ids: list[str]
    gold: list[int]
    proba: np.ndarray  # one row per paragraph: what paired tests and calibration need
    offsets: list[float] | None = None  # the tuned decision rule, when the labels used it


def score(split: str, gold: list[int], pred: np.ndarray, labels: list[str]) -> dict[str, float]:
    """Accuracy, macro-F1 and per-class precision/recall/F1, named `<split>/<metric>`."""
    ids = list(range(len(labels)))
    p, r, f, support = precision_recall_fscore_support(gold, pred, labels=ids, zero_division=0)
    metrics = {
        f"{split}/accuracy": float(accuracy_score(gold, pred)),
        f"{split}/macro_f1": float(f1_score(gold, pred, labels=ids, average="macro", zero_division=0)),
        f"{split}/n": float(len(gold)),
    }
    for i, name in enumerate(labels):
        metrics |= {
            f"{split}/precision/{name}": float(p[i]),
            f"{split}/recall/{name}": float(r[i]),
            f"{split}/f1/{name}": float(f[i]),
            f"{split}/support/{name}": float(support[i]),
        }
    return metrics


def evaluate(model: Model, dataset: Dataset, split: str, max_errors: int) -> Evaluation:
    started = time.perf_counter()
    proba = model.predict_proba(dataset["text"])
    result = evaluation_from(split, dataset, proba, model.labels, max_errors)
    result.metrics[f"{split}/paragraphs_per_second"] = len(dataset) / (time.perf_counter() - started)
    return result


def evaluation_from(
    split: str,
    dataset: Dataset,
    proba: np.ndarray,
    labels: list[str],
    max_errors: int,
    offsets: list[float] | None = None,
) -> Evaluation:
    """Score given probabilities; `offsets`: decide with the tuned rule instead of argmax."""
    gold = list(dataset["label"])
    pred = decide(proba, offsets)
    label_ids = list(range(len(labels)))
    ids, texts = list(dataset["id"]), list(dataset["text"])
    errors = [
        {
            "id": ids[k],
            "gold": labels[gold[k]],
            "predicted": labels[pred[k]],
            "confidence": round(float(proba[k, pred[k]]), 3),
            "text": texts[k],
        }
        for k in np.flatnonzero(pred != np.asarray(gold)).tolist()
    ]
    errors.sort(key=lambda e: -e["confidence"])
    report = classification_report(
        gold, pred, labels=label_ids, target_names=labels, digits=3, zero_division=0
    )
    metrics = score(split, gold, pred, labels)
    low, high = bootstrap_ci(gold, pred, len(labels))
    metrics |= {
        f"{split}/macro_f1_ci_low": low,
        f"{split}/macro_f1_ci_high": high,
        f"{split}/ece": expected_calibration_error(gold, proba),
    }
    for name, (class_low, class_high) in zip(labels, per_class_ci(gold, pred, len(labels)), strict=True):
        metrics |= {
            f"{split}/f1_ci_low/{name}": float(class_low),
            f"{split}/f1_ci_high/{name}": float(class_high),
        }
    return Evaluation(
        split,
        metrics,
        confusion_matrix(gold, pred, labels=label_ids),
        report,
        errors[:max_errors],
        ids,
        gold,
        proba,
        offsets,
    )


def confusion_table(evaluation: Evaluation, labels: list[str]) -> str:
    """The confusion matrix as a Markdown table: rows gold, columns predicted."""
    head = "| gold \\ predicted | " + " | ".join(labels) + " |"
    rule = "|---" * (len(labels) + 1) + "|"
    rows = [
        f"| {name} | " + " | ".join(str(v) for v in evaluation.confusion[i]) + " |"
        for i, name in enumerate(labels)
    ]
    return "\n".join([head, rule, *rows])


def confusion_figure(evaluation: Evaluation, labels: list[str]) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(6, 5))
    ConfusionMatrixDisplay(evaluation.confusion, display_labels=labels).plot(
        ax=ax, cmap="Blues", colorbar=False, xticks_rotation=30
    )
    ax.set_title(f"{evaluation.split}: macro-F1 {evaluation.metrics[f'{evaluation.split}/macro_f1']:.3f}")
    fig.tight_layout()
    return fig


def _fold(everything, train_idx, held_idx, silver, groups, data: SplitData, fit, proba: np.ndarray) -> float:
    """Train on one fold (early stopping on an inner dev split, silver in training only), fill
    the held-out rows of `proba`, and return the fold's macro-F1."""
    inner_train, inner_dev = _inner_split(train_idx, groups)
    held = everything.select(held_idx)
    fold = SplitData(
        DatasetDict(
            train=everything.select(np.concatenate([inner_train, silver])),
            dev=everything.select(inner_dev),
            test=held,
        ),
        data.label_names,
        data.fingerprint,
    )
    proba[held_idx] = fit(fold).predict_proba(held["text"])
    return f1_score(
        held["label"],
        proba[held_idx].argmax(axis=1),
        average="macro",
        labels=sorted(set(held["label"])),
        zero_division=0,
    )


def cross_validate(
    data: SplitData, fit: Callable[[SplitData], Model], folds: int, max_errors: int
) -> Evaluation:
    """Grouped cross-validation by article over all gold paragraphs.

    `folds=0` leaves one article out per fold. Each fold's model chooses (early stopping, best
    epoch) on an inner dev split of its own training articles, never on the held-out fold;
    silver rows only ever train. The out-of-fold predictions are pooled and scored once
    (`cv/...`), which stays defined when a held-out article lacks a label.
    """
    everything = concatenate_datasets([data.splits[s] for s in ("train", "dev", "test")])
    gold = np.flatnonzero(~np.asarray(everything["silver"], dtype=bool))
    silver = np.flatnonzero(np.asarray(everything["silver"], dtype=bool))
    groups = np.asarray(everything["article_id"])
    splitter = LeaveOneGroupOut() if folds == 0 else GroupKFold(n_splits=folds)
    proba = np.zeros((len(everything), len(data.label_names)))
    fold_f1: list[float] = []
    n_folds = splitter.get_n_splits(gold, groups=groups[gold])
    with progress("cross-validation", unit="folds", total=n_folds) as bar:
        for train_pos, held_pos in splitter.split(gold, groups=groups[gold]):
            fold_f1.append(
                _fold(everything, gold[train_pos], gold[held_pos], silver, groups, data, fit, proba)
            )
            bar.update()
    scored = everything.select(gold)
    result = evaluation_from("cv", scored, proba[gold], data.label_names, max_errors)
    result.metrics |= {
        "cv/folds": float(len(fold_f1)),
        "cv/fold_macro_f1_mean": float(np.mean(fold_f1)),
        "cv/fold_macro_f1_std": float(np.std(fold_f1)),
    }
    return result


def _inner_split(train_idx: np.ndarray, groups: np.ndarray, share: float = 0.15):
    """A grouped inner dev split of a fold's training rows (whole articles), for model choice."""
    articles = np.unique(groups[train_idx])
    if len(articles) < 2:
        return train_idx, train_idx[:0]
    dev_articles = set(np.random.default_rng(0).permutation(articles)[: max(1, int(share * len(articles)))])
    is_dev = np.array([g in dev_articles for g in groups[train_idx]])
    return train_idx[~is_dev], train_idx[is_dev]
