import numpy as np
import pytest
from sklearn.base import clone

from paratype.config import TfidfConfig, compose, to_config
from paratype.data import build_dataset
from paratype.models import tfidf, tfidf_training


def seed_data():
    cfg = to_config(compose(["data=seeds"]))
    return build_dataset(cfg.data, cfg.paths)


@pytest.fixture(scope="module")
def fitted():
    """One fit for the module (5 s with character n-grams): (data, model)."""
    data = seed_data()
    return data, tfidf_training.fit(TfidfConfig(), data, seed=0)


def test_fit_predicts_a_distribution_over_all_labels(fitted):
    data, model = fitted
    proba = model.predict_proba(data.splits["test"]["text"])
    assert proba.shape == (len(data.splits["test"]), 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert proba.argmax(axis=1).max() < len(model.labels)


def test_model_fits_its_training_data(fitted):
    data, model = fitted
    train = data.splits["train"]
    assert (model.predict_proba(train["text"]).argmax(axis=1) == np.array(train["label"])).mean() > 0.9


def test_save_load_round_trip_is_identical_and_pickle_free(tmp_path, fitted):
    data, model = fitted
    model.save(tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {tfidf.CONFIG_FILE, tfidf.ARRAYS_FILE}
    loaded = tfidf.load_model(tmp_path)
    texts = data.splits["dev"]["text"]
    np.testing.assert_array_equal(model.predict_proba(texts), loaded.predict_proba(texts))
    assert loaded.labels == model.labels


def test_normalizer_step_clones_and_cleans():
    step = tfidf_training.ArabicNormalizer(unify_alef=False)
    assert clone(step).get_params() == step.get_params()
    assert step.transform(["عنـ.ـاصر د|عـ.ـش إلى"]) == ["عناصر داعش إلي"]


def test_the_words_with_the_largest_coefficient_times_value_carry_the_label(fitted):
    from paratype.explain import WORD_EDGES

    data, model = fitted
    texts = data.splits["test"]["text"]
    targets = model.predict_proba(texts).argmax(axis=1)
    explanations = model.explain(texts, targets, 3)
    assert all(1 <= len(e) <= 3 and e[0]["weight"] >= e[-1]["weight"] > 0 for e in explanations)
    without = [
        " ".join(t for t in text.split() if t.strip(WORD_EDGES) not in {w["word"] for w in e})
        for text, e in zip(texts, explanations, strict=True)
    ]
    rows = np.arange(len(texts))
    before = model.predict_proba(texts)[rows, targets]
    after = model.predict_proba(without)[rows, targets]
    assert (after < before).all()


def test_the_normalizer_passes_the_estimator_checks_for_its_input_kind():
    from sklearn.exceptions import SkipTestWarning
    from sklearn.utils.estimator_checks import check_estimator

    with pytest.warns(SkipTestWarning, match="requires input"):  # numeric-array checks do not apply
        results = check_estimator(tfidf_training.ArabicNormalizer(), on_fail=None)
    assert results and all(r["status"] != "failed" for r in results)


ODD_TEXTS = [
    "",  # no feature at all
    "و",  # a token shorter than every n-gram
    "ab",  # padded to exactly 4 characters
    "Daesh ISIS داعش 2024 ،؛ «الخلية» E-mail",  # Latin capitals, digits, punctuation
    "  أعلنت\tالوزارة\n\nالقبض   على خلية  ",  # runs of whitespace of every kind
]


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"word_ngram_max": 2, "char_ngram_min": 1, "char_ngram_max": 3, "sublinear_tf": False},
        {"use_char_ngrams": False, "hash_bits": 12},
    ],
    ids=["words-and-chars", "bigrams-short-chars-raw-tf", "words-only-small-hash"],
)
def test_numpy_prediction_equals_the_scikit_learn_pipeline(overrides):
    """The served model recomputes scikit-learn's features and scores: the same numbers.
    (2**14 features a block, not the default 2**18: the same code, a faster fit.)"""
    data = seed_data()
    cfg = TfidfConfig(**({"hash_bits": 14} | overrides))
    train = data.splits["train"]
    pipeline = tfidf_training.build_pipeline(cfg, seed=0).fit(train["text"], train["label"])
    model = tfidf_training.from_pipeline(pipeline, data.label_names, cfg)
    texts = [*data.splits["test"]["text"], *ODD_TEXTS]
    np.testing.assert_allclose(model.decision_function(texts), pipeline.decision_function(texts), atol=1e-12)
    np.testing.assert_allclose(
        model.predict_proba(texts)[:, pipeline.classes_], pipeline.predict_proba(texts), atol=1e-12
    )


