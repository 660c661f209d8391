"""Drive a running Label Studio through its SDK, as readers would through the browser.

Run with the Python of Label Studio's own venv (its dependencies clash with paratype's), by
tests/test_label_studio.py:

    python label_studio_roundtrip.py URL TOKEN TASKS CONFIG ANSWERS EXPORT

It creates a project with the labelling config, imports the tasks, annotates them as ANSWERS
says ({paragraph id: {"label": ..., "note": ...}} or "cancel"; tasks not named stay unlabelled),
and writes the project's JSON export (a snapshot, every task included) to EXPORT.
"""

import json
import sys
import time
from pathlib import Path

from label_studio_sdk import LabelStudio


def result(answer: dict) -> list[dict]:
    """An annotation's result: the chosen label, and the note when there is one."""
    out = [
        {"from_name": "label", "to_name": "text", "type": "choices", "value": {"choices": [answer["label"]]}}
    ]
    if answer.get("note"):
        out.append(
            {"from_name": "note", "to_name": "text", "type": "textarea", "value": {"text": [answer["note"]]}}
        )
    return out


def snapshot(client: LabelStudio, project: int, timeout: float = 120) -> bytes:
    """The project's JSON export as the export page makes it: a snapshot, with each
    annotation's `completed_by` expanded to the user (id, email, names)."""
    options = {"annotations__completed_by": {"only_id": False}}
    made = client.projects.exports.create(project, title="round trip", serialization_options=options)
    deadline = time.monotonic() + timeout
    while client.projects.exports.get(project, made.id).status != "completed":
        if time.monotonic() > deadline:
            raise TimeoutError(f"export {made.id} of project {project} not ready after {timeout} s")
        time.sleep(0.5)
    return b"".join(client.projects.exports.download(project, made.id, export_type="JSON"))


def main(url: str, token: str, tasks: Path, config: Path, answers: Path, export: Path) -> None:
    client = LabelStudio(base_url=url, api_key=token)
    project = client.projects.create(title="paratype round trip", label_config=config.read_text())
    client.projects.import_tasks(project.id, request=json.loads(tasks.read_text()))
    wanted = json.loads(answers.read_text())
    for task in client.tasks.list(project=project.id):
        answer = wanted.get(task.data["id"])
        if answer == "cancel":
            client.annotations.create(task.id, result=[], was_cancelled=True)
        elif answer is not None:
            client.annotations.create(task.id, result=result(answer))
    export.write_bytes(snapshot(client, project.id))
    print(f"project {project.id}: {len(wanted)} answers, export in {export}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], *map(Path, sys.argv[3:]))
