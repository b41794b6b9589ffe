"""Back-translation step: translated examples → English, through the same task, runner and LLM layer.

It is the translation step with the languages swapped (`translate(..., source=lang)` into
English): the same task, prompt, protected spans, batching, retries, runner and cache. The
English text it returns is scored in `okapi.quality` (chrF and BLEU against the source); a
record whose back-translation failed simply has no score, it is not dropped for that.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from okapi.languages import Language, get_language
from okapi.llm import ChatRequest, LLMClient
from okapi.records import Example, Reject
from okapi.steps.translate import TranslateSettings, TranslateTask, group_for_requests, translate


def backtranslate_task(lang: Language, fields: tuple[str, ...], role: str) -> TranslateTask:
    return TranslateTask(get_language("en"), fields, role, source=lang)


def backtranslate_requests(
    translated: Sequence[Example], lang: Language, fields: tuple[str, ...], settings: TranslateSettings
) -> list[ChatRequest]:
    """The first-attempt requests a back-translation will send (for estimates)."""
    task = backtranslate_task(lang, fields, settings.role)
    return [task.request(g, 0, None) for g in group_for_requests(translated, settings)]


async def backtranslate(
    client: LLMClient,
    translated: Sequence[Example],
    lang: Language,
    fields: tuple[str, ...],
    settings: TranslateSettings,
    on_item_done: Callable[[], None] | None = None,
) -> tuple[dict[str, Example], list[Reject]]:
    """English back-translations by record id, and a Reject for every record that got none."""
    english, failed = await translate(
        client, translated, get_language("en"), fields, settings, on_item_done, source=lang
    )
    return {e.id: e for e in english}, failed
