"""The label model alone as a classifier: labelling-function votes -> Snorkel's LabelModel.

A baseline that needs no gold labels at all: it is fit on the votes over the training
paragraphs, never on their labels. Saved with Snorkel's own `save` (a pickle of its state),
so load only label models this project logged.
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

STATE_FILE = "label_model.pkl"
META_FILE = "paratype_label_model.json"


class LabelModelClassifier:
    kind = "label_model"

    def __init__(self, model, labels: list[str]):
        self.model = model
        self.labels = labels

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Paragraphs on which every function abstains get the model's class prior."""
        return self.model.predict_proba(vote_matrix(texts))

    def extra_outputs(self, texts: Sequence[str]) -> dict[str, list]:
        return {}

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.model.save(str(directory / STATE_FILE))
        (directory / META_FILE).write_text(
            json.dumps({"labels": self.labels, "lfs": [lf.name for lf in LFS]})
        )

    @classmethod
    def load(cls, directory: Path) -> LabelModelClassifier:
        from snorkel.labeling.model import LabelModel

        meta = json.loads((directory / META_FILE).read_text())
        if meta["lfs"] != [lf.name for lf in LFS]:
            raise ValueError(f"{directory}: the labelling functions changed since this label model was fit")
        model = LabelModel(cardinality=len(meta["labels"]), verbose=False)
        model.load(str(directory / STATE_FILE))
        return cls(model, meta["labels"])


def load_model(directory: Path) -> LabelModelClassifier:
    return LabelModelClassifier.load(directory)


def fit(cfg: LabelModelConfig, data: SplitData, seed: int) -> LabelModelClassifier:
    votes = vote_matrix(data.splits["train"]["text"])
    return LabelModelClassifier(fit_label_model(votes, seed, cfg.epochs), data.label_names)
