"""--explain and the article page, the page opened in a real headless Chromium."""

import json
import shutil

import numpy as np
import pytest
from conftest import run_cli

from paratype.config import PROJECT_ROOT
from paratype.explain import WORD_EDGES, occlusion
from paratype.page import COLOURS

SEEDS = sorted((PROJECT_ROOT / "seeds").glob("*.txt"))


def _seed_articles(tmp_path):
    source = tmp_path / "articles.jsonl"
    lines = [json.dumps({"id": p.stem, "text": p.read_text()}, ensure_ascii=False) for p in SEEDS]
    source.write_text("\n".join(lines) + "\n")
    return source


def _label_score(trained, texts: list[str]) -> list[dict]:
    stdin = "\n".join(json.dumps({"text": t}, ensure_ascii=False) for t in texts).encode()
    proc = run_cli("paratype-predict", "--model", trained.result.model_uri, stdin=stdin, tmp=trained.tmp)
    return [json.loads(line)["scores"] for line in proc.stdout.decode().splitlines()]


def test_occlusion_ranks_the_words_that_carry_the_label():
    def proba(texts):  # a toy model: the label-1 score grows with the words "raid" and "police"
        score = np.array([0.1 + 0.5 * ("raid" in t.split()) + 0.3 * ("police" in t.split()) for t in texts])
        return np.stack([1 - score, score], axis=1)

    [why] = occlusion(proba, ["the police made a raid ."], [1], k=3)
    assert [e["word"] for e in why] == ["raid", "police"] and why[0]["weight"] == pytest.approx(0.5)


@pytest.mark.slow
def test_leaving_out_the_explanation_words_lowers_the_label_score(trained, tmp_path):
    source = _seed_articles(tmp_path)
    proc = run_cli(
        "paratype-predict", "--articles", "--explain", "3", "--input", str(source), tmp=trained.tmp
    )
    records = [json.loads(line) for line in proc.stdout.decode().splitlines()][:12]
    assert all(1 <= len(r["explanation"]) <= 3 for r in records)
    assert all(r["explanation"][0]["weight"] >= r["explanation"][-1]["weight"] > 0 for r in records)
    words = [{e["word"] for e in r["explanation"]} for r in records]
    assert all(
        w <= {t.strip(WORD_EDGES) for t in r["text"].split()} for w, r in zip(words, records, strict=True)
    )
    without = [
        " ".join(t for t in r["text"].split() if t.strip(WORD_EDGES) not in w)
        for w, r in zip(words, records, strict=True)
    ]
    before = [r["scores"][r["label"]] for r in records]
    after = [s[r["label"]] for s, r in zip(_label_score(trained, without), records, strict=True)]
    assert all(a < b for a, b in zip(after, before, strict=True)), list(zip(before, after, strict=True))


def _chromium():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,2000"):
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))


def _rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


@pytest.mark.slow
@pytest.mark.skipif(
    not (shutil.which("chromium") and shutil.which("chromedriver")),
    reason="needs Chromium and its driver: apt-get install -y chromium chromium-driver (.ci/run does)",
)
def test_the_article_page_shows_each_paragraph_in_its_colour_in_chromium(trained, tmp_path):
    source = _seed_articles(tmp_path)
    page, labels = tmp_path / "page.html", tmp_path / "labels.jsonl"
    run_cli(
        "paratype-predict",
        "--articles",
        "--explain",
        "3",
        "--input",
        str(source),
        "--output",
        str(labels),
        tmp=trained.tmp,
    )
    run_cli(
        "paratype-predict",
        "--articles",
        "--explain",
        "3",
        "--format",
        "html",
        "--input",
        str(source),
        "--output",
        str(page),
        tmp=trained.tmp,
    )
    html = page.read_text()
    assert "<script" not in html and "http://" not in html and "https://" not in html  # self-contained
    records = [json.loads(line) for line in labels.read_text().splitlines()]
    from selenium.webdriver.common.by import By

    browser = _chromium()
    try:
        browser.get(page.as_uri())
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("dir") == "rtl"
        assert len(browser.find_elements(By.CSS_SELECTOR, "section.article")) == len(SEEDS)
        for record in records[:: max(1, len(records) // 10)]:
            para = browser.find_element(By.CSS_SELECTOR, f'p[data-id="{record["id"]}#{record["paragraph"]}"]')
            assert " ".join(para.text.split()) == " ".join(record["text"].split())
            assert para.get_attribute("data-label") == record["label"]
            colour = browser.execute_script("return getComputedStyle(arguments[0]).borderRightColor", para)
            assert colour == _rgb(COLOURS[record["label"]]["line"])
            marked = {m.text.strip(WORD_EDGES) for m in para.find_elements(By.TAG_NAME, "mark")}
            assert {e["word"] for e in record["explanation"]} <= marked
        overall = browser.find_element(By.ID, "overall").text
        assert all(f"{label}: {sum(r['label'] == label for r in records)}" in overall for label in COLOURS)
        assert browser.save_screenshot(str(tmp_path / "page.png"))
    finally:
        browser.quit()


@pytest.mark.slow
def test_the_main_job_ends_with_the_seed_articles_page(tmp_path):
    page = tmp_path / "outputs" / "seed-articles.html"
    proc = run_cli(
        "paratype-train",
        "data=seeds",
        f"tracking.artifact_root={tmp_path}/artifacts",
        f"page.path={page}",
        tmp=tmp_path,
    )
    assert f"page:  {page}" in proc.stdout.decode()
    html = page.read_text()
    assert html.count('<section class="article"') == len(SEEDS) and 'class="why"' in html
