"""The small interface every trained model offers, whatever its kind."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np


class Model(Protocol):
    """A fitted paragraph classifier that takes raw paragraphs and cleans them itself."""

    kind: str
    labels: list[str]

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, one column per label in `labels` order."""
        ...

    def extra_outputs(self, texts: Sequence[str]) -> dict[str, list]:
        """Per-text flags to report next to the label (e.g. `truncated`); may be empty."""
        ...

    def save(self, directory: Path) -> None: ...

    @classmethod
    def load(cls, directory: Path) -> Model: ...
