"""Which module trains a model kind and which loads it: a trainer module exposes
`fit(cfg, data, seed) -> Model`, a loader module `load_model(directory) -> Model` (the Model
interface is in base.py). Serving imports only loaders: no training code, no `datasets`."""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

_TRAINERS = {
    "tfidf": "paratype.models.tfidf_training",
    "transformer": "paratype.models.transformer_training",
    "label_model": "paratype.models.label_model",
    "ensemble": "paratype.models.ensemble",
}
_LOADERS = _TRAINERS | {"tfidf": "paratype.models.tfidf", "transformer": "paratype.models.transformer"}


def trainer(kind: str) -> ModuleType:
    """The module whose `fit` trains a kind (imported lazily: torch is slow to import)."""
    return import_module(_TRAINERS[kind])


def loader(kind: str) -> ModuleType:
    """The module whose `load_model` reads a saved model of a kind."""
    return import_module(_LOADERS[kind])
