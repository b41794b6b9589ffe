"""Translation step: English examples → examples in each target language, or rejects."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from okapi.languages import Language
from okapi.llm import ChatRequest, Completion, LLMClient, estimate_tokens
from okapi.prompts.translate import (
    FieldFailure,
    parse_reply,
    protect_records,
    system_prompt,
    user_message,
)
from okapi.records import Example, Reject
from okapi.steps.runner import Failure, run_task

# Output tokens per input token: non-Latin scripts cost more tokens for the same text.
_EXPANSION = {"Latin": 2.0}
_DEFAULT_EXPANSION = 4.0


@dataclass(frozen=True)
class TranslateSettings:
    max_records_per_request: int = 8  # several short records share one request
    max_chars_per_request: int = 2000
    max_attempts: int = 3  # first try + retries with the failure named in the prompt
    role: str = "translator"
    # Item-level check (source, translated) → Failure or None; a failure is retried like a bad reply.
    validate_item: Callable[[Example, Example], Failure | None] | None = None


@dataclass(frozen=True)
class TranslateTask:
    """Translate `fields` of each item from `source` into `lang` (English → X, or X → English)."""

    lang: Language
    fields: tuple[str, ...]
    role: str = "translator"
    source: Language | None = None  # None: English
    validate: Callable[[Example, Example], Failure | None] | None = None  # see TranslateSettings

    @property
    def source_name(self) -> str:
        return self.source.name if self.source else "English"

    def item_id(self, item: Example) -> str:
        return item.id

    def request(self, items: Sequence[Example], attempt: int, last: Failure | None) -> ChatRequest:
        shielded = protect_records([e.fields for e in items], self.fields)
        user = user_message(shielded)
        expansion = _EXPANSION.get(self.lang.script, _DEFAULT_EXPANSION)
        max_tokens = int(estimate_tokens(user) * expansion) + 64
        if last is not None and last.reason == "truncated":
            max_tokens *= 2**attempt
        note = last.reason if last else None
        if note and attempt > 1:  # the same note again would be the same payload, answered from the cache
            note += f", attempt {attempt + 1}"
        return ChatRequest(
            messages=(
                ("system", system_prompt(self.lang, note, self.source_name)),
                ("user", user),
            ),
            temperature=0.0,
            max_tokens=max_tokens,
            json_output=True,
        )

    def parse(self, items: Sequence[Example], completion: Completion) -> list[Example | Failure]:
        shielded = protect_records([e.fields for e in items], self.fields)
        parsed = parse_reply(completion.text, completion.finish_reason, shielded)
        out: list[Example | Failure] = []
        for n, item in enumerate(items, start=1):
            fields = dict(item.fields)
            failure = None
            for name in self.fields:
                value = parsed.get(f"{n}.{name}")
                if isinstance(value, FieldFailure):
                    failure = failure or Failure(value.reason, value.detail)
                elif value is not None:
                    fields[name] = value
            if failure is not None:
                out.append(failure)
                continue
            translated = Example(id=item.id, fields=fields, lang=self.lang.code, meta=item.meta)
            problem = self.validate(item, translated) if self.validate else None
            out.append(problem or translated)
        return out


def group_for_requests(examples: Sequence[Example], settings: TranslateSettings) -> list[list[Example]]:
    """Consecutive examples share a request up to a record and character budget (deterministic)."""
    groups: list[list[Example]] = []
    current: list[Example] = []
    chars = 0
    for example in examples:
        size = sum(len(v) for v in example.fields.values())
        if current and (
            len(current) >= settings.max_records_per_request or chars + size > settings.max_chars_per_request
        ):
            groups.append(current)
            current, chars = [], 0
        current.append(example)
        chars += size
    if current:
        groups.append(current)
    return groups


def translate_requests(
    examples: Sequence[Example],
    lang: Language,
    fields: tuple[str, ...],
    settings: TranslateSettings,
) -> list[ChatRequest]:
    """The first-attempt requests a translation will send (for estimates)."""
    task = TranslateTask(lang, fields, settings.role)
    return [task.request(g, 0, None) for g in group_for_requests(examples, settings)]


async def translate(
    client: LLMClient,
    examples: Sequence[Example],
    lang: Language,
    fields: tuple[str, ...],
    settings: TranslateSettings,
    on_item_done: Callable[[], None] | None = None,
    *,
    source: Language | None = None,
) -> tuple[list[Example], list[Reject]]:
    """Translated examples in source order, and a Reject for every example that failed.

    `source` is the language of the examples (None: English), e.g. for back-translation.
    """
    task = TranslateTask(lang, fields, settings.role, source, settings.validate_item)
    result = await run_task(
        client,
        task,
        group_for_requests(examples, settings),
        max_attempts=settings.max_attempts,
        workers=client.concurrency(settings.role),
        on_item_done=(lambda _: on_item_done()) if on_item_done else None,
    )
    kept, rejects = [], []
    for example in examples:
        if example.id in result.results:
            kept.append(result.results[example.id])
        else:
            failure = result.failures[example.id]
            rejects.append(
                Reject(example.id, lang.code, failure.reason, failure.detail, dict(example.fields))
            )
    return kept, rejects
