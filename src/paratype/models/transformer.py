"""Fine-tuning a BERT-style encoder (AraBERT, or the in-house mini BERT) for paragraph types.

Trained with the `transformers` Trainer on the same splits as TF-IDF: early stopping on dev
macro-F1, optional class-weighted loss, warm-up and a learning-rate schedule. Paragraphs longer
than `max_length` tokens are cut into overlapping windows whose probabilities are averaged
(`long_text: window`), or truncated and flagged (`long_text: truncate`); never silently.
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from urllib.parse import urlparse

import mlflow
import numpy as np
import torch
from datasets import Dataset
from sklearn.metrics import f1_score
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

from paratype import tracking
from paratype.config import TransformerConfig
from paratype.data import SplitData
from paratype.errors import InputError
from paratype.text import NormalizationConfig, deobfuscate, normalize

META_FILE = "paratype_model.json"
ONNX_FILE = "model.int8.onnx"


# ----------------------------------------------------------------------------- weights


def _hub_reachable(timeout: float) -> bool:
    host = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co")).hostname or "huggingface.co"
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def resolve_pretrained(name: str, timeout: float) -> str:
    """A local folder for `name`: as given, from the Hugging Face cache, or downloaded.

    Checks the hub with one bounded connection attempt before downloading, so a machine
    without access fails in seconds instead of retrying for a minute.
    """
    if Path(name).is_dir():
        return name
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    patterns = ["*.json", "*.txt", "*.safetensors", "*.bin", "*.model"]
    try:
        return snapshot_download(name, local_files_only=True, allow_patterns=patterns)
    except LocalEntryNotFoundError:
        pass
    fix = (
        f"download it where the hub is reachable (`huggingface-cli download {name}`) and set "
        "model.pretrained=/path/to/that/folder, or use model=mini_bert"
    )
    if os.environ.get("HF_HUB_OFFLINE") == "1" or not _hub_reachable(timeout):
        raise InputError(f"weights for {name} are not cached and the Hugging Face hub is unreachable; {fix}")
    try:
        return snapshot_download(name, allow_patterns=patterns)
    except Exception as err:  # the hub answered but refused: wrong name, gated model, …
        raise InputError(
            f"cannot download {name} ({type(err).__name__}: {str(err).splitlines()[0]}); {fix}"
        ) from None


# ----------------------------------------------------------------------------- text


class Preprocessor:
    """Raw paragraph -> the text the encoder was (pre)trained on.

    `arabert`: AraBERT's own ArabertPreprocessor for that checkpoint, as its authors prescribe;
    `paratype`: the project's normalisation (what the mini BERT was pretrained on).
    """

    def __init__(self, mode: str, model_name: str, normalization: NormalizationConfig):
        self.mode, self.model_name, self.normalization = mode, model_name, normalization
        if mode == "arabert":
            from arabert.preprocess import ArabertPreprocessor

            self._arabert = ArabertPreprocessor(model_name=model_name)

    def __call__(self, text: str) -> str:
        text = deobfuscate(text)
        if self.mode == "arabert":
            return self._arabert.preprocess(text)
        return normalize(text, self.normalization)


# ----------------------------------------------------------------------------- model


class TransformerModel:
    """A fine-tuned encoder with its tokenizer and preprocessing; cleans raw input itself."""

    kind = "transformer"

    def __init__(
        self,
        model,
        tokenizer,
        labels: list[str],
        cfg: TransformerConfig,
        preprocess: Preprocessor,
        onnx: bytes | None = None,
    ):
        self.model, self.tokenizer, self.labels, self.cfg, self.preprocess = (
            model,
            tokenizer,
            labels,
            cfg,
            preprocess,
        )
        self.model.eval()
        self.onnx = onnx
        self.session = None
        if onnx is not None:
            import onnxruntime

            self.session = onnxruntime.InferenceSession(onnx, providers=["CPUExecutionProvider"])

    def encode(self, texts: Sequence[str], windows: bool) -> dict:
        """Tokenise; with `windows`, long texts become overlapping windows (see overflow map)."""
        return self.tokenizer(
            [self.preprocess(t) for t in texts],
            truncation=True,
            max_length=self.cfg.max_length,
            stride=self.cfg.window_stride if windows else 0,
            return_overflowing_tokens=windows,
        )

    def token_lengths(self, texts: Sequence[str]) -> list[int]:
        """Length in tokens of each preprocessed text, before any cut."""
        return [len(ids) for ids in self.tokenizer([self.preprocess(t) for t in texts])["input_ids"]]

    def truncated(self, texts: Sequence[str]) -> list[bool]:
        """Which texts are longer than max_length tokens (cut in `truncate` mode)."""
        return [n > self.cfg.max_length for n in self.token_lengths(texts)]

    def extra_outputs(self, texts: Sequence[str]) -> dict[str, list]:
        """Per-text flags for the output: `truncated` when long texts are cut."""
        return {"truncated": self.truncated(texts)} if self.cfg.long_text == "truncate" else {}

    @torch.no_grad()
    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        windows = self.cfg.long_text == "window"
        enc = self.encode(texts, windows)
        owner = enc.pop("overflow_to_sample_mapping", list(range(len(texts))))
        proba = np.zeros((len(texts), len(self.labels)))
        counts = np.zeros(len(texts))
        rows = [{k: enc[k][i] for k in ("input_ids", "attention_mask")} for i in range(len(owner))]
        for start in range(0, len(rows), self.cfg.eval_batch_size):
            batch = self.tokenizer.pad(rows[start : start + self.cfg.eval_batch_size], return_tensors="pt")
            logits = torch.from_numpy(self._logits(batch)).float()
            for j, p in enumerate(torch.softmax(logits, dim=-1).numpy()):
                proba[owner[start + j]] += p
                counts[owner[start + j]] += 1
        return proba / counts[:, None]

    def _logits(self, batch) -> np.ndarray:
        """PyTorch, or ONNX Runtime when the model carries its int8 export."""
        if self.session is not None:
            return self.session.run(
                None, {k: batch[k].numpy().astype(np.int64) for k in ("input_ids", "attention_mask")}
            )[0]
        device = next(self.model.parameters()).device
        return self.model(**{k: v.to(device) for k, v in batch.items()}).logits.float().cpu().numpy()

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        if self.onnx is not None:
            (directory / ONNX_FILE).write_bytes(self.onnx)
        self.model.save_pretrained(directory)
        self.tokenizer.save_pretrained(directory)
        (directory / META_FILE).write_text(json.dumps({"labels": self.labels, "config": asdict(self.cfg)}))

    @classmethod
    def load(cls, directory: Path) -> TransformerModel:
        meta = json.loads((directory / META_FILE).read_text())
        cfg = TransformerConfig(
            **{**meta["config"], "normalization": NormalizationConfig(**meta["config"]["normalization"])}
        )
        model = AutoModelForSequenceClassification.from_pretrained(directory)
        tokenizer = AutoTokenizer.from_pretrained(directory)
        onnx = (
            (directory / ONNX_FILE).read_bytes()
            if cfg.onnx_int8 and (directory / ONNX_FILE).exists()
            else None
        )
        preprocess = Preprocessor(cfg.preprocessing, cfg.pretrained, cfg.normalization)
        return cls(model, tokenizer, meta["labels"], cfg, preprocess, onnx)


def load_model(directory: Path) -> TransformerModel:
    return TransformerModel.load(directory)


def export_onnx_int8(model: TransformerModel) -> bytes:
    """The fine-tuned network as ONNX with dynamically quantised int8 weights (ONNX Runtime).

    Exported with eager attention, whose graph ONNX Runtime's BERT optimiser recognises and fuses
    (attention, embeddings + layer norm, GELU) before per-channel quantisation: measured on the
    mini BERT, 2.3x the PyTorch CPU throughput at batch 64 against 1.9x for plain quantisation,
    and per-channel scales keep test macro-F1 within 0.003 of PyTorch (benchmarks/README.md).
    """
    import warnings

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers import optimizer

    network, config = model.model.cpu().eval(), model.model.config
    sample = model.tokenizer(["نص", "نص أطول قليلا"], padding=True, return_tensors="pt")
    attention = config._attn_implementation
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on Hugging Face's Python-side checks
        fp32, fused, int8 = (Path(tmp) / name for name in ("model.onnx", "fused.onnx", ONNX_FILE))
        network.set_attn_implementation("eager")
        try:
            torch.onnx.export(
                network,
                (sample["input_ids"], sample["attention_mask"]),
                str(fp32),
                input_names=["input_ids", "attention_mask"],
                output_names=["logits"],
                opset_version=17,
                dynamic_axes={
                    "input_ids": {0: "batch", 1: "tokens"},
                    "attention_mask": {0: "batch", 1: "tokens"},
                    "logits": {0: "batch"},
                },
                dynamo=False,
            )
        finally:
            network.set_attn_implementation(attention)
        optimizer.optimize_model(
            str(fp32), model_type="bert", num_heads=config.num_attention_heads, hidden_size=config.hidden_size
        ).save_model_to_file(str(fused))
        quantize_dynamic(
            str(fused),
            str(int8),
            weight_type=QuantType.QInt8,
            per_channel=True,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},  # fused ops lack type info
        )
        return int8.read_bytes()


# ----------------------------------------------------------------------------- training


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


def runtime_arguments(seed: int) -> dict:
    """TrainingArguments every job here shares: our code owns the MLflow run (no reporters),
    bf16 on a GPU that supports it, the CPU otherwise."""
    gpu = torch.cuda.is_available()
    return {
        "report_to": "none",
        "seed": seed,
        "bf16": gpu and torch.cuda.is_bf16_supported(),
        "use_cpu": not gpu,
    }


def class_weights(labels: Sequence[int], n: int) -> torch.Tensor:
    """Inverse-frequency weights, as scikit-learn's class_weight='balanced'."""
    counts = np.bincount(np.asarray(labels), minlength=n).astype(float)
    return torch.tensor(len(labels) / (n * np.maximum(counts, 1)), dtype=torch.float32)


