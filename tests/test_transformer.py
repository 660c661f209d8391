"""The transformer path end to end with a tiny BERT pretrained here (no download)."""

import json
import time
from dataclasses import replace
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import torch
from conftest import BIN, make_config, run_cli, tracking_overrides

from paratype.config import PretrainConfig
from paratype.data import SPLITS
from paratype.errors import InputError
from paratype.models import ensemble, tfidf_training, transformer
from paratype.pretrain import META_FILE, StepPlan, pretrain
from paratype.text import NormalizationConfig
from paratype.train import train

TINY = PretrainConfig(
    vocab_size=300,
    min_frequency=1,
    layers=1,
    hidden=32,
    heads=2,
    intermediate=64,
    block_length=32,
    max_position_embeddings=128,
    batch_size=8,
    max_steps=3,
    logging_steps=1,
)
FINE_TUNE = [
    "model=mini_bert",
    "model.max_length=32",
    "model.window_stride=8",
    "model.epochs=1",
    "model.batch_size=8",
]


@pytest.fixture(scope="module")
def seed_texts(tmp_path_factory) -> list[str]:
    from paratype.data import build_dataset

    cfg = make_config(tmp_path_factory.mktemp("seeds"))
    return [t for split in build_dataset(cfg.data, cfg.paths).splits.values() for t in split["text"]]


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory, seed_texts):
    """Pretraining smoke test on a tiny corpus (the seed paragraphs); the result feeds the rest."""
    tmp = tmp_path_factory.mktemp("tiny")
    tiny = PretrainConfig(**{**TINY.__dict__, "output_dir": str(tmp / "tiny-bert")})
    stats = pretrain(seed_texts, tiny, tmp / "work")
    assert np.isfinite(stats["final_loss"]) and stats["blocks"] > 0
    return tmp / "tiny-bert"


@pytest.mark.slow
def test_a_budget_ends_with_a_model_and_resume_continues_from_the_checkpoint(tmp_path, seed_texts):
    output = tmp_path / "budgeted"
    budgeted = PretrainConfig(
        **{**TINY.__dict__, "max_steps": 0, "max_minutes": 0.05, "save_steps": 50, "output_dir": str(output)}
    )
    first = pretrain(seed_texts, budgeted, tmp_path / "work")
    assert first["steps"] > StepPlan.measure_after and (output / "model.safetensors").exists()
    assert first["seconds"] < 3 + 10  # the budget (3 s) plus the time to save
    longer = replace(budgeted, max_steps=first["steps"] + 5, max_minutes=0, resume=True)
    assert pretrain(seed_texts, longer, tmp_path / "work")["steps"] == first["steps"] + 5


def test_the_gpu_recipe_brings_weights_back_as_small_fp16_shards(tmp_path, seed_texts):
    from safetensors import safe_open

    cfg = replace(TINY, save_dtype="float16", max_shard_size="40KB", output_dir=str(tmp_path / "gpu"))
    pretrain(seed_texts, cfg, tmp_path / "work")
    shards = sorted((tmp_path / "gpu").glob("*.safetensors"))
    assert len(shards) > 1 and all(p.stat().st_size <= 40_000 + 2_000 for p in shards)  # + the header
    with safe_open(str(shards[0]), "pt") as f:
        assert {f.get_tensor(k).dtype for k in f.keys()} == {torch.float16}  # noqa: SIM118 (not a dict)


def test_resume_without_a_checkpoint_is_one_line(tmp_path, seed_texts):
    cfg = replace(TINY, resume=True, output_dir=str(tmp_path / "m"))
    with pytest.raises(InputError, match=r"no checkpoint in .*start without pretrain\.resume=true"):
        pretrain(seed_texts, cfg, tmp_path / "work")


