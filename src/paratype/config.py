"""Structured configs: the schema of every Hydra config group, validated once at start-up.

The YAML files in `configs/` hold the values; these dataclasses say which keys exist, their
types, and which values make sense (`__post_init__`). `to_config` converts a composed
DictConfig into these objects, so a typo or a bad value fails before any work is done.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from paratype.errors import InputError
from paratype.segment import SegmentationConfig
from paratype.text import NormalizationConfig

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = PROJECT_ROOT / "configs"

if not OmegaConf.has_resolver("paratype_root"):
    OmegaConf.register_new_resolver("paratype_root", lambda: str(PROJECT_ROOT))


# Security-news vocabulary, written against fold_for_matching's folding (ا ي ه): the one definition,
# used by the topic filter of the annotation pools and by the weak labelling functions.
SECURITY_TOPIC = (
    "داعش|ارهاب|القاعده|الحوثي|تفجير|انتحاري|خليه|مسلح|الامن|عسكري|الجيش|قصف|غاره|هجوم|اعتقال|متطرف|"
    "مليشيا|ميليشيا"
)


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise InputError(message)


@dataclass
class PathsConfig:
    """Every location the project reads or writes, in one place."""

    root: str = "${paratype_root:}"  # the project folder: configs, seeds, annotations, splits
    # where runs write their MLflow store, artifacts, caches and models: the project folder
    # (as lightning-hydra-template does), or the folder PARATYPE_ROOT names
    workspace: str = "${oc.env:PARATYPE_ROOT,${.root}}"
    seeds_dir: str = "${.root}/seeds"
    annotations_dir: str = "${.root}/data/annotations"
    splits_dir: str = "${.root}/data/splits"
    pools: str = "${.root}/data/pools.jsonl"  # the candidate pool of each annotated paragraph
    cache_dir: str = "${.workspace}/.cache"
    download_dir: str = "${.cache_dir}/saudinewsnet"  # where `paratype-data download` puts the corpus
    corpus_dir: str = "${oc.env:PARATYPE_CORPUS_DIR,${.download_dir}}"  # where the corpus is read
    checksums: str = "${.root}/data/saudinewsnet-upstream-sha256.txt"
    models_dir: str = "${.workspace}/models"  # pretrained weights (ignored by git)


@dataclass
class SplitConfig:
    """How paragraphs are divided into train/dev/test; always whole articles at a time."""

    dev: float = 0.2  # share of articles (seeds) or paragraphs (corpus) held out for model choice
    test: float = 0.2  # share held out for the final, reported numbers
    seed: int = 13  # the split is a function of this seed and the data alone
    hold_out: str = "none"  # "none", or "outlet": test = whole newspapers never seen in training
    test_sources: list[str] = field(default_factory=list)  # outlets held out when hold_out=outlet
    test_always: list[str] = field(default_factory=list)  # sources never trained on (e.g. seeds)
    file: str | None = None  # committed split file (id -> split); null: computed from the seed
    # an earlier frozen version whose test and dev paragraphs stay where they were; its test
    # paragraphs are also scored on their own (`test_<version>/...`) so old numbers stay comparable
    keep: str | None = None
    # how a new version places groups that no kept paragraph ties down: "shares" fills test and
    # dev up to their shares; "train" sends them all to training, so test and dev stay as kept
    grow: str = "shares"

    def __post_init__(self) -> None:
        _check(self.grow in ("shares", "train"), f"data.split.grow={self.grow!r} must be 'shares' or 'train'")
        _check(
            self.grow == "shares" or self.keep,
            "data.split.grow=train keeps an earlier version's test and dev: set data.split.keep",
        )
        _check(
            0 < self.dev < 1 and 0 < self.test < 1 and self.dev + self.test < 1,
            f"data.split.dev={self.dev} and data.split.test={self.test} must be in (0, 1) "
            "and leave room for training; use e.g. dev=0.2 test=0.2",
        )
        _check(
            self.hold_out in ("none", "outlet"),
            f"data.split.hold_out={self.hold_out!r} must be 'none' or 'outlet'",
        )


@dataclass
class SilverConfig:
    """Label-model (silver) paragraphs added to the training split only."""

    file: str | None = None  # silver labels from `paratype-weak label`; null: gold only
    threshold: float = 0.8  # minimum label-model confidence
    max_paragraphs: int = 0  # 0: every silver paragraph above the threshold

    def __post_init__(self) -> None:
        _check(0 <= self.threshold < 1, f"data.silver.threshold={self.threshold} must be in [0, 1)")


@dataclass
class DataConfig:
    """Which articles, which labels, how they are cleaned and split."""

    name: str = MISSING
    source: str = "seeds"  # "seeds": the pages in seeds/; "corpus": SaudiNewsNet + annotations
    annotation_files: list[str] = field(default_factory=list)  # gold JSONL files, stand-off
    segmentation: SegmentationConfig = field(default_factory=SegmentationConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    silver: SilverConfig = field(default_factory=SilverConfig)
    train_size: int = 0  # 0: the whole training split; n: a random n of it (learning curves)
    topic_pattern: str = SECURITY_TOPIC  # which articles count as security news (annotation pools)

    def __post_init__(self) -> None:
        try:
            re.compile(self.topic_pattern)
        except re.error as err:
            raise InputError(f"data.topic_pattern is not a valid regular expression ({err})") from None
        _check(self.source in ("seeds", "corpus"), f"data.source={self.source!r} must be 'seeds' or 'corpus'")
        _check(self.train_size >= 0, f"data.train_size={self.train_size} must be 0 (all) or a positive count")
        _check(
            bool(self.annotation_files),
            f"data.annotation_files is empty for data={self.name}; list at least one gold JSONL file",
        )


@dataclass
class TfidfConfig:
    """Word and character n-gram TF-IDF into a linear classifier with probabilities."""

    kind: str = "tfidf"
    word_ngram_max: int = 1  # longest word n-gram
    char_ngram_min: int = 2  # character n-grams catch Arabic clitics and inflection
    char_ngram_max: int = 5
    # on: +0.034 dev macro-F1 on the corpus-v2 gold set (0.669 -> 0.703), at 4.5x the cost
    use_char_ngrams: bool = True
    hash_bits: int = 18  # 2**18 hashed features per n-gram kind: few collisions, a small model
    sublinear_tf: bool = True
    C: float = 4.0  # inverse regularisation of the logistic regression
    class_weight: str | None = "balanced"  # the label distribution is skewed towards `other`
    max_iter: int = 2000
    normalization: NormalizationConfig = field(default_factory=NormalizationConfig)

    def __post_init__(self) -> None:
        _check(self.word_ngram_max >= 1, f"model.word_ngram_max={self.word_ngram_max} must be >= 1")
        _check(
            1 <= self.char_ngram_min <= self.char_ngram_max,
            f"model.char_ngram_min={self.char_ngram_min} must be between 1 and "
            f"model.char_ngram_max={self.char_ngram_max}",
        )
        _check(self.C > 0, f"model.C={self.C} must be > 0")
        _check(self.max_iter >= 1, f"model.max_iter={self.max_iter} must be >= 1")
        _check(10 <= self.hash_bits <= 24, f"model.hash_bits={self.hash_bits} must be between 10 and 24")
        _check(
            self.class_weight in (None, "balanced"),
            f"model.class_weight={self.class_weight!r} must be null or 'balanced'",
        )


@dataclass
class TransformerConfig:
    """Fine-tuning a BERT-style encoder; `pretrained` is a hub name or a local folder."""

    kind: str = "transformer"
    pretrained: str = "aubmindlab/bert-base-arabertv02"
    preprocessing: str = "arabert"  # "arabert": ArabertPreprocessor; "paratype": our normalisation
    normalization: NormalizationConfig = field(default_factory=NormalizationConfig)  # for "paratype"
    max_length: int = 128  # tokens per window; choose from the logged token-length histogram
    long_text: str = "window"  # "window": pool overlapping windows; "truncate": cut and flag
    window_stride: int = 32  # tokens shared by consecutive windows
    epochs: int = 5
    batch_size: int = 16
    eval_batch_size: int = 64
    learning_rate: float = 5e-5
    weight_decay: float = 0.01
    warmup: float = 0.1  # share of steps with linear warm-up
    lr_scheduler: str = "linear"
    gradient_accumulation_steps: int = 1
    group_by_length: bool = True  # batches of similar lengths pad less: fine-tuning 1.7x faster on 2 cores
    early_stopping_patience: int = 2  # epochs without a better dev macro-F1
    class_weighted_loss: bool = True
    hub_timeout: float = 5.0  # seconds to wait for the hub before failing with a clear message
    onnx_int8: bool = False  # after fine-tuning, export to ONNX with int8 weights; serve with ONNX Runtime

    def __post_init__(self) -> None:
        _check(
            self.preprocessing in ("arabert", "paratype"),
            f"model.preprocessing={self.preprocessing!r} must be 'arabert' or 'paratype'",
        )
        _check(
            self.long_text in ("window", "truncate"),
            f"model.long_text={self.long_text!r} must be 'window' or 'truncate'",
        )
        _check(
            0 <= self.window_stride < self.max_length // 2,
            f"model.window_stride={self.window_stride} must be below half of "
            f"model.max_length={self.max_length}",
        )
        _check(0 <= self.warmup < 1, f"model.warmup={self.warmup} is a share of the steps, in [0, 1)")
        _check(self.epochs >= 1 and self.batch_size >= 1, "model.epochs and model.batch_size must be >= 1")


@dataclass
class LabelModelConfig:
    """Snorkel's label model over the labelling functions, used directly as a classifier."""

    kind: str = "label_model"
    epochs: int = 500


