"""Hydra callbacks of the experiment sweeps: check what every job needs before the first runs."""

from __future__ import annotations

import sys
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig


class RequireEncoder(Callback):
    """A sweep with `model=mini_bert` (or `ensemble`) jobs needs the pretrained encoder: say so
    in one line at the start, not after the TF-IDF jobs have run."""

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        models = str(config.hydra.sweeper.params.get("model", ""))
        folder = Path(config.paths.models_dir) / "mini-bert"
        if ("mini_bert" in models or "ensemble" in models) and not folder.is_dir():
            print(
                f"paratype-train: error: this sweep fine-tunes the mini BERT, and {folder} does not "
                "exist; run `paratype-pretrain` first (or sweep model=tfidf alone)",
                file=sys.stderr,
            )
            sys.exit(2)
