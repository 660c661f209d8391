"""Which model serves: the champion (the registered model `paratype-predict` serves by default),
else the best comparable run; `--model` names any other.

The best run by dev macro-F1 is the candidate; it takes the `champion` alias from the current
holder only when it wins on the same frozen test paragraphs by more than chance (the 95%
paired-bootstrap interval of the macro-F1 difference lies above zero). A holder of an older
split version was scored on fewer test paragraphs; it is re-scored on every test paragraph of
the candidate's that its own training never saw, so that the two are weighed on more of them.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from mlflow.entities import Run
from mlflow.exceptions import MlflowException

from paratype.config import TrackingConfig
from paratype.decision import decide
from paratype.errors import InputError
from paratype.stats import paired_bootstrap
from paratype.tracking import BEST_METRIC, MODEL_URI_TAG

REGISTERED_MODEL = "paratype"
ALIAS = "champion"


@dataclass
class Decision:
    promoted: bool
    reason: str
    run_id: str
    comparison: dict[str, float] | None = None


def test_predictions(client: mlflow.MlflowClient, run_id: str, split: str = "test") -> dict:
    """A run's logged predictions on `split` ("test_tuned": with the decision rule it serves)."""
    path = client.download_artifacts(run_id, f"{split}/predictions.json")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def test_hash(predictions: dict) -> str:
    """Fingerprint of the test split: the paragraph ids and their gold labels."""
    rows = sorted(zip(predictions["ids"], predictions["gold"], strict=True))
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:12]


def compare(a: dict, b: dict) -> dict[str, float] | None:
    """Paired bootstrap of macro-F1, A − B, on the test paragraphs both runs were scored on,
    judged by A's gold labels (the newer ones, after any audit); None when they share none.

    Runs of one split share every test paragraph; a later split version keeps its predecessor's
    test paragraphs, so a model of the new version can still be weighed against the old champion.
    """
    row_a = {pid: k for k, pid in enumerate(a["ids"])}
    row_b = {pid: k for k, pid in enumerate(b["ids"])}
    common = [pid for pid in a["ids"] if pid in row_b]
    if not common:
        return None
    served_a, served_b = served_labels(a), served_labels(b)
    result = paired_bootstrap(
        [a["gold"][row_a[pid]] for pid in common],
        [served_a[row_a[pid]] for pid in common],
        [served_b[row_b[pid]] for pid in common],
        len(a["labels"]),
    )
    return result | {"n": float(len(common))}


def served_labels(predictions: dict) -> np.ndarray:
    """The labels the logged model gives (its tuned decision rule, when it has one)."""
    return decide(np.asarray(predictions["proba"]), predictions.get("offsets"))


def champion_uri() -> str:
    return f"models:/{REGISTERED_MODEL}@{ALIAS}"


def current_champion(client: mlflow.MlflowClient):
    try:
        return client.get_model_version_by_alias(REGISTERED_MODEL, ALIAS)
    except MlflowException:
        return None


def _crown(client: mlflow.MlflowClient, run_id: str, predictions: dict) -> None:
    version = mlflow.register_model(client.get_run(run_id).data.tags[MODEL_URI_TAG], REGISTERED_MODEL)
    client.set_model_version_tag(REGISTERED_MODEL, version.version, "test_hash", test_hash(predictions))
    client.set_registered_model_alias(REGISTERED_MODEL, ALIAS, version.version)


def promote(
    run_id: str,
    cfg: TrackingConfig,
    test_texts: Callable[[], dict[str, str]] | None = None,
    splits_dir: Path | None = None,
) -> Decision:
    """Register `run_id`'s model as champion if it beats the holder beyond the interval.

    With `test_texts` (the candidate's test paragraphs, id -> text, built only when needed) and
    the committed split files, a holder scored on fewer test paragraphs is re-scored on those of
    them that its training never saw."""
    mlflow.set_tracking_uri(cfg.uri)
    client = mlflow.MlflowClient(cfg.uri)
    candidate = test_predictions(client, run_id)
    holder = current_champion(client)
    if holder is None:
        _crown(client, run_id, candidate)
        return Decision(True, "no champion yet", run_id)
    if holder.run_id == run_id:
        return Decision(False, "already the champion", run_id)
    held = test_predictions(client, holder.run_id)
    if test_texts is not None and splits_dir is not None and not set(candidate["ids"]) <= set(held["ids"]):
        held = _rescored(client, holder.run_id, held, run_id, candidate, test_texts, splits_dir, cfg)
    comparison = compare(candidate, held)
    if comparison is None:
        raise InputError(
            f"run {run_id} shares no test paragraph with the champion (run "
            f"{holder.run_id}); compare runs of one split or of versions that keep each other's test"
        )
    if comparison["ci_low"] > 0:
        _crown(client, run_id, candidate)
        return Decision(True, "wins beyond the 95% interval", run_id, comparison)
    return Decision(False, "not better beyond the 95% interval; the champion stays", run_id, comparison)


