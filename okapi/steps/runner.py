"""Run many LLM requests for a step: bounded workers, bounded retries, every item accounted for.

A step describes its work as a `Task`: how to ask about a group of items and how to read the
answer per item. The runner sends groups through the LLM client, and an item whose answer was
unusable is asked again on its own with the failure reason in the prompt (a new payload, so the
cache never replays the bad answer) until `max_attempts`; then it fails with that reason code.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from okapi.llm import ChatRequest, Completion, LLMClient, RequestFailed

Item = TypeVar("Item")


@dataclass(frozen=True)
class Failure:
    reason: str  # reason code, e.g. "truncated", "unparsable", "request_failed.http_429"
    detail: str


class Task(Protocol[Item]):
    role: str

    def item_id(self, item: Item) -> str: ...

    def request(self, items: Sequence[Item], attempt: int, last: Failure | None) -> ChatRequest: ...

    def parse(self, items: Sequence[Item], completion: Completion) -> list[Any | Failure]:
        """One result or Failure per item, in order."""
        ...


@dataclass(frozen=True)
class _Unit(Generic[Item]):
    items: tuple[Item, ...]
    attempt: int = 0
    last: Failure | None = None


@dataclass
class TaskResult:
    results: dict[str, Any]
    failures: dict[str, Failure]


async def run_task(
    client: LLMClient,
    task: Task,
    groups: Sequence[Sequence[Any]],
    *,
    max_attempts: int = 3,
    workers: int = 32,
    on_item_done: Callable[[str], None] | None = None,
) -> TaskResult:
    queue: asyncio.Queue[_Unit] = asyncio.Queue()
    for group in groups:
        queue.put_nowait(_Unit(tuple(group)))
    pending = sum(len(g) for g in groups)
    result = TaskResult({}, {})
    all_done = asyncio.Event()
    if pending == 0:
        return result

    def finish(item: Any, value: Any) -> None:
        nonlocal pending
        key = task.item_id(item)
        if isinstance(value, Failure):
            result.failures[key] = value
        else:
            result.results[key] = value
        pending -= 1
        if on_item_done:
            on_item_done(key)
        if pending == 0:
            all_done.set()

    async def handle(unit: _Unit) -> None:
        request = task.request(unit.items, unit.attempt, unit.last)
        try:
            completion = await client.complete(task.role, request)
        except RequestFailed as exc:
            # The client already retried transient errors; nothing is cached, so a re-run retries.
            for item in unit.items:
                finish(item, Failure(f"request_failed.{exc.reason}", exc.detail))
            return
        values = task.parse(unit.items, completion)
        for item, value in zip(unit.items, values, strict=True):
            if isinstance(value, Failure) and unit.attempt + 1 < max_attempts:
                queue.put_nowait(_Unit((item,), unit.attempt + 1, value))
            else:
                finish(item, value)

    async def worker() -> None:
        while True:
            unit = await queue.get()
            try:
                await handle(unit)
            finally:
                queue.task_done()

    tasks = [asyncio.create_task(worker()) for _ in range(workers)]
    waiter = asyncio.create_task(all_done.wait())
    try:
        # A worker only ends by raising (e.g. EndpointError on a bad key): stop everything then.
        await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
        for t in tasks:
            if t.done() and t.exception() is not None:
                raise t.exception()
    finally:
        for t in [waiter, *tasks]:
            t.cancel()
        await asyncio.gather(waiter, *tasks, return_exceptions=True)
    return result
