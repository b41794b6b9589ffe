"""ROUGE-L novelty filter for Self-Instruct, exact and fast at 100K+ instructions.

Alpaca keeps a new instruction only if its ROUGE-L F1 (rouge_score's tokenizer, no stemming)
against every kept instruction is below 0.7. Comparing with all kept ones is quadratic. Here a
pair can only reach the threshold if it shares enough tokens: F1 = 2·LCS/(m+n) ≥ t needs
LCS ≥ t(m+n)/2, and LCS ≤ shared tokens. Prefix filtering then finds every such pair through an
inverted index over each instruction's rarest tokens, and only those few pairs get the exact LCS.
The kept set is identical to the all-pairs loop's.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable

_NON_ALNUM = re.compile(r"[^a-z0-9]+")

# Frequent English words go last in the token order, so prefixes hold rare words and the
# posting lists probed stay short. Any fixed order is correct; this one is fast.
_COMMON = frozenset(
    """a an the of to in on for and or with by from as at is are be was were it this that these
    those you your i we they he she his her its their our my me them us what which who how why when
    where write give make create generate describe explain list find given following sentence text
    word words about into than then there if not no do does can could would should will one two
    three some any all each more most other new use using based provide below above example""".split()
)


def rouge_tokens(text: str) -> list[str]:
    """rouge_score's default tokenizer: lowercase, alphanumeric runs only."""
    return [t for t in _NON_ALNUM.sub(" ", text.lower()).split() if t]


def lcs_length(a: list[str], b: list[str]) -> int:
    if len(a) < len(b):
        a, b = b, a
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b, start=1):
            current.append(previous[j - 1] + 1 if x == y else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def rouge_l(a: list[str], b: list[str]) -> float:
    """ROUGE-L F1 of two token lists (0 when either is empty), as rouge_score computes it."""
    if not a or not b:
        return 0.0
    return 2 * lcs_length(a, b) / (len(a) + len(b))


def _rank(token: str) -> tuple[int, bytes]:
    return (token in _COMMON, hashlib.blake2b(token.encode(), digest_size=8).digest())


class RougeNoveltyFilter:
    """Keeps texts whose ROUGE-L F1 to every kept text is < threshold (Alpaca: 0.7)."""

    def __init__(self, threshold: float = 0.7):
        if not 0 < threshold <= 1:
            raise ValueError("threshold must be in (0, 1]")
        self.threshold = threshold
        self.kept: list[list[str]] = []
        self._bags: list[Counter[str]] = []
        self._index: dict[str, list[int]] = defaultdict(list)
        self.comparisons = 0  # exact LCS computations, for benchmarks

    def _min_shared(self, m: int, n: int) -> int:
        return math.ceil(self.threshold * (m + n) / 2 - 1e-9)

    def _partner_lengths(self, m: int) -> tuple[int, int]:
        # 2·min(m,n)/(m+n) ≥ t bounds the partner's length n
        t = self.threshold
        return math.ceil(m * t / (2 - t) - 1e-9), math.floor(m * (2 - t) / t + 1e-9)

    def _prefix(self, tokens: list[str]) -> list[str]:
        """The rarest tokens, enough that a pair reaching the threshold shares one of them."""
        m = len(tokens)
        shortest, _ = self._partner_lengths(m)
        needed = self._min_shared(m, max(1, shortest))
        ordered = sorted(tokens, key=_rank)
        return ordered[: max(1, m - needed + 1)]

    def best_match(self, tokens: list[str]) -> tuple[float, int | None]:
        """Highest ROUGE-L F1 against a kept text that could reach the threshold, and its index."""
        if not tokens:
            return 0.0, None
        m = len(tokens)
        low, high = self._partner_lengths(m)
        bag = Counter(tokens)
        best, best_index = 0.0, None
        seen: set[int] = set()
        for token in set(self._prefix(tokens)):
            for index in self._index.get(token, ()):
                if index in seen:
                    continue
                seen.add(index)
                other = self.kept[index]
                n = len(other)
                if not low <= n <= high:
                    continue
                if sum((bag & self._bags[index]).values()) < self._min_shared(m, n):
                    continue
                self.comparisons += 1
                score = rouge_l(tokens, other)
                if score > best:
                    best, best_index = score, index
                    if best >= self.threshold:
                        return best, best_index
        return best, best_index

    def add(self, tokens: list[str]) -> None:
        index = len(self.kept)
        self.kept.append(tokens)
        self._bags.append(Counter(tokens))
        for token in set(self._prefix(tokens)):
            self._index[token].append(index)

    def offer(self, text: str) -> tuple[bool, float]:
        """Keep `text` if it is novel; returns (kept, highest ROUGE-L to a kept text)."""
        tokens = rouge_tokens(text)
        score, _ = self.best_match(tokens)
        if score >= self.threshold:
            return False, score
        self.add(tokens)
        return True, score

    def extend(self, texts: Iterable[str]) -> list[bool]:
        return [self.offer(text)[0] for text in texts]


def naive_novelty_filter(texts: Iterable[str], threshold: float = 0.7) -> list[bool]:
    """Alpaca's all-pairs loop, for tests and benchmarks."""
    kept: list[list[str]] = []
    decisions = []
    for text in texts:
        tokens = rouge_tokens(text)
        novel = all(rouge_l(tokens, other) < threshold for other in kept)
        if novel:
            kept.append(tokens)
        decisions.append(novel)
    return decisions
