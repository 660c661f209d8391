from paratype.text import NormalizationConfig, deobfuscate, has_arabic, normalize, text_hash


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