def test_pretraining_writes_a_hugging_face_model_folder(tiny_bert):
    names = {p.name for p in tiny_bert.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", META_FILE} <= names
    assert json.loads((tiny_bert / META_FILE).read_text())["config"]["layers"] == 1


@pytest.fixture(scope="module")
def fine_tuned(tiny_bert, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fine")
    cfg = make_config(tmp, *FINE_TUNE, f"model.pretrained={tiny_bert}")
    return tmp, cfg, train(cfg)


def test_fine_tuning_logs_like_tfidf(fine_tuned):
    _tmp, cfg, result = fine_tuned
    client = mlflow.MlflowClient(cfg.tracking.uri)
    run = client.get_run(result.run_id)
    assert run.data.tags["model_kind"] == "transformer"
    assert {"test/macro_f1", "dev/macro_f1", "data/tokens_p95", "data/share_over_max_length"} <= set(
        run.data.metrics
    )
    [epoch] = client.get_metric_history(result.run_id, "epoch/macro_f1")
    assert epoch.step == 1
    assert epoch.value == pytest.approx(run.data.metrics["dev/macro_f1"], abs=1e-6)  # chosen as reported
    assert "token_lengths.png" in {a.path for a in client.list_artifacts(result.run_id)}


@pytest.mark.slow
def test_logged_model_predicts_through_paratype_predict(fine_tuned):
    tmp, _cfg, result = fine_tuned
    lines = [
        json.dumps({"id": i, "text": t}, ensure_ascii=False)
        for i, t in enumerate(result.data.splits["test"]["text"][:3])
    ]
    proc = run_cli("paratype-predict", "--model", result.model_uri, stdin="\n".join(lines).encode(), tmp=tmp)
    out = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert [r["id"] for r in out] == [0, 1, 2]
    assert all(abs(sum(r["scores"].values()) - 1) < 1e-3 for r in out)


@pytest.mark.slow
def test_workers_are_for_tfidf_a_transformer_says_so_in_one_line(fine_tuned):
    tmp, _cfg, result = fine_tuned
    proc = run_cli(
        "paratype-predict",
        "--model",
        result.model_uri,
        "--workers",
        "2",
        stdin="داعش".encode(),
        tmp=tmp,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.decode().splitlines()[-1] == (
        "paratype-predict: error: --workers 2: a transformer model already uses every core in one process; "
        "drop --workers"
    )


def test_long_paragraphs_are_windowed_and_pooled(fine_tuned, tmp_path):
    _tmp, _cfg, result = fine_tuned
    mlflow.artifacts.download_artifacts(result.model_uri, dst_path=str(tmp_path / "m"))
    model = transformer.load_model(next((tmp_path / "m").rglob(transformer.META_FILE)).parent)
    long_text = " ".join(result.data.splits["train"]["text"][:6])
    windows = len(model.encode([long_text], True)["input_ids"])
    pooled = model.predict_proba([long_text])
    model.cfg.long_text = "truncate"  # the first window alone
    first = model.predict_proba([long_text])
    assert windows > 2 and not np.allclose(pooled, first)  # the other windows count
    np.testing.assert_allclose(pooled.sum(axis=1), 1.0, rtol=1e-5)


def test_a_saved_transformer_keeps_only_its_inference_settings(fine_tuned, tmp_path):
    _tmp, _cfg, result = fine_tuned
    mlflow.artifacts.download_artifacts(result.model_uri, dst_path=str(tmp_path / "m"))
    folder = next((tmp_path / "m").rglob(transformer.META_FILE)).parent
    meta = json.loads((folder / transformer.META_FILE).read_text())
    assert set(meta["config"]) == set(transformer.INFERENCE_SETTINGS)
    meta["config"]["a_training_setting_renamed_since"] = 1
    (folder / transformer.META_FILE).write_text(json.dumps(meta))
    assert transformer.load_model(folder).labels == meta["labels"]


def test_truncation_is_flagged_never_silent(fine_tuned, tmp_path):
    _tmp, _cfg, result = fine_tuned
    weights = tmp_path / "w"
    mlflow.artifacts.download_artifacts(result.model_uri, dst_path=str(tmp_path / "m"))
    model = transformer.load_model(next((tmp_path / "m").rglob(transformer.META_FILE)).parent)
    model.cfg.long_text = "truncate"
    model.save(weights)
    reloaded = transformer.load_model(weights)
    texts = ["قصير", " ".join(result.data.splits["train"]["text"][:6])]
    assert reloaded.extra_outputs(texts) == {"truncated": [False, True]}


def test_missing_weights_fail_fast_with_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    started = time.perf_counter()
    with pytest.raises(InputError, match=r"aubmindlab/bert-base-arabertv02.*model\.pretrained="):
        transformer.resolve_pretrained("aubmindlab/bert-base-arabertv02", timeout=3)
    assert time.perf_counter() - started < 30  # a guard against the hub's minute of retries


@pytest.mark.slow
def test_train_with_arabert_offline_is_one_clear_line(tmp_path):
    proc = run_cli(
        "paratype-train", "model=arabert", *tracking_overrides(tmp_path), tmp=tmp_path, check=False
    )
    err = proc.stderr.decode().strip().splitlines()
    assert proc.returncode == 2
    assert err[-1].startswith("paratype-train: error: weights for aubmindlab/bert-base-arabertv02")


def test_splits_feed_the_transformer_unchanged(fine_tuned):
    _tmp, _cfg, result = fine_tuned
    assert sum(len(result.data.splits[s]) for s in SPLITS) == 66


def test_onnx_int8_agrees_with_pytorch_on_the_seeds(fine_tuned, tmp_path):
    _tmp, _cfg, result = fine_tuned
    mlflow.artifacts.download_artifacts(result.model_uri, dst_path=str(tmp_path / "m"))
    torch_model = transformer.load_model(next((tmp_path / "m").rglob(transformer.META_FILE)).parent)
    attention = torch_model.model.config._attn_implementation
    quantised = transformer.quantized(torch_model)
    assert torch_model.model.config._attn_implementation == attention  # exported eager, then restored
    quantised.save(tmp_path / "q")
    reloaded = transformer.load_model(tmp_path / "q")
    assert reloaded.session is not None
    texts = [t for split in result.data.splits.values() for t in split["text"]]
    reference = torch_model.predict_proba(texts)
    fast = reloaded.predict_proba(texts)
    np.testing.assert_allclose(fast, reference, atol=0.05)  # int8 moves probabilities a little...
    # ...so labels agree wherever that error cannot flip them (a 1-epoch tiny model has many ties)
    error = np.abs(fast - reference).max()
    top2 = np.sort(reference, axis=1)[:, -2:]
    clear = top2[:, 1] - top2[:, 0] > 2 * error
    assert (reference.argmax(axis=1) == fast.argmax(axis=1))[clear].all()
    np.testing.assert_allclose(fast.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize(
    ("folder", "hint"),
    [("/nonexistent/models/mini-bert", "paratype-pretrain"), ("./no/such/model", "check model.pretrained")],
)
def test_a_pretrained_folder_that_does_not_exist_is_one_line(folder, hint):
    with pytest.raises(InputError, match=rf"no such folder; .*{hint}"):
        transformer.resolve_pretrained(folder, timeout=1)


def test_the_ensemble_weight_follows_the_better_half_on_dev():
    gold = [0, 1, 2, 3] * 5
    right = np.eye(4)[gold] * 0.7 + 0.075
    wrong = np.roll(right, 1, axis=1)
    for pooling in ("log", "linear"):
        assert ensemble.fit_weight(gold, right, wrong, 10, pooling) == 0.6  # the evenest mix that is right
        assert ensemble.fit_weight(gold, wrong, right, 10, pooling) == 0.4
        assert ensemble.fit_weight(gold, right, right, 10, pooling) == 0.5  # a tie: the even mix


def test_log_pooling_is_the_renormalised_weighted_geometric_mean():
    lexical, neural = np.array([[0.7, 0.2, 0.1, 0.0]]), np.array([[0.1, 0.6, 0.2, 0.1]])
    pooled = ensemble.mix(lexical, neural, 0.25, "log")
    geometric = np.maximum(lexical, ensemble.FLOOR) ** 0.25 * np.maximum(neural, ensemble.FLOOR) ** 0.75
    np.testing.assert_allclose(pooled, geometric / geometric.sum())
    np.testing.assert_allclose(ensemble.mix(lexical, neural, 0.25, "linear"), 0.25 * lexical + 0.75 * neural)


@pytest.mark.slow
def test_an_ensemble_saved_before_log_pooling_loads_as_linear(fine_tuned, tmp_path):
    sibling = fine_tuned[2]
    neural = mlflow.pyfunc.load_model(sibling.model_uri).unwrap_python_model().classifier.model
    lexical = tfidf_training.fit(make_config(tmp_path, "model=tfidf").model, sibling.data, seed=0)
    ensemble.EnsembleModel(lexical, neural, 0.7, "linear").save(tmp_path)
    (tmp_path / ensemble.META_FILE).write_text('{"tfidf_weight": 0.7}')  # as saved before
    old = ensemble.EnsembleModel.load(tmp_path)
    texts = sibling.data.splits["test"]["text"][:3]
    expected = 0.7 * lexical.predict_proba(texts) + 0.3 * neural.predict_proba(texts)
    assert old.pooling == "linear"
    np.testing.assert_allclose(old.predict_proba(texts), expected, rtol=1e-5)


@pytest.mark.slow
def test_the_ensemble_trains_both_halves_in_one_run_and_serves_as_one_pyfunc(tiny_bert, tmp_path):
    """...with its transformer half quantised to ONNX int8, as any transformer can be."""
    halves = [f"model.transformer.{o.removeprefix('model.')}" for o in FINE_TUNE[1:]]
    onnx = "model.transformer.onnx_int8=true"
    pretrained = f"model.transformer.pretrained={tiny_bert}"
    cfg = make_config(tmp_path, "model=ensemble", pretrained, *halves, onnx, "model.pooling=log")
    result = train(cfg)
    run = mlflow.MlflowClient(cfg.tracking.uri).get_run(result.run_id)
    assert run.data.tags["model_kind"] == "ensemble"
    served = mlflow.pyfunc.load_model(result.model_uri)
    model = served.unwrap_python_model().classifier.model
    assert run.data.metrics["ensemble/tfidf_weight"] == model.weight  # the weight, visible in the store
    assert model.neural.session is not None  # served by ONNX Runtime
    texts = result.data.splits["test"]["text"][:4]
    assert 0 <= model.weight <= 1
    assert model.pooling == "log"  # a renormalised weighted geometric mean, saved with the model
    geometric = np.maximum(model.lexical.predict_proba(texts), ensemble.FLOOR) ** model.weight * np.maximum(
        model.neural.predict_proba(texts), ensemble.FLOOR
    ) ** (1 - model.weight)
    expected = geometric / geometric.sum(axis=1, keepdims=True)
    scores = served.predict(pd.DataFrame({"text": texts})).filter(like="score_").to_numpy()
    np.testing.assert_allclose(scores, expected, rtol=1e-5)


@pytest.mark.slow
def test_the_ensemble_reuses_the_halves_its_sibling_runs_trained(fine_tuned):
    tmp, transformer_cfg, sibling = fine_tuned
    lexical = train(make_config(tmp, "model=tfidf", "model.hash_bits=14"))
    halves = [f"model.transformer.{o.removeprefix('model.')}" for o in FINE_TUNE[1:]]
    pretrained = f"model.transformer.pretrained={transformer_cfg.model.pretrained}"
    cfg = make_config(tmp, "model=ensemble", pretrained, *halves, "model.tfidf.hash_bits=14")
    result = train(cfg)
    tags = mlflow.MlflowClient(cfg.tracking.uri).get_run(result.run_id).data.tags
    assert (tags["transformer_run"], tags["tfidf_run"]) == (sibling.run_id, lexical.run_id)
    texts = sibling.data.splits["test"]["text"][:4]
    reused = mlflow.pyfunc.load_model(result.model_uri).unwrap_python_model().classifier.model
    for half, source in ((reused.neural, sibling), (reused.lexical, lexical)):
        original = mlflow.pyfunc.load_model(source.model_uri).unwrap_python_model().classifier.model
        np.testing.assert_allclose(half.predict_proba(texts), original.predict_proba(texts), rtol=1e-5)
    client = mlflow.MlflowClient(cfg.tracking.uri)
    mlflow.set_tracking_uri(cfg.tracking.uri)
    with mlflow.start_run(experiment_id=client.get_run(sibling.run_id).info.experiment_id):
        other = replace(cfg.model.transformer, epochs=2)
        assert ensemble.finished_model(cfg.model.transformer, sibling.data, seed=1) is None
        assert ensemble.finished_model(other, sibling.data, seed=0) is None  # other settings


@pytest.mark.slow
def test_torchrun_fine_tunes_on_two_processes_into_one_run(tiny_bert, tmp_path):
    proc = run_cli(
        "torchrun",
        "--standalone",
        "--nproc_per_node=2",
        "--no-python",
        str(BIN / "paratype-train"),
        "data=seeds",
        *FINE_TUNE,
        f"model.pretrained={tiny_bert}",
        *tracking_overrides(tmp_path),
        tmp=tmp_path,
    )
    assert proc.stdout.decode().count("run:   ") == 1  # rank 0 reports, rank 1 only trains
    client = mlflow.MlflowClient(f"sqlite:///{tmp_path}/mlruns.db")
    [run] = client.search_runs([client.get_experiment_by_name("paratype").experiment_id])
    assert run.info.status == "FINISHED" and run.data.tags["world_size"] == "2"
    assert "test/macro_f1" in run.data.metrics


def test_torchrun_refuses_a_kind_that_trains_in_one_process(tmp_path, monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(InputError, match="model kind tfidf trains in one process; run it without torchrun"):
        train(make_config(tmp_path))


@pytest.fixture(scope="module")
def arabert_layout(tmp_path_factory, seed_texts) -> Path:
    """A tiny checkpoint in AraBERT's file layout: config.json, a `vocab.txt` WordPiece
    vocabulary (no tokenizer.json) and weights, in a folder named after the checkpoint."""
    from tokenizers import BertWordPieceTokenizer
    from transformers import BertConfig, BertForMaskedLM

    folder = tmp_path_factory.mktemp("hub") / "bert-base-arabertv02"
    folder.mkdir()
    wordpiece = BertWordPieceTokenizer(lowercase=False, strip_accents=False)
    wordpiece.train_from_iterator(
        seed_texts,
        vocab_size=400,
        special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
        show_progress=False,
    )
    wordpiece.save_model(str(folder))
    config = BertConfig(
        vocab_size=wordpiece.get_vocab_size(),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    BertForMaskedLM(config).save_pretrained(folder)
    return folder


@pytest.mark.slow
def test_the_arabert_path_runs_end_to_end_from_a_local_checkpoint_folder(arabert_layout, tmp_path):
    assert {p.name for p in arabert_layout.iterdir()} == {"config.json", "vocab.txt", "model.safetensors"}
    cfg = make_config(tmp_path, "model=arabert", f"model.pretrained={arabert_layout}", *FINE_TUNE[1:])
    assert cfg.model.preprocessing == "arabert"
    result = train(cfg)
    served = mlflow.pyfunc.load_model(result.model_uri)
    out = served.predict(pd.DataFrame({"text": result.data.splits["test"]["text"][:3]}))
    assert out["label"].notna().all()
    model = served.unwrap_python_model().classifier.model
    assert model.preprocess("قال «الخبير»: داعش") == "قال « الخبير » : داعش"  # ArabertPreprocessor's spacing


def test_a_folder_not_named_after_an_arabert_checkpoint_is_one_line(tmp_path):
    with pytest.raises(InputError, match=r"name the folder after its checkpoint"):
        transformer.Preprocessor("arabert", str(tmp_path / "my-weights"), NormalizationConfig())
