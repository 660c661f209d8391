"""Benchmark of the in-house mini BERT: pretraining, fine-tuning on the gold set, CPU inference.

  PARATYPE_CORPUS_DIR=../shared/corpus/saudinewsnet python benchmarks/mini_bert.py [--run RUN_ID]

With --run, the fine-tuned model and its fine-tuning time come from that MLflow run (e.g. one of
`+experiment=compare`) instead of fine-tuning again here.

Pretraining time is read from the model folder (written by `paratype-pretrain`); fine-tuning
and inference are timed here. On a machine with a GPU the same script times it there.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch
from common import paragraphs_per_second

from paratype.config import compose, to_config
from paratype.data import build_dataset
from paratype.evaluate import evaluate
from paratype.models import tfidf_training, transformer, transformer_training
from paratype.pretrain import META_FILE
from paratype.tracking import MODEL_URI_TAG


def throughput(model, texts: list[str], batch: int) -> float:
    """Paragraphs per second through predict_proba, the network fed `batch` at a time."""
    model.cfg.eval_batch_size = batch
    return paragraphs_per_second(model.predict_proba, texts, batch)


def from_run(run_id: str, cfg) -> tuple[transformer.TransformerModel, float]:
    """The fine-tuned weights and the training time an MLflow run logged."""
    import tempfile

    import mlflow

    client = mlflow.MlflowClient(cfg.tracking.uri)
    run = client.get_run(run_id)
    mlflow.set_tracking_uri(cfg.tracking.uri)
    folder = Path(tempfile.mkdtemp())
    mlflow.artifacts.download_artifacts(run.data.tags[MODEL_URI_TAG], dst_path=str(folder))
    weights = next(folder.rglob(transformer.META_FILE)).parent
    return transformer.load_model(weights), run.data.metrics["train/seconds"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", help="an MLflow run of model=mini_bert data=corpus to reuse")
    args = parser.parse_args()
    cfg = to_config(compose(["data=corpus", "model=mini_bert"]))
    meta = json.loads((Path(cfg.model.pretrained) / META_FILE).read_text())
    data = build_dataset(cfg.data, cfg.paths)
    if args.run:
        model, fine_tune_s = from_run(args.run, cfg)
    else:
        started = time.perf_counter()
        model = transformer_training.fit(cfg.model, data, seed=0)
        fine_tune_s = time.perf_counter() - started
    test = evaluate(model, data.splits["test"], "test", 0).metrics
    lexical = tfidf_training.fit(to_config(compose(["data=corpus"])).model, data, seed=0)
    baseline = evaluate(lexical, data.splits["test"], "test", 0).metrics
    texts = list(data.splits["test"]["text"])
    device = (
        "GPU " + torch.cuda.get_device_name()
        if torch.cuda.is_available()
        else f"CPU ({torch.get_num_threads()} threads, {platform.processor() or platform.machine()})"
    )
    stats = meta["stats"]
    print(f"device: {device}\n")
    print("| what | value |")
    print("|---|---|")
    print(f"| parameters | {stats['parameters'] / 1e6:.1f} M |")
    print(
        f"| pretraining | {stats['seconds'] / 60:.1f} min, {meta['config']['max_steps']} steps, "
        f"{stats['tokens']:,} tokens ({stats['epochs']:.2f} epochs), "
        f"final MLM loss {stats['final_loss']:.2f} |"
    )
    print(f"| fine-tuning on {len(data.splits['train'])} gold paragraphs | {fine_tune_s / 60:.1f} min |")
    print(
        f"| test macro-F1 (95% CI) | {test['test/macro_f1']:.3f} "
        f"({test['test/macro_f1_ci_low']:.3f}–{test['test/macro_f1_ci_high']:.3f}) |"
    )
    print(f"| TF-IDF test macro-F1, same split | {baseline['test/macro_f1']:.3f} |")
    print(f"| inference, batch 1 | {throughput(model, texts[:200], 1):.1f} paragraphs/s |")
    print(f"| inference, batch 32 | {throughput(model, texts, 32):.1f} paragraphs/s |")


if __name__ == "__main__":
    main()
