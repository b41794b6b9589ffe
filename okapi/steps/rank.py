"""Responses and two-turn ranking (the paper's method) as build steps.

RespondStep samples K responses per translated prompt. JudgeStep translates the prompt and the
responses into English, asks the judge to rank them in English (in a shuffled order, optionally
twice in opposite orders), and applies the ranks to the target-language responses.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from okapi.languages import Language, get_language
from okapi.llm import ChatRequest, Completion, LLMClient, RunConfig
from okapi.prompts.rank import judge_messages, parse_ranking
from okapi.prompts.respond import prompt_text, responder_messages
from okapi.records import Example, Reject
from okapi.steps.runner import Failure, run_task
from okapi.steps.translate import TranslateSettings, TranslateTask, group_for_requests, translate


def response_fields(k: int) -> tuple[str, ...]:
    return tuple(f"response_{n}" for n in range(1, k + 1))


@dataclass(frozen=True)
class _Sample:
    record: Example
    n: int  # 1..K

    @property
    def id(self) -> str:
        return f"{self.record.id}#{self.n}"


@dataclass(frozen=True)
class _RespondTask:
    lang: Language
    temperature: float
    top_p: float
    max_tokens: int
    models: tuple[str, ...]  # sample n is answered by models[(n - 1) % len(models)]
    role: str = "responder"

    def model_for(self, n: int) -> str:
        return self.models[(n - 1) % len(self.models)]

    def item_id(self, item: _Sample) -> str:
        return item.id

    def request(self, items: Sequence[_Sample], attempt: int, last: Failure | None) -> ChatRequest:
        (sample,) = items
        growth = 2**attempt if last is not None and last.reason == "truncated" else 1
        return ChatRequest(
            messages=responder_messages(self.lang, prompt_text(sample.record.fields)),
            temperature=self.temperature,
            max_tokens=self.max_tokens * growth,
            extra=(("top_p", self.top_p), ("seed", sample.n + 1000 * attempt)),
            model=self.model_for(sample.n),
        )

    def parse(self, items: Sequence[_Sample], completion: Completion) -> list[str | Failure]:
        if completion.finish_reason == "length":
            return [Failure("truncated", "the response hit max_tokens")]
        if not completion.text.strip():
            return [Failure("empty_response", "the responder answered nothing")]
        return [completion.text.strip()]


@dataclass(frozen=True)
class RespondStep:
    """K sampled responses per prompt from the `responder` role; sampling parameters are recorded.

    With several models configured for the role (`models = [...]`), the K samples go to them in
    turn, so one prompt's responses compare models, as in the paper's ranked data.
    """

    k: int = 4
    temperature: float = 0.7
    top_p: float = 0.95
    max_tokens: int = 1024
    max_attempts: int = 2
    role: str = "responder"
    name: str = "respond"

    def _task(self, lang: Language, config: RunConfig) -> _RespondTask:
        models = config.role(self.role).sampling_models()
        return _RespondTask(lang, self.temperature, self.top_p, self.max_tokens, models, self.role)

    def planned_requests(
        self, records: list[Example], lang: Language, config: RunConfig
    ) -> list[tuple[str, ChatRequest]]:
        task = self._task(lang, config)
        return [
            (self.role, task.request([_Sample(r, n)], 0, None)) for r in records for n in range(1, self.k + 1)
        ]

    async def run(
        self, client: LLMClient, records: list[Example], lang: Language, item_done: Callable[[], None]
    ) -> tuple[list[Example], list[Reject]]:
        task = self._task(lang, client.config)
        samples = [[_Sample(r, n)] for r in records for n in range(1, self.k + 1)]
        finished = {r.id: 0 for r in records}

        def sample_done(sample_id: str) -> None:
            record_id = sample_id.rsplit("#", 1)[0]
            finished[record_id] += 1
            if finished[record_id] == self.k:
                item_done()

        result = await run_task(
            client, task, samples, max_attempts=self.max_attempts,
            workers=client.concurrency(self.role), on_item_done=sample_done,
        )  # fmt: skip
        kept, rejects = [], []
        for record in records:
            ids = [f"{record.id}#{n}" for n in range(1, self.k + 1)]
            failure = next((result.failures[i] for i in ids if i in result.failures), None)
            if failure:
                rejects.append(Reject(record.id, lang.code, failure.reason, failure.detail, record.fields))
                continue
            fields = {
                **record.fields,
                **dict(zip(response_fields(self.k), (result.results[i] for i in ids), strict=True)),
            }
            sampling = {"temperature": self.temperature, "top_p": self.top_p, "max_tokens": self.max_tokens}
            models = [task.model_for(n) for n in range(1, self.k + 1)]
            meta = {**record.meta, "responder": models, "sampling": sampling}
            kept.append(replace(record, fields=fields, meta=meta))
        return kept, rejects

    def summary(self, kept: int, rejected: dict[str, int]) -> dict[str, Any]:
        return {}


def shown_order(record_id: str, k: int, reverse: bool) -> list[int]:
    """Response numbers (1..K) in the order shown to the judge: shuffled by the id's hash."""
    order = list(range(1, k + 1))
    random.Random(hashlib.sha256(record_id.encode()).digest()).shuffle(order)
    return order[::-1] if reverse else order


