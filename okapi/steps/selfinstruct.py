"""Self-Instruct generation in rounds: sample examples, ask the generator, parse, filter, dedup.

Round r samples its examples with a generator seeded by r and asks with a per-request `seed`,
so every payload is fixed by the answers before it: a re-run replays the cached answers and
grows the same pool, and a killed run resumes where it stopped.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from okapi.llm import ChatRequest, LLMClient, RequestFailed
from okapi.prompts.selfinstruct import DEFAULT_PROMPT, Dropped, Task, encode_prompt, parse_tasks
from okapi.records import Example, Reject
from okapi.selfinstruct.rouge import RougeNoveltyFilter, rouge_tokens


@dataclass(frozen=True)
class SelfInstructSettings:
    target: int  # new instructions to keep
    requests_per_round: int = 8
    seed_examples: int = 3  # Alpaca: 3 seed tasks per prompt
    machine_examples: int = 0  # Self-Instruct also shows kept machine tasks; Alpaca did not
    temperature: float = 1.0
    top_p: float = 1.0
    max_tokens: int = 3072
    rouge_threshold: float = 0.7
    min_words: int = 4
    max_words: int = 150
    max_rounds: int = 10_000
    seed: int = 0
    role: str = "generator"
    # Stop rules, so a generator that only repeats itself does not burn money:
    patience: int = 10  # rounds in a row that keep no new instruction
    max_requests: int | None = None  # requests asked (cached or sent)
    budget_usd: float | None = None  # cost of the requests sent, at the role's prices


@dataclass
class GenerationResult:
    kept: list[Example] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    rounds: int = 0
    requests: int = 0
    stopped: str | None = None  # why generation ended before the target, if it did


def task_id(task: Task) -> str:
    digest = hashlib.sha256(f"{task.instruction}\x00{task.input}".encode()).hexdigest()
    return f"si-{digest[:16]}"


def _request(prompt: str, examples: Sequence[Task], settings: SelfInstructSettings, seed: int) -> ChatRequest:
    return ChatRequest(
        messages=(("user", encode_prompt(prompt, list(examples))),),
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
        extra=(("top_p", settings.top_p), ("seed", seed)),
    )


async def generate(
    client: LLMClient,
    seeds: Sequence[Task],
    settings: SelfInstructSettings,
    *,
    prompt: str = DEFAULT_PROMPT,
    on_kept: Callable[[int], None] | None = None,
) -> GenerationResult:
    if len(seeds) < settings.seed_examples:
        raise ValueError(f"need at least {settings.seed_examples} seed tasks, got {len(seeds)}")
    novelty = RougeNoveltyFilter(settings.rouge_threshold)
    for seed in seeds:  # Alpaca compares new instructions with the seeds too
        novelty.add(rouge_tokens(seed.instruction))
    result = GenerationResult()
    machine: list[Task] = []
    idle = 0  # rounds in a row without a new instruction
    while len(result.kept) < settings.target:
        result.stopped = _stop_reason(client, settings, result, idle)
        if result.stopped:
            break
        kept_before = len(result.kept)
        rng = random.Random(f"{settings.seed}:{result.rounds}")
        batch = []
        for i in range(settings.requests_per_round):
            examples = rng.sample(list(seeds), settings.seed_examples)
            examples += rng.sample(machine, min(settings.machine_examples, len(machine)))
            batch.append((len(examples) + 1, _request(prompt, examples, settings, rng.randrange(2**31) + i)))
        answers = await asyncio.gather(
            *(client.complete(settings.role, request) for _, request in batch), return_exceptions=True
        )
        for (first_number, _), answer in zip(batch, answers, strict=True):
            if isinstance(answer, RequestFailed):
                # Not cached: the next run asks again. Nothing is lost, nothing is kept.
                result.rejects.append(
                    Reject(f"round-{result.rounds}", "en", f"request_failed.{answer.reason}", answer.detail)
                )
                continue
            if isinstance(answer, BaseException):
                raise answer
            for item in parse_tasks(
                answer.text, answer.finish_reason, first_number,
                min_words=settings.min_words, max_words=settings.max_words,
            ):  # fmt: skip
                if isinstance(item, Dropped):
                    result.rejects.append(Reject(f"round-{result.rounds}", "en", item.reason, item.text))
                    continue
                novel, score = novelty.offer(item.instruction)
                fields = {"instruction": item.instruction, "input": item.input, "output": item.output}
                if not novel:
                    detail = f"ROUGE-L {score:.2f} to a kept instruction"
                    result.rejects.append(Reject(task_id(item), "en", "similar_to_kept", detail, fields))
                elif len(result.kept) >= settings.target:
                    result.rejects.append(Reject(task_id(item), "en", "beyond_target", "", fields))
                else:
                    machine.append(item)
                    result.kept.append(Example(task_id(item), fields, "en", {"rouge_l_max": round(score, 4)}))
                    if on_kept:
                        on_kept(1)
        result.rounds += 1
        result.requests += len(batch)
        idle = idle + 1 if len(result.kept) == kept_before else 0
    return result


def _stop_reason(
    client: LLMClient, settings: SelfInstructSettings, result: GenerationResult, idle: int
) -> str | None:
    if idle >= settings.patience:
        return f"no new instruction in the last {idle} rounds (--patience {settings.patience})"
    if result.rounds >= settings.max_rounds:
        return f"{result.rounds} rounds, the most allowed"
    if (
        settings.max_requests is not None
        and result.requests + settings.requests_per_round > settings.max_requests
    ):
        return f"{result.requests} requests asked; another round would pass --max-requests {settings.max_requests}"
    spent = client.usage.role(settings.role).cost_usd
    if settings.budget_usd is not None and spent >= settings.budget_usd:
        return f"${spent:.2f} spent, at --budget ${settings.budget_usd:.2f}"
    return None
