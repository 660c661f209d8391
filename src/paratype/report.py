"""`paratype-report GROUP`: an experiment's page, rebuilt from MLflow alone.

Reads every run tagged `group=GROUP`, and writes `experiments/GROUP/README.md` with tables and
plots: macro-F1 mean and spread per model, per-class F1, cost (training time, throughput),
learning curves when the training size varies, calibration, confusion matrices of each
model's best run, and a paired significance test between the models' best runs.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import mlflow
import numpy as np
import pandas as pd

from paratype.config import TrackingConfig
from paratype.errors import InputError
from paratype.labels import LABELS
from paratype.registry import compare, test_predictions

MODEL = "tags.model_kind"


def load_runs(cfg: TrackingConfig, group: str) -> pd.DataFrame:
    mlflow.set_tracking_uri(cfg.uri)
    experiment = mlflow.get_experiment_by_name(cfg.experiment)
    runs = (
        pd.DataFrame()
        if experiment is None
        else mlflow.search_runs(
            experiment_ids=[experiment.experiment_id], filter_string=f"tags.group = '{group}'"
        )
    )
    if runs.empty:
        raise InputError(
            f"no runs tagged group={group} in experiment '{cfg.experiment}' at {cfg.uri}; "
            f"run `paratype-train +experiment={group}` first"
        )
    runs = runs[runs["status"] == "FINISHED"].copy()
    name = runs[MODEL].to_numpy(dtype=object)
    for kind, key, label in (  # a transformer is known by its weights, an ensemble by its halves
        ("transformer", "params.model.pretrained", "{}"),
        ("ensemble", "params.model.transformer.pretrained", "tfidf & {}"),
    ):
        weights = runs.get(key, pd.Series("", index=runs.index)).fillna("")
        named = (runs[MODEL] == kind) & (weights != "")
        name = np.where(named, weights.map(lambda p, label=label: label.format(Path(p).name)), name)
    runs["model"] = name + np.where(runs["tags.data"].str.contains("silver"), " + silver", "")
    runs["train_size"] = runs["tags.train_size"].astype(int)
    return runs


def _m(name: str) -> str:
    return f"metrics.{name}"


def at_full_size(runs: pd.DataFrame) -> pd.DataFrame:
    """Each model's runs at its largest training size (a learning curve's last point)."""
    return runs[runs["train_size"] == runs.groupby("model")["train_size"].transform("max")]


# scores the runs of newer versions also log: the tuned decision rule and the test subsets
EXTRA_SCORES = {
    "test, tuned rule": "test_tuned",
    "v1 test, tuned": "test_corpus-v1_tuned",
    "seed paragraphs, tuned": "test_seeds_tuned",
}


def _with_interval(g: pd.DataFrame, split: str) -> str:
    return (
        f"{g[_m(f'{split}/macro_f1')].mean():.3f} ({g[_m(f'{split}/macro_f1_ci_low')].mean():.3f}–"
        f"{g[_m(f'{split}/macro_f1_ci_high')].mean():.3f})"
    )


def summary(full: pd.DataFrame) -> pd.DataFrame:
    """One row per model: test macro-F1 mean ± std over seeds, its bootstrap interval, cost, and
    the tuned rule and test subsets where the runs logged them."""
    rows = []
    for model, g in full.groupby("model"):
        f1 = g[_m("test/macro_f1")]
        extra = {
            title: _with_interval(g, split)
            for title, split in EXTRA_SCORES.items()
            if _m(f"{split}/macro_f1") in g and g[_m(f"{split}/macro_f1")].notna().all()
        }
        rows.append(
            {
                "model": model,
                "runs": len(g),
                "test macro-F1": f"{f1.mean():.3f} ± {f1.std(ddof=0):.3f}",
                "95% CI (bootstrap, mean)": f"{g[_m('test/macro_f1_ci_low')].mean():.3f}–"
                f"{g[_m('test/macro_f1_ci_high')].mean():.3f}",
                "dev macro-F1": f"{g[_m('dev/macro_f1')].mean():.3f}",
                "test accuracy": f"{g[_m('test/accuracy')].mean():.3f}",
                "test ECE": f"{g[_m('test/ece')].mean():.3f}",
                "train s": f"{g[_m('train/seconds')].mean():.1f}",
                "predict paragraphs/s": f"{g[_m('test/paragraphs_per_second')].mean():,.0f}",
                **extra,
            }
        )
    return pd.DataFrame(rows)


def _per_class(full: pd.DataFrame) -> pd.DataFrame:
    return (
        full.groupby("model")[[_m(f"test/f1/{label}") for label in LABELS]]
        .mean()
        .rename(columns=lambda c: c.rsplit("/", 1)[1])
    )


def _save(fig, path: Path) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name


def plot_macro_f1(full: pd.DataFrame, out: Path) -> str:
    stats = full.groupby("model")[_m("test/macro_f1")].agg(["mean", "std"]).fillna(0)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.bar(stats.index, stats["mean"], yerr=stats["std"], capsize=6, color="#4C72B0")
    ax.scatter(full["model"], full[_m("test/macro_f1")], color="black", zorder=3, s=12, label="one seed")
    ax.set_ylabel("test macro-F1")
    ax.set_ylim(0, 1)
    ax.legend()
    return _save(fig, out / "macro_f1.png")


def plot_per_class(per_class: pd.DataFrame, out: Path) -> str:
    fig, ax = plt.subplots(figsize=(7, 3.5))
    per_class.T.plot.bar(ax=ax, rot=0)
    ax.set_ylabel("test F1 (mean over seeds)")
    ax.set_ylim(0, 1)
    return _save(fig, out / "per_class_f1.png")


def plot_learning_curve(runs: pd.DataFrame, out: Path) -> str | None:
    if runs["train_size"].nunique() < 2:
        return None
    fig, ax = plt.subplots(figsize=(6, 4))
    for model, g in runs.groupby("model"):
        stats = g.groupby("train_size")[_m("test/macro_f1")].agg(["mean", "std"]).fillna(0)
        ax.errorbar(stats.index, stats["mean"], yerr=stats["std"], marker="o", capsize=4, label=model)
    ax.set_xscale("log")
    ax.set_xlabel("gold training paragraphs")
    ax.set_ylabel("test macro-F1")
    ax.legend()
    return _save(fig, out / "learning_curve.png")


def _curve_table(runs: pd.DataFrame) -> str:
    """Test macro-F1 per model and training size: mean ± std over seeds (the mean alone for one
    run), argmax and tuned rule."""
    names = {"test/macro_f1": "test macro-F1", "test_tuned/macro_f1": "test, tuned rule"}
    groups = runs.groupby(["model", "train_size"])
    table = pd.DataFrame({"runs": groups.size()})
    for metric, title in names.items():
        if _m(metric) in runs:
            stats = groups[_m(metric)].agg(["mean", "std"])
            table[title] = [
                f"{m:.3f}" if pd.isna(s) else f"{m:.3f} ± {s:.3f}"  # one run: no spread to show
                for m, s in zip(stats["mean"], stats["std"], strict=True)
            ]
    return table.reset_index().rename(columns={"train_size": "training paragraphs"}).to_markdown(index=False)


def best_runs(full: pd.DataFrame) -> pd.DataFrame:
    """Each model's run with the best dev macro-F1 (give it the runs at full size)."""
    return full.sort_values(_m("dev/macro_f1"), ascending=False).groupby("model").head(1).sort_values("model")


