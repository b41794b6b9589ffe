"""Token, request and cost accounting per role."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class RoleUsage:
    requests: int = 0  # sent over the network and answered
    cache_hits: int = 0
    retries: int = 0
    failures: int = 0  # requests given up after all retries
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0


@dataclass
class UsageLedger:
    roles: dict[str, RoleUsage] = field(default_factory=dict)

    def role(self, name: str) -> RoleUsage:
        return self.roles.setdefault(name, RoleUsage())

    def total(self) -> RoleUsage:
        total = RoleUsage()
        for usage in self.roles.values():
            for key, value in asdict(usage).items():
                setattr(total, key, getattr(total, key) + value)
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
