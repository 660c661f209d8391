"""What bounds fine-tuning the mini BERT on a CPU: training tokens per second of one step.

  python benchmarks/fine_tune_step.py [--steps 12]

One step is a forward pass, the classification loss, the backward pass and an AdamW update on
random token ids, timed after two warm-up steps, for the batch shapes and variants a faster
`+experiment=compare` could try. When every row is about equal, the step is bound by arithmetic
and only fewer training tokens (epochs, paragraphs, length) make fine-tuning faster.
"""

from __future__ import annotations

import argparse
import platform
import time

import torch
from transformers import AutoModelForSequenceClassification
from transformers.utils import logging as transformers_logging

from paratype.config import compose, to_config
from paratype.models.transformer import resolve_pretrained

VARIANTS = [  # (batch, tokens, what)
    (16, 96, "as fine-tuned (batch 16)"),
    (32, 96, "batch 32"),
    (16, 64, "64-token sequences"),
    (64, 48, "batch 64 of 48 tokens"),
    (16, 96, "embeddings frozen"),
    (16, 96, "torch.compile"),
]


def tokens_per_second(network, batch: int, length: int, steps: int) -> float:
    optimizer = torch.optim.AdamW([p for p in network.parameters() if p.requires_grad], lr=1e-4)
    ids = torch.randint(5, network.config.vocab_size, (batch, length))
    labels = torch.randint(0, network.config.num_labels, (batch,))
    for step in range(steps + 2):
        if step == 2:
            started = time.perf_counter()
        network(input_ids=ids, attention_mask=torch.ones_like(ids), labels=labels).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return batch * length * steps / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=12)
    args = parser.parse_args()
    transformers_logging.set_verbosity_error()  # a new head on the encoder: its load report is expected
    transformers_logging.disable_progress_bar()
    cfg = to_config(compose(["model=mini_bert"]))
    source = resolve_pretrained(cfg.model.pretrained, cfg.model.hub_timeout)
    print(f"device: CPU ({torch.get_num_threads()} threads, {platform.machine()}), encoder {source}\n")
    print("| variant | batch × tokens | training tokens/s |\n|---|---|--:|")
    for batch, length, what in VARIANTS:
        torch.manual_seed(0)
        network = AutoModelForSequenceClassification.from_pretrained(source, num_labels=4).train()
        if what == "embeddings frozen":
            network.base_model.embeddings.requires_grad_(False)
        timed = torch.compile(network) if what == "torch.compile" else network
        rate = tokens_per_second(timed, batch, length, args.steps)
        print(f"| {what} | {batch} × {length} | {rate:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
