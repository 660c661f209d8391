"""Cross-validation: model choice never sees the held-out fold, silver only ever trains."""

import numpy as np
from datasets import Dataset, DatasetDict

from paratype.data import FEATURES, SplitData
from paratype.evaluate import cross_validate
from paratype.labels import LABELS


def _split(rows):
    return Dataset.from_dict({k: [r[k] for r in rows] for k in FEATURES}, features=FEATURES)


def data_with_silver() -> SplitData:
    rows = [
        {
            "id": f"a{k}-{m}",
            "article_id": f"a{k}",
            "source": "x",
            "text": f"نص {k} {m}",
            "label": k % 4,
            "silver": False,
        }
        for k in range(12)
        for m in range(2)
    ]
    silver = [
        {"id": f"s{k}", "article_id": f"s{k}", "source": "x", "text": f"فضة {k}", "label": 3, "silver": True}
        for k in range(5)
    ]
    return SplitData(
        DatasetDict(train=_split(rows[:16] + silver), dev=_split(rows[16:20]), test=_split(rows[20:])),
        list(LABELS),
        "fp",
    )


class Recorder:
    """A stand-in trainer that records what each fold gave it and predicts uniformly."""

    def __init__(self):
        self.folds = []
        self.labels = list(LABELS)

    def __call__(self, fold: SplitData):
        self.folds.append({s: set(fold.splits[s]["id"]) for s in ("train", "dev", "test")})
        return self

    def predict_proba(self, texts):
        return np.full((len(texts), len(LABELS)), 0.25)


def test_folds_choose_on_inner_dev_and_keep_silver_out_of_held_out():
    recorder = Recorder()
    result = cross_validate(data_with_silver(), recorder, folds=4, max_errors=0)
    held_out = [f["test"] for f in recorder.folds]
    for fold in recorder.folds:
        assert not fold["dev"] & fold["test"]  # never select on the held-out fold
        assert fold["dev"] and not fold["dev"] & fold["train"]
        assert not any(pid.startswith("s") for pid in fold["test"] | fold["dev"])  # silver only trains
        assert {f"s{k}" for k in range(5)} <= fold["train"]
    assert sorted(pid for h in held_out for pid in h) == sorted(result.ids)  # every gold row once
    assert len(result.ids) == 24 and result.metrics["cv/folds"] == 4
