"""Trainers. Each module exposes `fit(cfg, data, seed) -> Model` and a Model class with
`predict_proba`, `save` and `load`; `TRAINERS` maps a config's `model.kind` to its module."""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

_MODULES = {
    "tfidf": "paratype.models.tfidf",
    "transformer": "paratype.models.transformer",
    "label_model": "paratype.models.label_model",
    "ensemble": "paratype.models.ensemble",
}


def trainer(kind: str) -> ModuleType:
    """The trainer module for a model kind (imported lazily: torch is slow to import)."""
    return import_module(_MODULES[kind])
