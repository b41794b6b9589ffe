"""Exact and near duplicates within one language: a check over all of a language's records at once.

Exact: the same text once case and whitespace are normalized. Near: Jaccard similarity of
character 5-gram shingles, found with MinHash (64 hashes, 16 bands of 4, so pairs above ~0.5
become candidates) and confirmed on the exact shingle sets. The first record in order is kept;
later ones point to it in `duplicate_of`.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from okapi.languages import Language
from okapi.quality.checks import CheckResult
from okapi.records import Example

_SHINGLE = 5
_BANDS, _ROWS = 16, 4
_rng = np.random.default_rng(20230801)  # fixed: the same text always gets the same signature
_A = _rng.integers(1, 2**63, size=(_BANDS * _ROWS, 1), dtype=np.uint64) | np.uint64(1)
_B = _rng.integers(0, 2**63, size=(_BANDS * _ROWS, 1), dtype=np.uint64)
_POWERS = np.array([1_000_003**k % 2**64 for k in range(_SHINGLE)], dtype=np.uint64)


def normalized(example: Example) -> str:
    return " ".join(" ".join(example.fields.values()).casefold().split())


def shingles(text: str) -> np.ndarray:
    """Distinct 64-bit hashes of the character 5-grams (the whole text when shorter)."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if len(codes) < _SHINGLE:
        codes = np.pad(codes, (0, _SHINGLE - len(codes)))
    windows = np.lib.stride_tricks.sliding_window_view(codes, _SHINGLE)
    with np.errstate(over="ignore"):
        return np.unique(windows @ _POWERS)


def band_keys(hashes: np.ndarray) -> list[bytes]:
    with np.errstate(over="ignore"):
        signature = (_A * hashes[None, :] + _B).min(axis=1)
    return [signature[b * _ROWS : (b + 1) * _ROWS].tobytes() + bytes([b]) for b in range(_BANDS)]


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    common = len(np.intersect1d(a, b, assume_unique=True))
    return common / (len(a) + len(b) - common)


class DuplicateIndex:
    """The records kept so far in one language; `judge` decides the next one in order.

    The index lives in a private temporary SQLite database on disk, so a language of any size
    is checked in flat memory: texts are kept as a 16-byte digest, each kept record as its
    shingle set and 16 band keys.
    """

    def __init__(self, max_similarity: float):
        self.max_similarity = max_similarity
        self.db = sqlite3.connect("")  # "": a temporary database on disk, deleted on close
        self.db.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-65536;"
            "CREATE TABLE texts (digest BLOB PRIMARY KEY, id TEXT NOT NULL) WITHOUT ROWID;"
            "CREATE TABLE kept (n INTEGER PRIMARY KEY, id TEXT NOT NULL, shingles BLOB NOT NULL);"
            "CREATE TABLE bands (key BLOB NOT NULL, n INTEGER NOT NULL);"
            "CREATE INDEX bands_by_key ON bands (key);"
        )
        self.kept = 0

    def judge(self, record: Example) -> CheckResult:
        text = normalized(record)
        digest = hashlib.blake2b(text.encode(), digest_size=16).digest()
        first = self.db.execute("SELECT id FROM texts WHERE digest = ?", (digest,)).fetchone()
        if first:
            return CheckResult(
                {"duplicate_of": first[0], "near_duplicate_similarity": 1.0}, False, "duplicate"
            )
        self.db.execute("INSERT INTO texts VALUES (?, ?)", (digest, record.id))
        hashes = shingles(text)
        keys = band_keys(hashes)
        candidates = self.db.execute(
            "SELECT n, id, shingles FROM kept WHERE n IN "
            f"(SELECT n FROM bands WHERE key IN ({','.join('?' * len(keys))})) ORDER BY n",
            keys,
        )
        best, best_id = 0.0, None
        for _, other_id, blob in candidates:  # in order: of equally similar ones, the first counts
            similarity = jaccard(hashes, np.frombuffer(blob, dtype=np.uint64))
            if similarity > best:
                best, best_id = similarity, other_id
        if best >= self.max_similarity:
            scores = {"duplicate_of": best_id, "near_duplicate_similarity": round(best, 4)}
            return CheckResult(scores, False, "near_duplicate")
        self.db.execute("INSERT INTO kept VALUES (?, ?, ?)", (self.kept, record.id, hashes.tobytes()))
        self.db.executemany("INSERT INTO bands VALUES (?, ?)", [(key, self.kept) for key in keys])
        self.kept += 1
        return CheckResult({"duplicate_of": None, "near_duplicate_similarity": round(best, 4)})

    def close(self) -> None:
        self.db.close()


@dataclass(frozen=True)
class Duplicates:
    """Rejects a record whose text repeats an earlier one (`duplicate`) or nearly does (`near_duplicate`).

    A sharded build streams a language's records through one index (`start`) in source order.
    """

    name: ClassVar[str] = "duplicates_v1"
    per_record: ClassVar[bool] = False  # judged over the whole language
    columns: ClassVar[dict[str, type]] = {"duplicate_of": str, "near_duplicate_similarity": float}
    max_similarity: float = 0.9

    def start(self, lang: Language) -> DuplicateIndex:
        return DuplicateIndex(self.max_similarity)

    def __call__(
        self, records: Sequence[Example], sources: Mapping[str, Example], lang: Language
    ) -> list[CheckResult]:
        index = self.start(lang)
        try:
            return [index.judge(record) for record in records]
        finally:
            index.close()
