"""Inter-annotator agreement between two independent labellings of the same paragraphs."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sklearn.metrics import cohen_kappa_score

from paratype.labels import LABELS, Annotation


@dataclass
class Agreement:
    n: int
    observed: float  # share of paragraphs both gave the same label
    kappa: float  # Cohen's kappa over the four labels
    per_class: dict[str, float]  # kappa of "this label or not", one label at a time
    confusion: pd.DataFrame  # first labelling in rows, second in columns
    disagreements: list[tuple[str, str, str]]  # (id, first label, second label)


def agreement(first: list[Annotation], second: list[Annotation]) -> Agreement:
    """Compare two labellings on the paragraphs both labelled."""
    a = {r.id: r.label for r in first}
    b = {r.id: r.label for r in second}
    ids = sorted(a.keys() & b.keys())
    x, y = [a[i] for i in ids], [b[i] for i in ids]
    per_class = {
        label: float(cohen_kappa_score([v == label for v in x], [v == label for v in y])) for label in LABELS
    }
    confusion = pd.crosstab(
        pd.Categorical(x, categories=LABELS), pd.Categorical(y, categories=LABELS), dropna=False
    )
    confusion.index.name, confusion.columns.name = "first", "second"
    return Agreement(
        n=len(ids),
        observed=sum(p == q for p, q in zip(x, y, strict=True)) / max(len(ids), 1),
        kappa=float(cohen_kappa_score(x, y, labels=list(LABELS))),
        per_class=per_class,
        confusion=confusion,
        disagreements=[(i, a[i], b[i]) for i in ids if a[i] != b[i]],
    )


def by_pool(first: list[Annotation], second: list[Annotation], pool_of: dict[str, str]) -> str:
    """Observed agreement and kappa per candidate pool (`pool_of`: id -> pool for every second
    reading), as a Markdown table; a pool whose readers used one label has no kappa."""
    a = {r.id: r.label for r in first}
    rows = ["| pool | paragraphs read twice | observed | kappa |", "|---|--:|--:|--:|"]
    groups: dict[str, list[tuple[str, str]]] = {}
    for r in second:
        if r.id in a:
            groups.setdefault(pool_of[r.id], []).append((a[r.id], r.label))
    for pool, pairs in sorted(groups.items()):
        x, y = zip(*pairs, strict=True)
        observed = sum(p == q for p, q in pairs) / len(pairs)
        single = len(set(x) | set(y)) < 2
        kappa = "—" if single else f"{cohen_kappa_score(x, y, labels=list(LABELS)):.3f}"
        rows.append(f"| {pool} | {len(pairs)} | {observed:.3f} | {kappa} |")
    return "\n".join(rows)


def markdown(result: Agreement) -> str:
    """Kappa table and disagreement confusion table for the data card."""
    lines = [
        f"{result.n} paragraphs labelled twice; observed agreement {result.observed:.3f}, "
        f"Cohen's kappa {result.kappa:.3f}.",
        "",
        "| label | kappa (one vs rest) |",
        "|---|---|",
        *[f"| {label} | {k:.3f} |" for label, k in result.per_class.items()],
        "",
        "| first \\ second | " + " | ".join(LABELS) + " |",
        "|---" * (len(LABELS) + 1) + "|",
        *[
            f"| {label} | " + " | ".join(str(int(v)) for v in result.confusion.loc[label]) + " |"
            for label in LABELS
        ],
    ]
    return "\n".join(lines)
