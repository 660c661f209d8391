"""The MLflow pyfunc model, logged as code ("models from code"): no pickled Python objects.

MLflow executes this file when the model is loaded; `set_model` names the class to serve.
"""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pandas as pd

from paratype.decision import decide

# Longer inputs are cut to this many characters and flagged `truncated`: a bound on the time and
# memory one request can take, 16x the longest of the 2,328 gold paragraphs (1,253 characters).
MAX_CHARS = 20_000


class ParagraphClassifier(mlflow.pyfunc.PythonModel):
    """A DataFrame with a `text` column in; `label`, one `score_<label>` per label, and
    `truncated` (cut at MAX_CHARS, or by the model's own length limit) out."""

    def load_context(self, context) -> None:
        from paratype.models import trainer

        meta = json.loads(Path(context.artifacts["meta"]).read_text())
        self.model = trainer(meta["kind"]).load_model(Path(context.artifacts["model"]))
        self.offsets = meta.get("offsets")  # the tuned decision rule; None: argmax

    def predict(self, context, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        raw = [str(t) for t in model_input["text"]]
        texts = [t[:MAX_CHARS] for t in raw]
        proba = self.model.predict_proba(texts)
        out = pd.DataFrame({"label": [self.model.labels[i] for i in decide(proba, self.offsets)]})
        for j, name in enumerate(self.model.labels):
            out[f"score_{name}"] = proba[:, j]
        extra = self.model.extra_outputs(texts)
        cut_by_model = extra.pop("truncated", [False] * len(texts))
        out["truncated"] = [len(t) > MAX_CHARS or cut for t, cut in zip(raw, cut_by_model, strict=True)]
        for column, values in extra.items():
            out[column] = values
        return out


mlflow.models.set_model(ParagraphClassifier())
