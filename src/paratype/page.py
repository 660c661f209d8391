"""An article page: predict's records as one self-contained right-to-left HTML file.

Each article with its paragraphs coloured by type, the scores and the explanation beside each
paragraph (its top words marked in the text), a per-article summary and an overall count. No
script, font or style comes from the network, so the page opens offline and can be mailed.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from paratype.explain import WORD_EDGES

COLOURS = {  # ColorBrewer hues, readable on screen and in print
    "field_operation": {"line": "#d7301f", "fill": "#fdeae6"},
    "official_warning": {"line": "#f08c00", "fill": "#fff4e0"},
    "expert_assessment": {"line": "#2c7fb8", "fill": "#e6f0f8"},
    "other": {"line": "#9e9e9e", "fill": "#f7f7f7"},
}
NAMES = {
    "field_operation": "عملية ميدانية",
    "official_warning": "تحذير رسمي",
    "expert_assessment": "تقييم وتحليل",
    "other": "أخرى",
}
_ENV = Environment(loader=PackageLoader("paratype", "templates"), autoescape=select_autoescape(["j2"]))


def _pieces(text: str, words: set[str]) -> list[tuple[str, bool]]:
    """The text cut at spaces, each piece flagged when it is one of the explanation's words."""
    return [(f"{token} ", token.strip(WORD_EDGES) in words) for token in text.split()]


def _paragraph(record: dict[str, Any]) -> dict[str, Any]:
    if "error" in record:
        return {"error": record["error"], "line": record.get("line")}
    words = [e["word"] for e in record.get("explanation", [])]
    scores = record["scores"]
    return {
        "key": f"{record['id']}#{record['paragraph']}" if "paragraph" in record else str(record["id"]),
        "label": record["label"],
        "scores": scores,
        "confidence": scores[record["label"]],  # the tuned rule may not pick the top score
        "words": words,
        "pieces": _pieces(record["text"], set(words)),
        "tooltip": " · ".join(f"{k} {v:.2f}" for k, v in scores.items()),
    }


def _articles(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records grouped by article id, in input order (plain paragraphs form one group)."""
    by_article = any("paragraph" in r for r in records)
    groups: dict[Any, dict[str, Any]] = {}
    for record in records:
        key = record["id"] if by_article else "paragraphs"
        group = groups.setdefault(key, {"id": key, "paragraphs": [], "counts": Counter()})
        group["paragraphs"].append(_paragraph(record))
        group["counts"][record.get("label", "error")] += 1
    return list(groups.values())


def render_page(records: Iterable[dict[str, Any]], labels: list[str], model: str = "") -> str:
    """The whole page as one HTML string."""
    articles = _articles(list(records))
    overall = sum((a["counts"] for a in articles), Counter())
    return _ENV.get_template("page.html.j2").render(
        articles=articles,
        labels=labels,
        overall=overall,
        total=sum(overall.values()),
        colours={k: v for k, v in COLOURS.items() if k in labels},
        names=NAMES,
        model=model,
    )


def seed_page(model, labels: list[str], seeds_dir: Path, target: Path, explain: int, uri: str = "") -> Path:
    """Label the seed articles with a loaded pyfunc `model` and write their page to `target`."""
    from paratype.corpus import read_seeds
    from paratype.io import atomic_path
    from paratype.predict import batched, label_batch, read_articles
    from paratype.segment import SegmentationConfig

    lines = [
        json.dumps({"id": a.article_id, "text": a.text}, ensure_ascii=False) for a in read_seeds(seeds_dir)
    ]
    segmentation = SegmentationConfig(**model.model_config.get("segmentation", {}))
    items = read_articles(io.BufferedReader(io.BytesIO("\n".join(lines).encode())), "jsonl", segmentation)
    records = [r for batch in batched(items, 64) for r in label_batch(model, batch, explain)]
    with atomic_path(target) as tmp:
        tmp.write_text(render_page(records, labels, uri), encoding="utf-8")
    return target
