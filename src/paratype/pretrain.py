"""An in-domain mini BERT: a WordPiece tokenizer and masked-language-model pretraining on the
corpus paragraphs, so the transformer path works with no hub access.

The result is an ordinary Hugging Face model folder (`model=mini_bert` fine-tunes it exactly as
AraBERT is fine-tuned). Articles that hold a dev or test paragraph of any frozen split are left
out, so pretraining never reads the text the models are judged on.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
import time
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

import mlflow
import torch
from datasets import Dataset
from tokenizers import BertWordPieceTokenizer
from transformers import (
    BertConfig,
    BertForMaskedLM,
    DataCollatorForLanguageModeling,
    PreTrainedTokenizerFast,
    Trainer,
    TrainerCallback,
    TrainingArguments,
)

from paratype import tracking
from paratype.config import PretrainConfig, PretrainJobConfig
from paratype.corpus import read_corpus
from paratype.models.transformer_training import runtime_arguments
from paratype.segment import segment_articles
from paratype.splits import evaluation_articles
from paratype.text import NormalizationConfig, clean_and_normalize

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
META_FILE = "paratype_pretrain.json"


def prepare_text(texts: Iterable[str], cfg: NormalizationConfig) -> list[str]:
    """The same cleaning and normalisation the fine-tuned model applies to its input."""
    return [clean_and_normalize(t, cfg) for t in texts]


def train_tokenizer(texts: list[str], cfg: PretrainConfig) -> PreTrainedTokenizerFast:
    wordpiece = BertWordPieceTokenizer(
        clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False
    )
    wordpiece.train_from_iterator(
        texts,
        vocab_size=cfg.vocab_size,
        min_frequency=cfg.min_frequency,
        special_tokens=SPECIAL_TOKENS,
        show_progress=False,
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=wordpiece._tokenizer,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=cfg.max_position_embeddings,
    )


def pack_blocks(texts: list[str], tokenizer: PreTrainedTokenizerFast, length: int) -> Dataset:
    """Tokenise, concatenate and cut into `[CLS] … [SEP]` blocks of exactly `length` tokens."""
    ids = tokenizer(texts, add_special_tokens=False)["input_ids"]
    stream = [token for paragraph in ids for token in (*paragraph, tokenizer.sep_token_id)]
    body = length - 2
    blocks = [
        [tokenizer.cls_token_id, *stream[i : i + body], tokenizer.sep_token_id]
        for i in range(0, len(stream) - body + 1, body)
    ]
    return Dataset.from_dict({"input_ids": blocks})


class MaskedTokensTrainer(Trainer):
    """MLM loss computed on the masked positions only: the vocabulary projection of the other
    85% of tokens is most of the compute on a CPU and contributes nothing to the loss."""

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        hidden = model.bert(**inputs).last_hidden_state
        masked = labels != -100
        logits = model.cls(hidden[masked])
        loss = torch.nn.functional.cross_entropy(logits, labels[masked])
        return (loss, logits) if return_outputs else loss


class MlflowLossCallback(TrainerCallback):
    """Logs the training loss into the run our code opened (the Trainer's own reporters are off)."""

    def __init__(self) -> None:
        self.curve: list[tuple[int, float]] = []

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            self.curve.append((state.global_step, logs["loss"]))
            if mlflow.active_run():
                mlflow.log_metric("pretrain/loss", logs["loss"], step=state.global_step)


def loss_figure(curve: list[tuple[int, float]]):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot([s for s, _ in curve], [v for _, v in curve])
    ax.set_xlabel("step")
    ax.set_ylabel("masked-LM loss")
    ax.set_title("mini BERT pretraining")
    fig.tight_layout()
    return fig


def pretrain(texts: list[str], cfg: PretrainConfig, work_dir: Path) -> dict:
    """Train tokenizer and model on `texts`; writes the model folder to cfg.output_dir atomically."""
    started = time.perf_counter()
    texts = prepare_text(texts, cfg.normalization)
    tokenizer = train_tokenizer(texts, cfg)
    blocks = pack_blocks(texts, tokenizer, cfg.block_length)
    model = BertForMaskedLM(
        BertConfig(
            vocab_size=len(tokenizer),
            hidden_size=cfg.hidden,
            num_hidden_layers=cfg.layers,
            num_attention_heads=cfg.heads,
            intermediate_size=cfg.intermediate,
            max_position_embeddings=cfg.max_position_embeddings,
            pad_token_id=tokenizer.pad_token_id,
        )
    )
    args = TrainingArguments(
        output_dir=str(work_dir / "checkpoints"),
        max_steps=cfg.max_steps,
        per_device_train_batch_size=cfg.batch_size,
        learning_rate=cfg.learning_rate,
        warmup_steps=cfg.warmup,
        weight_decay=cfg.weight_decay,
        lr_scheduler_type="linear",
        logging_steps=cfg.logging_steps,
        save_strategy="no",
        **runtime_arguments(cfg.seed),
    )
    losses = MlflowLossCallback()
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=cfg.mlm_probability)
    MaskedTokensTrainer(
        model=model, args=args, train_dataset=blocks, data_collator=collator, callbacks=[losses]
    ).train()
    stats = {
        "paragraphs": len(texts),
        "blocks": len(blocks),
        "tokens": len(blocks) * cfg.block_length,
        "epochs": cfg.max_steps * cfg.batch_size / max(len(blocks), 1),
        "parameters": sum(p.numel() for p in model.parameters()),
        "final_loss": losses.curve[-1][1] if losses.curve else math.nan,
        "seconds": time.perf_counter() - started,
    }
    _save(model, tokenizer, cfg, stats, work_dir)
    if losses.curve and mlflow.active_run():
        tracking.log_figure(loss_figure(losses.curve), "pretrain_loss.png")
    return stats


def _save(model, tokenizer, cfg: PretrainConfig, stats: dict, work_dir: Path) -> None:
    staged = work_dir / "model"
    model.save_pretrained(staged)
    tokenizer.save_pretrained(staged)
    (staged / META_FILE).write_text(json.dumps({"config": asdict(cfg), "stats": stats}, indent=2))
    target = Path(cfg.output_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        shutil.rmtree(target)
    shutil.move(str(staged), target)


def corpus_texts(cfg: PretrainJobConfig) -> list[str]:
    """Corpus paragraphs to pretrain on, minus the articles that hold evaluation paragraphs."""
    articles = read_corpus(Path(cfg.paths.corpus_dir))
    if cfg.pretrain.exclude_eval_articles:
        held_out = evaluation_articles(Path(cfg.paths.splits_dir))
        articles = (a for a in articles if a.article_id not in held_out)
    texts = [p.text for p in segment_articles(articles, cfg.data.segmentation)]
    return texts[: cfg.pretrain.max_paragraphs] if cfg.pretrain.max_paragraphs else texts


def run(cfg: PretrainJobConfig) -> dict:
    """The whole job inside one MLflow run: texts, tokenizer, pretraining, saved model."""
    texts = corpus_texts(cfg)
    tracking.setup(cfg.tracking)
    with tracking.run(run_name="mini-bert-pretrain"), tempfile.TemporaryDirectory() as tmp:
        mlflow.set_tags({"model_kind": "mini_bert_pretrain", **tracking.git_state()})
        mlflow.log_params(tracking.flatten({"pretrain": asdict(cfg.pretrain)}))
        stats = pretrain(texts, cfg.pretrain, Path(tmp))
        mlflow.log_metrics({f"pretrain/{k}": float(v) for k, v in stats.items()})
    return stats
