"""Deterministic split of an English pool by hashing ids (the paper: 52K sft, 42K rank, rest rl).

Records are ordered by sha256 of their id and cut at the requested sizes, so a record's split
never depends on a random draw, and growing the pool keeps most assignments.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from okapi.records import Example

PAPER_SIZES = {"sft": 52_000, "rank": 42_000, "rl": None}  # None: the rest


class SplitError(ValueError):
    pass


def parse_sizes(spec: str) -> dict[str, int | None]:
    """'sft=52000,rank=42000,rl=rest' → {'sft': 52000, 'rank': 42000, 'rl': None}."""
    sizes: dict[str, int | None] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, value = part.partition("=")
        if not name or not value:
            raise SplitError(f"bad split size {part!r}; use name=N or name=rest")
        if value == "rest":
            sizes[name] = None
        elif value.isdigit():
            sizes[name] = int(value)
        else:
            raise SplitError(f"bad split size {part!r}; N must be a whole number or 'rest'")
    if list(sizes.values()).count(None) > 1:
        raise SplitError("only one split can take the rest")
    return sizes


def split_by_hash(examples: Sequence[Example], sizes: dict[str, int | None]) -> dict[str, list[Example]]:
    ordered = sorted(examples, key=lambda e: hashlib.sha256(e.id.encode()).hexdigest())
    fixed = sum(n for n in sizes.values() if n is not None)
    if fixed > len(ordered):
        raise SplitError(f"sizes ask for {fixed} records but the pool has {len(ordered)}")
    out: dict[str, list[Example]] = {}
    start = 0
    rest = next((name for name, n in sizes.items() if n is None), None)
    for name, n in sizes.items():
        if n is not None:
            out[name] = ordered[start : start + n]
            start += n
    if rest is not None:
        out[rest] = ordered[start:]
    return {name: out[name] for name in sizes}
