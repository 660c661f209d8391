"""Label Studio as the labelling tool: tasks and a labelling config out, its JSON export back in.

Tasks carry the paragraph id, text and outlet, with the model's label as a pre-annotation the
reader confirms or changes. An export is turned back into worksheet rows, so it passes the very
checks a labelled worksheet does (`annotate.read_worksheet`): known ids, text unchanged since
export, known labels, each paragraph once, and a reader's name.
"""

from __future__ import annotations

import json
import re
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from pathlib import Path

from paratype.annotate import read_worksheet
from paratype.errors import InputError
from paratype.io import atomic_write_text, read_utf8, write_jsonl
from paratype.labels import LABELS, Annotation
from paratype.segment import Paragraph

FROM_NAME, TO_NAME, NOTE_NAME = "label", "text", "note"  # the config's tag names, used in results
HINTS = {  # one line each, from docs/annotation-guidelines.md (decide in this order)
    "field_operation": "عملية ميدانية: a specific operation or incident on the ground happened or was "
    "foiled (raid, arrest, attack, seizure, execution), whoever announces it",
    "official_warning": "تحذير رسمي: a serving official or official body warns of a threat, danger or "
    "risk, or calls for vigilance against it",
    "expert_assessment": "تقييم خبير: analysis, evaluation, explanation or forecast of the security "
    "situation (experts, observers, former officials, officials without warning)",
    "other": "أخرى: anything else: background, history, statistics, politics, diplomacy, boilerplate",
}


def config_path(tasks: Path) -> Path:
    """The labelling config written beside a task file: tasks.json -> tasks.label-config.xml."""
    return tasks.with_suffix(".label-config.xml")


def labelling_config() -> str:
    """A single-choice classification of right-to-left text, with the guidelines' one-line
    definitions as hints and an optional free-text note for hard cases."""
    view = ET.Element("View")
    ET.SubElement(view, "Header", value="$source", size="6")
    rtl = ET.SubElement(view, "View", style="direction: rtl; text-align: right; font-size: 1.15em")
    ET.SubElement(rtl, "Text", name=TO_NAME, value="$text")
    choices = ET.SubElement(
        view, "Choices", name=FROM_NAME, toName=TO_NAME, choice="single-radio", required="true"
    )
    choices.set("showInline", "false")
    for label in LABELS:
        ET.SubElement(choices, "Choice", value=label, hint=HINTS[label])
    ET.SubElement(
        view,
        "TextArea",
        name=NOTE_NAME,
        toName=TO_NAME,
        placeholder="note (optional): why, for a hard case",
        maxSubmissions="1",
        editable="true",
        rows="2",
    )
    ET.indent(view)
    return ET.tostring(view, encoding="unicode") + "\n"


def predict(model, texts: Sequence[str], batch: int = 512) -> list[tuple[str, float]]:
    """(label, score) of a pyfunc model for each text, in batches."""
    import pandas as pd

    out: list[tuple[str, float]] = []
    for start in range(0, len(texts), batch):
        frame = model.predict(pd.DataFrame({"text": list(texts[start : start + batch])}))
        for _, row in frame.iterrows():
            out.append((row["label"], float(row[f"score_{row['label']}"])))
    return out


def build_tasks(
    rows: Sequence[tuple[Paragraph, str]],
    predictions: Sequence[tuple[str, float]] | None = None,
    model_version: str = "",
) -> list[dict]:
    """Label Studio tasks for (paragraph, outlet) rows, each with the model's (label, score) as a
    pre-annotation when given: the reader sees it selected and confirms or changes it."""
    tasks = [{"data": {"id": p.id, "text": p.text, "source": source}} for p, source in rows]
    if predictions is not None:
        for task, (label, score) in zip(tasks, predictions, strict=True):
            task["predictions"] = [
                {
                    "model_version": model_version,
                    "score": round(score, 4),
                    "result": [
                        {
                            "from_name": FROM_NAME,
                            "to_name": TO_NAME,
                            "type": "choices",
                            "value": {"choices": [label]},
                        }
                    ],
                }
            ]
    return tasks


def write_tasks(path: Path, tasks: list[dict]) -> Path:
    """Write the tasks (a JSON array, Label Studio's import format) and the labelling config
    beside them; returns the config's path."""
    atomic_write_text(path, json.dumps(tasks, ensure_ascii=False, indent=1) + "\n")
    config = config_path(path)
    atomic_write_text(config, labelling_config())
    return config


def is_json_array(path: Path) -> bool:
    """Is the file a JSON array (Label Studio tasks or export) rather than a JSONL worksheet?"""
    return read_utf8(path).lstrip().startswith("[")


