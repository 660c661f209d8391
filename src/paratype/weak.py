"""Weak labelling: labelling functions, Snorkel's label model, and silver labels.

A labelling function (LF) votes one label or abstains. They are written as patterns over
`fold_for_matching` text (alef, ya and ta marbuta folded: write ه for ة, ي for ى, ا for أ).
Their votes are combined by Snorkel's LabelModel into one *silver* label and a confidence per
paragraph. Silver labels are stored apart from gold (`data/silver/`), marked as such, and
enter training splits only (see `data.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from paratype.config import SECURITY_TOPIC
from paratype.labels import LABELS
from paratype.text import fold_for_matching

ABSTAIN = -1
FO, OW, EA, OT = range(len(LABELS))


@dataclass(frozen=True)
class LabellingFunction:
    """Votes `label` when `pattern` matches (and `unless` does not); else abstains."""

    name: str
    label: int
    pattern: str
    reason: str
    unless: str = ""

    def votes(self, folded: pd.Series) -> np.ndarray:
        hit = folded.str.contains(self.pattern, regex=True)
        if self.unless:
            hit &= ~folded.str.contains(self.unless, regex=True)
        return np.where(hit, self.label, ABSTAIN)


_OPERATION = r"اعتقال|القبض علي|قتل|مقتل|هجوم|تفجير|انتحاري|ناسفه|كمين|اغتيال|مداهمه|غاره|غارات|قصف|احباط|ضبط"
_WARN = r"(?:^|\s)[وف]?(?:حذر|يحذر|تحذر|حذرت|حذروا|تحذير|محذرا|نبه|ينبه|نبهت)"
_OFFICIAL = r"وزير|وزاره|المتحدث|الناطق|قائد|اللواء|العميد|العقيد|الدفاع المدني|مديريه|هيئه|الامم المتحده|السفاره|الرئيس|الحكومه|الشرطه"
_ANALYST = r"خبير|خبراء|محلل|محللون|المحللين|باحث|الباحث|مراقبون|مراقبين|مختصون|دراسه"
_CONDEMN = r"ادان|يدين|استنكر|تعازي|عزاء|تضامن|شجب|ندد"
_SECURITY = SECURITY_TOPIC

LFS: tuple[LabellingFunction, ...] = (
    LabellingFunction(
        "op_arrest",
        FO,
        r"القبض علي|القت القبض|اعتقال|اعتقلت|توقيف|اوقفت",
        "arrests are the most common reported operation",
    ),
    LabellingFunction(
        "op_attack",
        FO,
        r"هجوم|تفجير|انتحاري|ناسفه|كمين|اغتيال|اطلاق نار|مفخخ",
        "attacks and bombings on the ground",
        unless=f"{_WARN}|{_ANALYST}|{_CONDEMN}",
    ),
    LabellingFunction(
        "op_killed",
        FO,
        r"مقتل|قتل|لقي حتفه|لقوا حتفهم|سقوط قتلي|اصابه",
        "casualty reports accompany incidents",
        unless=f"{_WARN}|{_ANALYST}|{_CONDEMN}|حادث سير|حادث مروري|الحرب العالميه",
    ),
    LabellingFunction(
        "op_forces",
        FO,
        r"(?:قوات|دوريات|الجهات) (?:الامن|الامنيه)|مداهمه|ضبط|احباط|تفكيك",
        "security forces acting: raids, seizures, foiled plots",
        unless=_WARN,
    ),
    LabellingFunction(
        "op_airstrike",
        FO,
        r"غاره|غارات|قصف|طائرات التحالف|انزال جوي",
        "air strikes and shelling",
        unless=_WARN + "|" + _ANALYST,
    ),
    LabellingFunction(
        "op_announced",
        FO,
        r"(?:اعلنت|اعلن|افادت|ذكرت) .{0,60}(?:القبض|مقتل|اعتقال|تفجير|احباط)",
        "an official announcing an operation is still an operation",
    ),
    LabellingFunction(
        "warn_official",
        OW,
        rf"(?:{_WARN}).{{0,80}}(?:{_OFFICIAL})|(?:{_OFFICIAL}).{{0,80}}(?:{_WARN})",
        "a warning verb near an official title",
        unless=_ANALYST + r"|العقاب الشرعي سيكون مصيره",
    ),
    LabellingFunction(
        "warn_vigilance",
        OW,
        r"اهبه الاستعداد|توخي الحذر|اخذ الحيطه|الي اليقظه|رفع (?:حاله )?التاهب",
        "calls for vigilance and readiness",
        unless=_ANALYST,
    ),
    LabellingFunction(
        "expert_speaker",
        EA,
        rf"(?:{_ANALYST})",
        "analysts, experts, observers and studies speak",
        unless=r"القبض علي|اعتقال",
    ),
    LabellingFunction(
        "expert_opinion",
        EA,
        r"(?:يري|يعتقد|يتوقع|توقع|يرجح|رجح|يبدو|يعني ذلك) (?:ان|بان)",
        "opinion and forecast verbs",
        unless=_OPERATION,
    ),
    LabellingFunction(
        "expert_strategy",
        EA,
        r"استراتيجيه|قدرات|قدره التنظيم|يسعي الي|يحاول|مرحله جديده|تداعيات|حاضنه",
        "vocabulary of capability, strategy and trend",
        unless=_OPERATION + "|" + _WARN,
    ),
    LabellingFunction("other_no_security", OT, r".", "no security vocabulary at all", unless=_SECURITY),
    LabellingFunction(
        "other_diplomacy",
        OT,
        r"استقبل|التقي|مباحثات|زياره رسميه|اجتماع|القمه|اتصال هاتفي|وقع الجانبان",
        "meetings and diplomacy",
        unless=_OPERATION + "|" + _WARN,
    ),
    LabellingFunction("other_condemn", OT, _CONDEMN, "condemnations and condolences", unless=_WARN),
    LabellingFunction(
        "other_deterrent",
        OT,
        r"العقاب الشرعي سيكون مصيره",
        "the Interior Ministry's formulaic deterrent (guidelines, Addition 7)",
    ),
    LabellingFunction(
        "other_economy",
        OT,
        r"مليار|مليون ريال|الاسهم|المؤشر|النفط|الاستثمار|الميزانيه",
        "economy and markets",
        unless=_SECURITY,
    ),
)


def vote_matrix(texts: Sequence[str], lfs: Sequence[LabellingFunction] = LFS) -> np.ndarray:
    """n_texts x n_lfs votes (label index or -1)."""
    folded = pd.Series([fold_for_matching(t) for t in texts], dtype="object").astype(str)
    if folded.empty:
        return np.empty((0, len(lfs)), dtype=int)
    return np.stack([lf.votes(folded) for lf in lfs], axis=1).astype(int)


def lf_table(
    votes: np.ndarray, gold: Sequence[int] | None = None, lfs: Sequence[LabellingFunction] = LFS
) -> pd.DataFrame:
    """Snorkel's LFAnalysis summary: coverage, overlaps, conflicts (and accuracy against gold)."""
    from snorkel.labeling import LFAnalysis

    summary = LFAnalysis(votes).lf_summary(Y=None if gold is None else np.asarray(gold))
    summary.index = [lf.name for lf in lfs]
    summary.insert(0, "label", [LABELS[lf.label] for lf in lfs])
    summary.insert(len(summary.columns), "reason", [lf.reason for lf in lfs])
    return summary.drop(columns=["j", "Polarity"], errors="ignore")


def fit_label_model(votes: np.ndarray, seed: int, epochs: int = 500):
    """Snorkel's LabelModel, fit on unlabelled votes (gold labels are never shown to it)."""
    from snorkel.labeling.model import LabelModel

    model = LabelModel(cardinality=len(LABELS), verbose=False)
    model.fit(votes, n_epochs=epochs, seed=seed, progress_bar=False)
    return model


def silver_labels(model, votes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(label, confidence) per row; rows where every LF abstained get label -1."""
    proba = model.predict_proba(votes)
    labels = proba.argmax(axis=1)
    labels[(votes == ABSTAIN).all(axis=1)] = ABSTAIN
    return labels, proba.max(axis=1)
