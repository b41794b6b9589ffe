"""The small parallel corpus shipped with okapi: English sentences and their translations."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

_WS = re.compile(r"\s+")


def normalize(sentence: str) -> str:
    return _WS.sub(" ", sentence).strip()


@cache
def corpus_languages() -> tuple[str, ...]:
    folder = resources.files("okapi.offline") / "corpus"
    return tuple(sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".txt")))


@cache
def sentences(lang: str) -> tuple[str, ...]:
    path = resources.files("okapi.offline") / "corpus" / f"{lang}.txt"
    return tuple(line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


@cache
def table(lang: str) -> dict[str, str]:
    """English sentence → its translation in `lang`."""
    english, target = sentences("en"), sentences(lang)
    if len(english) != len(target):
        raise ValueError(f"corpus {lang}.txt has {len(target)} lines, en.txt has {len(english)}")
    return {normalize(e): t for e, t in zip(english, target, strict=True)}
