"""Label Studio: tasks and labelling config out, its JSON export back in through the worksheet checks.

The fast tests build tasks and read hand-made exports. The slow ones run the commands with a
model, and take tasks through a real Label Studio on loopback and back; it runs in its own venv,
cached under .cache/label-studio, since its dependencies clash with paratype's."""

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import run_cli
from filelock import FileLock

from paratype.config import PROJECT_ROOT, compose, to_config
from paratype.errors import InputError
from paratype.io import read_jsonl
from paratype.label_studio import build_tasks, config_path, labelling_config, read_export, write_tasks
from paratype.labels import LABELS, read_annotations
from paratype.segment import Paragraph

PARAS = [
    Paragraph("a", 0, "حذر وزير الداخلية من خطورة عودة الخلايا النائمة إلى المدن المحررة في الأيام المقبلة"),
    Paragraph("a", 1, "أعلنت الشرطة القبض على ثلاثة مطلوبين في عملية مداهمة فجر اليوم في حي السلام"),
    Paragraph("b", 0, "افتتح المعرض الدولي للكتاب أبوابه أمس بمشاركة مئات دور النشر من عشرين دولة"),
]
KNOWN = {p.id: p for p in PARAS}


def test_tasks_carry_the_paragraph_and_the_models_label_as_a_pre_annotation():
    tasks = build_tasks([(PARAS[0], "okaz")], [("official_warning", 0.912345)], "models:/paratype@champion")
    assert tasks[0]["data"] == {"id": PARAS[0].id, "text": PARAS[0].text, "source": "okaz"}
    (prediction,) = tasks[0]["predictions"]
    assert prediction["model_version"] == "models:/paratype@champion" and prediction["score"] == 0.9123
    assert prediction["result"] == [
        {
            "from_name": "label",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": ["official_warning"]},
        }
    ]
    assert "predictions" not in build_tasks([(PARAS[0], "okaz")])[0]  # no model: nothing to confirm


def test_labelling_config_is_one_right_to_left_choice_of_the_four_labels_and_a_note():
    view = ET.fromstring(labelling_config())
    text = view.find(".//Text")
    assert text.get("name") == "text" and text.get("value") == "$text"
    assert "direction: rtl" in next(v for v in view.iter("View") if text in list(v)).get("style")
    choices = view.find("Choices")
    assert (choices.get("name"), choices.get("toName"), choices.get("choice")) == (
        "label",
        "text",
        "single-radio",
    )
    assert [c.get("value") for c in choices] == list(LABELS)
    assert all(c.get("hint") for c in choices)
    note = view.find("TextArea")
    assert note.get("name") == "note" and note.get("required") is None


def test_tasks_are_written_with_the_config_beside_them(tmp_path):
    config = write_tasks(tmp_path / "tasks.json", build_tasks([(p, "okaz") for p in PARAS]))
    assert config == config_path(tmp_path / "tasks.json") == tmp_path / "tasks.label-config.xml"
    assert [t["data"]["id"] for t in json.loads((tmp_path / "tasks.json").read_text())] == list(KNOWN)
    assert ET.parse(config).getroot().tag == "View"


def _annotation(label=None, note="", email=None, cancelled=False) -> dict:
    result = (
        [] if label is None else [{"from_name": "label", "type": "choices", "value": {"choices": [label]}}]
    )
    if note:
        result.append({"from_name": "note", "type": "textarea", "value": {"text": [note]}})
    who = (
        {"id": 7, "email": email} if email else 7
    )  # the export page expands the user; the quick export does not
    return {"id": 1, "completed_by": who, "result": result, "was_cancelled": cancelled}


def _task(k: int, *annotations: dict, paragraph: Paragraph | None = None, **data) -> dict:
    paragraph = paragraph or PARAS[k]
    return {
        "id": 100 + k,
        "data": {"id": paragraph.id, "text": paragraph.text, "source": "okaz", **data},
        "annotations": list(annotations),
    }


def _export(tmp_path: Path, tasks) -> Path:
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def test_export_becomes_annotations_named_by_email_else_the_given_reader(tmp_path):
    path = _export(
        tmp_path,
        [
            _task(0, _annotation("official_warning", note="وزير في منصبه", email="reader@example.org")),
            _task(1, _annotation(cancelled=True), _annotation("field_operation")),
        ],
    )
    records, skipped = read_export(path, "reader-b", KNOWN)
    assert skipped == 0
    assert [(r.id, r.label, r.annotator, r.note) for r in records] == [
        (PARAS[0].id, "official_warning", "reader@example.org", "وزير في منصبه"),
        (PARAS[1].id, "field_operation", "reader-b", ""),
    ]


