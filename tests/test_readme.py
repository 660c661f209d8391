"""The README's two set-up commands are the project's contract with a fresh machine."""

import re

from paratype.config import PROJECT_ROOT


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
