"""A real run into a temporary MLflow store, read back the way users and reports read it."""

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from paratype import local_model, registry, tracking
from paratype.errors import InputError
from paratype.models import tfidf

OBFUSCATED = "القبـ.ـض على العشرات من عنـ.ـاصر د|عـ.ـش في ريف دير الزور"
PLAIN = "القبض على العشرات من عناصر داعش في ريف دير الزور"


def test_run_records_config_data_metrics_and_artifacts(trained):
    cfg, result = trained.cfg, trained.result
    client = mlflow.MlflowClient(cfg.tracking.uri)
    run = client.get_run(result.run_id)
    assert run.data.tags["data_fingerprint"] == result.data.fingerprint
    assert run.data.tags["model_kind"] == "tfidf"
    assert run.data.params["model.C"] == "4.0"
    for name in ("dev/macro_f1", "test/macro_f1", "test/f1/official_warning", "train/seconds"):
        assert name in run.data.metrics
    artifacts = {a.path for a in client.list_artifacts(result.run_id, "test")}
    assert {
        "test/confusion_matrix.png",
        "test/classification_report.txt",
        "test/misclassified.json",
    } <= artifacts
    assert "config.yaml" in {a.path for a in client.list_artifacts(result.run_id)}


def test_logged_model_equals_the_trained_weights(trained, tmp_path):
    cfg, result = trained.cfg, trained.result
    mlflow.set_tracking_uri(cfg.tracking.uri)
    local = mlflow.artifacts.download_artifacts(result.model_uri, dst_path=str(tmp_path))
    weights = next(tmp_path.rglob(tfidf.ARRAYS_FILE)).parent
    texts = result.data.splits["dev"]["text"]
    served = mlflow.pyfunc.load_model(local).predict(pd.DataFrame({"text": texts}))
    assert list(served.columns) == [
        "label",
        *[f"score_{n}" for n in result.data.label_names],
        "truncated",
        "error",
    ]
    assert served["error"].isna().all()
    np.testing.assert_allclose(
        served.filter(like="score_").to_numpy(), tfidf.load_model(weights).predict_proba(texts)
    )


def test_prediction_sees_exactly_what_training_saw(trained):
    """Parity: the logged model cleans raw input itself, so obfuscated and plain text agree."""
    cfg, result = trained.cfg, trained.result
    model = tracking.load_model(result.model_uri, cfg.tracking)
    scores = model.predict(pd.DataFrame({"text": [OBFUSCATED, PLAIN]})).filter(like="score_").to_numpy()
    np.testing.assert_allclose(scores[0], scores[1])
    assert model.model_config["segmentation"]["min_words"] == cfg.data.segmentation.min_words


def test_best_run_is_the_default_model(trained):
    cfg, result = trained.cfg, trained.result
    assert registry.resolve_model_uri(None, cfg.tracking) == result.model_uri
    assert registry.resolve_model_uri(result.run_id, cfg.tracking) == result.model_uri


def _local_copy(trained, tmp_path):
    mlflow.set_tracking_uri(trained.cfg.tracking.uri)
    return Path(mlflow.artifacts.download_artifacts(trained.result.model_uri, dst_path=str(tmp_path)))


LOADERS = [tracking.load_model, local_model.load]  # through MLflow, and as paratype-predict loads


@pytest.mark.parametrize("load", LOADERS)
def test_a_truncated_weights_file_is_one_clear_error(trained, tmp_path, load):
    folder = _local_copy(trained, tmp_path)
    next(folder.rglob(tfidf.ARRAYS_FILE)).write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(InputError, match="cannot load model"):
        load(str(folder), trained.cfg.tracking)


def test_a_malformed_mlmodel_file_is_one_clear_error(trained, tmp_path):
    folder = _local_copy(trained, tmp_path)
    (folder / "MLmodel").write_text("flavors: [unclosed\n")
    with pytest.raises(InputError, match="cannot load model"):
        tracking.load_model(str(folder), trained.cfg.tracking)


def test_the_served_model_labels_only_arabic_paragraphs(trained):
    """One validation for the HTTP server and paratype-predict: an error, never a label."""
    model = tracking.load_model(trained.result.model_uri, trained.cfg.tracking)
    texts = ["", None, 42, "an English sentence", "\ud800" + PLAIN, PLAIN]
    served = model.predict(pd.DataFrame({"text": texts}, dtype=object))
    assert served["label"].isna().tolist() == [True, True, True, True, True, False]
    assert served["error"].tolist()[:5] == [
        "empty text",
        "text must be a string, not NoneType",
        "text must be a string, not int",
        "no Arabic letters; paratype labels Arabic text",
        "text holds an unpaired UTF-16 surrogate (\\ud800-\\udfff); re-encode the input as UTF-8",
    ]
    assert pd.isna(served["error"].iloc[5])


def test_too_many_rows_in_one_request_is_refused(trained):
    from mlflow.exceptions import MlflowException

    from paratype.classifier import MAX_ROWS

    model = tracking.load_model(trained.result.model_uri, trained.cfg.tracking)
    with pytest.raises(MlflowException, match=f"at most {MAX_ROWS}"):
        model.predict(pd.DataFrame({"text": [PLAIN] * (MAX_ROWS + 1)}))


@pytest.mark.parametrize("load", LOADERS)
def test_a_model_file_changed_after_logging_is_refused(trained, tmp_path, load):
    folder = _local_copy(trained, tmp_path)
    weights = next(folder.rglob(tfidf.ARRAYS_FILE))
    weights.write_bytes(weights.read_bytes() + b"\0")
    with pytest.raises(InputError, match="differs from the SHA-256 recorded"):
        load(str(folder), trained.cfg.tracking)


def test_loading_without_mlflow_labels_exactly_as_the_pyfunc(trained, tmp_path):
    folder = _local_copy(trained, tmp_path)
    frame = pd.DataFrame({"text": [*trained.result.data.splits["test"]["text"][:8], "", PLAIN]})
    direct = local_model.load(str(folder), trained.cfg.tracking)
    served = tracking.load_model(str(folder), trained.cfg.tracking)
    pd.testing.assert_frame_equal(direct.predict(frame), served.predict(frame))
    assert direct.model_config == served.model_config


def test_the_served_model_is_remembered_until_the_store_changes(trained, tmp_path, monkeypatch):
    cfg = trained.cfg.tracking
    first = local_model.resolve(None, cfg, tmp_path)
    monkeypatch.setattr(registry, "resolve_model_uri", lambda *a: pytest.fail("the store was queried"))
    assert local_model.resolve(None, cfg, tmp_path) == first
    database = Path(cfg.uri.removeprefix("sqlite:///"))
    database.touch()  # as any new run or alias would change it
    with pytest.raises(pytest.fail.Exception, match="the store was queried"):
        local_model.resolve(None, cfg, tmp_path)
