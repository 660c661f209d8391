"""Growing the gold set: export worksheets of candidate paragraphs, import them once labelled.

Candidate *pools* may be found by rules (to reach the rare labels) or at random (to keep
`other` realistic), or by model uncertainty; the *labels* always come from a reader filling
in the worksheet against docs/annotation-guidelines.md. Worksheets hold corpus text, so they
live in the ignored cache; only the imported stand-off records are committed.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from datasketch import MinHashLSH

from paratype.corpus import Article
from paratype.errors import InputError
from paratype.io import read_jsonl, write_jsonl
from paratype.labels import ADJUDICATED, Annotation, check_label, read_annotations, write_annotations
from paratype.segment import Paragraph
from paratype.splits import NEAR_DUPLICATE_JACCARD, NUM_PERM, minhash, near_duplicates_of
from paratype.text import fold_for_matching, text_hash, word_count

# Candidate finders (never labellers): each pool over-samples paragraphs likely to hold one type.
POOLS: dict[str, re.Pattern[str]] = {
    "warning": re.compile(
        r"(?:^|[\s«\"(])[وف]?[لب]?(?:حذر|يحذر|تحذر|حذرت|حذروا|يحذرون|تحذير|التحذير|تحذيرات|"
        r"محذرا|محذره|محذرين|نبه|ينبه|نبهت)"
    ),
    "operation": re.compile(
        r"اعتقال|القبض|مقتل|قتل|هجوم|كمين|تفجير|ناسفه|مداهمه|غاره|ضبط|احباط|تفكيك|اعدم|اشتباك|قصف"
    ),
    "expert": re.compile(r"يري|يعتقد|يتوقع|خبير|خبراء|محلل|باحث|مراقبون|مراقبين|استراتيجيه|تحليل"),
    # official_warning's other cue families (the guidelines' خطورة، تهديد، أهبة الاستعداد، اليقظة،
    # دعا ... إلى الحذر), for paragraphs the warning verbs above never reach
    "warning_cues": re.compile(
        r"خطوره|تهديد|اهبه الاستعداد|اليقظه|يقظه|الحيطه|الحذر|توخي|مخاطر|خطر علي|التصدي ل|"
        r"(?:دعا|دعت|يدعو|تدعو|طالب|طالبت|ناشد|ناشدت)\S* [^.]{0,80}(?:الي|ب)(?:عدم|الابتعاد|الانتباه)"
    ),
}
# warning_cues keeps only cue paragraphs that name an official speaker (the seeds' speaker patterns):
# without one, "risk" and "danger" are mostly economics and traffic
OFFICIAL_SPEAKER = re.compile(
    r"وزير|وزاره|المتحدث|متحدث|قائد|مدير|الدفاع المدني|هيئه|الامم المتحده|محافظ|امير|رئيس|مسؤول|"
    r"الشرطه|الداخليه|الصحه|اللواء|العميد|العقيد|الجيش|المديريه|السلطات|الحكومه|البيت الابيض|"
    r"الخارجيه|مجلس|السفاره|الامن|الحرس"
)
# Opinion pages (columns, editorials, interviews): by URL section where an outlet has one...
OPINION_URL = re.compile(r"/Articles/Detail\.aspx|/opinion/|al-jazirah\.com/\d+/\d+/(?:ar|rj)\d+\.htm", re.I)
# ...else by a byline that is a bare name: no dateline ("الرياض - واس", "لندن: «الشرق الأوسط»").
_DATELINE = re.compile(
    r"[:\-ـ–|«»\"/]|واس|رويترز|وكالات|الشرق الأوسط|الاقتصادية|الجزيرة|المدينة|الوطن|اليوم|سبق|متابعة"
)


def is_topical(text: str, pattern: str) -> bool:
    """Does the text look like security news (the corpus is mostly not)? `data.topic_pattern`."""
    return re.search(pattern, fold_for_matching(text)) is not None


def is_opinion(article: Article) -> bool:
    """Is the article a column, editorial or interview page? A candidate finder, not a label."""
    if OPINION_URL.search(article.url):
        return True
    name = article.author.strip()
    return bool(name) and 2 <= len(name.split()) <= 5 and not _DATELINE.search(name)


def pool_candidates(
    paragraphs: Iterable[Paragraph], pool: str, min_words: int = 8, max_words: int = 200
) -> list[Paragraph]:
    """Paragraphs of a reasonable length that a pool's rule picks (`random`: all of them)."""
    if pool not in ("random", "opinion") and pool not in POOLS:
        raise InputError(f"unknown pool {pool!r}; choose random, opinion, uncertain or {', '.join(POOLS)}")
    sized = [p for p in paragraphs if min_words <= word_count(p.text) <= max_words]
    if pool in ("random", "opinion"):  # opinion: the articles were chosen already (is_opinion)
        return sized
    return [p for p in sized if _in_pool(fold_for_matching(p.text), pool)]


