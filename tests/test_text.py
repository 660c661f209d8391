import re

import pytest

from paratype.text import NormalizationConfig, deobfuscate, has_arabic, normalize, normalize_all, text_hash


def test_deobfuscate_dot_and_pipe_breaks():
    assert deobfuscate("عنـ.ـاصر د|عـ.ـش") == "عناصر داعش"
    assert deobfuscate("القبـ.ـض على العشرات وسط تحـ.ـذيرات") == "القبض على العشرات وسط تحذيرات"


def test_deobfuscate_keeps_ordinary_text():
    text = "قال المتحدث: الوضع مستقر. وأضاف أن 3.5 مليون شخص | تأثروا"
    assert deobfuscate(text) == text


def test_deobfuscate_tidies_space():
    assert deobfuscate("  تنظيم \u00a0 داعش\u200f ") == "تنظيم داعش"


def test_normalize_each_option():
    every = NormalizationConfig(ta_marbuta_to_ha=True)
    assert normalize("أَحْمَد إلى آخر مدرسة ٢٠١٥ عـــربي", every) == "احمد الي اخر مدرسه 2015 عربي"
    nothing = NormalizationConfig(False, False, False, False, False, False)
    assert normalize("أَحْمَد إلى ٢٠١٥", nothing) == "أَحْمَد إلى ٢٠١٥"


def test_has_arabic():
    assert has_arabic("داعش")
    assert not has_arabic("TT 2024")


def test_text_hash_is_stable():
    assert text_hash("داعش") == text_hash("داعش") != text_hash("داعش.")


@pytest.mark.parametrize("flags", [(True,) * 6, (False,) * 6, (True, False, True, False, True, False)])
def test_one_pass_folds_exactly_as_the_steps_one_after_another(flags):
    import unicodedata

    from pyarabic import araby

    cfg = NormalizationConfig(*flags)
    text = "إِنَّ الـــدولةَ آمنةٌ؟ ٱلمستشفى ١٢٣ و۴۵ «مُصطفى» أخرى " + "".join(araby.DIACRITICS)
    expected = text
    if cfg.strip_diacritics:
        expected = araby.strip_diacritics(expected)
    if cfg.strip_tatweel:
        expected = araby.strip_tatweel(expected)
    if cfg.unify_alef:
        expected = re.sub("[أإآٱ]", "ا", expected)
    if cfg.alef_maqsura_to_ya:
        expected = expected.replace("ى", "ي")
    if cfg.ta_marbuta_to_ha:
        expected = expected.replace("ة", "ه")
    if cfg.western_digits:
        expected = re.sub("[٠-٩۰-۹]", lambda m: str(unicodedata.digit(m.group())), expected)
    assert normalize(text, cfg) == expected
    assert normalize_all([text, "", "😀" + text], cfg) == [expected, "", "😀" + expected]


def test_a_long_batch_folds_in_bounded_pieces_with_the_same_result(monkeypatch):
    from paratype import text as text_module

    monkeypatch.setattr(text_module, "_BATCH", 2)
    texts = ["أحمد", "", "إلى ٢٠١٥", "مُصطفى", "آخر"]
    cfg = NormalizationConfig()
    assert normalize_all(texts, cfg) == [normalize(t, cfg) for t in texts]
