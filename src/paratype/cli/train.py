"""paratype-train: the main job (Hydra). `paratype-train data=seeds model=tfidf`."""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from paratype.cli.common import run_cli
from paratype.config import CONFIG_DIR, check_install, register_configs, to_config

register_configs()


@hydra.main(config_path=str(CONFIG_DIR), config_name="train", version_base="1.3")
def _main(raw: DictConfig) -> float:
    """Returns dev macro-F1: the objective of hyper-parameter sweeps."""
    objective: list[float] = []

    def body() -> None:
        from paratype.data import SPLITS
        from paratype.train import summary_table, train

        cfg = to_config(raw)
        result = train(cfg)
        if result is None:  # a torchrun worker: rank 0 reports
            return
        counts = ", ".join(f"{s} {len(result.data.splits[s])}" for s in SPLITS)
        print(
            f"data={cfg.data.name} ({counts} paragraphs, fingerprint {result.data.fingerprint}) "
            f"model={cfg.model.kind}"
        )
        print(summary_table(result))
        print(f"run:   {result.run_id} in experiment '{cfg.tracking.experiment}' at {cfg.tracking.uri}")
        print(f"model: {result.model_uri}")
        if result.page:
            print(f"page:  {result.page} (the seed articles as this model labels them; open it in a browser)")
        objective.append(result.evaluations[0].metrics["dev/macro_f1"])

    run_cli("paratype-train", body, exit_on_success=False)
    return objective[0] if objective else float("nan")


def main() -> None:
    run_cli("paratype", check_install, exit_on_success=False)
    _main()
