"""Shield spans a translator must not touch (code, URLs, placeholders) behind numbered markers."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Order matters: fenced code first so inline patterns never split a code block.
_PROTECTED = re.compile(
    r"```.*?(?:```|\Z)"  # fenced code block
    r"|`[^`\n]+`"  # inline code
    r"|https?://[^\s<>\"'`]*[^\s<>\"'`.,;:!?)\]]"  # URL, without trailing punctuation
    r"|\{\{[^{}\n]*\}\}"  # {{ jinja }}
    r"|\{[A-Za-z_][A-Za-z0-9_.]*\}"  # {name}
    r"|%\([A-Za-z_]+\)[sdif]|%[sdif]"  # printf placeholders
    r"|<[A-Za-z][A-Za-z0-9_-]*/?>|</[A-Za-z][A-Za-z0-9_-]*>",  # <tag>, </tag>
    re.DOTALL,
)
MARKER = re.compile(r"⟦(\d+)⟧")


@dataclass(frozen=True)
class Protected:
    text: str  # the text with markers
    spans: tuple[str, ...]  # the original span behind marker ⟦i⟧


def protect(text: str) -> Protected:
    spans: list[str] = []

    def replace(match: re.Match[str]) -> str:
        spans.append(match.group(0))
        return f"⟦{len(spans) - 1}⟧"

    return Protected(_PROTECTED.sub(replace, text), tuple(spans))


class MarkerError(ValueError):
    pass


def restore(translated: str, spans: tuple[str, ...]) -> str:
    """Put the original spans back; every marker must appear exactly once."""
    found = [int(m) for m in MARKER.findall(translated)]
    if sorted(found) != list(range(len(spans))):
        raise MarkerError(f"expected markers {list(range(len(spans)))}, found {found}")
    return MARKER.sub(lambda m: spans[int(m.group(1))], translated)
