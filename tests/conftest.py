"""Offline test set-up: HF offline with a temporary HF_HOME, and no socket beyond loopback."""

from __future__ import annotations

import os
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
from loopback import allow_loopback_only

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["HF_HOME"] = tempfile.mkdtemp(prefix="okapi-test-hf-")
os.environ.pop("OPENAI_BASE_URL", None)
os.environ.pop("OPENAI_API_KEY", None)

allow_loopback_only()

from okapi.llm import LLMClient, ResponseCache, load_run_config  # noqa: E402
from okapi.offline.server import OfflineServer, ServerConfig  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "okapi" / "offline" / "sample_en.jsonl"


@pytest.fixture
def offline_server():
    """Factory: start an offline server with the given faults; all are stopped at the end."""
    servers: list[OfflineServer] = []

    def start(**config) -> OfflineServer:
        server = OfflineServer(ServerConfig(**config)).start_in_thread()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def make_client(server: OfflineServer, cache_dir: Path, **role_settings) -> LLMClient:
    config = load_run_config(None, model="offline", base_url=server.base_url, environ={})
    config.roles["default"] = replace(config.roles["default"], **role_settings)
    return LLMClient(config, ResponseCache(cache_dir / "responses.sqlite"))


def closed_port_url() -> str:
    """An endpoint URL on a loopback port nobody listens on: connections are refused."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"  # nothing listens there any more