def _in_pool(folded: str, pool: str) -> bool:
    """Does a folded text match a rule pool? warning_cues also needs an official speaker and no
    warning verb (the warning pool read every warning-verb paragraph already)."""
    if not POOLS[pool].search(folded):
        return False
    if pool == "warning_cues":
        return bool(OFFICIAL_SPEAKER.search(folded)) and not POOLS["warning"].search(folded)
    return True


def sample(
    candidates: Sequence[Paragraph],
    n: int,
    seed: int,
    exclude: set[str],
    source_of: dict[str, str] | None = None,
    max_share: float = 1.0,
) -> list[Paragraph]:
    """A reproducible random sample of at most n candidates not already annotated.

    With `source_of` (article id -> outlet), no outlet takes more than `max_share` of the sample,
    so one large newspaper cannot dominate the gold set.
    """
    fresh = [p for p in candidates if p.id not in exclude]
    random.Random(seed).shuffle(fresh)
    return _take(fresh, n, source_of, max_share)


def _take(
    ordered: Iterable[Paragraph],
    n: int,
    source_of: dict[str, str] | None,
    max_share: float,
    accept: Callable[[Paragraph], bool] = lambda p: True,
) -> list[Paragraph]:
    """The first n paragraphs in order that `accept` takes, no outlet above `max_share` of n."""
    cap = n if source_of is None or max_share >= 1 else max(1, int(max_share * n))
    taken: Counter[str] = Counter()
    chosen: list[Paragraph] = []
    for p in ordered:
        if len(chosen) == n:
            break
        outlet = source_of[p.article_id] if source_of else ""
        if taken[outlet] < cap and accept(p):
            taken[outlet] += 1
            chosen.append(p)
    return chosen


def model_ranked(
    candidates: Sequence[Paragraph],
    model,
    n: int,
    exclude: set[str],
    likely: str | None = None,
    batch: int = 512,
    diverse: bool = True,
    source_of: dict[str, str] | None = None,
    max_share: float = 1.0,
) -> list[Paragraph]:
    """n candidates ranked by a model (an MLflow pyfunc): by default those whose most likely label
    it is least sure of; with `likely`, those it finds likeliest to be that label (to reach a
    rare label the rules missed). The model only picks what is read, never the label.

    `diverse`: at most one paragraph per near-duplicate cluster (MinHash LSH), so the pool is not
    spent on copies of one wire story. `source_of` and `max_share` cap each outlet as `sample` does.
    """
    import pandas as pd

    fresh = [p for p in candidates if p.id not in exclude]
    keys: list[float] = []
    for start in range(0, len(fresh), batch):
        texts = [p.text for p in fresh[start : start + batch]]
        scores = model.predict(pd.DataFrame({"text": texts})).filter(like="score_")
        keys.extend((scores.max(axis=1) if likely is None else -scores[f"score_{likely}"]).tolist())
    ordered = (fresh[i] for i in sorted(range(len(fresh)), key=keys.__getitem__))
    lsh = MinHashLSH(threshold=NEAR_DUPLICATE_JACCARD, num_perm=NUM_PERM)

    def first_of_its_cluster(p: Paragraph) -> bool:
        signature = minhash(p.text)
        if lsh.query(signature):
            return False
        lsh.insert(p.id, signature)
        return True

    return _take(ordered, n, source_of, max_share, first_of_its_cluster if diverse else lambda p: True)