def test_unlabelled_tasks_are_an_error_unless_skipped(tmp_path):
    path = _export(
        tmp_path, [_task(0, _annotation("other")), _task(1, _annotation(cancelled=True)), _task(2)]
    )
    with pytest.raises(
        InputError, match=r"task 101 \(a-001-\w+\) has no label \(and 1 more task\(s\)\).*--skip-unlabelled"
    ):
        read_export(path, "reader-b", KNOWN)
    records, skipped = read_export(path, "reader-b", KNOWN, skip_unlabelled=True)
    assert [r.label for r in records] == ["other"] and skipped == 2


@pytest.mark.parametrize(
    ("tasks", "annotator", "message"),
    [
        (
            [_task(0, _annotation("other"), paragraph=Paragraph("z", 0, "نص"))],
            "r",
            r"task 100 .*is not in the corpus",
        ),
        ([_task(0, _annotation("other"), text="نص آخر")], "r", r"task 100 .*changed since export; re-export"),
        ([_task(0, _annotation("warning"))], "r", r"task 100 .*label 'warning' is not one of"),
        (
            [_task(0, _annotation("other")), {**_task(0, _annotation("official_warning")), "id": 109}],
            "r",
            r"task 109 .*already labelled at .*task 100 .*keep one row per paragraph",
        ),
        (
            [_task(0, _annotation("other"), _annotation("field_operation"))],
            "r",
            r"task 100 \(a-000-\w+\) annotation 2: .*already labelled at .*annotation 1",
        ),
        (
            [
                _task(
                    0,
                    {"result": [{"from_name": "label", "value": {"choices": ["other", "official_warning"]}}]},
                )
            ],
            "r",
            r"task 100 .*chose 2 labels \(other, official_warning\); choose one",
        ),
        ([_task(0, _annotation("other"))], "adjudicated", r"task 100 .*reserved for adjudicated"),
        ([_task(0, _annotation("other"))], " ", r"task 100 .*names no annotator.*--annotator"),
        (
            [{"id": 5, "data": {"text": "نص"}, "annotations": []}],
            "r",
            r"task 5 has no data.id; import the tasks",
        ),
        (
            [{**_task(0), "annotations": {"a": 1}}],
            "r",
            r"task 100 .*not a list of objects; export the project again",
        ),
        ({"tasks": []}, "r", r"is not a JSON array of tasks; export the project"),
        ([_task(0, _annotation(cancelled=True))], "r", r"no label.*--skip-unlabelled"),
    ],
)
def test_export_is_checked_like_a_worksheet(tmp_path, tasks, annotator, message):
    with pytest.raises(InputError, match=message) as err:
        read_export(_export(tmp_path, tasks), annotator, KNOWN)
    assert "\n" not in str(err.value) and "export.jsonl:" not in str(
        err.value
    )  # names the task, not a temp file


def test_an_export_without_any_label_is_refused_even_when_skipping(tmp_path):
    with pytest.raises(InputError, match="has no labelled task"):
        read_export(_export(tmp_path, [_task(0)]), "r", KNOWN, skip_unlabelled=True)


def test_invalid_json_names_the_file(tmp_path):
    path = tmp_path / "export.json"
    path.write_text('[{"id": 1,', encoding="utf-8")
    with pytest.raises(InputError, match=r"export.json: invalid JSON .*export the project again"):
        read_export(path, "r", KNOWN)


# ---- the commands, on a one-article corpus ----

ARTICLE = [
    "أعلنت وزارة الداخلية اليوم القبض على خلية إرهابية من خمسة عناصر في حي النسيم شرق الرياض بعد عملية مداهمة.",
    "وحذر المتحدث الرسمي باسم الوزارة من خطورة الشائعات التي تنشرها الحسابات المجهولة على مواقع التواصل الاجتماعي.",
    "ويرى الخبير الأمني أن التنظيم يحاول استغلال الشباب عبر الإنترنت بعد خسارته معاقله في العراق وسوريا.",
]


@pytest.fixture
def tiny_corpus(tmp_path, monkeypatch) -> None:
    """A corpus of one day file with one article (PARATYPE_CORPUS_DIR): the commands read it in a second."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    record = {
        "source": "okaz",
        "url": "http://okaz.example/1",
        "title": "خلية",
        "content": "\n".join(ARTICLE),
    }
    (folder / "2015-07-21.json").write_text(json.dumps([record], ensure_ascii=False), encoding="utf-8")
    monkeypatch.setenv("PARATYPE_CORPUS_DIR", str(folder))


EXPORT_TASKS = ("paratype-annotate", "export", "--format", "label-studio")


def _label_all(tasks_path: Path, labels: list[str]) -> Path:
    """An export as Label Studio writes it: each task of ours with one reader's annotation."""
    tasks = json.loads(tasks_path.read_text(encoding="utf-8"))
    for k, (task, label) in enumerate(zip(tasks, labels, strict=True)):
        task.update(id=k + 1, annotations=[_annotation(label, email="reader@example.org")])
    export = tasks_path.with_name("export.json")
    export.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    return export


