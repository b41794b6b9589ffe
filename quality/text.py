"""Text helpers shared by checks: the translatable part of a record, scripts of letters."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from okapi.prompts.protect import protect
from okapi.records import Example

# Unicode name prefixes of the letters that belong to each script of the language registry.
SCRIPT_PREFIXES = {
    "Latin": ("LATIN",),
    "Cyrillic": ("CYRILLIC",),
    "Han": ("CJK",),
    "Japanese": ("CJK", "HIRAGANA", "KATAKANA"),
    "Hangul": ("HANGUL",),
    "Arabic": ("ARABIC",),
    "Hebrew": ("HEBREW",),
    "Greek": ("GREEK",),
    "Armenian": ("ARMENIAN",),
    "Thai": ("THAI",),
    "Devanagari": ("DEVANAGARI",),
    "Bengali": ("BENGALI",),
    "Gujarati": ("GUJARATI",),
    "Tamil": ("TAMIL",),
    "Telugu": ("TELUGU",),
    "Kannada": ("KANNADA",),
    "Malayalam": ("MALAYALAM",),
}


def prose(example: Example, fields: tuple[str, ...] | None = None) -> str:
    """The record's text without code, URLs and placeholders, which are not translated."""
    names = fields or tuple(example.fields)
    return "\n".join(_shielded(example.fields.get(n) or "") for n in names).replace("⟦", " ")


@lru_cache(maxsize=16384)  # every check asks for the same fields' text
def _shielded(text: str) -> str:
    return protect(text).text


@lru_cache(maxsize=4096)
def _letter_script(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return name.split(" ", 1)[0]


def script_fraction(text: str, script: str) -> tuple[float, int]:
    """Share of letters written in `script`, and the number of letters."""
    prefixes = SCRIPT_PREFIXES.get(script, (script.upper(),))
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return 1.0, 0
    inside = sum(1 for ch in letters if _letter_script(ch) in prefixes)
    return inside / len(letters), len(letters)


WORDS = re.compile(r"[^\W\d_]+")  # runs of letters
_WORD_OR_STOP = re.compile(r"[^\W\d_]+|[.!?\n]")


def english_names(text: str) -> set[str]:
    """Capitalised words of the English that do not start a sentence: names, copied as they are.

    A sentence's first word counts too when the next word is a capitalised one ("Dianne Feinstein").
    """
    names, sentence_start, opener = set(), True, None
    for token in _WORD_OR_STOP.findall(text):
        if token in ".!?\n":
            sentence_start, opener = True, None
            continue
        if token[0].isupper() and not sentence_start:
            names.add(token)
            if opener:
                names.add(opener)
        opener = token if sentence_start and token[0].isupper() else None
        sentence_start = False
    return names


def letters_besides(text: str, names: set[str]) -> int:
    """Letters of `text` outside the given names: the evidence a language identifier has."""
    return sum(len(word) for word in WORDS.findall(text) if word not in names)
