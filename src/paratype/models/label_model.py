"""The label model alone as a classifier: labelling-function votes -> Snorkel's LabelModel.

A baseline that needs no gold labels at all: it is fit on the votes over the training
paragraphs, never on their labels. Fitting uses Snorkel; the fitted model is saved as plain
arrays (its conditional probabilities `mu` and class balance `p`, an `.npz` with no pickle) and
served by the same formula as Snorkel's `predict_proba` for independent labelling functions.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from paratype.weak import LFS, fit_label_model, vote_matrix

if TYPE_CHECKING:  # only for type hints: serving a label model needs no `datasets`
    from paratype.config import LabelModelConfig
    from paratype.data import SplitData

STATE_FILE = "label_model.npz"
META_FILE = "paratype_label_model.json"


class LabelModelClassifier:
    kind = "label_model"

    def __init__(self, mu: np.ndarray, balance: np.ndarray, labels: list[str]):
        self.mu = mu  # [m * k, k]: P(LF i votes j | class c), row i * k + j
        self.balance = balance  # [k]: the class prior
        self.labels = labels

    @classmethod
    def from_snorkel(cls, model, labels: list[str]) -> LabelModelClassifier:
        return cls(model.mu.detach().cpu().numpy().astype(float), np.asarray(model.p, dtype=float), labels)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Snorkel's posterior for independent functions; rows where every function abstains get
        the class prior."""
        votes = vote_matrix(texts)
        k = len(self.labels)
        indicators = np.zeros((len(votes), votes.shape[1] * k))
        rows, lfs = np.nonzero(votes >= 0)
        indicators[rows, lfs * k + votes[rows, lfs]] = 1
        scores = np.exp(indicators @ np.log(self.mu) + np.log(self.balance))
        return scores / scores.sum(axis=1, keepdims=True)

    def extra_outputs(self, texts: Sequence[str]) -> dict[str, list]:
        return {}

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        np.savez(directory / STATE_FILE, mu=self.mu, balance=self.balance)
        (directory / META_FILE).write_text(
            json.dumps({"labels": self.labels, "lfs": [lf.name for lf in LFS]})
        )

    @classmethod
    def load(cls, directory: Path) -> LabelModelClassifier:
        meta = json.loads((directory / META_FILE).read_text())
        if meta["lfs"] != [lf.name for lf in LFS]:
            raise ValueError(f"{directory}: the labelling functions changed since this label model was fit")
        with np.load(directory / STATE_FILE, allow_pickle=False) as state:
            return cls(state["mu"], state["balance"], meta["labels"])


def load_model(directory: Path) -> LabelModelClassifier:
    return LabelModelClassifier.load(directory)


def fit(cfg: LabelModelConfig, data: SplitData, seed: int) -> LabelModelClassifier:
    votes = vote_matrix(data.splits["train"]["text"])
    return LabelModelClassifier.from_snorkel(fit_label_model(votes, seed, cfg.epochs), data.label_names)
