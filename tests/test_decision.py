"""The tuned decision rule: fitted for macro-F1, stored in the logged model, applied when served."""

import mlflow
import numpy as np
import pandas as pd

from paratype import tracking
from paratype.decision import decide, fit_offsets
from paratype.stats import macro_f1


def test_offsets_recover_a_rare_class_that_argmax_never_picks():
    rng = np.random.default_rng(0)
    gold = np.array([0] * 20 + [1] * 180)
    # the rare class 0 is always scored below 0.5, though higher for its own paragraphs
    p0 = np.where(gold == 0, rng.uniform(0.3, 0.45, 200), rng.uniform(0.05, 0.3, 200))
    proba = np.column_stack([p0, 1 - p0])
    assert (decide(proba, None) == 1).all()
    offsets = fit_offsets(gold, proba, reference=1)
    assert offsets[1] == 0 and offsets[0] > 0
    assert macro_f1(gold, decide(proba, offsets), 2) > macro_f1(gold, decide(proba, None), 2) + 0.3


def test_offsets_stay_zero_when_argmax_is_already_best():
    gold = np.array([0, 1, 1, 0])
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.1, 0.9], [0.7, 0.3]])
    assert fit_offsets(gold, proba, reference=1).tolist() == [0.0, 0.0]


def test_run_logs_both_rules_and_the_model_serves_the_tuned_one(trained):
    metrics = mlflow.MlflowClient(trained.cfg.tracking.uri).get_run(trained.result.run_id).data.metrics
    assert {"test/macro_f1", "test_tuned/macro_f1", "dev_tuned/macro_f1"} <= metrics.keys()
    offsets = next(e.offsets for e in trained.result.evaluations if e.split == "test_tuned")
    model = tracking.load_model(trained.result.model_uri, trained.cfg.tracking)
    texts = trained.result.data.splits["test"]["text"]
    served = model.predict(pd.DataFrame({"text": texts}))
    labels = trained.result.data.label_names
    proba = served[[f"score_{name}" for name in labels]].to_numpy()
    assert served["label"].tolist() == [labels[i] for i in decide(proba, offsets)]


def test_offsets_are_saved_with_the_model_and_move_only_the_label(trained, tmp_path):
    """A model logged with a strong offset for one label serves that label for every paragraph,
    while its scores stay the calibrated probabilities."""
    from paratype.models import tfidf

    cfg, result = trained.cfg, trained.result
    local = mlflow.artifacts.download_artifacts(result.model_uri, dst_path=str(tmp_path / "a"))
    weights = tfidf.load_model(next(tmp_path.rglob(tfidf.ARRAYS_FILE)).parent)
    tracking.setup(cfg.tracking)
    with mlflow.start_run():
        biased = tracking.log_model(weights, {}, ["نص"], offsets=[30.0, 0.0, 0.0, 0.0])
    texts = result.data.splits["dev"]["text"]
    plain = mlflow.pyfunc.load_model(local).predict(pd.DataFrame({"text": texts}))
    served = tracking.load_model(biased, cfg.tracking).predict(pd.DataFrame({"text": texts}))
    assert set(served["label"]) == {weights.labels[0]}
    np.testing.assert_allclose(
        served.filter(like="score_").to_numpy(), plain.filter(like="score_").to_numpy()
    )
