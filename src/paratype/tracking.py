"""MLflow: where runs go, what each run records, and the model format that serves predictions.

Our code owns the run (one MLflow run per training job). The logged model is an MLflow pyfunc
that wraps any `Model` and carries the project's code, its labels and its segmentation
settings, so `mlflow.pyfunc.load_model` needs nothing from the training process.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from importlib.metadata import version
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import yaml
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature

from paratype import interrupts
from paratype.config import PROJECT_ROOT, TrackingConfig
from paratype.errors import InputError
from paratype.io import file_sha256

BEST_METRIC = "dev/macro_f1"
MODEL_NAME = "model"
MODEL_URI_TAG = "paratype.model_uri"
_PACKAGE_DIR = Path(__file__).resolve().parent
_REQUIREMENTS = {
    "tfidf": ["mmh3", "pyarabic"],  # served from plain arrays (models/tfidf.py)
    "transformer": ["torch", "transformers", "tokenizers", "arabert", "pyarabic", "onnxruntime"],
    "label_model": ["pyarabic"],  # served from plain arrays (models/label_model.py)
}
_REQUIREMENTS["ensemble"] = sorted({*_REQUIREMENTS["tfidf"], *_REQUIREMENTS["transformer"]})

for _name in ("alembic", "mlflow"):
    logging.getLogger(_name).setLevel(logging.WARNING)
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


def setup(cfg: TrackingConfig) -> str:
    """Point MLflow at the configured store and experiment; returns the experiment id.

    A new SQLite store is created under a file lock: two jobs started at once on a fresh store
    would otherwise both run MLflow's schema migration, and one fails half-way."""
    mlflow.set_tracking_uri(cfg.uri)
    with store_lock(cfg.uri):
        experiment = mlflow.get_experiment_by_name(cfg.experiment)
        if experiment is not None:
            return mlflow.set_experiment(cfg.experiment).experiment_id
        local = cfg.uri.startswith(("sqlite:", "file:", "/")) or "://" not in cfg.uri
        location = Path(cfg.artifact_root).resolve().as_uri() if local else None
        try:
            mlflow.create_experiment(cfg.experiment, artifact_location=location)
        except MlflowException as err:  # a remote store: created meanwhile by a parallel job
            if "already exists" not in str(err).lower():
                raise
        return mlflow.set_experiment(cfg.experiment).experiment_id


def store_lock(uri: str):
    """An exclusive lock beside a SQLite store file (nothing to lock for other stores)."""
    from filelock import FileLock

    if not uri.startswith("sqlite:///"):
        return nullcontext()
    database = Path(uri.removeprefix("sqlite:///"))
    database.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(f"{database}.lock", timeout=120)


@contextmanager
def run(**kwargs) -> Iterator[mlflow.ActiveRun]:
    """An MLflow run that never stays RUNNING: FINISHED on success, KILLED when interrupted
    (Ctrl-C, or SIGTERM, which the entry points turn into KeyboardInterrupt), FAILED otherwise.
    Starting and ending are not interruptible: an interrupt there would leave the run RUNNING."""
    active = None
    try:
        with interrupts.deferred():
            active = mlflow.start_run(**kwargs)
        yield active
    except BaseException as err:
        if active is not None:
            with interrupts.deferred():
                mlflow.end_run("KILLED" if interrupts.caused_by_interrupt(err) else "FAILED")
        raise
    with interrupts.deferred():
        mlflow.end_run()


def git_state() -> dict[str, str]:
    """Commit and dirtiness of the project checkout (empty outside git)."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        return {"git_commit": git("rev-parse", "HEAD"), "git_dirty": str(bool(git("status", "--porcelain")))}
    except (subprocess.CalledProcessError, FileNotFoundError):
        return {}


def log_figure(fig, artifact_file: str) -> None:
    """Log a matplotlib figure to the active run and close it: MLflow leaves it open, and a
    multirun process would pile up every run's figures."""
    import matplotlib.pyplot as plt

    mlflow.log_figure(fig, artifact_file)
    plt.close(fig)


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested config -> {"model.C": "4.0", ...}, values cut to MLflow's parameter limit."""
    flat: dict[str, str] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat |= flatten(value, f"{name}.")
        else:
            flat[name] = str(value)[:6000]
    return flat


def _requirements(kind: str) -> list[str]:
    names = ["mlflow", "pandas", "numpy", *_REQUIREMENTS.get(kind, [])]
    return [f"{name}=={version(name)}" for name in names]


def log_model(
    model, segmentation: dict[str, Any], example: list[str], offsets: list[float] | None = None
) -> str:
    """Log `model` as a pyfunc (models from code, see serving.py) in the active run; returns its URI.

    `offsets`: the tuned decision rule (decision.py), applied wherever the pyfunc is served."""
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = Path(tmp) / "weights"
        model.save(model_dir)
        meta = Path(tmp) / "meta.json"
        manifest = {
            str(f.relative_to(model_dir)): file_sha256(f) for f in sorted(model_dir.rglob("*")) if f.is_file()
        }
        meta.write_text(
            json.dumps({"kind": model.kind, "labels": model.labels, "offsets": offsets, "sha256": manifest})
        )
        example_in = pd.DataFrame({"text": example})
        example_out = pd.DataFrame(
            {"label": model.labels[:1] * len(example)}
            | {f"score_{name}": [0.0] * len(example) for name in model.labels}
            | {"truncated": [False] * len(example)}
            | model.extra_outputs(example)
            | {"error": [""] * len(example)}
        )
        info = mlflow.pyfunc.log_model(
            name=MODEL_NAME,
            python_model=str(_PACKAGE_DIR / "serving.py"),
            artifacts={"model": str(model_dir), "meta": str(meta)},
            code_paths=[str(_PACKAGE_DIR)],
            pip_requirements=_requirements(model.kind),
            signature=infer_signature(example_in, example_out, params={"explain": 0}),
            input_example=example_in,
            model_config={"labels": model.labels, "kind": model.kind, "segmentation": segmentation},
        )
    mlflow.set_tag(MODEL_URI_TAG, info.model_uri)
    return info.model_uri


def load_model(uri: str, cfg: TrackingConfig) -> mlflow.pyfunc.PyFuncModel:
    """The served pyfunc. MLflow's own requirement check (seconds of every start-up) is replaced
    by a one-line notice naming the packages whose installed version differs from the model's."""
    mlflow.set_tracking_uri(cfg.uri)
    try:
        folder = Path(uri) if Path(uri).is_dir() else Path(mlflow.artifacts.download_artifacts(uri))
        model = mlflow.pyfunc.load_model(str(folder), suppress_warnings=True)
    except (MlflowException, OSError, ValueError, KeyError, zipfile.BadZipFile, yaml.YAMLError) as err:
        # a missing run, a truncated weights file, a malformed MLmodel, an untrusted skops type
        raise InputError(
            f"cannot load model {uri}: {str(err).splitlines()[0]}; "
            "check --model (run id, runs:/ID/model, models:/NAME@ALIAS, or a folder)"
        ) from None
    from paratype.local_model import warn_on_changed_requirements

    warn_on_changed_requirements(folder, uri)
    return model