def outside_evaluation(candidates: Sequence[Paragraph], evaluated: Sequence[Paragraph]) -> list[Paragraph]:
    """Candidates of no article that holds an `evaluated` (dev or test) paragraph and no
    near-duplicate of one: a new split version (`data.split.grow=train`) trains on all of them."""
    held = {p.article_id for p in evaluated}
    free = [p for p in candidates if p.article_id not in held]
    copies = near_duplicates_of([p.text for p in free], [p.text for p in evaluated])
    return [p for k, p in enumerate(free) if k not in copies]


def write_worksheet(path: Path, rows: Iterable[tuple[Paragraph, str]]) -> int:
    """Write (paragraph, outlet) rows as a JSONL worksheet with an empty `label` to fill in."""
    return write_jsonl(
        path, ({"id": p.id, "source": source, "text": p.text, "label": "", "note": ""} for p, source in rows)
    )


def deal(pools: dict[Path, str], readers: int, double: int, seed: int, out: Path) -> int:
    """Deal exported pool worksheets out to `readers` reader worksheets of about equal size.

    `double` paragraphs, stratified by pool, go to a second reader as well; readers see neither
    the pool nor which rows someone else reads, and `manifest.jsonl` records both for import.
    """
    if readers < 2 and double:
        raise InputError("--double needs --readers of at least 2 (a second reader must differ)")
    rows = {}
    for path, pool in pools.items():
        for _, row in read_jsonl(path):
            rows.setdefault(row["id"], (pool, {**row, "label": "", "note": ""}))
    if double > len(rows):
        raise InputError(f"--double {double} is more than the {len(rows)} paragraphs dealt; lower it")
    rng = random.Random(seed)
    ids = sorted(rows)
    rng.shuffle(ids)
    first = {pid: k % readers for k, pid in enumerate(ids)}
    twice = _stratified(ids, [rows[pid][0] for pid in ids], double)
    load = [sum(1 for pid in ids if first[pid] == k) for k in range(readers)]
    second: dict[str, int] = {}
    for pid in ids:  # each second reading to the least loaded other reader: sheets stay even
        if pid in twice:
            second[pid] = min((k for k in range(readers) if k != first[pid]), key=load.__getitem__)
            load[second[pid]] += 1
    sheets: list[list[dict]] = [[] for _ in range(readers)]
    manifest = []
    for pid in ids:
        for role, reader in (("first", first[pid]), ("second", second.get(pid))):
            if reader is not None:
                sheets[reader].append(rows[pid][1])
                manifest.append({"id": pid, "pool": rows[pid][0], "reader": _reader(reader), "role": role})
    for k, sheet in enumerate(sheets):
        rng.shuffle(sheet)
        write_jsonl(out / f"{_reader(k)}.jsonl", sheet)
    write_jsonl(out / "manifest.jsonl", manifest)
    return len(manifest)


def _reader(k: int) -> str:
    return f"reader-{k + 1:02d}"


def _stratified(ids: list[str], strata: list[str], n: int) -> set[str]:
    """n of the (already shuffled) ids, each stratum in proportion to its size (largest remainder)."""
    members: dict[str, list[str]] = {}
    for pid, stratum in zip(ids, strata, strict=True):
        members.setdefault(stratum, []).append(pid)
    quota = {s: n * len(m) / len(ids) for s, m in members.items()}
    take = {s: int(q) for s, q in quota.items()}
    for s in sorted(quota, key=lambda s: take[s] - quota[s])[: n - sum(take.values())]:
        take[s] += 1
    return {pid for s, m in members.items() for pid in m[: take[s]]}