def read_tasks(path: Path) -> list[dict]:
    """The task objects of a JSON array file; anything else is an InputError naming the file."""
    try:
        tasks = json.loads(read_utf8(path))
    except json.JSONDecodeError as err:
        raise InputError(
            f"{path}: invalid JSON ({err.msg}, line {err.lineno}); export the project again as JSON"
        ) from None
    if not isinstance(tasks, list) or not all(isinstance(t, dict) for t in tasks):
        raise InputError(f"{path} is not a JSON array of tasks; export the project from Label Studio as JSON")
    return tasks


def task_ids(path: Path) -> set[str]:
    """Paragraph ids of a task file or export (so `export --exclude` skips them)."""
    return {
        t["data"]["id"] for t in read_tasks(path) if isinstance(t.get("data"), dict) and "id" in t["data"]
    }


def read_export(
    path: Path, annotator: str, known: dict[str, Paragraph], skip_unlabelled: bool = False
) -> tuple[list[Annotation], int]:
    """Validated annotations of a Label Studio JSON export, and how many tasks had no label.

    Each labelled annotation becomes a worksheet row checked by `read_worksheet`; its messages
    name the export's task, not the temporary worksheet. The reader is the annotation's
    `completed_by` email, else `annotator`. Cancelled (skipped) annotations are not labels.
    """
    rows, places, unlabelled = _export_rows(path, annotator)
    if unlabelled and not skip_unlabelled:
        more = f" (and {len(unlabelled) - 1} more task(s))" if len(unlabelled) > 1 else ""
        raise InputError(
            f"{unlabelled[0]} has no label{more}; label it in Label Studio and export again, "
            "or pass --skip-unlabelled"
        )
    if not rows:
        raise InputError(f"{path} has no labelled task; label some in Label Studio and export again")
    with tempfile.TemporaryDirectory() as tmp:
        sheet = Path(tmp) / "export.jsonl"
        write_jsonl(sheet, rows)
        try:
            records = read_worksheet(sheet, annotator, known)
        except InputError as err:
            line = re.compile(re.escape(str(sheet)) + r":(\d+)")
            raise InputError(line.sub(lambda m: places[int(m.group(1)) - 1], str(err))) from None
    return records, len(unlabelled)


def _export_rows(path: Path, annotator: str) -> tuple[list[dict], list[str], list[str]]:
    """Worksheet rows of the labelled annotations, where each came from, and the unlabelled tasks."""
    rows: list[dict] = []
    places: list[str] = []
    unlabelled: list[str] = []
    for task in read_tasks(path):
        data = task.get("data")
        paragraph = data.get("id") if isinstance(data, dict) else None
        where = f"{path} task {task.get('id', '?')}" + (f" ({paragraph})" if paragraph else "")
        if not paragraph:
            raise InputError(
                f"{where} has no data.id; import the tasks that "
                "`paratype-annotate export --format label-studio` wrote"
            )
        labelled = [(a, label) for a in _annotations(task, where) if (label := _label(a, where))]
        if not labelled:
            unlabelled.append(where)
        for k, (annotation, label) in enumerate(labelled, start=1):
            rows.append(_row(data, annotation, label, annotator, where))
            places.append(f"{where} annotation {k}" if len(labelled) > 1 else where)
    return rows, places, unlabelled


def _annotations(task: dict, where: str) -> list[dict]:
    """A task's annotations, checked for shape (a hand-edited export can break it)."""
    annotations = task.get("annotations", [])
    if not isinstance(annotations, list) or not all(isinstance(a, dict) for a in annotations):
        raise InputError(f"{where}: `annotations` is not a list of objects; export the project again as JSON")
    return annotations


def _label(annotation: dict, where: str) -> str | None:
    """The label an annotation chose; None when it was cancelled or chose none."""
    if annotation.get("was_cancelled"):
        return None
    chosen = [c for r in _results(annotation, FROM_NAME) for c in r.get("value", {}).get("choices", [])]
    if len(chosen) > 1:
        raise InputError(
            f"{where}: one annotation chose {len(chosen)} labels ({', '.join(chosen)}); choose one "
            "(the labelling config that paratype wrote allows a single choice)"
        )
    return chosen[0] if chosen else None


def _results(annotation: dict, name: str) -> Iterable[dict]:
    """The result items of one control of the config (`label` or `note`)."""
    return (r for r in annotation.get("result") or [] if isinstance(r, dict) and r.get("from_name") == name)


def _row(data: dict, annotation: dict, label: str, annotator: str, where: str) -> dict:
    """A worksheet row, with the text as exported so that a paragraph changed since is caught."""
    note = " ".join(t for r in _results(annotation, NOTE_NAME) for t in r.get("value", {}).get("text", []))
    who = annotation.get("completed_by")
    reader = (who.get("email") if isinstance(who, dict) else None) or annotator
    if not reader.strip():
        raise InputError(
            f"{where}: the annotation names no annotator (no completed_by email); pass --annotator NAME"
        )
    row = {"id": data["id"], "label": label, "note": note, "annotator": reader}
    return {**row, "text": data["text"]} if "text" in data else row
