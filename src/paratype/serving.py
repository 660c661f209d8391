"""The MLflow pyfunc model, logged as code ("models from code"): no pickled Python objects.

MLflow executes this file when the model is loaded; `set_model` names the class to serve. The
work itself is classifier.py's, which `paratype-predict` also runs without MLflow.
"""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

from paratype.classifier import ParagraphClassifier, TooManyRows


class ParagraphClassifierModel(mlflow.pyfunc.PythonModel):
    """classifier.ParagraphClassifier as a pyfunc; a bad request is a 400, a changed file an error."""

    def load_context(self, context) -> None:
        try:
            self.classifier = ParagraphClassifier(
                Path(context.artifacts["model"]), Path(context.artifacts["meta"])
            )
        except ValueError as err:
            raise MlflowException(str(err)) from None

    def predict(self, context, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        try:
            return self.classifier.predict(model_input, params)
        except TooManyRows as err:
            raise MlflowException(str(err), error_code=INVALID_PARAMETER_VALUE) from None


mlflow.models.set_model(ParagraphClassifierModel())
