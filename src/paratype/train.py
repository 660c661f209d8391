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

from paratype import distributed, tracking
from paratype.config import TrainConfig
from paratype.data import SPLITS, SplitData, build_dataset, subsample_train
from paratype.decision import fit_offsets
from paratype.errors import InputError
from paratype.evaluate import (
    Evaluation,
    confusion_figure,
    confusion_table,
    cross_validate,
    evaluate,
    evaluation_from,
)
from paratype.models import trainer
from paratype.page import seed_page
from paratype.splits import read_split_file
from paratype.stats import reliability_figure


@dataclass
class TrainResult:
    run_id: str
    model_uri: str
    evaluations: list[Evaluation]
    data: SplitData
    page: Path | None = None  # the seed articles' page (page.path), when written


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
            "offsets": result.offsets,
        },
        f"{name}/predictions.json",
    )
    mlflow.log_table(
        {k: [e[k] for e in result.errors] for k in ("id", "gold", "predicted", "confidence", "text")},
        f"{name}/misclassified.json",
    )


def test_subsets(cfg: TrainConfig, data: SplitData) -> dict[str, list[int]]:
    """Named row subsets of the test split scored on their own: the seed paragraphs (the users'
    own region and years, never trained on) and the test paragraphs of the kept split version."""
    test = data.splits["test"]
    subsets = {}
    if cfg.evaluation.seeds_test and cfg.data.source == "corpus":
        subsets["test_seeds"] = [k for k, source in enumerate(test["source"]) if source == "seeds"]
    if cfg.data.split.keep:
        keep = Path(cfg.data.split.keep)
        old = read_split_file(keep, [])
        subsets[f"test_{keep.stem}"] = [k for k, pid in enumerate(test["id"]) if old.get(pid) == "test"]
    return {name: rows for name, rows in subsets.items() if rows}


def _held_out(model, cfg: TrainConfig, data: SplitData) -> list[Evaluation]:
    """dev and test with argmax, the tuned rule fitted on dev (`<split>_tuned`), and the test
    subsets, each with both rules."""
    limit, labels = cfg.evaluation.max_errors_listed, data.label_names
    dev, test = (evaluate(model, data.splits[s], s, limit) for s in ("dev", "test"))
    rules: dict[str, list[float] | None] = {"": None}
    if cfg.decision.rule == "tuned":
        rules["_tuned"] = fit_offsets(dev.gold, dev.proba, reference=labels.index("other")).tolist()
    results = [dev, test]
    subsets = test_subsets(cfg, data)
    for suffix, offsets in rules.items():
        if offsets is not None:
            results += [
                evaluation_from(f"{r.split}{suffix}", data.splits[r.split], r.proba, labels, limit, offsets)
                for r in (dev, test)
            ]
        for name, rows in subsets.items():
            subset = data.splits["test"].select(rows)
            results.append(evaluation_from(name + suffix, subset, test.proba[rows], labels, limit, offsets))
    return results


def train(cfg: TrainConfig) -> TrainResult | None:
    """Under torchrun every process fine-tunes; rank 0 alone logs the run and returns its
    result, the others return None."""
    _check_world_size(cfg)
    data = subsample_train(build_dataset(cfg.data, cfg.paths), cfg.data.train_size, cfg.seed)
    module = trainer(cfg.model.kind)
    fit = partial(module.fit, cfg.model, seed=cfg.seed)
    if not distributed.is_main_process():
        fit(data)
        return None
    tracking.setup(cfg.tracking)
    with tracking.run(run_name=cfg.tracking.run_name) as run:
        mlflow.set_tags(
            {
                "model_kind": cfg.model.kind,
                "data": cfg.data.name,
                "seed": str(cfg.seed),
                "world_size": str(distributed.world_size()),  # processes that fine-tuned (torchrun)
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
        results = _held_out(model, cfg, data)
        if cfg.evaluation.cross_validation == "article":
            results.append(cross_validate(data, fit, cfg.evaluation.folds, cfg.evaluation.max_errors_listed))
        for result in results:
            _log_evaluation(result, data.label_names)
        offsets = next((r.offsets for r in results if r.offsets is not None), None)
        model_uri = tracking.log_model(
            model, asdict(cfg.data.segmentation), data.splits["test"]["text"][:2], offsets
        )
        page = _seed_page(model_uri, model.labels, cfg) if cfg.page.path else None
    return TrainResult(run.info.run_id, model_uri, results, data, page)


def _check_world_size(cfg: TrainConfig) -> None:
    """torchrun splits fine-tuning only; TF-IDF or a cross-validated run would do the same
    work once per process."""
    if distributed.world_size() == 1:
        return
    if cfg.model.kind not in distributed.DISTRIBUTED_KINDS:
        raise InputError(
            f"model kind {cfg.model.kind} trains in one process; run it without torchrun "
            f"(torchrun is for {' and '.join(distributed.DISTRIBUTED_KINDS)} models)"
        )
    if cfg.evaluation.cross_validation != "none":
        raise InputError(
            f"evaluation.cross_validation={cfg.evaluation.cross_validation} runs its folds in one "
            "process; set evaluation.cross_validation=none under torchrun"
        )


def _seed_page(model_uri: str, labels: list[str], cfg: TrainConfig) -> Path:
    """The seed articles as the served model labels them: a page to open, also kept in the run."""
    served = tracking.load_model(model_uri, cfg.tracking)
    path = seed_page(
        served, labels, Path(cfg.paths.seeds_dir), Path(cfg.page.path), cfg.page.explain, model_uri
    )
    mlflow.log_artifact(str(path))
    return path


DETAILED = ("dev", "test", "test_tuned")  # splits whose per-class rows the summary prints


def evaluation_table(ev: Evaluation, detailed: bool = True) -> str:
    """One split's accuracy, macro-F1 (95% interval) and ECE, then per-class rows with F1 intervals."""
    m, s = ev.metrics, ev.split
    lines = [
        f"{s:<16} n={int(m[f'{s}/n']):<5} accuracy {m[f'{s}/accuracy']:.3f}   "
        f"macro-F1 {m[f'{s}/macro_f1']:.3f} "
        f"(95% CI {m[f'{s}/macro_f1_ci_low']:.3f}-{m[f'{s}/macro_f1_ci_high']:.3f})   "
        f"ECE {m[f'{s}/ece']:.3f}"
    ]
    if detailed:
        lines.append(
            f"      {'label':<18} {'precision':>9} {'recall':>7} {'F1':>6} {'95% CI':>13} {'support':>8}"
        )
        for name in (k.rsplit("/", 1)[1] for k in m if k.startswith(f"{s}/f1/")):
            interval = f"{m[f'{s}/f1_ci_low/{name}']:.3f}-{m[f'{s}/f1_ci_high/{name}']:.3f}"
            lines.append(
                f"      {name:<18} {m[f'{s}/precision/{name}']:>9.3f} {m[f'{s}/recall/{name}']:>7.3f} "
                f"{m[f'{s}/f1/{name}']:>6.3f} {interval:>13} {int(m[f'{s}/support/{name}']):>8}"
            )
    return "\n".join(lines)


def summary_table(result: TrainResult) -> str:
    """Per split: accuracy, macro-F1 and per-class precision/recall/F1, as aligned text."""
    return "\n".join(evaluation_table(ev, ev.split in DETAILED) for ev in result.evaluations)
