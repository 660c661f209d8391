"""The served model with no MLflow in the process: how `paratype-predict` starts in a second.

The model `registry.resolve_model_uri` picks is remembered per store and `--model`, with its
local folder, so a start-up queries no store; the folder's classifier is then built directly
(classifier.py, the code the MLflow pyfunc runs), so a start-up imports no MLflow either.
A SQLite store's file changes whenever a run or an alias changes: its size and time stamp key
each entry, so a new champion is never missed. Other stores go through MLflow every time.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from paratype.classifier import ParagraphClassifier
from paratype.config import TrackingConfig
from paratype.errors import InputError
from paratype.io import atomic_path

CACHE_FILE = "resolved-models.json"


def resolve(spec: str | None, cfg: TrackingConfig, cache_dir: Path) -> tuple[str, str]:
    """(the model's URI, the local folder or URI to load it from)."""
    from_folder = spec is not None and Path(spec).is_dir()
    stamp = _store_stamp(cfg.uri)
    if from_folder or stamp is None:
        return (str(Path(spec).resolve()),) * 2 if from_folder else _resolve_in_store(spec, cfg)
    cache, key = cache_dir / CACHE_FILE, f"{cfg.uri} {cfg.experiment} {spec or ''}"
    entries = _read_cache(cache)
    hit = entries.get(key)
    if hit and hit["stamp"] == stamp and Path(hit["folder"]).is_dir():
        return hit["uri"], hit["folder"]
    uri, folder = _resolve_in_store(spec, cfg)
    entries[key] = {"uri": uri, "folder": folder, "stamp": _store_stamp(cfg.uri)}
    with atomic_path(cache) as tmp:
        tmp.write_text(json.dumps(entries, indent=1))
    return uri, folder


def load(source: str, cfg: TrackingConfig) -> Any:
    """The model in `source`: built directly when it is a folder paratype logged, else the
    MLflow pyfunc (another flavour, a remote store). Both have `predict` and `model_config`."""
    flavor = _pyfunc_flavor(Path(source))
    if flavor is None:
        from paratype import tracking

        return tracking.load_model(source, cfg)
    classifier = _classifier(Path(source), flavor)
    warn_on_changed_requirements(Path(source), source)
    return classifier


def from_folder(folder: Path) -> ParagraphClassifier:
    """The classifier of a model folder that paratype logged (downloaded from a run)."""
    flavor = _pyfunc_flavor(folder)
    if flavor is None:
        raise InputError(f"{folder} holds no model logged by paratype; retrain it")
    return _classifier(folder, flavor)


@contextmanager
def downloaded(uri: str) -> Iterator[Path]:
    """A logged model's folder for the time of the block: what is loaded from it stays in
    memory, the copy on disk does not (the tracking URI must be set)."""
    import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        yield Path(mlflow.artifacts.download_artifacts(uri, dst_path=tmp))


def _classifier(folder: Path, flavor: dict) -> ParagraphClassifier:
    artifacts = {name: folder / a["path"] for name, a in flavor["artifacts"].items()}
    try:
        return ParagraphClassifier(artifacts["model"], artifacts["meta"], flavor.get("config"))
    except (ValueError, OSError, KeyError) as err:
        raise InputError(f"cannot load model {folder}: {err}; retrain it or check --model") from None


def _resolve_in_store(spec: str | None, cfg: TrackingConfig) -> tuple[str, str]:
    import mlflow
    from mlflow.exceptions import MlflowException

    from paratype.registry import resolve_model_uri

    uri = resolve_model_uri(spec, cfg)
    mlflow.set_tracking_uri(cfg.uri)
    try:
        return uri, mlflow.artifacts.download_artifacts(uri)
    except (MlflowException, OSError) as err:
        raise InputError(f"cannot find model {uri}: {str(err).splitlines()[0]}; check --model") from None


def _pyfunc_flavor(folder: Path) -> dict | None:
    """The MLmodel's pyfunc section when the folder holds a model served by paratype's code."""
    try:
        flavor = yaml.safe_load((folder / "MLmodel").read_text())["flavors"]["python_function"]
    except (OSError, KeyError, TypeError, yaml.YAMLError):
        return None
    ours = str(flavor.get("model_code_path", "")).endswith("serving.py") and "meta" in flavor.get(
        "artifacts", {}
    )
    return flavor if ours else None


def _read_cache(path: Path) -> dict:
    try:
        return json.loads(path.read_text()) if path.is_file() else {}
    except ValueError:  # a damaged cache is only a cache
        return {}


def _store_stamp(uri: str) -> list[int] | None:
    """Size and modification time of a SQLite store's file; None for other stores."""
    database = Path(uri.removeprefix("sqlite:///"))
    if not uri.startswith("sqlite:///") or not database.is_file():
        return None
    info = database.stat()
    return [info.st_size, info.st_mtime_ns]


def warn_on_changed_requirements(folder: Path, name: str) -> None:
    """One line on stderr naming the pinned packages installed here at another version."""
    if changed := _changed_requirements(folder / "requirements.txt"):
        print(
            f"paratype: model {name} was logged with {', '.join(changed)}; retrain it if scores look off",
            file=sys.stderr,
        )


def _changed_requirements(requirements: Path) -> list[str]:
    """`name version (here other)` for each package the model pinned that is installed at
    another version: the check MLflow's loader makes, in a few milliseconds."""
    from importlib.metadata import PackageNotFoundError, version

    changed = []
    lines = requirements.read_text().splitlines() if requirements.is_file() else []
    for name, _, wanted in (line.partition("==") for line in lines if "==" in line):
        try:
            here = version(name)
        except PackageNotFoundError:
            here = "missing"
        if here != wanted:
            changed.append(f"{name} {wanted} (here {here})")
    return changed
