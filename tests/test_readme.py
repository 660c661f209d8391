"""The README's two set-up commands are the project's contract with a fresh machine."""

import argparse
import importlib
import re
import shlex

import pytest

from paratype.config import PROJECT_ROOT, compose, to_config, to_pretrain_config


def setup_commands() -> list[str]:
    readme = (PROJECT_ROOT / "README.md").read_text()
    return re.findall(r"```bash\n(.+?)\n```", readme.split("## Use")[0])


def test_readme_starts_with_exactly_two_setup_commands():
    commands = setup_commands()
    assert len(commands) == 2
    assert "paratype-train" in commands[0] and "pytest" in commands[1]


def test_ci_runs_the_readme_test_command():
    ci = (PROJECT_ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == setup_commands()[1]


def _usage_commands() -> list[list[str]]:
    """Every paratype command the README's usage sections show, as argv lists."""
    readme = (PROJECT_ROOT / "README.md").read_text().split("## Use", 1)[1]
    commands = []
    for block in re.findall(r"```bash\n(.+?)\n```", readme, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            for part in re.sub(r"\s+#\s.*$", "", line).split("|"):
                argv = shlex.split(part.replace("<", "'<").replace(">", ">'"))
                if argv[:1] == ["torchrun"] and "--no-python" in argv:  # the launcher, then the command
                    argv = argv[argv.index("--no-python") + 1 :]
                if argv and argv[0].startswith("paratype-"):
                    commands.append(argv)
    return commands


def _known_options(parser: argparse.ArgumentParser, argv: list[str]) -> set[str]:
    options = {o for a in parser._actions for o in a.option_strings}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            chosen = next((c for c in argv if c in action.choices), None)
            options |= _known_options(action.choices[chosen], []) if chosen else set()
    return options


PARSERS = {  # the entry points whose arguments live in a parser of their own
    "paratype-predict": "paratype.cli.predict",
    "paratype-evaluate": "paratype.cli.evaluate",
    "paratype-annotate": "paratype.cli.annotate",
    "paratype-data": "paratype.cli.data",
    "paratype-weak": "paratype.cli.weak",
    "paratype-predict-spark": "paratype.cli.predict_spark",
}


@pytest.mark.slow  # one Hydra composition per command: about 20 s in all
@pytest.mark.parametrize("argv", _usage_commands(), ids=" ".join)
def test_every_readme_command_uses_real_options_and_config_keys(argv):
    """Dry, but where README lines rot: an option a CLI no longer has, a config key or value the
    schema refuses (`model.onnx_int8=true` once failed exactly as the README gave it)."""
    program, args = argv[0], argv[1:]
    if program in PARSERS:
        known = _known_options(importlib.import_module(PARSERS[program])._parser(), args)
        assert {a.split("=")[0] for a in args if a.startswith("--")} <= known
    overrides = [a for a in args if "=" in a and not a.startswith(("-", "'"))]
    if program == "paratype-pretrain":
        to_pretrain_config(compose(overrides, config_name="pretrain"))
    elif program == "paratype-train" and not any(o.startswith("+experiment=") for o in overrides):
        to_config(compose(overrides))
    elif program in PARSERS or program == "paratype-train":
        compose(overrides)  # the sweeps compose; their jobs are validated one by one
