"""Fine-tuning for the transformer model: the `transformers` Trainer, early stopping on dev
macro-F1, a class-weighted loss. Kept apart from transformer.py so that loading a model to
predict imports none of it (nor `datasets`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import mlflow
import numpy as np
import torch
from datasets import Dataset
from sklearn.metrics import f1_score
from torch.utils.data import Sampler, SequentialSampler
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    DataCollatorWithPadding,
    EarlyStoppingCallback,
    Trainer,
    TrainerCallback,
    TrainingArguments,
    set_seed,
)
from transformers.utils import logging as transformers_logging

from paratype import distributed, tracking
from paratype.config import TransformerConfig
from paratype.data import SplitData
from paratype.models.transformer import (
    Preprocessor,
    TransformerModel,
    quantized,
    resolve_pretrained,
    runtime_arguments,
)


class WeightedLossTrainer(Trainer):
    """Cross-entropy with per-class weights (None: the plain loss)."""

    def __init__(self, *args, class_weights: torch.Tensor | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.class_weights = class_weights

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        weight = None if self.class_weights is None else self.class_weights.to(outputs.logits.device)
        loss = torch.nn.functional.cross_entropy(outputs.logits, labels, weight=weight)
        return (loss, outputs) if return_outputs else loss

    def _get_eval_sampler(self, eval_dataset: Dataset) -> Sampler | None:
        """Dev in its own order, whatever training's sampler: its windows are pooled by position
        (transformers 5 groups, and so shuffles, the eval set too when training groups by length)."""
        return SequentialSampler(eval_dataset) if self.args.world_size <= 1 else None


class MlflowEpochCallback(TrainerCallback):
    """Per-epoch dev metrics and training loss into the run our code owns."""

    def on_log(self, args, state, control, logs=None, **kwargs):
        step = int(state.epoch or 0)
        metrics = {
            f"epoch/{k.removeprefix('eval_')}": v
            for k, v in (logs or {}).items()
            if isinstance(v, (int, float)) and k not in ("epoch", "step")
        }
        if metrics and mlflow.active_run():
            mlflow.log_metrics(metrics, step=step)


def class_weights(labels: Sequence[int], n: int) -> torch.Tensor:
    """Inverse-frequency weights, as scikit-learn's class_weight='balanced'."""
    counts = np.bincount(np.asarray(labels), minlength=n).astype(float)
    return torch.tensor(len(labels) / (n * np.maximum(counts, 1)), dtype=torch.float32)


def _windows_dataset(model: TransformerModel, split: Dataset, windows: bool) -> tuple[Dataset, list[int]]:
    """The split as model inputs (with `windows`, one row per window), shortest first so that
    evaluation pads little, and each row's paragraph."""
    enc = dict(model.encode(split["text"], windows))
    owner = list(enc.pop("overflow_to_sample_mapping", range(len(split))))
    order = np.argsort([len(ids) for ids in enc["input_ids"]], kind="stable")
    columns = {key: [values[i] for i in order] for key, values in enc.items()}
    owner = [owner[i] for i in order]
    return Dataset.from_dict({**columns, "labels": [split["label"][i] for i in owner]}), owner


def _pooled_macro_f1(owner: list[int], gold: list[int]):
    """Dev macro-F1 per paragraph, its windows' probabilities pooled as prediction pools them:
    the epoch is chosen on the very number the run reports."""

    def compute(eval_pred) -> dict[str, float]:
        logits = np.asarray(eval_pred[0], dtype=float)
        proba = np.exp(logits - logits.max(axis=1, keepdims=True))
        proba /= proba.sum(axis=1, keepdims=True)
        pooled = np.zeros((len(gold), proba.shape[1]))
        np.add.at(pooled, owner, proba)
        return {"macro_f1": float(f1_score(gold, pooled.argmax(axis=1), average="macro"))}

    return compute


