"""Label audit: which gold labels a reader should look at again.

Out-of-fold probabilities from a model that never saw the paragraph (grouped k-fold over
near-duplicate article clusters, so a wire copy cannot vouch for its twin), then cleanlab's
`find_label_issues` ranks the suspects. A second, model-free audit lists near-duplicate
paragraphs (wire copies, reprints) whose labels differ: one text, two labels, so at least one
reading is inconsistent. The audit only chooses what is re-read; the reader decides, and
`paratype-annotate adjudicate` records the decisions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from datasets import Dataset, DatasetDict
from sklearn.model_selection import GroupKFold

from paratype.data import FEATURES, SplitData
from paratype.errors import InputError
from paratype.labels import LABELS, LabelledParagraph
from paratype.models.base import Model
from paratype.splits import article_groups, near_duplicate_clusters


@dataclass
class Suspect:
    item: LabelledParagraph
    given: str  # the gold label now
    suggested: str  # what the out-of-fold model found likelier (never shown to the reader)
    self_confidence: float  # the model's probability of the given label


def _dataset(items: Sequence[LabelledParagraph]) -> Dataset:
    return Dataset.from_dict(
        {
            "id": [i.paragraph.id for i in items],
            "article_id": [i.paragraph.article_id for i in items],
            "source": [i.source for i in items],
            "text": [i.paragraph.text for i in items],
            "label": [LABELS.index(i.label) for i in items],
            "silver": [False] * len(items),
        },
        features=FEATURES,
    )


def out_of_fold_proba(
    items: Sequence[LabelledParagraph], fit: Callable[[SplitData], Model], folds: int
) -> np.ndarray:
    """Each paragraph's probabilities from a model trained on the other folds."""
    if len(items) < folds:
        raise InputError(f"the audit needs at least {folds} labelled paragraphs, got {len(items)}")
    everything = _dataset(items)
    group_of = article_groups(items)
    groups = [group_of[i.paragraph.article_id] for i in items]
    proba = np.zeros((len(items), len(LABELS)))
    for train_idx, held_idx in GroupKFold(n_splits=folds).split(np.zeros(len(items)), groups=groups):
        held = everything.select(held_idx)
        fold = DatasetDict(train=everything.select(train_idx), dev=held, test=held)
        proba[held_idx] = fit(SplitData(fold, list(LABELS), "audit")).predict_proba(held["text"])
    return proba


def find_suspects(items: Sequence[LabelledParagraph], proba: np.ndarray) -> list[Suspect]:
    """cleanlab's label issues, most suspicious first (lowest self-confidence)."""
    from cleanlab.filter import find_label_issues

    given = np.array([LABELS.index(i.label) for i in items])
    ranked = find_label_issues(given, proba, return_indices_ranked_by="self_confidence")
    return [
        Suspect(items[k], LABELS[given[k]], LABELS[int(proba[k].argmax())], float(proba[k, given[k]]))
        for k in ranked
    ]


def conflicting_twins(items: Sequence[LabelledParagraph]) -> list[list[LabelledParagraph]]:
    """Groups of near-duplicate paragraphs (MinHash LSH, the split's threshold) that carry more
    than one label, in corpus order; a reader re-reads each group side by side."""
    twins = near_duplicate_clusters([i.paragraph.id for i in items], [i.paragraph.text for i in items])
    groups: dict[str, list[LabelledParagraph]] = {}
    for item in items:
        groups.setdefault(twins.find(item.paragraph.id), []).append(item)
    return [g for g in groups.values() if len({i.label for i in g}) > 1]