def _rescored(
    client: mlflow.MlflowClient,
    holder_id: str,
    held: dict,
    candidate_id: str,
    candidate: dict,
    test_texts: Callable[[], dict[str, str]],
    splits_dir: Path,
    cfg: TrackingConfig,
) -> dict:
    """The holder's predictions on every candidate test paragraph its training never saw (not
    trained on, nor on its article, nor on a near-duplicate); its logged ones, with the reason on
    stderr, when its training paragraphs are not known."""
    from paratype import local_model
    from paratype.segment import split_paragraph_id
    from paratype.splits import near_duplicates_of

    holder = client.get_run(holder_id)
    trained, why_not = _training_paragraphs(holder, client.get_run(candidate_id), splits_dir)
    if why_not:
        print(f"the champion is weighed on the shared test paragraphs only: {why_not}", file=sys.stderr)
        return held
    texts = test_texts()
    ids = candidate["ids"]
    if missing := [pid for pid in ids if pid not in texts]:
        raise InputError(
            f"{len(missing)} of run {candidate_id}'s test paragraphs are not in the configured data "
            f"(first: {missing[0]}); pass the data= override the run was trained with"
        )
    articles = {split_paragraph_id(pid)[0] for pid in trained}
    twins = near_duplicates_of([texts[pid] for pid in ids], [texts[pid] for pid in ids if pid in trained])
    unseen = [k for k, pid in enumerate(ids) if split_paragraph_id(pid)[0] not in articles and k not in twins]
    if not unseen:
        print(
            "the champion is weighed on the shared test paragraphs only: it saw every other", file=sys.stderr
        )
        return held
    print(
        f"the champion is re-scored on the {len(unseen)} of {len(ids)} test paragraphs it never trained on",
        file=sys.stderr,
    )
    # loaded as paratype-predict loads it, whatever version of the code logged it
    with local_model.downloaded(holder.data.tags[MODEL_URI_TAG]) as folder:
        scores = local_model.load(str(folder), cfg).predict(
            pd.DataFrame({"text": [texts[ids[k]] for k in unseen]})
        )
    proba = scores[[f"score_{name}" for name in held["labels"]]].to_numpy()
    gold = [candidate["gold"][k] for k in unseen]
    return held | {"ids": [ids[k] for k in unseen], "gold": gold, "proba": proba.tolist()}


def _training_paragraphs(holder: Run, candidate: Run, splits_dir: Path) -> tuple[set[str], str | None]:
    """The holder's training paragraphs from its split file, or why they are not known. Each must
    be in the candidate's split: there, a paragraph's near-duplicates share its split, so only
    those of the ones now in test can be among the test paragraphs. Silver data is not in a split
    file, so a silver-trained holder is never re-scored."""
    from paratype.splits import read_split_file

    if holder.data.params.get("data.silver.file") not in (None, "", "None"):
        return set(), "it trained on silver labels"
    versions = [run.data.tags.get("split_version", "computed") for run in (holder, candidate)]
    files = [splits_dir / f"{version}.jsonl" for version in versions]
    if not all(f.is_file() for f in files):
        return set(), f"split {versions[0]} or {versions[1]} has no file in {splits_dir}"
    held_split, candidate_split = (read_split_file(f, ()) for f in files)
    trained = {pid for pid, split in held_split.items() if split == "train"}
    if strays := len(trained - candidate_split.keys()):
        return set(), f"{strays} of its training paragraphs are not in split {versions[1]}"
    return trained, None


# ----------------------------------------------------------------------------- resolution


def best_run(cfg: TrackingConfig, where: str = "", order: str = f"metrics.`{BEST_METRIC}` DESC") -> pd.Series:
    """The run with the highest dev macro-F1 that logged a model (`where`: an extra MLflow filter)."""
    mlflow.set_tracking_uri(cfg.uri)
    experiment = mlflow.get_experiment_by_name(cfg.experiment)
    runs = pd.DataFrame()
    if experiment is not None:
        runs = mlflow.search_runs(
            experiment_ids=[experiment.experiment_id],
            filter_string=" and ".join(filter(None, [f"tags.`{MODEL_URI_TAG}` != ''", where])),
            order_by=[order],
            max_results=1,
        )
    if runs.empty:
        raise InputError(
            f"no trained model in experiment '{cfg.experiment}' at {cfg.uri}; "
            "train one first with `paratype-train`"
        )
    return runs.iloc[0]


def newest_run(cfg: TrackingConfig, where: str = "") -> pd.Series:
    """The most recently started run that logged a model (`where`: an extra MLflow filter)."""
    return best_run(cfg, where, order="attributes.start_time DESC")


def best_comparable_run(cfg: TrackingConfig, split_version: str | None = None) -> pd.Series:
    """The best dev run among runs comparable with the newest full-size one: same split version
    and same data fingerprint (a 12-paragraph seeds dev set never outranks the gold set's)."""
    full_size = "params.`data.train_size` = '0'"
    if split_version:
        full_size += f" and tags.split_version = '{split_version}'"
    newest = newest_run(cfg, full_size)
    return best_run(
        cfg,
        f"tags.split_version = '{newest['tags.split_version']}' and "
        f"tags.data_fingerprint = '{newest['tags.data_fingerprint']}'",
    )


def resolve_model_uri(spec: str | None, cfg: TrackingConfig) -> str:
    """`--model` as given (run id, runs:/ or models:/ URI, or a local directory); by default the
    registered champion, else the best dev run comparable with the newest (best_comparable_run)."""
    if spec is None:
        mlflow.set_tracking_uri(cfg.uri)
        if current_champion(mlflow.MlflowClient(cfg.uri)) is not None:
            return champion_uri()
        return best_comparable_run(cfg)[f"tags.{MODEL_URI_TAG}"]
    if Path(spec).is_dir():
        return str(Path(spec).resolve())
    if "/" not in spec and ":" not in spec:  # a bare run id
        mlflow.set_tracking_uri(cfg.uri)
        try:
            return mlflow.get_run(spec).data.tags[MODEL_URI_TAG]
        except (MlflowException, KeyError):
            raise InputError(f"--model {spec}: no run with a logged model has this id at {cfg.uri}") from None
    return spec
