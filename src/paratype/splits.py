"""Leak-free splits: whole articles, and whole clusters of republished wire stories, per split.

Two articles are in one group when any of their paragraphs are near-duplicates (MinHash over
word 3-shingles, LSH at `NEAR_DUPLICATE_JACCARD`). Groups, never paragraphs, are assigned to
train/dev/test, so the same story told by two outlets cannot be both trained and tested on.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from datasketch import MinHash, MinHashLSH

from paratype.config import SplitConfig
from paratype.errors import InputError
from paratype.io import atomic_write_text, read_jsonl
from paratype.segment import split_paragraph_id
from paratype.text import NormalizationConfig, normalize

if TYPE_CHECKING:
    from paratype.labels import LabelledParagraph

NEAR_DUPLICATE_JACCARD = 0.6
EXCLUDED = "excluded"
NUM_PERM = 64
_FOLD = NormalizationConfig()


def minhash(text: str) -> MinHash:
    words = normalize(text, _FOLD).split()
    shingles = {" ".join(words[i : i + 3]) for i in range(max(len(words) - 2, 1))}
    mh = MinHash(num_perm=NUM_PERM, seed=1)
    mh.update_batch([s.encode("utf-8") for s in shingles])
    return mh


def near_duplicates_of(candidates: Sequence[str], protected: Sequence[str]) -> set[int]:
    """Indices of candidates that are near-duplicates of any protected text."""
    lsh = MinHashLSH(threshold=NEAR_DUPLICATE_JACCARD, num_perm=NUM_PERM)
    for k, text in enumerate(protected):
        lsh.insert(str(k), minhash(text))
    return {k for k, text in enumerate(candidates) if lsh.query(minhash(text))}


class UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        self.parent[self.find(a)] = self.find(b)


def near_duplicate_clusters(keys: Sequence[str], texts: Sequence[str]) -> UnionFind:
    """Union of the keys whose texts are near-duplicates (MinHash LSH over word 3-shingles)."""
    lsh = MinHashLSH(threshold=NEAR_DUPLICATE_JACCARD, num_perm=NUM_PERM)
    clusters = UnionFind()
    for k, (key, text) in enumerate(zip(keys, texts, strict=True)):
        clusters.find(key)
        signature = minhash(text)
        for other in lsh.query(signature):
            clusters.union(key, keys[int(other)])
        lsh.insert(str(k), signature)
    return clusters


def article_groups(items: Sequence[LabelledParagraph]) -> dict[str, str]:
    """Map each article id to its group: articles sharing a near-duplicate paragraph merge."""
    groups = near_duplicate_clusters(
        [i.paragraph.article_id for i in items], [i.paragraph.text for i in items]
    )
    # name each group by its smallest article id: the union order (LSH answers are sets) must not
    # change the names, or the seeded shuffle of groups, and so the split, would change run to run
    root_name: dict[str, str] = {}
    for article in sorted(groups.parent):
        root_name.setdefault(groups.find(article), article)
    return {article: root_name[groups.find(article)] for article in groups.parent}


def _fill(
    groups: list[tuple[str, int]], target: float, start: bool = False
) -> tuple[list[str], list[tuple[str, int]]]:
    """Take groups in order while that brings the paragraph count closer to the target
    (the first group always, unless `start`: the split has paragraphs already)."""
    taken: list[str] = []
    count = 0
    rest: list[tuple[str, int]] = []
    for key, size in groups:
        if (not taken and not start) or abs(count + size - target) < abs(count - target):
            taken.append(key)
            count += size
        else:
            rest.append((key, size))
    return taken, rest


def assign_splits(items: Sequence[LabelledParagraph], cfg: SplitConfig) -> dict[str, str]:
    """Paragraph id -> "train" | "dev" | "test" (or "excluded"); from the split file when one is set.

    A new assignment keeps every test and dev paragraph of `cfg.keep` where it was, and sends
    the rest of their near-duplicate groups with them; paragraphs of `cfg.test_always` sources
    are always test. The other groups are shuffled by `cfg.seed` and fill test and dev to their
    shares, or with `grow=train` all go to training. With `hold_out=outlet`, test holds every
    paragraph of the named outlets; a paragraph of another outlet that republishes one of their
    stories is excluded rather than trained on.
    """
    if cfg.file:
        return read_split_file(Path(cfg.file), [i.paragraph.id for i in items])
    group_of = article_groups(items)
    if len(set(group_of.values())) < 3:
        raise InputError(
            f"only {len(set(group_of.values()))} article group(s): a grouped "
            "train/dev/test split needs at least 3 articles; add data"
        )
    kept = read_split_file(Path(cfg.keep), []) if cfg.keep else {}
    sizes: dict[str, int] = defaultdict(int)
    fixed: dict[str, str] = {}  # group -> split, decided by kept paragraphs and held-out sources
    kept_in: dict[str, set[str]] = defaultdict(set)
    held_out = set(cfg.test_always) | (set(cfg.test_sources) if cfg.hold_out == "outlet" else set())
    for item in items:
        group = group_of[item.paragraph.article_id]
        sizes[group] += 1
        if kept.get(item.paragraph.id) in ("dev", "test"):
            kept_in[group].add(kept[item.paragraph.id])
        if item.source in held_out or kept.get(item.paragraph.id) == "test":
            fixed[group] = "test"
        elif kept.get(item.paragraph.id) == "dev":
            fixed.setdefault(group, "dev")
    # new paragraphs that join a kept dev group to a kept test group: used nowhere
    bridged = {g for g, splits in kept_in.items() if len(splits) > 1}
    if cfg.hold_out == "outlet" and not any(i.source in cfg.test_sources for i in items):
        raise InputError(
            f"data.split.test_sources={cfg.test_sources} match no labelled "
            "paragraph; name outlets that occur in the data"
        )
    ordered = sorted(sizes.items())
    random.Random(cfg.seed).shuffle(ordered)
    pool = [g for g in ordered if g[0] not in fixed]
    total = len(items)
    shares = {"dev": cfg.dev} if cfg.hold_out == "outlet" else {"test": cfg.test, "dev": cfg.dev}
    for split, share in shares.items() if cfg.grow == "shares" else ():
        have = sum(sizes[g] for g, s in fixed.items() if s == split)
        taken, pool = _fill(pool, max(share * total - have, 0), start=have > 0)
        fixed |= dict.fromkeys(taken, split)
    split_of = {}
    for item in items:
        pid = item.paragraph.id
        split = kept.get(pid) if kept.get(pid) in ("dev", "test") else None
        group = group_of[item.paragraph.article_id]
        split_of[pid] = split or (EXCLUDED if group in bridged else fixed.get(group, "train"))
        if (
            cfg.hold_out == "outlet"
            and split_of[pid] == "test"
            and item.source not in held_out
            and kept.get(pid) != "test"
        ):
            split_of[pid] = EXCLUDED  # a copy of a held-out outlet's story: used nowhere
    return split_of


def write_split_file(path: Path, split_of: dict[str, str]) -> None:
    lines = (json.dumps({"id": pid, "split": split}) for pid, split in sorted(split_of.items()))
    atomic_write_text(path, "\n".join(lines) + "\n")


def read_split_file(path: Path, ids: Iterable[str]) -> dict[str, str]:
    """The frozen assignment; a labelled paragraph it does not cover is an error, not a guess."""
    if not path.exists():
        raise InputError(f"split file {path} does not exist; create it with `paratype-data split`")
    split_of = {row["id"]: row["split"] for _, row in read_jsonl(path)}
    missing = [pid for pid in ids if pid not in split_of]
    if missing:
        raise InputError(
            f"{len(missing)} labelled paragraph(s) are not in split file {path} "
            f"(first: {missing[0]}); write a new split version with `paratype-data split`"
        )
    return split_of


def split_file_ids(splits_dir: Path, splits: tuple[str, ...]) -> set[str]:
    """Paragraph ids assigned to any of `splits` in any committed split file."""
    return {
        row["id"]
        for path in splits_dir.glob("*.jsonl")
        for _, row in read_jsonl(path)
        if row["split"] in splits
    }


def evaluation_articles(splits_dir: Path) -> set[str]:
    """Articles with a dev or test paragraph in any committed split file: never pretrained on,
    never a source of silver labels."""
    return {split_paragraph_id(pid)[0] for pid in split_file_ids(splits_dir, ("dev", "test"))}
