"""The MLflow pyfunc model, logged as code ("models from code"): no pickled Python objects.

MLflow executes this file when the model is loaded; `set_model` names the class to serve.
"""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pandas as pd


class ParagraphClassifier(mlflow.pyfunc.PythonModel):
    """A DataFrame with a `text` column in; `label`, one `score_<label>` per label, and the
    model's flags (e.g. `truncated`) out."""

    def load_context(self, context) -> None:
        from paratype.models import trainer

        meta = json.loads(Path(context.artifacts["meta"]).read_text())
        self.model = trainer(meta["kind"]).load_model(Path(context.artifacts["model"]))

    def predict(self, context, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        texts = [str(t) for t in model_input["text"]]
        proba = self.model.predict_proba(texts)
        out = pd.DataFrame({"label": [self.model.labels[i] for i in proba.argmax(axis=1)]})
        for j, name in enumerate(self.model.labels):
            out[f"score_{name}"] = proba[:, j]
        for column, values in self.model.extra_outputs(texts).items():
            out[column] = values
        return out


mlflow.models.set_model(ParagraphClassifier())
