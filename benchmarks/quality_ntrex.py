"""NTREX-128 loader shared by the quality benchmarks (the data stays in ../shared/data, never here)."""

from __future__ import annotations

import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NTREX = REPO.parent / "shared" / "data" / "ntrex128"
# ISO 639-1 → NTREX file code; Okapi's Serbian is Latin.
FILE_CODES = {
    "ar": "arb", "bn": "ben", "ca": "cat", "da": "dan", "de": "deu", "es": "spa", "fr": "fra",
    "hi": "hin", "hr": "hrv", "hu": "hun", "id": "ind", "it": "ita", "kn": "kan", "ml": "mal",
    "mr": "mar", "ne": "nep", "nl": "nld", "ro": "ron", "ru": "rus", "sk": "slk", "sr": "srp-Latn",
    "ta": "tam", "te": "tel", "uk": "ukr", "vi": "vie", "zh": "zho-CN",
}  # fmt: skip


def require_ntrex() -> Path:
    if not (NTREX / "newstest2019-src.eng.txt").exists():
        sys.exit(f"NTREX-128 not found at {NTREX} (see ../shared/data/README.md); nothing to measure")
    return NTREX


def lines(code: str) -> list[str]:
    """All 1,997 lines of one language ('en' for the English source)."""
    name = "newstest2019-src.eng.txt" if code == "en" else f"newstest2019-ref.{FILE_CODES[code]}.txt"
    return (require_ntrex() / name).read_text(encoding="utf-8").splitlines()


def documents() -> list[str]:
    """The document id of every line (sentences of one news story share it)."""
    rows = (require_ntrex() / "DOCUMENT_IDS.tsv").read_text(encoding="utf-8").splitlines()
    return [row.split("\t")[0] for row in rows]


def sample_indices(n: int, seed: int = 0) -> list[int]:
    return sorted(random.Random(seed).sample(range(len(lines("en"))), n))


HPLT = REPO.parent / "shared" / "data" / "hplt_prompts"
HPLT_LANGS = ("bn", "es", "fr", "hi", "ru", "zh")


def hplt_prompts() -> dict[str, list[str | None]]:
    """The 50 human-translated prompts per language ('en' too), aligned by line; a malformed
    line (hi line 50 upstream) is reported with file and line and stays None."""
    import json

    if not (HPLT / "test_en.jsonl").exists():
        sys.exit(f"HPLT prompts not found at {HPLT} (see ../shared/data/README.md); nothing to measure")
    out: dict[str, list[str | None]] = {}
    for code in ("en", *HPLT_LANGS):
        path = HPLT / f"test_{code}.jsonl"
        rows: list[str | None] = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            try:
                rows.append(json.loads(line)["prompt"])
            except (json.JSONDecodeError, KeyError) as exc:
                print(f"{path}:{number}: skipped, not a prompt row ({exc})", file=sys.stderr)
                rows.append(None)
        out[code] = rows
    return out
