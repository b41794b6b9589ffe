"""The only part of okapi that talks to models."""

from okapi.llm.cache import ResponseCache, payload_key
from okapi.llm.client import (
    ChatRequest,
    Completion,
    EndpointError,
    LLMClient,
    RequestFailed,
    estimate_tokens,
)
from okapi.llm.config import ROLES, ConfigError, EndpointConfig, RoleConfig, RunConfig, load_run_config

__all__ = [
    "ROLES",
    "ChatRequest",
    "Completion",
    "ConfigError",
    "EndpointConfig",
    "EndpointError",
    "LLMClient",
    "RequestFailed",
    "ResponseCache",
    "RoleConfig",
    "RunConfig",
    "estimate_tokens",
    "load_run_config",
    "payload_key",
]