def copy_artifacts(cfg: TrackingConfig, best: pd.DataFrame, out: Path) -> list[tuple[str, str, str]]:
    client = mlflow.MlflowClient(cfg.uri)
    images = []
    for _, run in best.iterrows():
        slug = re.sub(r"\W+", "_", run["model"])
        names = []
        for artifact in ("confusion_matrix.png", "reliability.png"):
            local = client.download_artifacts(run["run_id"], f"test/{artifact}")
            target = out / f"{slug}_{artifact}"
            shutil.copyfile(local, target)
            names.append(target.name)
        images.append((run["model"], *names))
    return images


def paired_tests(cfg: TrackingConfig, best: pd.DataFrame) -> pd.DataFrame:
    """Paired bootstrap of test macro-F1 between every two models' best runs (same test only):
    by argmax, and by the tuned decision rule each model serves where every run logged one."""
    client = mlflow.MlflowClient(cfg.uri)
    rules = {"argmax": "test"}
    if _m("test_tuned/macro_f1") in best and best[_m("test_tuned/macro_f1")].notna().all():
        rules["tuned rule (served)"] = "test_tuned"
    rows = []
    for rule, split in rules.items():
        preds = {row["model"]: test_predictions(client, row["run_id"], split) for _, row in best.iterrows()}
        models = list(preds)
        for i, a in enumerate(models):
            for b in models[i + 1 :]:
                result = compare(preds[a], preds[b])
                if result is None:
                    continue
                rows.append(
                    {
                        "decision": rule,
                        "A": a,
                        "B": b,
                        "macro-F1 A − B": f"{result['difference']:+.3f}",
                        "95% CI": f"{result['ci_low']:+.3f} to {result['ci_high']:+.3f}",
                        "p": f"{result['p_value']:.3f}",
                    }
                )
    return pd.DataFrame(rows)