def test_a_two_class_model_predicts_as_scikit_learn_does():
    data = seed_data()
    train = data.splits["train"]
    rows = [k for k, label in enumerate(train["label"]) if label in (0, 3)]
    texts, labels = [train["text"][k] for k in rows], [train["label"][k] for k in rows]
    cfg = TfidfConfig(hash_bits=14)
    pipeline = tfidf_training.build_pipeline(cfg, seed=0).fit(texts, labels)
    model = tfidf_training.from_pipeline(pipeline, data.label_names, cfg)
    test = data.splits["test"]["text"]
    np.testing.assert_allclose(model.predict_proba(test)[:, [0, 3]], pipeline.predict_proba(test), atol=1e-12)


def test_loading_and_predicting_import_no_scikit_learn(tmp_path, fitted):
    _data, model = fitted
    model.save(tmp_path)
    script = (
        "import sys; from pathlib import Path; from paratype.models import loader; "
        f"m = loader('tfidf').load_model(Path({str(tmp_path)!r})); m.predict_proba(['خلية إرهابية']); "
        "m.explain(['خلية إرهابية'], [0], 2); "
        "print(sorted({n.split('.')[0] for n in sys.modules} & {'sklearn', 'scipy', 'torch', 'pandas'}))"
    )
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.slow
def test_a_model_saved_with_skops_before_the_array_format_still_loads(tmp_path, monkeypatch):
    """Old runs pickled the pipeline with skops, naming `paratype.models.tfidf.ArabicNormalizer`."""
    import skops.io as sio

    data = seed_data()
    train = data.splits["train"]
    cfg = TfidfConfig(use_char_ngrams=False, hash_bits=14)
    pipeline = tfidf_training.build_pipeline(cfg, seed=0).fit(train["text"], train["label"])
    monkeypatch.setattr(tfidf_training.ArabicNormalizer, "__module__", "paratype.models.tfidf")
    sio.dump({"pipeline": pipeline, "labels": data.label_names}, tmp_path / tfidf.LEGACY_FILE)
    monkeypatch.undo()
    loaded = tfidf.load_model(tmp_path)
    texts = data.splits["test"]["text"]
    np.testing.assert_allclose(
        loaded.predict_proba(texts)[:, pipeline.classes_], pipeline.predict_proba(texts), atol=1e-12
    )
    assert loaded.cfg.use_char_ngrams is False and loaded.cfg.hash_bits == cfg.hash_bits


def test_a_full_token_cache_starts_afresh_and_predicts_the_same(fitted, monkeypatch):
    data, model = fitted
    texts = data.splits["test"]["text"]
    expected = model.predict_proba(texts)
    monkeypatch.setattr(tfidf, "MAX_CACHED_TOKENS", 50)
    fresh = tfidf.TfidfModel(model.cfg, model.labels, model.idf, model.coef, model.intercept, model.classes)
    got = np.vstack([fresh.predict_proba(texts[k : k + 2]) for k in range(0, len(texts), 2)])
    np.testing.assert_allclose(got, expected, atol=1e-12)
    largest_batch = max(len(set(" ".join(texts[k : k + 2]).split())) for k in range(0, len(texts), 2))
    assert len(fresh._token_ids) <= max(50, largest_batch)


def test_the_vectorised_hash_is_mmh3_for_every_slice_length_and_script():
    import random

    import mmh3

    data = np.frombuffer("داعش 😀 é ISIS, خلية نائمة".encode(), dtype=np.uint8)
    slices = [(start, length) for start in range(8) for length in range(len(data) - start + 1)]
    starts, lengths = (np.array(column) for column in zip(*slices, strict=True))
    expected = [mmh3.hash(data[s : s + n].tobytes()) for s, n in slices]
    assert tfidf.murmurhash3(data, starts, lengths).tolist() == expected

    rng = random.Random(0)
    tokens = ["".join(rng.choice("ابتةى٠١aZ😀中é") for _ in range(rng.randint(1, 9))) for _ in range(500)]
    for shortest, longest in [(2, 5), (1, 1), (3, 7)]:
        got, per_token = tfidf.char_wb_hashes(tokens, shortest, longest, 2**14)
        grams = [tfidf.char_wb_grams(t, shortest, longest) for t in tokens]
        assert per_token.tolist() == list(map(len, grams))
        assert got.tolist() == tfidf.hashed([g for gs in grams for g in gs], 2**14).tolist()
