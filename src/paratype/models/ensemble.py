"""TF-IDF and a transformer as one model: their probabilities pooled, the weight fitted on dev.

The two kinds err differently (TF-IDF on paraphrase, the transformer on rare words), so a
mixture can beat both. Both halves are trained in the same run on the same train split; the
TF-IDF weight is the one of 0, 1/steps, ..., 1 with the best dev macro-F1 (ties: the one
closest to an even mix). It is served like any model: one pyfunc, one `predict_proba`.

Pooling is `linear` (a weighted arithmetic mean: one confident half can carry a label) or
`log` (a weighted geometric mean, renormalised: a label needs both halves to find it likely).
On corpus-v3 log pooling has the better argmax and calibration, but the tuned decision rule
fitted on its dev probabilities does not carry to test, so the rule a model serves is better
with linear pooling (experiments/compare/NOTES.md).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from paratype.config import EnsembleConfig, TfidfConfig, TransformerConfig
from paratype.models import tfidf, transformer
from paratype.stats import macro_f1

if TYPE_CHECKING:
    from paratype.data import SplitData

META_FILE = "ensemble.json"


class EnsembleModel:
    """TF-IDF and transformer probabilities pooled with TF-IDF weight `weight`, per label."""

    kind = "ensemble"

    def __init__(self, lexical: tfidf.TfidfModel, neural, weight: float, pooling: str):
        self.lexical, self.neural, self.weight, self.pooling = lexical, neural, weight, pooling
        self.labels = lexical.labels

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return mix(
            self.lexical.predict_proba(texts), self.neural.predict_proba(texts), self.weight, self.pooling
        )

    def extra_outputs(self, texts: Sequence[str]) -> dict[str, list]:
        return self.neural.extra_outputs(texts)  # `truncated`: only the transformer cuts text

    def save(self, directory: Path) -> None:
        self.lexical.save(directory / "tfidf")
        self.neural.save(directory / "transformer")
        (directory / META_FILE).write_text(json.dumps({"tfidf_weight": self.weight, "pooling": self.pooling}))

    @classmethod
    def load(cls, directory: Path) -> EnsembleModel:
        meta = json.loads((directory / META_FILE).read_text())
        return cls(
            tfidf.load_model(directory / "tfidf"),
            transformer.load_model(directory / "transformer"),
            meta["tfidf_weight"],
            meta.get("pooling", "linear"),  # ensembles saved before log pooling existed
        )


FLOOR = 1e-6  # log pooling: a probability the halves round to zero still counts, a little


def mix(lexical: np.ndarray, neural: np.ndarray, weight: float, pooling: str) -> np.ndarray:
    """Pooled probabilities, rows summing to one."""
    if pooling == "linear":
        return weight * lexical + (1 - weight) * neural
    logs = weight * np.log(np.maximum(lexical, FLOOR)) + (1 - weight) * np.log(np.maximum(neural, FLOOR))
    pooled = np.exp(logs - logs.max(axis=1, keepdims=True))
    return pooled / pooled.sum(axis=1, keepdims=True)


def fit_weight(
    gold: Sequence[int], lexical: np.ndarray, neural: np.ndarray, steps: int, pooling: str
) -> float:
    """The TF-IDF weight with the best macro-F1 on `gold` (ties: nearest to 0.5)."""
    gold = np.asarray(gold)
    candidates = sorted((k / steps for k in range(steps + 1)), key=lambda w: abs(w - 0.5))
    scores = [
        macro_f1(gold, mix(lexical, neural, w, pooling).argmax(axis=1), lexical.shape[1]) for w in candidates
    ]
    return candidates[int(np.argmax(scores))]


def fit(cfg: EnsembleConfig, data: SplitData, seed: int) -> EnsembleModel:
    """Both halves on train (each reused from a sibling run where one matches); the weight on
    dev; test stays unseen."""
    lexical, neural = (_half(half, data, seed, cfg.reuse_finished) for half in (cfg.tfidf, cfg.transformer))
    dev = data.splits["dev"]
    weight = fit_weight(
        dev["label"],
        lexical.predict_proba(dev["text"]),
        neural.predict_proba(dev["text"]),
        cfg.weight_steps,
        cfg.pooling,
    )
    import mlflow

    if mlflow.active_run():
        mlflow.log_metric("ensemble/tfidf_weight", weight)
    return EnsembleModel(lexical, neural, weight, cfg.pooling)


def _half(cfg: TfidfConfig | TransformerConfig, data: SplitData, seed: int, reuse: bool):
    """One half: the model of a finished sibling run where `reuse` finds one, else trained here."""
    from paratype.models import trainer

    found = finished_model(cfg, data, seed) if reuse else None
    return found if found is not None else trainer(cfg.kind).fit(cfg, data, seed)


def finished_model(cfg: TfidfConfig | TransformerConfig, data: SplitData, seed: int):
    """The model of the newest finished run of the active run's experiment with the same kind,
    data, training size, seed and settings, or None. A comparison has just trained both halves
    with the same seed: fine-tuning is the hour of an ensemble on a CPU, and the TF-IDF fit its
    minute (the ensemble's run names the runs they came from, tags `<kind>_run`). Under torchrun
    every process fine-tunes: only rank 0 could see the store, and the others would wait for it."""
    import mlflow

    from paratype import distributed, local_model, tracking

    active = mlflow.active_run()
    if active is None or distributed.world_size() > 1:
        return None
    runs = mlflow.search_runs(
        experiment_ids=[active.info.experiment_id],
        filter_string=f"tags.model_kind = '{cfg.kind}' and attributes.status = 'FINISHED' "
        f"and tags.data_fingerprint = '{data.fingerprint}' and tags.seed = '{seed}' "
        f"and tags.train_size = '{len(data.splits['train'])}'",
        order_by=["attributes.start_time DESC"],
        output_format="list",
    )
    wanted = tracking.flatten(asdict(cfg), "model.")
    for run in runs:
        if all(run.data.params.get(key) == value for key, value in wanted.items()):
            print(f"ensemble: the {cfg.kind} half is the model of run {run.info.run_id}", file=sys.stderr)
            mlflow.set_tag(f"{cfg.kind}_run", run.info.run_id)
            with local_model.downloaded(run.data.tags[tracking.MODEL_URI_TAG]) as folder:
                return local_model.from_folder(folder).model
    return None


def load_model(directory: Path) -> EnsembleModel:
    return EnsembleModel.load(directory)
