from pathlib import Path

import pytest

from paratype.corpus import read_seeds
from paratype.segment import (
    SegmentationConfig,
    classify_line,
    drop_near_duplicates,
    segment_article,
    split_paragraph_id,
)

CFG = SegmentationConfig()
SEEDS = Path(__file__).resolve().parents[1] / "seeds"
TITLE = "خلايا «داعش» النائمة تعاود خوض معارك كر وفر مع القوات العراقية"
BODY = "وفي العراق، أعلنت مديرية الاستخبارات العسكرية تنفيذ عدة عمليات نوعية أسفرت عن اعتقال سبعة مطلوبين."


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        (TITLE, "title"),
        ("أنتوني بلينكن يستقل طائرته في طريقه إلى الأردن (رويترز)", "caption"),
        (
            "المشرق العربي مواطنون من عفرين نزحوا مرة أخرى إلى مراكز إيواء في بلدة الطبقة (الشرق الأوسط)",
            "caption",
        ),
        ("علي بردى (واشنطن)", "byline"),
        ("«الشرق الأوسط» (دمشق)", "byline"),
        ("22/12/2024", "date"),
        ("التعليقات مغلقة، ولكن تركبكس وبينغبكس مفتوحة.", "comment_notice"),
        ("تنويه: جميع المقالات المنشورة تمثل رأي كتابها فقط", "disclaimer"),
        ("لإرسال مقال للنشر في حفريات اضغط هنا سياسة استقبال المساهمات", "navigation"),
        ("الصفحة الرئيسية", "navigation"),
        ("Read our Privacy Policy by clicking here", "non_arabic"),
        ("TT", "non_arabic"),
        ("إيقاظ الخلايا", "heading"),
        ("عربي ودولي", "heading"),
        ("رغم ما يتردد عن أزمة عميقة داخل قيادة التنظيم", "heading"),
        (BODY, "body"),
    ],
)
def test_classify_line_names_each_boilerplate_kind(line, kind):
    assert classify_line(line, TITLE, CFG) == kind


def test_related_articles_block_is_dropped():
    page = "\n".join(
        [
            TITLE,
            BODY,
            "مقالات ذات صلة",
            "«داعش» يعدم 54 عنصراً من القوات السورية أثناء فرارهم",
            "أعدم تنظيم «داعش» 54 عنصراً من القوات الحكومية في أثناء فرارهم في بادية حمص وسط سوريا.",
            "«الشرق الأوسط» (دمشق)",
            "وصل وزير الخارجية الأميركي أنتوني بلينكن (الخميس) إلى الأردن، مستهِلاً جولة لبحث الأزمة في سوريا.",
        ]
    )
    texts = [p.text for p in segment_article(page, "a", CFG)]
    assert texts == [BODY, page.splitlines()[-1]]


def test_bullet_items_are_paragraphs_without_their_marker():
    page = f"{TITLE}\n{BODY}\n* القبض على 3 عناصر في شمال الرقة بعملية إنزال جوية مشتركة.\n• مقتل عدد من قيادات داعش في عملية إنزال جوي بريف دير الزور."
    texts = [p.text for p in segment_article(page, "a", CFG)]
    assert texts[1:] == [
        "القبض على 3 عناصر في شمال الرقة بعملية إنزال جوية مشتركة.",
        "مقتل عدد من قيادات داعش في عملية إنزال جوي بريف دير الزور.",
    ]


def test_obfuscated_page_is_read_through():
    paragraphs = segment_article((SEEDS / "002_58d1d8faf9cce2c4.txt").read_text(), "s", CFG)
    assert "عناصر داعش" not in paragraphs[0].text  # the title line is not a paragraph
    assert all("ـ.ـ" not in p.text and "د|ع" not in p.text for p in paragraphs)
    assert "تنظيم داعش الذي يحاول" in paragraphs[-1].text


def test_exact_and_near_duplicates_keep_the_first_and_drop_pull_quotes():
    quote = "حركات داعش أصبحت مكشوفة تمامًا ولا يمكن له اليوم تنفيذ أي عملية مهما كانت الظروف"
    long_ = f'وأضاف الخبير أن "{quote}، نظرًا إلى اختفاء المناطق الأمنية الرخوة التي كانت ساحة لعملياته".'
    warn = 'وحذّر حسين من "خطورة هروب عناصر (داعش) من السجون، ومن انفلات الوضع في (معسكر الهول)".'
    again = 'كما حذّر حسين، بحسب "إرم نيوز"، من "خطورة هروب عناصر (داعش) من السجون، ومن انفلات الوضع في (معسكر الهول)".'
    assert drop_near_duplicates([warn, quote, BODY, BODY, again, long_], CFG) == [warn, BODY, long_]


def test_seed_articles_segment_to_their_body_paragraphs():
    counts = {a.article_id[:3]: len(segment_article(a.text, a.article_id, CFG)) for a in read_seeds(SEEDS)}
    assert counts == {"000": 12, "001": 23, "002": 8, "003": 15, "004": 8}


def test_ids_are_stable_and_survive_boilerplate_edits():
    page = (SEEDS / "004_0188e2f89b34f350.txt").read_text()
    first = [p.id for p in segment_article(page, "x", CFG)]
    assert first == [p.id for p in segment_article(page, "x", CFG)]
    edited = page.replace("آخر الأخبار", "أحدث الأخبار").replace("22/12/2024", "23/12/2024")
    assert [p.id for p in segment_article(edited, "x", CFG)] == first
    article, position, digest = split_paragraph_id(first[2])
    assert (article, position, len(digest)) == ("x", 2, 10)


def test_an_edited_paragraph_gets_a_new_id():
    page = (SEEDS / "004_0188e2f89b34f350.txt").read_text()
    before = [p.id for p in segment_article(page, "x", CFG)]
    after = [p.id for p in segment_article(page.replace("سبعة مطلوبين", "ثمانية مطلوبين"), "x", CFG)]
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert changed == [4]
