"""Record types that flow between steps. Every record leaves a build as data or as a Reject."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Example:
    """One record: a stable id, its language, and named text fields (e.g. instruction/input/output)."""

    id: str
    fields: dict[str, str]
    lang: str = "en"
    scores: dict[str, Any] = field(default_factory=dict)  # quality scores, published as columns
    meta: dict[str, Any] = field(default_factory=dict)  # step results (ranks, models, sampling)


@dataclass(frozen=True)
class Reject:
    """A record that did not make it into the data, with a reason code and a human detail."""

    id: str
    lang: str
    reason: str
    detail: str
    fields: dict[str, str] = field(default_factory=dict)
    scores: dict[str, Any] = field(default_factory=dict)

    def as_row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "lang": self.lang,
            "reason": self.reason,
            "detail": self.detail,
            "fields": self.fields,
            "scores": self.scores,
        }
