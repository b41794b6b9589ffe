"""Which version of each check is current: a check's name is `<family>_v<N>`, the highest N wins.

Builders use the current version of every check they run; one that keeps an older version says
why in `builders.OLDER_CHECKS` (tests/test_quality_versions.py holds them to it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_NAME = re.compile(r"(?P<family>.+)_v(?P<version>\d+)")


def family(name: str) -> tuple[str, int]:
    """'numbers_v3' → ('numbers', 3)."""
    match = _NAME.fullmatch(name)
    if not match:
        raise ValueError(f"check name {name!r} carries no version (expected <family>_v<N>)")
    return match["family"], int(match["version"])


def current_names(names: Iterable[str]) -> dict[str, str]:
    """family → the name of its highest version among `names`."""
    best: dict[str, tuple[int, str]] = {}
    for name in names:
        fam, version = family(name)
        if version > best.get(fam, (-1, ""))[0]:
            best[fam] = (version, name)
    return {fam: name for fam, (_, name) in best.items()}


def outdated(used: Iterable[str], known: Iterable[str]) -> dict[str, str]:
    """Used check names that are not their family's current version → the current one."""
    current = current_names(known)
    return {name: current[fam] for name in used if current.get(fam := family(name)[0], name) != name}