def route_by_manifest(
    records: list[Annotation], manifest: Path, reader: str, folder: Path
) -> dict[Path, list[Annotation]]:
    """Split one reader's records by role: first readings to gold.jsonl, second to double.jsonl."""
    role_of = {row["id"]: row["role"] for _, row in read_jsonl(manifest) if row["reader"] == reader}
    unknown = [r.id for r in records if r.id not in role_of]
    if unknown:
        raise InputError(
            f"{len(unknown)} row(s) of {reader} are not dealt to {reader} in {manifest} "
            f"(first: {unknown[0]}); pass the worksheet that `deal` wrote for this reader"
        )
    files = {"first": folder / "gold.jsonl", "second": folder / "double.jsonl"}
    routed: dict[Path, list[Annotation]] = {path: [] for path in files.values()}
    for record in records:
        routed[files[role_of[record.id]]].append(record)
    return routed


EARLIER_ROUNDS = "rounds 1-2"  # the pool of paragraphs labelled before pools were recorded


def read_pools(path: Path) -> dict[str, str]:
    """Paragraph id -> the pool it was exported from (empty when no pool file exists yet)."""
    return {row["id"]: row["pool"] for _, row in read_jsonl(path)} if path.exists() else {}


def record_pools(path: Path, manifest: Path, records: list[Annotation]) -> int:
    """Add the pool each imported paragraph was exported from to the committed pool file
    (id -> pool, no text), so the data card can count labels per pool."""
    pool_of = read_pools(path)
    imported = {r.id for r in records}
    for _, row in read_jsonl(manifest):
        if row["id"] in imported:
            pool_of.setdefault(row["id"], row["pool"])
    return write_jsonl(path, ({"id": pid, "pool": pool_of[pid]} for pid in sorted(pool_of)))


def read_worksheet(path: Path, annotator: str, known: dict[str, Paragraph]) -> list[Annotation]:
    """Validate a labelled worksheet: known ids, known labels, text unchanged since export, each id
    once, and a reader's name (never `adjudicated`, which only adjudication writes)."""
    records: list[Annotation] = []
    seen: dict[str, str] = {}
    for where, row in read_jsonl(path):
        paragraph = known.get(row.get("id", ""))
        if paragraph is None:
            raise InputError(
                f"{where}: paragraph id {row.get('id')!r} is not in the corpus "
                "as cleaned now; export a fresh worksheet"
            )
        if "text" in row and row["text"] != paragraph.text:
            raise InputError(f"{where}: the text of {paragraph.id} changed since export; re-export it")
        if paragraph.id in seen:
            raise InputError(
                f"{where}: paragraph {paragraph.id} is already labelled at {seen[paragraph.id]}; "
                "keep one row per paragraph"
            )
        seen[paragraph.id] = where
        label = check_label(row.get("label", ""), where)
        reader = row.get("annotator") or annotator
        if reader == ADJUDICATED:
            raise InputError(
                f"{where}: annotator {ADJUDICATED!r} is reserved for adjudicated.jsonl; "
                "name the reader who labelled the row"
            )
        records.append(
            Annotation(paragraph.id, text_hash(paragraph.text), label, reader, row.get("note", ""))
        )
    if not records:
        raise InputError(f"{path} has no labelled rows; fill in the `label` fields first")
    return records


def as_adjudicated(records: list[Annotation], by: str) -> list[Annotation]:
    """A reader's decisions on contested or audited labels, recorded as adjudication (they win
    over every other record of the paragraph); the note keeps who decided and why."""
    return [
        Annotation(r.id, r.text_hash, r.label, ADJUDICATED, f"{by}: {r.note}" if r.note else by)
        for r in records
    ]


def _reader_of(record: Annotation) -> str:
    """Who read the record: its annotator, or for a decision the reader its note names first
    (every decision's annotator is `adjudicated`, and a later audit of the paragraph must count)."""
    return record.note.split(":", 1)[0] if record.annotator == ADJUDICATED else record.annotator


def merge_into(target: Path, new: list[Annotation]) -> tuple[int, int]:
    """Add new records to an annotation file; a paragraph keeps one record per reader, so a
    re-import adds nothing and a new reader's decision is added (the last decision wins)."""
    existing = read_annotations(target) if target.exists() else []
    keys = {(r.id, _reader_of(r)) for r in existing}
    added = [r for r in new if (r.id, _reader_of(r)) not in keys]
    write_annotations(target, [*existing, *added])
    return len(added), len(new) - len(added)
