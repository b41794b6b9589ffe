"""Multiple-choice benchmark items: what is translated as one unit, and the checks each one passes.

An item is an `Example` whose fields hold the question text (question, context) and one field per
option in order; its `meta` carries what is not translated (answer key, subject, index). All the
translated fields of an item travel in one request, so the options stay consistent with the
question and with each other. The translated item must still be the same question: same options,
answer key unchanged, no option empty or equal to another, options in their order. A failure is
returned to the runner, which asks again with the failure named, then rejects the item with it.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from okapi.records import Example
from okapi.steps.runner import Failure

# Reason codes, counted per language in stats.json.
OPTION_COUNT_CHANGED = "option_count_changed"
ANSWER_CHANGED = "answer_changed"
EMPTY_OPTION = "empty_option"
DUPLICATE_OPTION = "duplicate_option"
OPTION_ORDER_CHANGED = "option_order_changed"
ITEM_REASONS = (OPTION_COUNT_CHANGED, ANSWER_CHANGED, EMPTY_OPTION, DUPLICATE_OPTION, OPTION_ORDER_CHANGED)


@dataclass(frozen=True)
class ItemSpec:
    text_fields: tuple[str, ...]  # translated, not options: question, context, label
    option_fields: tuple[str, ...]  # translated, in the order the answer key counts them
    answer_key: str  # the meta key of the answer, carried along untranslated
    answer_labels: tuple[str, ...]  # the answer value that names option i

    @property
    def translated(self) -> tuple[str, ...]:
        return self.text_fields + self.option_fields

    def present_options(self, item: Example) -> list[str]:
        """The option fields that hold text (benchmarks have 3 to 5 options in 5 slots)."""
        return [name for name in self.option_fields if _has_text(item.fields.get(name))]

    def validate(self, source: Example, translated: Example) -> Failure | None:
        return validate_item(self, source, translated)


def _has_text(value: str | None) -> bool:
    return value is not None and bool(value.strip())


def _same_text(value: str) -> str:
    # Case is kept: ARC genetics options 'Rr', 'rr' and 'RR' are different answers.
    return " ".join(value.split()).rstrip(".。!?！？")


def _numbers(text: str) -> Counter[str]:
    """Numbers as ASCII digit strings, whatever the script of their digits."""
    return Counter(
        "".join(str(unicodedata.digit(ch)) for ch in match if ch.isdigit())
        for match in re.findall(r"\d+(?:[.,]\d+)*", text)
    )


def validate_item(spec: ItemSpec, source: Example, translated: Example) -> Failure | None:
    """The first defect of a translated item against its English source, or None."""
    src = [source.fields.get(name) or "" for name in spec.option_fields]
    out = [translated.fields.get(name) for name in spec.option_fields]
    src_present = [name for name, value in zip(spec.option_fields, src, strict=True) if _has_text(value)]
    missing = [name for name in src_present if translated.fields.get(name) is None]
    added = [
        name
        for name, value, english in zip(spec.option_fields, out, src, strict=True)
        if not english.strip() and value and value.strip()
    ]
    if missing or added:
        return Failure(
            OPTION_COUNT_CHANGED,
            f"{len(src_present)} options in the source; missing {missing or 'none'}, added {added or 'none'}",
        )
    answer, now = source.meta.get(spec.answer_key), translated.meta.get(spec.answer_key)
    if now != answer:
        return Failure(ANSWER_CHANGED, f"answer {answer!r} became {now!r}")
    empty = [name for name in src_present if not _has_text(translated.fields[name])]
    if empty:
        return Failure(EMPTY_OPTION, f"{', '.join(empty)} came back without text")
    seen: dict[str, int] = {}
    for i, value in enumerate(out):
        if not _has_text(src[i]):
            continue
        key = _same_text(value or "")
        j = seen.setdefault(key, i)
        if j != i and _same_text(src[j]) != _same_text(src[i]):
            names = spec.option_fields
            return Failure(DUPLICATE_OPTION, f"{names[j]} and {names[i]} are both {value!r}")
    return _order_problem(spec, src, [value or "" for value in out])


def _order_problem(spec: ItemSpec, src: list[str], out: list[str]) -> Failure | None:
    """An option that carries another option's English text or numbers instead of its own moved."""
    names = spec.option_fields
    for i, value in enumerate(out):
        for j, english in enumerate(src):
            if i == j or not _has_text(english) or not _has_text(value):
                continue
            if _same_text(value) == _same_text(english) != _same_text(src[i]):
                return Failure(OPTION_ORDER_CHANGED, f"{names[i]} holds the text of {names[j]}: {value!r}")
            own, other = _numbers(src[i]), _numbers(english)
            if other and own != other and _numbers(value) == other:
                return Failure(
                    OPTION_ORDER_CHANGED,
                    f"{names[i]} holds the numbers of {names[j]} ({', '.join(other)}), not its own",
                )
    return None


def check_source_item(spec: ItemSpec, item: Example) -> str | None:
    """What makes an English item unusable (a message naming the field), or None."""
    present = spec.present_options(item)
    if len(present) < 2:
        return f"needs at least 2 options in {', '.join(spec.option_fields)}, has {len(present)}"
    if present != list(spec.option_fields[: len(present)]):
        # lm-eval's tasks drop empty options, which would shift every later answer index
        return (
            f"options must fill {', '.join(spec.option_fields)} from the first without a gap, got {present}"
        )
    answer = item.meta.get(spec.answer_key)
    valid = spec.answer_labels[: len(present)]
    if answer not in valid:
        return f"{spec.answer_key} is {answer!r}; with {len(present)} options it must be one of {list(valid)}"
    if not any(_has_text(item.fields.get(name)) for name in spec.text_fields):
        return f"no text in {', '.join(spec.text_fields)}"
    return None