@dataclass(frozen=True)
class _View:
    record: Example  # fields in English
    reverse: bool

    @property
    def id(self) -> str:
        return f"{self.record.id}{'#reversed' if self.reverse else ''}"


@dataclass(frozen=True)
class _JudgeTask:
    k: int
    role: str = "judge"

    def item_id(self, item: _View) -> str:
        return item.id

    def request(self, items: Sequence[_View], attempt: int, last: Failure | None) -> ChatRequest:
        (view,) = items
        order = shown_order(view.record.id, self.k, view.reverse)
        responses = [view.record.fields[f"response_{n}"] for n in order]
        messages = judge_messages(prompt_text(view.record.fields), responses, last.reason if last else None)
        return ChatRequest(messages=messages, temperature=0.0, max_tokens=200, json_output=True)

    def parse(self, items: Sequence[_View], completion: Completion) -> list[tuple[list[int], str] | Failure]:
        (view,) = items
        ranking = parse_ranking(completion.text, completion.finish_reason, self.k)
        if not isinstance(ranking, list):
            return [Failure(ranking.reason, ranking.detail)]
        order = shown_order(view.record.id, self.k, view.reverse)
        best_first = [order[shown - 1] for shown in ranking]  # shown positions → response numbers
        return [(best_first, completion.text)]


def ranks_from(best_first: list[int]) -> list[int]:
    """Rank of each response (1 = best), in response order."""
    ranks = [0] * len(best_first)
    for rank, number in enumerate(best_first, start=1):
        ranks[number - 1] = rank
    return ranks


@dataclass(frozen=True)
class JudgeStep:
    """Two-turn ranking: back to English, judge in English, ranks apply to the target language."""

    k: int = 4
    both_orders: bool = False  # judge twice in opposite orders, keep consistent rankings only
    max_attempts: int = 3
    role: str = "judge"
    translate: TranslateSettings = TranslateSettings(max_records_per_request=1)
    name: str = "judge"

    def planned_requests(
        self, records: list[Example], lang: Language, config: RunConfig
    ) -> list[tuple[str, ChatRequest]]:
        """Back to English, then the judge; responses are assumed ~256 tokens each."""
        fields = ("instruction", "input", *response_fields(self.k))
        stand_in = "x" * 1024
        with_responses = [
            replace(r, fields={**r.fields, **dict.fromkeys(response_fields(self.k), stand_in)})
            for r in records
        ]
        to_english = TranslateTask(get_language("en"), fields, self.translate.role, lang)
        judge = _JudgeTask(self.k, self.role)
        planned = [
            (self.translate.role, to_english.request(g, 0, None))
            for g in group_for_requests(with_responses, self.translate)
        ]
        views = [
            _View(r, reverse)
            for r in with_responses
            for reverse in ((False, True) if self.both_orders else (False,))
        ]
        return planned + [(self.role, judge.request([v], 0, None)) for v in views]

    async def run(
        self, client: LLMClient, records: list[Example], lang: Language, item_done: Callable[[], None]
    ) -> tuple[list[Example], list[Reject]]:
        fields = ("instruction", "input", *response_fields(self.k))
        english, rejects = await translate(
            client, records, get_language("en"), fields, self.translate, source=lang
        )
        rejects = [replace(r, lang=lang.code, reason=f"to_english.{r.reason}") for r in rejects]
        views = [[_View(e, False)] for e in english]
        if self.both_orders:
            views += [[_View(e, True)] for e in english]
        result = await run_task(
            client, _JudgeTask(self.k, self.role), views,
            max_attempts=self.max_attempts, workers=client.concurrency(self.role),
        )  # fmt: skip
        by_id = {r.id: r for r in records}
        kept = []
        for view in english:
            record = by_id[view.id]
            ids = [view.id] + ([f"{view.id}#reversed"] if self.both_orders else [])
            failure = next((result.failures[i] for i in ids if i in result.failures), None)
            item_done()
            if failure:
                rejects.append(Reject(record.id, lang.code, failure.reason, failure.detail, record.fields))
                continue
            (best_first, raw), *second = (result.results[i] for i in ids)
            if second and second[0][0] != best_first:
                detail = f"orders disagree: {best_first} vs {second[0][0]}"
                rejects.append(Reject(record.id, lang.code, "inconsistent_ranking", detail, record.fields))
                continue
            meta = {**record.meta, "ranks": ranks_from(best_first), "judge_raw": raw,
                    "judge": client.config.role(self.role).model, "english": view.fields}  # fmt: skip
            kept.append(replace(record, meta=meta))
        return kept, rejects

    def summary(self, kept: int, rejected: dict[str, int]) -> dict[str, Any]:
        """With both orders: the share of prompts whose two rankings agreed (position bias shows here)."""
        if not self.both_orders:
            return {}
        judged = kept + rejected.get("inconsistent_ranking", 0)
        return {"judge_agreement": round(kept / judged, 4) if judged else None}
