"""Ranking prompt for the judge (in English) and the validation of its answer."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from okapi.prompts import prompt_hash

JUDGE_SYSTEM = """\
You are a judge of answers written by AI assistants. You get an instruction and {k} numbered \
responses. Rank the responses from best to worst by helpfulness, correctness, relevance and \
level of detail. Judge only the content; ignore the order in which responses are shown.
Reply with one JSON object: {{"ranking": [numbers of the responses from best to worst], \
"reason": "one short sentence"}}."""
RETRY_NOTE = "\nYour previous reply could not be used ({reason}). Reply with the JSON object only."
PROMPT_HASH = prompt_hash(JUDGE_SYSTEM, RETRY_NOTE)


@dataclass(frozen=True)
class RankingError:
    reason: str
    detail: str


def judge_messages(
    instruction: str, responses: list[str], failure: str | None = None
) -> tuple[tuple[str, str], ...]:
    shown = "\n\n".join(f"[Response {n}]\n{text}" for n, text in enumerate(responses, start=1))
    system = JUDGE_SYSTEM.format(k=len(responses)) + (RETRY_NOTE.format(reason=failure) if failure else "")
    return (("system", system), ("user", f"[Instruction]\n{instruction}\n\n{shown}"))


def parse_ranking(text: str, finish_reason: str, k: int) -> list[int] | RankingError:
    """The ranking as response numbers 1..k, best first, or why it is not a valid permutation."""
    if finish_reason == "length":
        return RankingError("truncated", "the reply hit max_tokens")
    match = re.search(r"\{.*\}", text, re.DOTALL)
    try:
        ranking = json.loads(match.group(0))["ranking"] if match else None
    except (json.JSONDecodeError, KeyError, TypeError):
        ranking = None
    if not isinstance(ranking, list) or not all(isinstance(n, int) for n in ranking):
        return RankingError("unparsable", f"no JSON ranking list: {text[:200]!r}")
    if sorted(ranking) != list(range(1, k + 1)):
        return RankingError("invalid_ranking", f"{ranking} is not a permutation of 1..{k}")
    return ranking
