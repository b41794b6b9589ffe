"""Token, request and cost accounting per role."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field, fields

# Per role, the models that served the requests of the current scope (e.g. one build unit): tasks
# started inside a scope share its dict, so concurrent units each see only their own answers.
_SERVED_SCOPE: ContextVar[dict[str, set[str]] | None] = ContextVar("okapi_served_scope", default=None)


@contextmanager
def served_scope() -> Iterator[dict[str, set[str]]]:
    """Collect, per role, the model names servers reported for the requests made inside."""
    served: dict[str, set[str]] = {}
    token = _SERVED_SCOPE.set(served)
    try:
        yield served
    finally:
        _SERVED_SCOPE.reset(token)


@dataclass
class RoleUsage:
    requests: int = 0  # sent over the network and answered
    cache_hits: int = 0
    retries: int = 0  # attempts after the first, 429s included
    rate_limited: int = 0  # 429 answers (retried until answered: they never fail a request)
    failures: int = 0  # requests given up after all retries
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    # The model each server said answered (cache hits included), and answers per endpoint URL.
    served_models: dict[str, int] = field(default_factory=dict)
    endpoints: dict[str, int] = field(default_factory=dict)

    def served(self, model: str | None) -> None:
        if model:
            self.served_models[model] = self.served_models.get(model, 0) + 1


@dataclass
class UsageLedger:
    roles: dict[str, RoleUsage] = field(default_factory=dict)

    def role(self, name: str) -> RoleUsage:
        return self.roles.setdefault(name, RoleUsage())

    def served(self, role: str, model: str | None) -> None:
        """A request of `role` answered by `model` (as the server named it; cache hits too)."""
        if not model:
            return
        self.role(role).served(model)
        scope = _SERVED_SCOPE.get()
        if scope is not None:
            scope.setdefault(role, set()).add(model)

    def total(self) -> RoleUsage:
        total = RoleUsage()
        for usage in self.roles.values():
            for f in fields(RoleUsage):
                mine, theirs = getattr(total, f.name), getattr(usage, f.name)
                if isinstance(mine, dict):
                    for key, n in theirs.items():
                        mine[key] = mine.get(key, 0) + n
                else:
                    setattr(total, f.name, mine + theirs)
        return total

    def as_dict(self) -> dict[str, dict]:
        return {name: asdict(usage) for name, usage in sorted(self.roles.items())}

    def postfix(self) -> str:
        """Short line for a progress bar."""
        t = self.total()
        return (
            f"sent={t.requests} cached={t.cache_hits} retries={t.retries} "
            f"tok={_k(t.prompt_tokens)}/{_k(t.completion_tokens)} ${t.cost_usd:.4f}"
        )


def _k(n: int) -> str:
    return f"{n / 1000:.1f}k" if n >= 1000 else str(n)
