"""paratype-pretrain: pretrain the in-domain mini BERT on the corpus (Hydra).

paratype-pretrain                       the defaults in configs/pretrain.yaml
paratype-pretrain pretrain.max_steps=200 pretrain.output_dir=/tmp/mini
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from paratype.cli.common import run_cli
from paratype.config import CONFIG_DIR, check_install, register_configs, to_pretrain_config

register_configs()


@hydra.main(config_path=str(CONFIG_DIR), config_name="pretrain", version_base="1.3")
def _main(raw: DictConfig) -> None:
    def body() -> None:
        from paratype.pretrain import run

        cfg = to_pretrain_config(raw)
        stats = run(cfg)
        print(
            f"pretrained on {stats['paragraphs']} paragraphs: {stats['steps']} steps "
            f"({stats['tokens_seen']:,} tokens, {stats['epochs']:.2f} epochs) "
            f"in {stats['seconds'] / 60:.1f} min; "
            f"final masked-LM loss {stats['final_loss']:.3f}"
        )
        print(f"model: {cfg.pretrain.output_dir}")

    run_cli("paratype-pretrain", body)


def main() -> None:
    run_cli("paratype", check_install, exit_on_success=False)
    _main()
