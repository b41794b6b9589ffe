"""Multiple-choice items judged as items: the builders' validation, and defects of single fields.

Checks over the whole record miss what goes wrong in one field of an item: options left in
English while the question is translated, two options translated to one text (speed/velocity →
"Geschwindigkeit" twice), the correct option's text leaked into the question. These checks read
the item's fields by role (question or option) and its answer key from the source's `meta`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from okapi.benchmarks import ItemSpec, validate_item
from okapi.languages import Language
from okapi.quality.checks import CheckResult
from okapi.quality.heuristics import bare
from okapi.quality.text import WORDS, english_names, script_fraction
from okapi.records import Example


@dataclass(frozen=True)
class ItemValid:
    """The benchmark builders' item validation (okapi/benchmarks.py) as a check, so audits of
    translations made elsewhere run it too: same options, answer kept, no empty or collapsed
    option, options in their order. Its reason codes are the validation's."""

    name: ClassVar[str] = "item_valid_v1"
    columns: ClassVar[dict[str, type]] = {"item_problem": str}
    spec: ItemSpec

    def __call__(self, translated: Example, source: Example, lang: Language) -> CheckResult:
        key = self.spec.answer_key
        if key not in translated.meta and key in source.meta:  # a check cannot change the answer
            translated = replace(translated, meta={**translated.meta, key: source.meta[key]})
        failure = validate_item(self.spec, source, translated)
        if failure is None:
            return CheckResult({"item_problem": None})
        return CheckResult({"item_problem": failure.detail}, False, failure.reason)


def _norm(text: str) -> str:
    return " ".join(bare(text).lower().split()).strip(" .。!?！？")


def _common_words(text: str) -> list[str]:
    """Words of an English option that are not names: evidence that it was meant to be translated."""
    names = english_names(". " + text)
    return [w for w in WORDS.findall(bare(text)) if len(w) >= 3 and w not in names and not w.isupper()]


@dataclass(frozen=True)
class ItemFields:
    """Defects of single fields of a multiple-choice item.

    - `untranslated_option`: options that came back as their English text, counted when their
      English has ordinary words (not only names, symbols or numbers, which stay as they are):
      rejected from `min_copied` such options, or one of `min_phrase_words` words or more.
    - `wrong_script`: an option of `min_script_letters` letters or more, most of them outside the
      language's script, not counting words copied from its English (names, symbols).
    - `answer_in_question`: the correct option's translated text (of `min_answer_letters` letters
      or more) appears in the translated question although the English question does not
      contain the English answer: the question now gives the answer away.
    """

    name: ClassVar[str] = "item_fields_v1"
    columns: ClassVar[dict[str, type]] = {"copied_options": int, "answer_in_question": bool}
    spec: ItemSpec
    min_copied: int = 2
    min_phrase_words: int = 3
    min_answer_letters: int = 4
    min_script_letters: int = 8

    def __call__(self, translated: Example, source: Example, lang: Language) -> CheckResult:
        copied, phrase = 0, False
        for name in self.spec.option_fields:
            english, text = source.fields.get(name) or "", translated.fields.get(name) or ""
            words = _common_words(english)
            if words and _norm(english) == _norm(text):
                copied += 1
                phrase = phrase or len(WORDS.findall(bare(english))) >= self.min_phrase_words
        leaked = self._leaked(translated, source)
        scores = {"copied_options": copied, "answer_in_question": leaked}
        if copied >= self.min_copied or phrase:
            return CheckResult(scores, False, "untranslated_option")
        if any(self._foreign_script(name, translated, source, lang) for name in self.spec.option_fields):
            return CheckResult(scores, False, "wrong_script")
        if leaked:
            return CheckResult(scores, False, "answer_in_question")
        return CheckResult(scores)

    def _foreign_script(self, name: str, translated: Example, source: Example, lang: Language) -> bool:
        copied = set(WORDS.findall(bare(source.fields.get(name) or "")))
        words = [w for w in WORDS.findall(bare(translated.fields.get(name) or "")) if w not in copied]
        fraction, letters = script_fraction(" ".join(words), lang.script)
        return letters >= self.min_script_letters and fraction < 0.5

    def _leaked(self, translated: Example, source: Example) -> bool:
        answer = source.meta.get(self.spec.answer_key)
        if answer not in self.spec.answer_labels:
            return False
        option = self.spec.option_fields[self.spec.answer_labels.index(answer)]
        said, said_en = _norm(translated.fields.get(option) or ""), _norm(source.fields.get(option) or "")
        if sum(ch.isalpha() for ch in said) < self.min_answer_letters:
            return False
        for name in self.spec.text_fields:
            question, question_en = (
                _norm(translated.fields.get(name) or ""),
                _norm(source.fields.get(name) or ""),
            )
            if said in question and said_en not in question_en:
                return True
        return False