@dataclass
class EnsembleConfig:
    """TF-IDF and a transformer trained in one run, their probabilities mixed with the TF-IDF
    weight that maximises dev macro-F1 (then the tuned decision rule, as for any model)."""

    kind: str = "ensemble"
    tfidf: TfidfConfig = field(default_factory=TfidfConfig)
    transformer: TransformerConfig = field(default_factory=TransformerConfig)
    weight_steps: int = 10  # TF-IDF weights tried: 0, 1/steps, ..., 1
    pooling: str = "linear"  # "linear": weighted mean; "log": weighted geometric mean, renormalised
    # each half taken from a finished run with the same data, seed and settings, where the
    # experiment has one (a comparison's own TF-IDF and mini BERT runs), instead of training it again
    reuse_finished: bool = True

    def __post_init__(self) -> None:
        _check(self.weight_steps >= 1, f"model.weight_steps={self.weight_steps} must be >= 1")
        _check(self.pooling in ("log", "linear"), f"model.pooling={self.pooling!r} must be 'log' or 'linear'")


MODEL_CONFIGS: dict[str, type] = {
    "tfidf": TfidfConfig,
    "transformer": TransformerConfig,
    "label_model": LabelModelConfig,
    "ensemble": EnsembleConfig,
}


@dataclass
class TrackingConfig:
    """Where runs are logged. MLFLOW_TRACKING_URI wins over the project's own SQLite store."""

    uri: str = "${oc.env:MLFLOW_TRACKING_URI,sqlite:///${paths.workspace}/mlruns.db}"
    artifact_root: str = "${paths.workspace}/mlartifacts"  # used when this run creates the experiment
    experiment: str = "paratype"
    run_name: str | None = None
    group: str | None = None  # tag grouping the runs of one comparison (set by configs/experiment)


