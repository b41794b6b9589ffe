"""Offline answers to generation, response and ranking requests, deterministic per payload."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable

from okapi.offline.corpus import corpus_languages, sentences

_VERBS = (
    "Explain", "Describe", "Summarize", "List three facts about", "Write a short story about",
    "Give advice on", "Suggest names for", "Write a haiku about", "Compare two kinds of",
    "Classify the following item by", "Draw a picture of", "Find a file about",
)  # fmt: skip
_TOPICS = (
    "rivers", "city parks", "healthy breakfasts", "the water cycle", "saving energy", "bicycles",
    "coffee shops", "school gardens", "primary colors", "the history of email", "whales",
    "eagles", "spring weather", "public libraries", "train travel", "mountain villages",
    "kitchen gardens", "old bridges", "night markets", "rain forests",
)  # fmt: skip


def _pick(key: str, *salt: object) -> int:
    return int.from_bytes(hashlib.sha256(f"{key}:{salt}".encode()).digest()[:8], "big")


def generation(user: str, key: str) -> str | None:
    """Continue a Self-Instruct list: ten numbered tasks, some meant to be filtered out."""
    match = re.search(r"(\d+)\. Instruction:\s*$", user)
    if "List of 20 tasks" not in user or not match:
        return None
    first = int(match.group(1))
    english = sentences("en")
    items = []
    for offset in range(10):
        n = first + offset
        verb = _VERBS[_pick(key, "verb", offset) % len(_VERBS)]
        topic = _TOPICS[_pick(key, "topic", offset) % len(_TOPICS)]
        instruction = f"{verb} {topic}." if offset % 5 else f"{verb} {topic} for a curious child."
        given = english[_pick(key, "input", offset) % len(english)] if offset % 3 == 0 else "<noinput>"
        output = english[_pick(key, "output", offset) % len(english)]
        head = "" if offset == 0 else f"{n}. Instruction: "
        items.append(f"{head}{instruction}\n{n}. Input:\n{given}\n{n}. Output:\n{output}\n")
    return "###\n".join(items)


def response(system: str, user: str, key: str) -> str | None:
    match = re.match(r"You are a helpful assistant\. Answer in .* \(language code ([a-z]{2,3})\)", system)
    if not match:
        return None
    lang = match.group(1) if match.group(1) in corpus_languages() else "en"
    pool = sentences(lang)
    return " ".join(pool[_pick(key, i) % len(pool)] for i in range(2))


def judge(system: str, user: str, fault: Callable[[str], bool]) -> str | None:
    """Rank by content (a hash of each response), so the order shown does not matter; the
    `position_bias` fault ranks in the order shown instead, as a biased judge does."""
    if not system.startswith("You are a judge"):
        return None
    shown = re.split(r"\[Response (\d+)\]\n", user)[1:]
    texts = {int(number): text.strip() for number, text in zip(shown[::2], shown[1::2], strict=True)}
    ranking = sorted(texts, key=lambda n: hashlib.sha256(texts[n].encode()).hexdigest())
    if fault("position_bias"):
        ranking = sorted(texts)  # the first shown is the best, whatever it says
    if fault("invalid_ranking"):
        ranking = ranking[:-1] + ranking[:1]  # a repeated number: not a permutation
    return json.dumps({"ranking": ranking, "reason": "offline judge: ranked by content hash"})


def answer(messages: list[dict], key: str, fault: Callable[[str], bool]) -> str | None:
    """The answer to a non-translation request, or None when it is not one of these tasks."""
    system = next((m["content"] for m in messages if m["role"] == "system"), "")
    user = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
    return generation(user, key) or response(system, user, key) or judge(system, user, fault)
