"""Experiments: configs compose, reports rebuild from MLflow alone, the champion rule."""

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import mlflow
import numpy as np
import pytest
from conftest import run_cli
from hydra import compose, initialize_config_dir
from omegaconf import open_dict

from paratype.config import CONFIG_DIR, TrackingConfig, register_configs, to_config
from paratype.labels import LABELS
from paratype.registry import ALIAS, REGISTERED_MODEL, promote, resolve_model_uri
from paratype.report import write_report
from paratype.tracking import MODEL_URI_TAG, setup

EXPERIMENTS = sorted(p.stem for p in (CONFIG_DIR / "experiment").glob("*.yaml"))


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_experiment_config_composes_and_validates(name):
    register_configs()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose(config_name="train", overrides=[f"+experiment={name}"], return_hydra_config=True)
    assert str(cfg.hydra.mode) == "RunMode.MULTIRUN" and cfg.hydra.sweeper.params
    with open_dict(cfg):
        del cfg["hydra"]
    train = to_config(cfg)
    assert train.tracking.group == name and train.data.name == "corpus"


def test_sweep_choices_are_real_configs():
    for name in EXPERIMENTS:
        text = (CONFIG_DIR / "experiment" / f"{name}.yaml").read_text()
        for line in text.splitlines():
            if line.strip().startswith("model:") and "," in line:
                for model in line.split(":", 1)[1].strip().split(","):
                    assert (CONFIG_DIR / "model" / f"{model}.yaml").exists()


def fake_run(tracking, group, model, seed, correct, train_size=100, data="corpus", offsets=None):
    """A run as train() logs it, with a test set of 40 paragraphs and `correct` of them right
    (and, with `offsets`, its tuned decision rule's predictions too)."""
    rng = np.random.default_rng(seed)
    gold = [i % 4 for i in range(40)]
    pred = [g if k < correct else (g + 1) % 4 for k, g in enumerate(gold)]
    proba = np.full((40, 4), 0.1)
    proba[np.arange(40), pred] = 0.7
    f1 = correct / 40 + rng.normal(0, 0.01)
    with mlflow.start_run() as run:
        mlflow.set_tags(
            {
                "group": group,
                "model_kind": model,
                "data": data,
                "seed": str(seed),
                "data_fingerprint": "abc",
                "split_version": "corpus-v1",
                "train_size": str(train_size),
                MODEL_URI_TAG: f"runs:/{run.info.run_id}/model",
            }
        )
        metrics = {
            "test/macro_f1": f1,
            "dev/macro_f1": f1,
            "test/accuracy": f1,
            "test/ece": 0.1,
            "test/macro_f1_ci_low": f1 - 0.05,
            "test/macro_f1_ci_high": f1 + 0.05,
            "train/seconds": 3.0,
            "test/paragraphs_per_second": 1000.0,
        }
        metrics |= {f"test/f1/{label}": f1 for label in LABELS}
        mlflow.log_metrics(metrics)
        mlflow.log_dict(
            {
                "labels": list(LABELS),
                "ids": [f"p{i}" for i in range(40)],
                "gold": gold,
                "proba": proba.tolist(),
            },
            "test/predictions.json",
        )
        if offsets is not None:
            mlflow.log_metrics(
                {
                    f"test_tuned/macro_f1{end}": f1 + d
                    for end, d in (("", 0), ("_ci_low", -0.05), ("_ci_high", 0.05))
                }
            )
            mlflow.log_dict(
                {
                    "labels": list(LABELS),
                    "ids": [f"p{i}" for i in range(40)],
                    "gold": gold,
                    "proba": proba.tolist(),
                    "offsets": offsets,
                },
                "test_tuned/predictions.json",
            )
        fig = plt.figure()
        mlflow.log_figure(fig, "test/confusion_matrix.png")
        mlflow.log_figure(fig, "test/reliability.png")
        plt.close(fig)
        mlflow.log_text("stands in for a logged model", "model/MLmodel")
    return run.info.run_id


@pytest.fixture
def store(fresh_store, tmp_path):
    cfg = TrackingConfig(uri=fresh_store, artifact_root=str(tmp_path / "a"), experiment="t")
    setup(cfg)
    yield cfg
    mlflow.end_run()


def test_report_rebuilds_from_mlflow_alone(store, tmp_path):
    for seed in range(3):
        fake_run(store, "cmp", "tfidf", seed, correct=30)
        fake_run(store, "cmp", "transformer", seed, correct=20)
    fake_run(store, "other-group", "tfidf", 0, correct=40)
    path = write_report(store, "cmp", tmp_path / "experiments")
    text = path.read_text()
    assert "| tfidf " in text and "| transformer " in text and "other-group" not in text
    assert "Paired significance" in text
    for image in (
        "macro_f1.png",
        "per_class_f1.png",
        "tfidf_confusion_matrix.png",
        "transformer_reliability.png",
    ):
        assert (path.parent / image).exists()


def test_report_pairs_the_served_decision_rules_too(store, tmp_path):
    for seed in range(2):
        fake_run(store, "cmp", "tfidf", seed, correct=30, offsets=[0.0, 0.0, 0.0, 0.0])
        fake_run(store, "cmp", "transformer", seed, correct=20, offsets=[0.0, 0.1, 0.0, 0.0])
    text = write_report(store, "cmp", tmp_path / "experiments").read_text()
    assert "| argmax " in text and "| tuned rule (served) " in text


def test_report_draws_learning_curves(store, tmp_path):
    for size, correct in ((25, 15), (100, 25), (400, 32)):
        fake_run(store, "curve", "tfidf", 0, correct=correct, train_size=size)
    text = write_report(store, "curve", tmp_path).read_text()
    assert "Learning curve" in text and (tmp_path / "curve" / "learning_curve.png").exists()