@dataclass
class EvaluationConfig:
    """Which held-out numbers are computed besides dev and test."""

    cross_validation: str = "none"  # "none", or "article": leave-one-article-out (grouped k-fold)
    folds: int = 0  # 0: one fold per article; k > 1: grouped k-fold by article
    max_errors_listed: int = 50  # misclassified paragraphs kept in the report
    seeds_test: bool = True  # corpus runs: score the seed paragraphs (never trained on) as `test_seeds`

    def __post_init__(self) -> None:
        _check(
            self.cross_validation in ("none", "article"),
            f"evaluation.cross_validation={self.cross_validation!r} must be 'none' or 'article'",
        )
        _check(
            self.folds == 0 or self.folds >= 2,
            f"evaluation.folds={self.folds} must be 0 (one fold per article) or at least 2",
        )
        _check(
            self.max_errors_listed >= 0,
            f"evaluation.max_errors_listed={self.max_errors_listed} must be >= 0",
        )


@dataclass
class DecisionConfig:
    """How a label is chosen from the probabilities (src/paratype/decision.py)."""

    rule: str = "tuned"  # "tuned": per-class log-probability offsets fitted on dev; "argmax"

    def __post_init__(self) -> None:
        _check(self.rule in ("tuned", "argmax"), f"decision.rule={self.rule!r} must be 'tuned' or 'argmax'")


@dataclass
class PageConfig:
    """After training, the five seed articles labelled by the new model, as an article page."""

    path: str = "${paths.workspace}/outputs/seed-articles.html"  # "": no page
    explain: int = 5  # top words per paragraph (occlusion: one more model call per word)

    def __post_init__(self) -> None:
        _check(self.explain >= 0, f"page.explain={self.explain} must be >= 0 (0: no explanations)")


