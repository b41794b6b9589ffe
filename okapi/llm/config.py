"""Run configuration: which endpoint and model serve each role, with limits and prices.

Roles are bound here, never in a builder. Keys are read from the environment at call time and
never stored on these objects, so they cannot leak into a cache, log or card.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

ROLES = ("translator", "judge", "responder", "generator")
DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MODEL = "gpt-4o-mini"


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class RoleConfig:
    model: str = DEFAULT_MODEL
    base_url: str = DEFAULT_BASE_URL
    api_key_env: str = "OPENAI_API_KEY"  # name of the variable holding the key, never the key
    concurrency: int = 16
    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None
    timeout_s: float = 120.0
    max_retries: int = 6
    backoff_base_s: float = 1.0
    backoff_max_s: float = 60.0
    json_mode: bool = True  # send response_format={"type": "json_object"}
    price_input_per_mtok: float = 0.0  # USD per million prompt tokens
    price_output_per_mtok: float = 0.0  # USD per million completion tokens
    # Sampling roles (responder) spread their samples over these models in turn; empty: `model` alone.
    models: tuple[str, ...] = ()

    def api_key(self) -> str:
        # Local servers (vLLM, llama.cpp, Ollama) accept any key; the client library needs one.
        return os.environ.get(self.api_key_env) or "not-needed"

    def sampling_models(self) -> tuple[str, ...]:
        return self.models or (self.model,)

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (
            prompt_tokens * self.price_input_per_mtok + completion_tokens * self.price_output_per_mtok
        ) / 1e6


@dataclass(frozen=True)
class RunConfig:
    roles: dict[str, RoleConfig] = field(default_factory=dict)

    def role(self, name: str) -> RoleConfig:
        if name not in ROLES:
            raise ConfigError(f"unknown role {name!r}; valid roles: {', '.join(ROLES)}")
        return self.roles.get(name) or self.roles["default"]


_ROLE_KEYS = {f.name for f in fields(RoleConfig)}


def _role_from_table(table: dict, base: RoleConfig, where: str) -> RoleConfig:
    if "api_key" in table:
        raise ConfigError(
            f"{where}: keys must not be written in config files; set the environment "
            f"variable named by api_key_env (default OPENAI_API_KEY) instead"
        )
    unknown = set(table) - _ROLE_KEYS
    if unknown:
        raise ConfigError(
            f"{where}: unknown setting(s) {', '.join(sorted(unknown))}; "
            f"valid: {', '.join(sorted(_ROLE_KEYS))}"
        )
    if "models" in table:
        models = table["models"]
        if not isinstance(models, list) or not models or not all(isinstance(m, str) and m for m in models):
            raise ConfigError(f"{where}: models must be a non-empty list of model names, got {models!r}")
        table = {**table, "models": tuple(models)}
    return replace(base, **table)


def load_run_config(
    path: str | Path | None = None,
    *,
    model: str | None = None,
    base_url: str | None = None,
    environ: dict[str, str] | None = None,
) -> RunConfig:
    """Defaults ← OPENAI_BASE_URL/OKAPI_MODEL env ← TOML file ← --model/--base-url flags.

    The TOML file has a `[default]` table and optional `[roles.<role>]` tables that override it.
    """
    env = os.environ if environ is None else environ
    default = RoleConfig(
        model=env.get("OKAPI_MODEL", DEFAULT_MODEL),
        base_url=env.get("OPENAI_BASE_URL", DEFAULT_BASE_URL),
    )
    roles: dict[str, RoleConfig] = {}
    if path is not None:
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"run config {path} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}") from None
        unknown = set(data) - {"default", "roles"}
        if unknown:
            raise ConfigError(f"{path}: unknown table(s) {sorted(unknown)}; use [default] and [roles.<role>]")
        default = _role_from_table(data.get("default", {}), default, f"{path} [default]")
        for name, table in data.get("roles", {}).items():
            if name not in ROLES:
                raise ConfigError(f"{path}: unknown role {name!r}; valid roles: {', '.join(ROLES)}")
            roles[name] = _role_from_table(table, default, f"{path} [roles.{name}]")
    overrides = {k: v for k, v in {"model": model, "base_url": base_url}.items() if v}
    default = replace(default, **overrides)
    roles = {name: replace(cfg, **overrides) for name, cfg in roles.items()}
    return RunConfig(roles={"default": default, **roles})
