"""The main job as a pure function: data -> fit -> evaluate -> log. `train(cfg)` is what the
CLI, the experiments and the tests call."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

import mlflow
import numpy as np
from omegaconf import OmegaConf

from paratype import tracking
from paratype.config import TrainConfig
from paratype.data import SPLITS, SplitData, build_dataset, subsample_train
from paratype.evaluate import (
    Evaluation,
    confusion_figure,
    confusion_table,
    cross_validate,
    evaluate,
)
from paratype.models import trainer
from paratype.stats import reliability_figure


@dataclass
class TrainResult:
    run_id: str
    model_uri: str
    evaluations: list[Evaluation]
    data: SplitData


def _log_evaluation(result: Evaluation, labels: list[str]) -> None:
    mlflow.log_metrics(result.metrics)
    name = result.split
    tracking.log_figure(confusion_figure(result, labels), f"{name}/confusion_matrix.png")
    mlflow.log_text(confusion_table(result, labels), f"{name}/confusion_matrix.md")
    mlflow.log_text(result.report, f"{name}/classification_report.txt")
    tracking.log_figure(
        reliability_figure(result.gold, result.proba, f"{name}: ECE {result.metrics[f'{name}/ece']:.3f}"),
        f"{name}/reliability.png",
    )
    mlflow.log_dict(
        {
            "labels": labels,
            "ids": result.ids,
            "gold": result.gold,
            "proba": np.round(result.proba, 5).tolist(),
        },
        f"{name}/predictions.json",
    )
    mlflow.log_table(
        {k: [e[k] for e in result.errors] for k in ("id", "gold", "predicted", "confidence", "text")},
        f"{name}/misclassified.json",
    )


def train(cfg: TrainConfig) -> TrainResult:
    data = subsample_train(build_dataset(cfg.data, cfg.paths), cfg.data.train_size, cfg.seed)
    module = trainer(cfg.model.kind)
    fit = partial(module.fit, cfg.model, seed=cfg.seed)
    tracking.setup(cfg.tracking)
    with mlflow.start_run(run_name=cfg.tracking.run_name) as run:
        mlflow.set_tags(
            {
                "model_kind": cfg.model.kind,
                "data": cfg.data.name,
                "seed": str(cfg.seed),
                "data_fingerprint": data.fingerprint,
                "split_version": Path(cfg.data.split.file).stem if cfg.data.split.file else "computed",
                "train_size": str(len(data.splits["train"])),
                **({"group": cfg.tracking.group} if cfg.tracking.group else {}),
                **tracking.git_state(),
            }
        )
        mlflow.log_params(tracking.flatten(asdict(cfg)))
        mlflow.log_dict(OmegaConf.to_container(OmegaConf.structured(cfg)), "config.yaml")
        mlflow.log_metrics({f"data/{s}/n": len(data.splits[s]) for s in SPLITS})
        started = time.perf_counter()
        model = fit(data)
        mlflow.log_metric("train/seconds", time.perf_counter() - started)
        results = [
            evaluate(model, data.splits[s], s, cfg.evaluation.max_errors_listed) for s in ("dev", "test")
        ]
        if cfg.evaluation.cross_validation == "article":
            results.append(cross_validate(data, fit, cfg.evaluation.folds, cfg.evaluation.max_errors_listed))
        for result in results:
            _log_evaluation(result, data.label_names)
        model_uri = tracking.log_model(model, asdict(cfg.data.segmentation), data.splits["test"]["text"][:2])
    return TrainResult(run.info.run_id, model_uri, results, data)


def summary_table(result: TrainResult) -> str:
    """Per split: accuracy, macro-F1 and per-class precision/recall/F1, as aligned text."""
    labels = result.data.label_names
    lines = []
    for ev in result.evaluations:
        m, s = ev.metrics, ev.split
        lines.append(
            f"{s:<5} n={int(m[f'{s}/n']):<5} accuracy {m[f'{s}/accuracy']:.3f}   "
            f"macro-F1 {m[f'{s}/macro_f1']:.3f} "
            f"(95% CI {m[f'{s}/macro_f1_ci_low']:.3f}-{m[f'{s}/macro_f1_ci_high']:.3f})   "
            f"ECE {m[f'{s}/ece']:.3f}"
        )
        lines.append(f"      {'label':<18} {'precision':>9} {'recall':>7} {'F1':>6} {'support':>8}")
        for name in labels:
            lines.append(
                f"      {name:<18} {m[f'{s}/precision/{name}']:>9.3f} {m[f'{s}/recall/{name}']:>7.3f} "
                f"{m[f'{s}/f1/{name}']:>6.3f} {int(m[f'{s}/support/{name}']):>8}"
            )
    return "\n".join(lines)
