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
import sys
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
from paratype.errors import InputError
from paratype.models.transformer import runtime_arguments
from paratype.segment import segment_articles
from paratype.splits import evaluation_articles
from paratype.text import NormalizationConfig, clean_and_normalize_all

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
META_FILE = "paratype_pretrain.json"


def prepare_text(texts: Iterable[str], cfg: NormalizationConfig) -> list[str]:
    """The same cleaning and normalisation the fine-tuned model applies to its input."""
    return clean_and_normalize_all(texts, cfg)


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


class StepPlan(TrainerCallback):
    """How many steps this run takes: `max_steps`, or fewer when the wall-clock budget ends
    first. The learning-rate schedule reads the plan, so a budgeted run still warms up and
    decays to zero, and it stops with a usable model when the budget is spent."""

    measure_after = 20  # steps before the speed is trusted (the first ones are slow)

    def __init__(self, cfg: PretrainConfig, started: float) -> None:
        self.cap = cfg.max_steps or 10**9
        self.total = cfg.max_steps or 10**9
        self.budget = cfg.max_minutes * 60
        self.started = started
        self.warmup = cfg.warmup
        self.mark: tuple[int, float] | None = None

    def lr_factor(self, step: int) -> float:
        progress = step / max(self.total, 1)
        if progress < self.warmup:
            return progress / self.warmup
        return max(0.0, (1 - progress) / (1 - self.warmup))

    def on_step_end(self, args, state, control, **kwargs):
        now = time.monotonic()
        if self.budget:
            self.mark = self.mark or (state.global_step, now)
            done, since = state.global_step - self.mark[0], now - self.mark[1]
            left = self.budget - (now - self.started)
            if done >= self.measure_after:
                self.total = min(self.cap, state.global_step + int(done / since * max(left, 0)))
            if left <= 0:
                self.total = state.global_step
        if state.global_step >= self.total:
            control.should_training_stop = control.should_save = True  # the last checkpoint, too
        return control

    def on_log(self, args, state, control, logs=None, **kwargs):
        if self.budget and logs and "loss" in logs:
            left = self.budget - (time.monotonic() - self.started)
            print(
                f"pretrain: step {state.global_step} of {self.total} planned, loss {logs['loss']:.3f}, "
                f"{max(left, 0) / 60:.1f} min of the budget left",
                file=sys.stderr,
            )


class MaskedTokensTrainer(Trainer):
    """MLM loss computed on the masked positions only: the vocabulary projection of the other
    85% of tokens is most of the compute on a CPU and contributes nothing to the loss. The
    learning rate follows the step plan (a budget may end the run before `max_steps`)."""

    def __init__(self, *args, plan: StepPlan, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.plan = plan

    def create_scheduler(self, num_training_steps: int, optimizer=None):
        plan = self.plan  # a closure, not a bound method: the scheduler state stays picklable
        self.lr_scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer or self.optimizer, lambda step: plan.lr_factor(step)
        )
        return self.lr_scheduler

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


def pretrain(texts: list[str], cfg: PretrainConfig, work_dir: Path, started: float | None = None) -> dict:
    """Train tokenizer and model on `texts`; writes the model folder to cfg.output_dir atomically.

    `work_dir` keeps the tokenizer and the last checkpoint, so `cfg.resume` continues an
    interrupted or budgeted run; `started` is when the job's clock (for `max_minutes`) began."""
    started = time.monotonic() if started is None else started
    texts = prepare_text(texts, cfg.normalization)
    checkpoint = _prepare_work_dir(work_dir, cfg.resume)
    tokenizer = _tokenizer(texts, cfg, work_dir / "tokenizer")
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
    plan = StepPlan(cfg, started)
    args = TrainingArguments(
        output_dir=str(work_dir / "checkpoints"),
        max_steps=plan.cap,
        per_device_train_batch_size=cfg.batch_size,
        learning_rate=cfg.learning_rate,
        weight_decay=cfg.weight_decay,
        logging_steps=cfg.logging_steps,
        save_strategy="steps",
        save_steps=cfg.save_steps,
        save_total_limit=1,
        **runtime_arguments(cfg.seed),
    )
    losses = MlflowLossCallback()
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=cfg.mlm_probability)
    trainer = MaskedTokensTrainer(
        model=model,
        args=args,
        train_dataset=blocks,
        data_collator=collator,
        callbacks=[plan, losses],
        plan=plan,
    )
    steps = trainer.train(resume_from_checkpoint=checkpoint).global_step
    stats = {
        "paragraphs": len(texts),
        "blocks": len(blocks),
        "steps": steps,
        "tokens_seen": steps * cfg.batch_size * cfg.block_length,
        "epochs": steps * cfg.batch_size / max(len(blocks), 1),
        "parameters": sum(p.numel() for p in model.parameters()),
        "final_loss": losses.curve[-1][1] if losses.curve else math.nan,
        "seconds": time.monotonic() - started,
    }
    _save(model, tokenizer, cfg, stats, work_dir)
    if losses.curve and mlflow.active_run():
        tracking.log_figure(loss_figure(losses.curve), "pretrain_loss.png")
    return stats


def _prepare_work_dir(work_dir: Path, resume: bool) -> str | None:
    """The checkpoint to resume from (resume) or a clean work folder (a fresh start)."""
    if not resume:
        shutil.rmtree(work_dir, ignore_errors=True)
        work_dir.mkdir(parents=True)
        return None
    saved = sorted((work_dir / "checkpoints").glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    if not saved or not (work_dir / "tokenizer").is_dir():
        raise InputError(
            f"pretrain.resume=true: no checkpoint in {work_dir}; start without pretrain.resume=true"
        )
    return str(saved[-1])


def _tokenizer(texts: list[str], cfg: PretrainConfig, folder: Path) -> PreTrainedTokenizerFast:
    """The run's tokenizer: trained once, kept beside the checkpoints, reloaded on resume."""
    if folder.is_dir():
        return PreTrainedTokenizerFast.from_pretrained(folder)
    tokenizer = train_tokenizer(texts, cfg)
    tokenizer.save_pretrained(folder)
    return tokenizer


def _save(model, tokenizer, cfg: PretrainConfig, stats: dict, work_dir: Path) -> None:
    staged = work_dir / "model"
    shutil.rmtree(staged, ignore_errors=True)
    model.to(getattr(torch, cfg.save_dtype)).save_pretrained(staged, max_shard_size=cfg.max_shard_size)
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


def work_dir(cfg: PretrainJobConfig) -> Path:
    """Where a pretraining keeps its tokenizer and checkpoints: one folder per output model."""
    return Path(cfg.paths.cache_dir) / "pretrain" / Path(cfg.pretrain.output_dir).name


def run(cfg: PretrainJobConfig) -> dict:
    """The whole job inside one MLflow run: texts, tokenizer, pretraining, saved model."""
    started = time.monotonic()
    texts = corpus_texts(cfg)
    tracking.setup(cfg.tracking)
    with tracking.run(run_name="mini-bert-pretrain"):
        mlflow.set_tags({"model_kind": "mini_bert_pretrain", **tracking.git_state()})
        mlflow.log_params(tracking.flatten({"pretrain": asdict(cfg.pretrain)}))
        stats = pretrain(texts, cfg.pretrain, work_dir(cfg), started)
        mlflow.log_metrics({f"pretrain/{k}": float(v) for k, v in stats.items()})
    return stats