def _windows_dataset(model: TransformerModel, split: Dataset, windows: bool) -> Dataset:
    enc = model.encode(split["text"], windows)
    owner = enc.pop("overflow_to_sample_mapping", list(range(len(split))))
    return Dataset.from_dict({**dict(enc), "labels": [split["label"][i] for i in owner]})


def _macro_f1(eval_pred) -> dict[str, float]:
    logits, labels = eval_pred
    return {"macro_f1": float(f1_score(labels, logits.argmax(axis=-1), average="macro"))}


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


def fit(cfg: TransformerConfig, data: SplitData, seed: int) -> TransformerModel:
    """Fine-tune on train, pick the epoch by dev macro-F1; test stays unseen."""
    set_seed(seed)
    source = resolve_pretrained(cfg.pretrained, cfg.hub_timeout)
    labels = data.label_names
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
    with tempfile.TemporaryDirectory() as tmp:
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
            eval_strategy="epoch",
            save_strategy="epoch",
            save_total_limit=1,
            save_only_model=True,
            load_best_model_at_end=True,
            metric_for_best_model="macro_f1",
            greater_is_better=True,
            logging_strategy="epoch",
            data_seed=seed,
            **runtime_arguments(seed),
        )
        trainer = WeightedLossTrainer(
            model=network,
            args=args,
            train_dataset=_windows_dataset(model, data.splits["train"], windows),
            eval_dataset=_windows_dataset(model, data.splits["dev"], windows=False),
            data_collator=DataCollatorWithPadding(model.tokenizer),
            compute_metrics=_macro_f1,
            callbacks=[EarlyStoppingCallback(cfg.early_stopping_patience), MlflowEpochCallback()],
            class_weights=class_weights(data.splits["train"]["label"], len(labels))
            if cfg.class_weighted_loss
            else None,
        )
        trainer.train()
    model.model = trainer.model.eval()
    if cfg.onnx_int8:
        return TransformerModel(
            model.model.cpu(), model.tokenizer, labels, cfg, model.preprocess, export_onnx_int8(model)
        )
    return model