def write_report(cfg: TrackingConfig, group: str, out_root: Path) -> Path:
    """Write `out_root/group/README.md` (and its figures); a hand-written `NOTES.md` beside it is
    linked, never pasted: notes describe the runs they were written about, the page any store."""
    runs = load_runs(cfg, group)
    out = out_root / group
    out.mkdir(parents=True, exist_ok=True)
    notes = (out / "NOTES.md").exists()
    full = at_full_size(runs)
    best = best_runs(full)
    table = summary(full)
    per_class = _per_class(full)
    images = [plot_macro_f1(full, out), plot_per_class(per_class, out)]
    curve = plot_learning_curve(runs, out)
    tests = paired_tests(cfg, best)
    lines = [
        f"# Experiment `{group}`",
        "",
        f"Generated by `paratype-report {group}` from the MLflow runs tagged `group={group}` "
        f"({len(runs)} runs; data fingerprints: {', '.join(sorted(runs['tags.data_fingerprint'].unique()))}; "
        f"split: {', '.join(sorted(runs['tags.split_version'].unique()))}).",
        "",
    ]
    if notes:
        lines += ["What was run and what it means, written by hand: [NOTES.md](NOTES.md).", ""]
    lines += [
        "## Test macro-F1 per model",
        "",
        table.to_markdown(index=False),
        "",
        f"![macro-F1]({images[0]})",
        "",
        "Mean ± standard deviation over seeds; the interval is the mean of each run's bootstrap "
        "95% interval over test paragraphs (1,000 resamples).",
        "",
        "## Per-class F1",
        "",
        per_class.to_markdown(floatfmt=".3f"),
        "",
        f"![per class]({images[1]})",
        "",
    ]
    if curve:
        lines += [
            "## Learning curve",
            "",
            f"![learning curve]({curve})",
            "",
            _curve_table(runs),
            "",
        ]
    if not tests.empty:
        lines += [
            "## Paired significance (best run of each model, same test paragraphs)",
            "",
            tests.to_markdown(index=False),
            "",
            "Paired bootstrap over test paragraphs; a difference is significant when its 95% "
            "interval excludes 0. `argmax`: each model's most probable label; `tuned rule (served)`: "
            "the per-class offsets fitted on dev that the logged model applies when it serves.",
            "",
        ]
    lines += ["## Best run of each model (by dev macro-F1)", ""]
    for (model, confusion, reliability), (_, run) in zip(
        copy_artifacts(cfg, best, out), best.iterrows(), strict=True
    ):
        lines += [
            f"### {model} — run `{run['run_id']}`",
            "",
            f"test macro-F1 {run[_m('test/macro_f1')]:.3f}, ECE {run[_m('test/ece')]:.3f}",
            "",
            f"![confusion]({confusion}) ![reliability]({reliability})",
            "",
        ]
    path = out / "README.md"
    path.write_text("\n".join(lines))
    return path
