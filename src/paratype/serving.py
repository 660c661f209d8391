"""The MLflow pyfunc model, logged as code ("models from code"): no pickled Python objects.

MLflow executes this file when the model is loaded; `set_model` names the class to serve.
"""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

from paratype.decision import decide
from paratype.explain import occlusion
from paratype.io import file_sha256
from paratype.text import paragraph_problem

# Longer inputs are cut to this many characters and flagged `truncated`: a bound on the time and
# memory one request can take, 16x the longest of the 2,328 gold paragraphs (1,253 characters).
MAX_CHARS = 20_000


# Rows one request may carry: a bound on a request's time and memory (a 400 above it).
MAX_ROWS = 10_000


class ParagraphClassifier(mlflow.pyfunc.PythonModel):
    """A DataFrame with a `text` column in; `label`, one `score_<label>` per label, `truncated`
    (cut at MAX_CHARS, or by the model's own length limit) and `error` out. A value that is no
    Arabic paragraph (empty, not a string, no Arabic letters) gets an error and no label.
    `params={"explain": k}` adds `explanation`: the k words that pushed each paragraph most
    towards its label (explain.py)."""

    def load_context(self, context) -> None:
        from paratype.models import trainer

        meta = json.loads(Path(context.artifacts["meta"]).read_text())
        weights = Path(context.artifacts["model"])
        for name, digest in meta.get("sha256", {}).items():  # models logged before the manifest have none
            if not (weights / name).is_file() or file_sha256(weights / name) != digest:
                raise MlflowException(
                    f"model file {name} is missing or differs from the SHA-256 recorded when the model "
                    "was logged; it was changed since: restore it or retrain"
                )
        self.model = trainer(meta["kind"]).load_model(weights)
        self.offsets = meta.get("offsets")  # the tuned decision rule; None: argmax

    def predict(self, context, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        if len(model_input) > MAX_ROWS:
            raise MlflowException(
                f"{len(model_input)} rows in one request; send at most {MAX_ROWS}",
                error_code=INVALID_PARAMETER_VALUE,
            )
        errors = [paragraph_problem(v) for v in model_input["text"]]
        good = [k for k, e in enumerate(errors) if e is None]
        raw = [model_input["text"].iloc[k] for k in good]
        texts = [t[:MAX_CHARS] for t in raw]
        proba = self.model.predict_proba(texts) if texts else np.zeros((0, len(self.model.labels)))
        extra = self.model.extra_outputs(texts) if texts else {}
        cut_by_model = extra.pop("truncated", [False] * len(texts))
        decided = decide(proba, self.offsets)
        if explain := int((params or {}).get("explain", 0)):
            extra["explanation"] = occlusion(self.model.predict_proba, texts, decided, explain)
        columns = {
            "label": [self.model.labels[i] for i in decided],
            **{f"score_{name}": proba[:, j] for j, name in enumerate(self.model.labels)},
            "truncated": [len(t) > MAX_CHARS or cut for t, cut in zip(raw, cut_by_model, strict=True)],
            **extra,
        }
        out = pd.DataFrame(columns, index=good).reindex(range(len(errors)))
        out["error"] = errors
        return out


mlflow.models.set_model(ParagraphClassifier())