@dataclass
class TrainConfig:
    """The main job: data -> model -> evaluation -> tracking -> the seed articles' page."""

    data: DataConfig = MISSING
    model: Any = MISSING  # validated against MODEL_CONFIGS[model.kind]
    paths: PathsConfig = field(default_factory=PathsConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    decision: DecisionConfig = field(default_factory=DecisionConfig)
    page: PageConfig = field(default_factory=PageConfig)
    seed: int = 0

    def __post_init__(self) -> None:
        _check(self.seed >= 0, f"seed={self.seed} must be >= 0")


@dataclass
class PretrainConfig:
    """Size and schedule of the mini BERT; the defaults pretrain in about half an hour on 2 cores."""

    output_dir: str = "${paths.models_dir}/mini-bert"
    vocab_size: int = 12_000  # WordPiece vocabulary learnt from the corpus
    min_frequency: int = 3
    layers: int = 4
    hidden: int = 256
    heads: int = 4
    intermediate: int = 1024
    block_length: int = 128  # tokens per pretraining sequence (paragraphs packed end to end)
    max_position_embeddings: int = 512  # fine-tuning may use up to this many tokens
    batch_size: int = 32
    max_steps: int = 2000  # 0: as many as pretrain.max_minutes allows
    learning_rate: float = 5e-4  # small models from scratch want a larger rate than fine-tuning
    warmup: float = 0.05  # share of steps with linear warm-up
    weight_decay: float = 0.01
    mlm_probability: float = 0.15
    logging_steps: int = 50
    max_minutes: float = 0  # wall-clock budget; > 0 plans the steps so the schedule ends in time
    save_steps: int = 200  # checkpoint every this many steps (the last one is kept)
    resume: bool = False  # continue from the last checkpoint of this output's work folder
    save_dtype: str = "float32"  # float16: half the size, as a GPU run brings its weights back
    max_shard_size: str = "16MB"  # safetensors shards of at most this size
    seed: int = 0
    max_paragraphs: int = 0  # 0: every corpus paragraph; n > 0: the first n (smoke tests)
    exclude_eval_articles: bool = True  # leave out articles with a dev/test paragraph in any split file
    normalization: NormalizationConfig = field(default_factory=NormalizationConfig)

    def __post_init__(self) -> None:
        _check(
            self.hidden % self.heads == 0,
            f"pretrain.hidden={self.hidden} must be a multiple of pretrain.heads={self.heads}",
        )
        _check(
            8 <= self.block_length <= self.max_position_embeddings,
            f"pretrain.block_length={self.block_length} must be between 8 and "
            f"pretrain.max_position_embeddings={self.max_position_embeddings}",
        )
        _check(self.max_minutes >= 0, f"pretrain.max_minutes={self.max_minutes} must be >= 0 (0: no budget)")
        _check(
            self.max_steps > 0 or self.max_minutes > 0,
            f"pretrain.max_steps={self.max_steps}: set a number of steps, "
            "or 0 with a pretrain.max_minutes budget",
        )
        _check(
            self.save_dtype in ("float32", "float16", "bfloat16"),
            f"pretrain.save_dtype={self.save_dtype!r} must be float32, float16 or bfloat16",
        )
        _check(self.save_steps >= 1, f"pretrain.save_steps={self.save_steps} must be >= 1")


@dataclass
class PretrainJobConfig:
    """paratype-pretrain: which corpus, where the model goes, where the run is logged."""

    pretrain: PretrainConfig = field(default_factory=PretrainConfig)
    data: DataConfig = MISSING
    paths: PathsConfig = field(default_factory=PathsConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)


def register_configs() -> None:
    """The schemas the YAML files extend: every key and its one default live in the dataclasses,
    so a YAML file holds only what differs and every key can be overridden as `model.key=...`."""
    store = ConfigStore.instance()
    store.store(name="train_schema", node=TrainConfig)
    store.store(name="pretrain_schema", node=PretrainJobConfig)
    for kind, schema in MODEL_CONFIGS.items():
        store.store(group="model", name=f"{kind}_schema", node=schema)


@contextmanager
def _config_errors():
    """OmegaConf's validation errors (unknown key, wrong type) as one-line InputErrors."""
    try:
        yield
    except OmegaConfBaseException as err:
        raise InputError(f"invalid config: {str(err).splitlines()[0]} (full key: {err.full_key})") from None


def to_config(cfg: DictConfig) -> TrainConfig:
    """Validate a composed `train` config and turn it into dataclasses (runs every __post_init__)."""
    with _config_errors():
        kind = cfg.model.get("kind")
        if kind not in MODEL_CONFIGS:
            raise InputError(f"model.kind={kind!r} is unknown; choose one of {sorted(MODEL_CONFIGS)}")
        model = OmegaConf.merge(OmegaConf.structured(MODEL_CONFIGS[kind]), cfg.model)
        rest = OmegaConf.merge(
            OmegaConf.structured(TrainConfig), {k: v for k, v in cfg.items() if k != "model"}
        )
        rest.model = model
        return OmegaConf.to_object(rest)


def to_pretrain_config(cfg: DictConfig) -> PretrainJobConfig:
    """Validate a composed `pretrain` config."""
    with _config_errors():
        return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(PretrainJobConfig), cfg))


def check_install() -> None:
    """The configs ship with the project folder, not the wheel: say so at once."""
    if not CONFIG_DIR.is_dir():
        raise InputError(
            f"no configs/ at {CONFIG_DIR}: paratype runs from its project folder; clone it and "
            "install it editable there (pip install -e .)"
        )


def compose(overrides: list[str] | None = None, config_name: str = "train") -> DictConfig:
    """The composed config without running a Hydra app (for the other CLIs and tests)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    check_install()
    register_configs()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return hydra_compose(config_name=config_name, overrides=overrides or [])
