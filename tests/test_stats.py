import numpy as np
from sklearn.metrics import f1_score

from paratype.stats import bootstrap_ci, expected_calibration_error, macro_f1, paired_bootstrap


def test_macro_f1_matches_scikit_learn():
    rng = np.random.default_rng(0)
    for _ in range(20):
        gold, pred = rng.integers(0, 4, 50), rng.integers(0, 3, 50)
        expected = f1_score(gold, pred, labels=[0, 1, 2, 3], average="macro", zero_division=0)
        assert abs(macro_f1(gold, pred, 4) - expected) < 1e-12


def test_bootstrap_interval_contains_the_estimate_and_narrows_with_data():
    rng = np.random.default_rng(1)
    gold = rng.integers(0, 4, 2000)
    pred = np.where(rng.random(2000) < 0.7, gold, (gold + 1) % 4)
    low, high = bootstrap_ci(gold, pred, 4)
    assert low < macro_f1(gold, pred, 4) < high
    small_low, small_high = bootstrap_ci(gold[:100], pred[:100], 4)
    assert high - low < small_high - small_low


def test_paired_bootstrap_separates_a_clear_win_from_noise():
    rng = np.random.default_rng(2)
    gold = rng.integers(0, 4, 400)
    good = np.where(rng.random(400) < 0.9, gold, (gold + 1) % 4)
    bad = np.where(rng.random(400) < 0.6, gold, (gold + 1) % 4)
    assert paired_bootstrap(gold, good, bad, 4)["ci_low"] > 0
    same = paired_bootstrap(gold, good, good, 4)
    assert same["difference"] == 0 and same["p_value"] == 1.0


def test_expected_calibration_error():
    gold = np.array([0, 0, 1, 1])
    honest = np.array([[0.75, 0.25], [0.75, 0.25], [0.25, 0.75], [0.75, 0.25]])  # 75% sure, 75% right
    assert abs(expected_calibration_error(gold, honest)) < 1e-9
    overconfident = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    assert abs(expected_calibration_error(gold, overconfident) - 0.25) < 1e-9