def log_token_lengths(model: TransformerModel, data: SplitData) -> None:
    """Histogram of paragraph lengths in tokens, so max_length is chosen from evidence."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    texts = [t for split in data.splits.values() for t in split["text"]]
    lengths = np.array(model.token_lengths(texts))
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.hist(lengths, bins=50)
    ax.axvline(model.cfg.max_length, color="red", label=f"max_length {model.cfg.max_length}")
    ax.set_xlabel("tokens per paragraph")
    ax.set_ylabel("paragraphs")
    ax.legend()
    fig.tight_layout()
    tracking.log_figure(fig, "token_lengths.png")
    mlflow.log_metrics(
        {
            "data/tokens_p50": float(np.percentile(lengths, 50)),
            "data/tokens_p95": float(np.percentile(lengths, 95)),
            "data/tokens_max": float(lengths.max()),
            "data/share_over_max_length": float((lengths > model.cfg.max_length).mean()),
        }
    )


@contextmanager
def _quiet_transformers() -> Iterator[None]:
    """The library's warnings off for one call, at its previous level afterwards."""
    level = transformers_logging.get_verbosity()
    transformers_logging.set_verbosity_error()
    try:
        yield
    finally:
        transformers_logging.set_verbosity(level)


def fit(cfg: TransformerConfig, data: SplitData, seed: int) -> TransformerModel:
    """Fine-tune on train, pick the epoch by dev macro-F1; test stays unseen."""
    set_seed(seed)
    runtime = runtime_arguments(seed)
    source = resolve_pretrained(cfg.pretrained, cfg.hub_timeout)
    labels = data.label_names
    with _quiet_transformers():  # a new head on a pretrained encoder: its load report is expected
        network = AutoModelForSequenceClassification.from_pretrained(
            source,
            num_labels=len(labels),
            id2label=dict(enumerate(labels)),
            label2id={name: i for i, name in enumerate(labels)},
        )
    model = TransformerModel(
        network,
        AutoTokenizer.from_pretrained(source),
        labels,
        cfg,
        Preprocessor(cfg.preprocessing, cfg.pretrained, cfg.normalization),
    )
    if mlflow.active_run():
        log_token_lengths(model, data)
    windows = cfg.long_text == "window"
    with distributed.training_folder() as tmp:
        args = TrainingArguments(
            output_dir=tmp,
            num_train_epochs=cfg.epochs,
            per_device_train_batch_size=cfg.batch_size,
            per_device_eval_batch_size=cfg.eval_batch_size,
            learning_rate=cfg.learning_rate,
            weight_decay=cfg.weight_decay,
            warmup_steps=cfg.warmup,
            lr_scheduler_type=cfg.lr_scheduler,
            gradient_accumulation_steps=cfg.gradient_accumulation_steps,
            train_sampling_strategy="group_by_length" if cfg.group_by_length else "random",
            eval_strategy="epoch",
            save_strategy="epoch",
            save_total_limit=1,
            save_only_model=True,
            load_best_model_at_end=True,
            metric_for_best_model="macro_f1",
            greater_is_better=True,
            logging_strategy="epoch",
            data_seed=seed,
            **runtime,
        )
        train_rows, _ = _windows_dataset(model, data.splits["train"], windows)
        dev_rows, dev_owner = _windows_dataset(model, data.splits["dev"], windows)
        trainer = WeightedLossTrainer(
            model=network,
            args=args,
            train_dataset=train_rows,
            eval_dataset=dev_rows,
            data_collator=DataCollatorWithPadding(model.tokenizer),
            compute_metrics=_pooled_macro_f1(dev_owner, list(data.splits["dev"]["label"])),
            callbacks=[EarlyStoppingCallback(cfg.early_stopping_patience), MlflowEpochCallback()],
            class_weights=class_weights(data.splits["train"]["label"], len(labels))
            if cfg.class_weighted_loss
            else None,
        )
        trainer.train()
    model.model = trainer.model.eval()
    return quantized(model) if cfg.onnx_int8 else model
