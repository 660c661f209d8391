"""Shared fixtures: the real configs composed with temporary MLflow stores."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

from paratype.config import PROJECT_ROOT, TrainConfig, compose, to_config
from paratype.train import TrainResult, train

BIN = Path(sys.executable).parent


def tracking_overrides(tmp: Path) -> list[str]:
    """A store of the test's own, and no seed page (test_page.py checks the page)."""
    return [
        f"tracking.uri=sqlite:///{tmp}/mlruns.db",
        f"tracking.artifact_root={tmp}/artifacts",
        "page.path=",
    ]


def with_seeds(overrides: Iterable[str]) -> list[str]:
    """Tests train on the 31 seed paragraphs unless they name a data set (the default is the gold set)."""
    overrides = list(overrides)
    return (
        overrides
        if any(o.startswith(("data=", "+experiment=")) for o in overrides)
        else ["data=seeds", *overrides]
    )


@pytest.fixture(scope="session")
def empty_store(tmp_path_factory) -> Path:
    """An MLflow SQLite store with its schema and nothing else, made once: a test copies it
    (`fresh_store`) instead of paying MLflow's schema migration (2 s) for a store of its own."""
    import mlflow

    database = tmp_path_factory.mktemp("empty-store") / "mlruns.db"
    mlflow.MlflowClient(f"sqlite:///{database}").search_experiments()
    return database


@pytest.fixture
def fresh_store(empty_store, tmp_path) -> str:
    """The URI of a new, empty store of the test's own."""
    shutil.copy(empty_store, tmp_path / "mlruns.db")
    return f"sqlite:///{tmp_path}/mlruns.db"


def make_config(tmp: Path, *overrides: str) -> TrainConfig:
    return to_config(compose(with_seeds([*tracking_overrides(tmp), *overrides])))


def run_cli(
    name: str, *args: str, stdin: bytes | None = None, tmp: Path | None = None, check: bool = True
) -> subprocess.CompletedProcess:
    """Run an installed entry point as a user would, with MLflow pointed at `tmp`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    if name == "paratype-train":
        args = tuple(with_seeds(args))
    if tmp is not None:
        env["MLFLOW_TRACKING_URI"] = f"sqlite:///{tmp}/mlruns.db"
    proc = subprocess.run(
        [str(BIN / name), *args], input=stdin, capture_output=True, env=env, cwd=PROJECT_ROOT, timeout=300
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"{name} failed ({proc.returncode}):\n{proc.stderr.decode()}")
    return proc


@dataclass
class Trained:
    tmp: Path  # holds the MLflow store
    cfg: TrainConfig
    result: TrainResult


@pytest.fixture(scope="session")
def trained(tmp_path_factory, empty_store) -> Trained:
    """One TF-IDF run on the seeds in a temporary MLflow store, shared by the tests that read it."""
    tmp = tmp_path_factory.mktemp("mlflow")
    shutil.copy(empty_store, tmp / "mlruns.db")
    cfg = make_config(tmp)
    return Trained(tmp, cfg, train(cfg))
