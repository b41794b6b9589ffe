"""Run configuration: which endpoints and model serve each role, with limits and prices.

Roles are bound here, never in a builder. Keys are read from the environment at call time and
never stored on these objects, so they cannot leak into a cache, log or card.

A role is served by one endpoint (its `base_url`) or by several (`endpoints = [{...}, ...]`), each
entry overriding the role's connection settings; the model, sampling and prices stay per role, so
the payload (and the cache key) never depends on which endpoint answers.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import get_args, get_type_hints

ROLES = ("translator", "judge", "responder", "generator")
DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MODEL = "gpt-4o-mini"


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class EndpointConfig:
    """One server of a role; a setting left unset (None) is the role's."""

    base_url: str | None = None
    api_key_env: str | None = None
    concurrency: int | None = None
    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None
    timeout_s: float | None = None


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
    # Several servers for this role; empty: `base_url` alone. `concurrency` is per endpoint.
    endpoints: tuple[EndpointConfig, ...] = ()

    def endpoint_configs(self) -> tuple[RoleConfig, ...]:
        """One config per endpoint: the role's settings with the entry's own on top."""
        if not self.endpoints:
            return (self,)
        return tuple(
            replace(self, endpoints=(), **{k: v for k, v in asdict(e).items() if v is not None})
            for e in self.endpoints
        )

    def api_key(self) -> str:
        # Local servers (vLLM, llama.cpp, Ollama) accept any key; the client library needs one.
        return os.environ.get(self.api_key_env) or "not-needed"

    def sampling_models(self) -> tuple[str, ...]:
        return self.models or (self.model,)

    @property
    def priced(self) -> bool:
        """Whether the run config gives this role a price (without one its cost is unknown, not $0)."""
        return bool(self.price_input_per_mtok or self.price_output_per_mtok)

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
_ENDPOINT_KEYS = {f.name for f in fields(EndpointConfig)}


def _check_keys(table: dict, valid: set[str], where: str) -> None:
    if "api_key" in table:
        raise ConfigError(
            f"{where}: keys must not be written in config files; set the environment "
            f"variable named by api_key_env (default OPENAI_API_KEY) instead"
        )
    unknown = set(table) - valid
    if unknown:
        raise ConfigError(
            f"{where}: unknown setting(s) {', '.join(sorted(unknown))}; valid: {', '.join(sorted(valid))}"
        )


# Settings that must be above zero, or at least zero; the rest of the numbers are rates (> 0).
_AT_LEAST_ZERO = {"max_retries", "price_input_per_mtok", "price_output_per_mtok"}


_KIND_NAMES = {int: "a whole number", float: "a number", bool: "true or false", str: "text"}


def _check_values(table: dict, cls: type, where: str) -> None:
    """Each setting has its field's type (a TOML string where a number belongs is named, with an example)."""
    hints = get_type_hints(cls)
    for key, value in table.items():
        if key in ("endpoints", "models"):
            continue  # lists, checked on their own
        kinds = tuple(t for t in get_args(hints[key]) or (hints[key],) if t is not type(None))
        if float in kinds:
            kinds += (int,)
        if isinstance(value, bool) != (bool in kinds) or not isinstance(value, kinds):
            wanted = " or ".join(sorted({_KIND_NAMES[t] for t in kinds}))
            example = getattr(RoleConfig(), key)  # an endpoint's settings are a role's too
            example = 16 if example is None else example
            raise ConfigError(f"{where}: {key} = {value!r} must be {wanted}, e.g. {key} = {_toml(example)}")
        if isinstance(value, int | float) and not isinstance(value, bool):
            low_ok = key in _AT_LEAST_ZERO
            if value < 0 or (value == 0 and not low_ok):
                raise ConfigError(
                    f"{where}: {key} = {value!r} must be {'at least 0' if low_ok else 'above 0'}"
                )


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f'"{value}"' if isinstance(value, str) else str(value)


def _endpoints_from_list(entries: object, where: str) -> tuple[EndpointConfig, ...]:
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
        raise ConfigError(
            f"{where}: endpoints must be a non-empty list of tables, "
            f'e.g. endpoints = [{{ base_url = "http://gpu1:8000/v1", concurrency = 32 }}]'
        )
    for i, entry in enumerate(entries):
        _check_keys(entry, _ENDPOINT_KEYS, f"{where} endpoints[{i}]")
        _check_values(entry, EndpointConfig, f"{where} endpoints[{i}]")
    return tuple(EndpointConfig(**entry) for entry in entries)


def _role_from_table(table: dict, base: RoleConfig, where: str) -> RoleConfig:
    _check_keys(table, _ROLE_KEYS, where)
    _check_values(table, RoleConfig, where)
    if "endpoints" in table:
        table = {**table, "endpoints": _endpoints_from_list(table["endpoints"], where)}
    elif "base_url" in table:
        table = {**table, "endpoints": ()}  # a role naming its own server leaves [default]'s list
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
    overrides: dict = {"model": model} if model else {}
    if base_url:
        overrides |= {"base_url": base_url, "endpoints": ()}  # the flag replaces every role's list
    default = replace(default, **overrides)
    roles = {name: replace(cfg, **overrides) for name, cfg in roles.items()}
    return RunConfig(roles={"default": default, **roles})