@pytest.mark.slow  # MLflow: a store to create or a model to load
def test_export_and_import_commands_with_the_default_model(trained, tmp_path, tiny_corpus):
    tasks = tmp_path / "tasks.json"
    proc = run_cli(*EXPORT_TASKS, "--n", "3", "--out", str(tasks), tmp=trained.tmp)
    written = json.loads(tasks.read_text(encoding="utf-8"))
    assert len(written) == 3 and (tmp_path / "tasks.label-config.xml").is_file()
    assert all(t["predictions"][0]["model_version"] == trained.result.model_uri for t in written)
    assert "label-config.xml" in proc.stderr.decode()
    labels = ["field_operation", "official_warning", "expert_assessment"]
    gold = tmp_path / "gold.jsonl"
    export = _label_all(tasks, labels)
    proc = run_cli("paratype-annotate", "import", str(export), "--annotator", "reader-x", "--into", str(gold))
    assert "merged 3 annotation(s)" in proc.stdout.decode()
    by_id = {r.id: r for r in read_annotations(gold)}
    assert [by_id[t["data"]["id"]].label for t in written] == labels
    assert {r.annotator for r in by_id.values()} == {"reader@example.org"}


@pytest.mark.slow  # MLflow: a store to create or a model to load
def test_export_without_a_model_writes_tasks_without_predictions_and_says_so(tmp_path, tiny_corpus):
    tasks = tmp_path / "tasks.json"
    proc = run_cli(*EXPORT_TASKS, "--n", "2", "--out", str(tasks), tmp=tmp_path)
    assert all("predictions" not in t for t in json.loads(tasks.read_text(encoding="utf-8")))
    (line,) = [s for s in proc.stderr.decode().splitlines() if "pre-annotate" in s]
    assert "writing tasks without predictions" in line


def test_import_of_a_bad_export_is_one_line_and_writes_nothing(tmp_path, tiny_corpus):
    export = _export(tmp_path, [_task(0, _annotation("other"))])  # a paragraph of another corpus
    gold = tmp_path / "gold.jsonl"
    proc = run_cli(
        "paratype-annotate", "import", str(export), "--annotator", "r", "--into", str(gold), check=False
    )
    assert proc.returncode == 2 and not gold.exists()
    (line,) = proc.stderr.decode().strip().splitlines()
    assert line.startswith(f"paratype-annotate: error: {export} task 100 ({PARAS[0].id}): ")
    assert "is not in the corpus" in line


# ---- a real Label Studio on loopback (slow) ----

LS_VERSION = "1.23.2"  # the release this round trip was written against (with label-studio-sdk 2.1)
LS_HOME = PROJECT_ROOT / ".cache" / "label-studio"
TOKEN = "paratype-round-trip-token-0123456789"
EMAIL = "reader@example.org"


