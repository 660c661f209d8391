"""What a logged model does when it serves, with no MLflow in the process.

serving.py wraps this class as the MLflow pyfunc (`mlflow models serve`, `mlflow.pyfunc`);
`paratype-predict` builds it straight from the model's folder (local_model.py), which spares
each start-up the import of MLflow. Both paths run this code, so they label alike.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from paratype.decision import decide
from paratype.explain import occlusion
from paratype.io import file_sha256
from paratype.text import paragraph_problem

if TYPE_CHECKING:
    import pandas as pd

# Longer inputs are cut to this many characters and flagged `truncated`: a bound on the time and
# memory one request can take, 16x the longest of the 2,328 gold paragraphs (1,253 characters).
MAX_CHARS = 20_000

# Rows one request may carry: a bound on a request's time and memory (a 400 above it).
MAX_ROWS = 10_000


class TooManyRows(ValueError):
    """A request over MAX_ROWS (the HTTP server answers 400)."""


class ParagraphClassifier:
    """A DataFrame with a `text` column in; `label`, one `score_<label>` per label, `truncated`
    (cut at MAX_CHARS, or by the model's own length limit) and `error` out. A value that is no
    Arabic paragraph (empty, not a string, no Arabic letters) gets an error and no label.
    `params={"explain": k}` adds `explanation`: the k words that pushed each paragraph most
    towards its label (TF-IDF: coefficient x feature value; other kinds: occlusion)."""

    def __init__(self, weights: Path, meta_file: Path, model_config: dict | None = None) -> None:
        from paratype.models import loader

        self.model_config = model_config or {}  # labels, kind, segmentation (as MLflow's pyfunc has it)
        meta = json.loads(meta_file.read_text())
        for name, digest in meta.get("sha256", {}).items():  # models logged before the manifest have none
            if not (weights / name).is_file() or file_sha256(weights / name) != digest:
                raise ValueError(
                    f"model file {name} is missing or differs from the SHA-256 recorded when the model "
                    "was logged; it was changed since: restore it or retrain"
                )
        self.model = loader(meta["kind"]).load_model(weights)
        self.offsets = meta.get("offsets")  # the tuned decision rule; None: argmax

    def predict(self, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        import pandas as pd

        if len(model_input) > MAX_ROWS:
            raise TooManyRows(f"{len(model_input)} rows in one request; send at most {MAX_ROWS}")
        values = model_input["text"].tolist()  # once: item access on an Arrow string column is slow
        columns, good, errors = self._columns(values, int((params or {}).get("explain", 0)))
        out = pd.DataFrame(columns, index=good).reindex(range(len(errors)))
        out["error"] = errors
        return out

    def rows(self, values: list, explain: int = 0) -> list[dict]:
        """`predict`'s rows as records, without pandas (paratype-predict's start-up spares its
        import): each has the columns of `predict`, or only `error` when it has no label."""
        columns, good, errors = self._columns(values, explain)
        records: list[dict] = [{"error": e} for e in errors]
        for k, row in enumerate(good):
            records[row] = {name: column[k] for name, column in columns.items()} | {"error": None}
        return records

    def _columns(self, values: list, explain: int) -> tuple[dict, list[int], list[str | None]]:
        """(the output columns of the labelled values, their row numbers, every row's error)."""
        errors = [paragraph_problem(v) for v in values]
        good = [k for k, e in enumerate(errors) if e is None]
        raw = [values[k] for k in good]
        texts = [t[:MAX_CHARS] for t in raw]
        proba = self.model.predict_proba(texts) if texts else np.zeros((0, len(self.model.labels)))
        extra = self.model.extra_outputs(texts) if texts else {}
        cut_by_model = extra.pop("truncated", [False] * len(texts))
        decided = decide(proba, self.offsets)
        if explain:
            extra["explanation"] = self._explain(texts, decided, explain)
        columns = {
            "label": [self.model.labels[i] for i in decided],
            **{f"score_{name}": proba[:, j] for j, name in enumerate(self.model.labels)},
            "truncated": [len(t) > MAX_CHARS or cut for t, cut in zip(raw, cut_by_model, strict=True)],
            **extra,
        }
        return columns, good, errors

    def _explain(self, texts: list[str], targets, k: int) -> list[list[dict]]:
        """The model's own attribution where it has one (TF-IDF: coefficient x feature value),
        else occlusion, which works for any model (explain.py)."""
        if hasattr(self.model, "explain"):
            return self.model.explain(texts, targets, k)
        return occlusion(self.model.predict_proba, texts, targets, k)


def decision_offsets(model) -> list[float] | None:
    """The tuned decision rule inside a loaded model: the classifier built directly, MLflow's
    pyfunc around it, or the pyfunc of a model logged before classifier.py existed."""
    inner = model.unwrap_python_model() if hasattr(model, "unwrap_python_model") else model
    return getattr(getattr(inner, "classifier", inner), "offsets", None)