def test_champion_changes_only_for_a_clear_win(store):
    first = fake_run(store, "g", "tfidf", 0, correct=20)
    assert promote(first, store).promoted
    close = fake_run(store, "g", "tfidf", 1, correct=21)
    decision = promote(close, store)
    assert not decision.promoted and decision.comparison["ci_low"] <= 0
    clear = fake_run(store, "g", "transformer", 2, correct=38)
    assert promote(clear, store).promoted
    client = mlflow.MlflowClient(store.uri)
    assert client.get_model_version_by_alias(REGISTERED_MODEL, ALIAS).run_id == clear
    assert resolve_model_uri(None, store) == f"models:/{REGISTERED_MODEL}@{ALIAS}"


def _scored_run(split_version: str, ids: list[str], gold: list[int], model: str) -> str:
    """A run of `split_version` with the model folder `model`, its logged test predictions on
    `ids` all correct."""
    proba = np.full((len(ids), 4), 0.1)
    proba[np.arange(len(ids)), gold] = 0.7
    with mlflow.start_run() as run:
        mlflow.log_artifacts(model, "model")
        mlflow.set_tags({"split_version": split_version, MODEL_URI_TAG: f"runs:/{run.info.run_id}/model"})
        predictions = {"labels": list(LABELS), "ids": ids, "gold": gold, "proba": proba.tolist()}
        mlflow.log_dict(predictions, "test/predictions.json")
    return run.info.run_id


def _split_file(path, train: list[str], test: list[str]) -> None:
    rows = [{"id": i, "split": "train"} for i in train] + [{"id": i, "split": "test"} for i in test]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))


def test_a_champion_of_an_older_split_is_rescored_on_the_whole_new_test(store, trained, tmp_path):
    mlflow.set_tracking_uri(trained.cfg.tracking.uri)
    model = mlflow.artifacts.download_artifacts(trained.result.model_uri, dst_path=str(tmp_path / "model"))
    splits = trained.result.data.splits
    train_ids = list(splits["train"]["id"])
    ids = list(splits["test"]["id"]) + list(splits["dev"]["id"])  # the new split's larger test
    gold = list(splits["test"]["label"]) + list(splits["dev"]["label"])
    texts = dict(zip(ids, list(splits["test"]["text"]) + list(splits["dev"]["text"]), strict=True))
    seen = ids[-1]  # the holder trained on it: it, its article and its near-duplicates are left out
    splits = tmp_path / "splits"
    splits.mkdir()
    _split_file(splits / "old.jsonl", [*train_ids, seen], ids[:3])
    _split_file(splits / "new.jsonl", train_ids[1:], ids)  # ...and on train_ids[0], unknown here
    mlflow.set_tracking_uri(store.uri)
    holder = _scored_run("old", ids[:3], gold[:3], model)
    assert promote(holder, store).promoted
    candidate = _scored_run("new", ids, gold, model)
    assert promote(candidate, store, lambda: texts, splits).comparison["n"] == 3  # shared ones only
    _split_file(splits / "new.jsonl", train_ids, ids)
    decision = promote(candidate, store, lambda: texts, splits)
    article = seen.rsplit("-", 2)[0]
    assert 0 < decision.comparison["n"] == sum(not pid.startswith(article) for pid in ids) < len(ids)


def test_a_sweep_that_needs_the_mini_bert_says_so_before_any_job(tmp_path):
    from conftest import run_cli

    proc = run_cli(
        "paratype-train", "+experiment=compare", f"paths.models_dir={tmp_path}", tmp=tmp_path, check=False
    )
    message = proc.stderr.decode().strip()
    assert proc.returncode == 2 and "run `paratype-pretrain` first" in message
    assert len(message.splitlines()) == 1
    assert not (tmp_path / "mlruns.db").exists()  # no TF-IDF job ran first


def test_notes_are_linked_not_pasted(store, tmp_path):
    fake_run(store, "cmp", "tfidf", 0, correct=30)
    (tmp_path / "cmp").mkdir()
    (tmp_path / "cmp" / "NOTES.md").write_text("0.510 ± 0.007, written about another store")
    text = write_report(store, "cmp", tmp_path).read_text()
    assert "[NOTES.md](NOTES.md)" in text and "0.510" not in text


@pytest.mark.slow
def test_a_report_of_another_store_needs_an_out_folder(tmp_path):
    proc = run_cli("paratype-report", "compare", tmp=tmp_path, check=False)
    assert proc.returncode == 2 and "give --out FOLDER" in proc.stderr.decode()
    assert not (tmp_path / "compare").exists()


TINY_SWEEPS = {  # each experiment, run for real on the seeds with one tiny job
    "compare": ["hydra.sweeper.params.model=tfidf", "hydra.sweeper.params.seed=0"],
    "learning_curve": ["hydra.sweeper.params={model:tfidf,data.train_size:12,seed:0}"],
    "tfidf_search": ["hydra.sweeper.n_trials=1"],
}


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_experiment_runs_with_a_tiny_override(name, tmp_path):
    run_cli(
        "paratype-train",
        f"+experiment={name}",
        "data=seeds",
        f"tracking.artifact_root={tmp_path}/artifacts",
        f"hydra.sweep.dir={tmp_path}/sweep",
        *TINY_SWEEPS[name],
        tmp=tmp_path,
    )
    client = mlflow.MlflowClient(f"sqlite:///{tmp_path}/mlruns.db")
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert runs and all(r.info.status == "FINISHED" and r.data.tags["group"] == name for r in runs)
