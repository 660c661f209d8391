"""Every config value is validated when the job starts, naming the full key."""

import pytest

from paratype.config import compose, to_config
from paratype.errors import InputError


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("model.max_iter=-5", "model.max_iter"),
        ("seed=-1", "seed"),
        ("evaluation.folds=1", "evaluation.folds"),
        ("evaluation.folds=-2", "evaluation.folds"),
        ("data.train_size=-3", "data.train_size"),
        ("evaluation.max_errors_listed=-1", "evaluation.max_errors_listed"),
        ("decision.rule=vote", "decision.rule"),
    ],
)
def test_bad_values_fail_at_start_with_the_full_key(override, key):
    with pytest.raises(InputError, match=key.replace(".", r"\.")):
        to_config(compose([override]))


def test_every_model_key_is_overridable_from_the_command_line():
    """The YAML files extend the dataclass schemas, so keys they do not list still exist."""
    assert to_config(compose(["model=mini_bert", "model.onnx_int8=true"])).model.onnx_int8 is True
    assert to_config(compose(["model.hash_bits=16"])).model.hash_bits == 16


def test_paratype_root_moves_the_workspace_but_not_the_data(monkeypatch, tmp_path):
    monkeypatch.setenv("PARATYPE_ROOT", str(tmp_path))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    cfg = to_config(compose(["data=seeds"]))
    assert cfg.tracking.uri == f"sqlite:///{tmp_path}/mlruns.db"
    assert cfg.tracking.artifact_root == f"{tmp_path}/mlartifacts"
    assert cfg.paths.cache_dir == f"{tmp_path}/.cache" and cfg.paths.models_dir == f"{tmp_path}/models"
    assert cfg.paths.seeds_dir.startswith(cfg.paths.root) and not cfg.paths.seeds_dir.startswith(
        str(tmp_path)
    )


def test_a_missing_configs_folder_says_to_install_from_a_clone(monkeypatch, tmp_path):
    import paratype.config as config

    monkeypatch.setattr(config, "CONFIG_DIR", tmp_path / "configs")
    with pytest.raises(InputError, match="install it editable"):
        config.compose()
