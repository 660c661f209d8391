"""Which process this is when `torchrun` starts several: they all fine-tune, rank 0 alone
tracks, evaluates and logs, so a multi-process job is still one MLflow run."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DISTRIBUTED_KINDS = ("transformer", "ensemble")  # the kinds whose fit runs on several processes


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


@contextmanager
def training_folder() -> Iterator[str]:
    """The Trainer's checkpoint folder, removed afterwards. Under torchrun every rank gets the
    same one (rank 0 writes the checkpoints, every rank reloads the best), named after the
    TORCHELASTIC_RUN_ID that torchrun gives them all; the process group ends with it, and
    rank 0, alone from then on, takes back the cores torchrun shared out (it starts every
    process with one thread) for the evaluation that follows."""
    if world_size() == 1:
        with tempfile.TemporaryDirectory() as tmp:
            yield tmp
        return
    folder = Path(tempfile.gettempdir()) / f"paratype-{os.environ.get('TORCHELASTIC_RUN_ID', 'torchrun')}"
    folder.mkdir(exist_ok=True)
    try:
        yield str(folder)
    finally:
        import torch
        import torch.distributed as dist

        if dist.is_initialized():
            dist.barrier()  # no rank still reading a checkpoint
            dist.destroy_process_group()
        if is_main_process():
            shutil.rmtree(folder, ignore_errors=True)
            torch.set_num_threads(os.cpu_count() or 1)
