"""Scoring a logged model on the user's own labelled paragraphs (`paratype-evaluate`).

The records are `{"id", "text", "label"}` JSONL; the model labels them exactly as it serves
(its cleaning and its decision rule), and the scores are the ones a training run reports.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from datasets import Dataset

from paratype.classifier import decision_offsets
from paratype.errors import InputError
from paratype.evaluate import Evaluation, confusion_figure, confusion_table, evaluation_from
from paratype.io import read_jsonl, write_jsonl
from paratype.labels import LABELS, check_label

SPLIT = "eval"


def read_labelled(path: Path) -> Dataset:
    """The user's paragraphs; every bad record is an error naming its line."""
    ids, texts, labels, seen = [], [], [], {}
    for where, row in read_jsonl(path):
        pid, text = row.get("id"), row.get("text")
        if pid is None or pid == "":
            raise InputError(f'{where}: missing "id"; give every paragraph an id')
        if not isinstance(text, str) or not text.strip():
            raise InputError(f'{where}: missing or empty "text"; give the paragraph\'s text')
        if str(pid) in seen:
            raise InputError(f"{where}: id {pid!r} is already used at {seen[str(pid)]}; ids must be unique")
        seen[str(pid)] = where
        labels.append(LABELS.index(check_label(row.get("label", ""), where)))
        ids.append(str(pid))
        texts.append(text)
    if not ids:
        raise InputError(f"{path} holds no labelled paragraph; give JSONL records with id, text, label")
    return Dataset.from_dict({"id": ids, "text": texts, "label": labels})


def read_labelled_articles(articles: Path, labels: Path, segmentation) -> Dataset:
    """Whole articles (`{"id", "text"}` JSONL) cut into paragraphs as the model cuts them, with
    their labels from a stand-off file (`{"id": <paragraph id>, "label"}`, the ids
    `paratype-predict --articles` gives as `paragraph_id`); unlabelled paragraphs are left out."""
    from paratype.predict import read_articles

    with articles.open("rb") as stream:
        text_of = {
            i.extra["paragraph_id"]: i.text
            for i in read_articles(stream, "jsonl", segmentation)
            if not i.error
        }
    rows, seen = [], {}
    for where, row in read_jsonl(labels):
        pid = row.get("id")
        if pid not in text_of:
            raise InputError(
                f"{where}: paragraph {pid!r} is not in {articles} as the model cuts it; take the ids "
                "from `paratype-predict --articles` (paragraph_id)"
            )
        if pid in seen:
            raise InputError(f"{where}: paragraph {pid!r} is already labelled at {seen[pid]}; label it once")
        seen[pid] = where
        rows.append((pid, text_of[pid], LABELS.index(check_label(row.get("label", ""), where))))
    if not rows:
        raise InputError(f"{labels} labels no paragraph; give JSONL records with id and label")
    ids, texts, gold = zip(*rows, strict=True)
    return Dataset.from_dict({"id": list(ids), "text": list(texts), "label": list(gold)})


def score_model(model, dataset: Dataset, max_errors: int, batch: int = 256) -> Evaluation:
    """Predict as served (the model's own decision rule) and score with bootstrap intervals."""
    import pandas as pd

    labels = list(model.model_config["labels"])
    if labels != list(LABELS):
        raise InputError(f"the model's labels {labels} are not this project's {list(LABELS)}")
    parts = [
        model.predict(pd.DataFrame({"text": dataset["text"][k : k + batch]}))
        for k in range(0, len(dataset), batch)
    ]
    proba = np.vstack([p[[f"score_{name}" for name in labels]].to_numpy() for p in parts])
    offsets = decision_offsets(model)
    return evaluation_from(SPLIT, dataset, proba, labels, max_errors, offsets)


def write_outputs(result: Evaluation, out: Path) -> None:
    """metrics.json, the confusion matrix (PNG and Markdown) and misclassified.jsonl under `out`."""
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(result.metrics, indent=2) + "\n")
    (out / "confusion_matrix.md").write_text(confusion_table(result, list(LABELS)) + "\n")
    figure = confusion_figure(result, list(LABELS))
    figure.savefig(out / "confusion_matrix.png", dpi=110)
    plt.close(figure)
    write_jsonl(out / "misclassified.jsonl", result.errors)