def _label_studio_venv() -> Path:
    """Label Studio's own venv (created once, then cached): its pins would downgrade paratype's."""
    venv = LS_HOME / "venv"
    LS_HOME.mkdir(parents=True, exist_ok=True)
    with FileLock(LS_HOME / "venv.lock"):
        if not (venv / ".complete").is_file():
            shutil.rmtree(venv, ignore_errors=True)
            log = LS_HOME / "install.log"
            with log.open("w") as out:
                made = subprocess.run(
                    ["python3", "-m", "venv", str(venv)], stdout=out, stderr=subprocess.STDOUT
                )
                if made.returncode == 0:
                    made = subprocess.run(
                        [str(venv / "bin" / "pip"), "install", "-q", f"label-studio=={LS_VERSION}"],
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
            if made.returncode != 0:
                pytest.skip(f"cannot install label-studio=={LS_VERSION} (no package index?); see {log}")
            (venv / ".complete").touch()
    return venv


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(venv: Path, data_dir: Path, port: int) -> subprocess.Popen:
    """`label-studio start` on loopback with a known user and API token, no telemetry."""
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env.update(
        LABEL_STUDIO_BASE_DATA_DIR=str(data_dir),
        LABEL_STUDIO_USERNAME=EMAIL,
        LABEL_STUDIO_PASSWORD="round-trip-password",
        LABEL_STUDIO_USER_TOKEN=TOKEN,
        LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN="true",  # accept the fixed token as `Token ...`
        LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK="true",
        SENTRY_DSN="",
        FRONTEND_SENTRY_DSN="",
        LATEST_VERSION_CHECK="false",
        COLLECT_ANALYTICS="false",
    )
    command = [str(venv / "bin" / "label-studio"), "start", "--no-browser"]
    command += ["--internal-host", "127.0.0.1", "--port", str(port)]  # --host is only the public URL
    with (data_dir / "server.log").open("w") as log:  # the server keeps its own copy of the handle
        return subprocess.Popen(command, env=env, cwd=data_dir, stdout=log, stderr=subprocess.STDOUT)


def _wait_until_up(server: subprocess.Popen, url: str, log: Path, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"label-studio exited ({server.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise AssertionError(f"label-studio did not answer at {url} in {timeout} s:\n{log.read_text()[-3000:]}")


def _need_corpus() -> None:
    corpus = Path(to_config(compose(["data=corpus"])).paths.corpus_dir)
    if not corpus.is_dir():
        pytest.skip(f"corpus not found at {corpus}: set PARATYPE_CORPUS_DIR or run `paratype-data download`")


@pytest.mark.slow
def test_round_trip_through_a_real_label_studio(trained, tmp_path):
    _need_corpus()
    venv = _label_studio_venv()
    data_dir, port = tmp_path / "label-studio", _free_port()
    data_dir.mkdir()
    url = f"http://127.0.0.1:{port}"
    server = _start_server(venv, data_dir, port)
    try:
        tasks = tmp_path / "tasks.json"  # exported while the server starts
        run_cli(*EXPORT_TASKS, "--n", "5", "--out", str(tasks), tmp=trained.tmp)
        ids = [t["data"]["id"] for t in json.loads(tasks.read_text(encoding="utf-8"))]
        answers = {
            ids[0]: {"label": "field_operation", "note": "عملية في مكان محدد"},
            ids[1]: {"label": "official_warning"},
            ids[2]: {"label": "expert_assessment"},
            ids[3]: "cancel",  # ids[4] stays unlabelled
        }
        (tmp_path / "answers.json").write_text(json.dumps(answers, ensure_ascii=False), encoding="utf-8")
        _wait_until_up(server, url, data_dir / "server.log")
        export = tmp_path / "export.json"
        helper = Path(__file__).with_name("label_studio_roundtrip.py")
        files = [tasks, config_path(tasks), tmp_path / "answers.json", export]
        subprocess.run(
            [str(venv / "bin" / "python"), str(helper), url, TOKEN, *map(str, files)], check=True, timeout=300
        )
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    exported = json.loads(export.read_text(encoding="utf-8"))
    assert sorted(t["data"]["id"] for t in exported) == sorted(ids)
    assert all(t["total_predictions"] == 1 for t in exported)  # the pre-annotations arrived
    gold = tmp_path / "gold.jsonl"
    with pytest.raises(InputError, match=rf"task \d+ \({ids[3]}\) has no label \(and 1 more"):
        read_export(export, "fallback", {})  # the cancelled task, found before any paragraph is looked up
    args = ["import", str(export), "--annotator", "fallback", "--into", str(gold), "--skip-unlabelled"]
    proc = run_cli("paratype-annotate", *args)
    assert "skipped 2 unlabelled task(s)" in proc.stdout.decode()
    records = {r.id: r for r in read_annotations(gold)}
    assert {pid: r.label for pid, r in records.items()} == {
        pid: a["label"] for pid, a in answers.items() if a != "cancel"
    }
    assert {r.annotator for r in records.values()} == {EMAIL}
    assert records[ids[0]].note == "عملية في مكان محدد"
    assert all(r.text_hash == r.id.rsplit("-", 1)[1] for r in records.values())


@pytest.mark.slow  # two exports
def test_a_train_only_export_leaves_out_the_articles_of_evaluation_paragraphs(tmp_path, tiny_corpus):
    sheet, splits = tmp_path / "sheet.jsonl", tmp_path / "splits"
    export = ("paratype-annotate", "export", "--pool", "random", "--n", "5", "--out", str(sheet))
    run_cli(*export, f"paths.splits_dir={splits}", tmp=tmp_path)
    first = next(row for _, row in read_jsonl(sheet))  # a paragraph of the one corpus article
    splits.mkdir()
    (splits / "v1.jsonl").write_text(json.dumps({"id": first["id"], "split": "test"}) + "\n")
    proc = run_cli(*export, "--train-only", f"paths.splits_dir={splits}", tmp=tmp_path)
    assert list(read_jsonl(sheet)) == [] and "(0 not yet annotated)" in proc.stdout.decode()  # seeds only
