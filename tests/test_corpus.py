import json
import zipfile

import pytest

from paratype.corpus import corpus_article_id, read_corpus, read_seeds
from paratype.errors import InputError

ARTICLES = [
    {
        "source": "aawsat",
        "url": "http://a/1",
        "date_extracted": "2015-07-21 10:00:00",
        "title": "عنوان",
        "author": "",
        "content": "أعلنت الشرطة القبض على مطلوب.\nوقال المتحدث إن التحقيق مستمر.",
    },
    {
        "source": "sabq",
        "url": "",
        "date_extracted": "",
        "title": "",
        "author": None,
        "content": "نص بلا رابط ولا عنوان",
    },
    {"source": "alyaum", "url": "http://a/3", "title": "فارغ", "content": ""},
    {"source": "", "url": "http://a/4", "content": "مقال بلا مصدر"},
]


def write_day(folder, name, articles, zipped=True):
    payload = json.dumps(articles, ensure_ascii=False).encode()
    if zipped:
        with zipfile.ZipFile(folder / f"{name}.zip", "w") as zf:
            zf.writestr(f"{name}.json", payload)
    else:
        (folder / f"{name}.json").write_bytes(payload)


def test_reads_zip_and_plain_json_with_empty_fields(tmp_path):
    write_day(tmp_path, "2015-07-21", ARTICLES[:2])
    write_day(tmp_path, "2015-07-22", ARTICLES[2:], zipped=False)
    articles = list(read_corpus(tmp_path))
    assert [a.source for a in articles] == ["aawsat", "sabq", "unknown"]  # empty content is skipped
    assert articles[0].title == "عنوان" and articles[0].date == "2015-07-21"
    assert articles[1].title == "" and articles[1].url == ""


def test_a_url_crawled_twice_is_read_once(tmp_path):
    write_day(tmp_path, "2015-07-21", ARTICLES[:1])
    write_day(tmp_path, "2015-07-22", ARTICLES[:1])
    assert len(list(read_corpus(tmp_path))) == 1


def test_article_ids_are_stable():
    assert corpus_article_id("aawsat", "http://a/1", "t", "c") == corpus_article_id(
        "aawsat", "http://a/1", "x", "y"
    )
    assert corpus_article_id("sabq", "", "t", "c") != corpus_article_id("sabq", "", "t", "d")
    assert corpus_article_id("3alyoum", "u", "", "").startswith("3alyoum-")


def test_missing_folder_and_broken_zip_are_clear_errors(tmp_path):
    with pytest.raises(InputError, match="PARATYPE_CORPUS_DIR"):
        list(read_corpus(tmp_path / "nope"))
    with pytest.raises(InputError, match="no SaudiNewsNet day files"):
        list(read_corpus(tmp_path))
    (tmp_path / "2015-07-21.zip").write_bytes(b"not a zip")
    with pytest.raises(InputError, match="re-download"):
        list(read_corpus(tmp_path))


def test_seed_errors(tmp_path):
    with pytest.raises(InputError, match="no seed articles"):
        read_seeds(tmp_path)
    (tmp_path / "x.txt").write_bytes(b"\xff\xfe")
    with pytest.raises(InputError, match="not valid UTF-8"):
        read_seeds(tmp_path)
