import asyncio
import time

import pytest
from conftest import make_client

from okapi.llm import ChatRequest, ConfigError, EndpointError, RequestFailed, load_run_config
from okapi.llm.limits import TokenBucket

REQUEST = ChatRequest(messages=(("user", "hello"),), max_tokens=50)


def _run(client, *requests, role="translator"):
    async def go():
        try:
            return await asyncio.gather(*(client.complete(role, r) for r in requests))
        finally:
            await client.aclose()

    return asyncio.run(go())


def test_answers_are_cached_across_clients_and_never_sent_twice(offline_server, tmp_path):
    server = offline_server()
    first = _run(make_client(server, tmp_path), REQUEST)[0]
    client = make_client(server, tmp_path)
    second = _run(client, REQUEST)[0]
    assert not first.cached and second.cached and first.text == second.text
    assert server.stats.answered == 1
    assert client.usage.role("translator").cache_hits == 1 and client.usage.role("translator").requests == 0


def test_429s_honour_retry_after_and_never_fail_a_request(offline_server, tmp_path):
    server = offline_server(faults={"429": 0.5})  # every injected 429 says Retry-After: 1
    # No retry budget at all: 429s must not spend it, only wait.
    client = make_client(server, tmp_path, max_retries=0, backoff_base_s=0.001)
    requests = [ChatRequest(messages=(("user", f"hello {i}"),)) for i in range(16)]
    start = time.monotonic()
    answers = _run(client, *requests)
    usage = client.usage.role("translator")
    assert len(answers) == 16 and usage.failures == 0 and len(client.cache) == 16
    assert server.stats.statuses[429] >= 2 and usage.rate_limited == server.stats.statuses[429]
    assert time.monotonic() - start >= 0.95  # Retry-After: 1, not the 1 ms backoff


def test_5xx_and_timeouts_are_retried_until_answered(offline_server, tmp_path):
    server = offline_server(faults={"500": 0.4, "timeout": 0.2}, timeout_sleep_s=2.0)
    client = make_client(server, tmp_path, timeout_s=0.3, max_retries=10, backoff_base_s=0.01)
    requests = [ChatRequest(messages=(("user", f"hello {i}"),)) for i in range(20)]
    answers = _run(client, *requests)
    usage = client.usage.role("translator")
    assert len(answers) == 20 and usage.requests == 20 and usage.failures == 0
    assert usage.retries >= 3 and server.stats.statuses[500] >= 1


def test_timeout_gives_up_with_reason(offline_server, tmp_path):
    server = offline_server(faults={"timeout": 1.0}, timeout_sleep_s=3.0)
    client = make_client(server, tmp_path, timeout_s=0.2, max_retries=1, backoff_base_s=0.01)
    with pytest.raises(RequestFailed) as failure:
        _run(client, REQUEST)
    assert failure.value.reason == "timeout"


def test_key_is_sent_but_never_stored(offline_server, tmp_path, monkeypatch):
    monkeypatch.setenv("OKAPI_TEST_KEY", "sk-test-secret-0123456789")
    server = offline_server()
    client = make_client(server, tmp_path, api_key_env="OKAPI_TEST_KEY")
    _run(client, REQUEST)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert b"sk-test-secret" not in path.read_bytes(), path


def test_unusable_endpoint_fails_fast_with_a_hint(offline_server, tmp_path):
    server = offline_server()
    client = make_client(server, tmp_path)
    client.config.roles["default"] = type(client.config.roles["default"])(
        model="offline", base_url=server.base_url.replace("/v1", "/nope")
    )
    with pytest.raises(EndpointError, match=r"HTTP 404.*check --base-url and --model"):
        _run(client, REQUEST)


def test_cost_is_counted_per_role_with_configured_prices(offline_server, tmp_path):
    server = offline_server()
    client = make_client(server, tmp_path, price_input_per_mtok=1_000_000.0, price_output_per_mtok=0.0)
    _run(client, REQUEST, role="judge")
    usage = client.usage.role("judge")
    assert usage.prompt_tokens > 0 and usage.cost_usd == pytest.approx(usage.prompt_tokens)


def test_token_bucket_spaces_requests():
    async def go():
        bucket = TokenBucket(per_minute=1200)  # 20/s, burst of 20
        start = time.monotonic()
        for _ in range(40):
            await bucket.acquire()
        return time.monotonic() - start

    assert asyncio.run(go()) >= 0.9


def test_run_config_precedence_env_file_flags(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text(
        '[default]\nmodel = "m-file"\nconcurrency = 4\n\n'
        '[roles.judge]\nmodel = "judge-model"\nbase_url = "http://judge:8000/v1"\n'
    )
    env = {"OPENAI_BASE_URL": "http://env:1/v1", "OKAPI_MODEL": "m-env"}
    config = load_run_config(path, environ=env)
    assert config.role("translator").base_url == "http://env:1/v1"
    assert config.role("translator").model == "m-file" and config.role("translator").concurrency == 4
    assert config.role("judge").model == "judge-model"
    flagged = load_run_config(path, model="m-flag", base_url="http://flag/v1", environ=env)
    assert {flagged.role(r).model for r in ("translator", "judge")} == {"m-flag"}
    assert flagged.role("judge").base_url == "http://flag/v1"
    assert load_run_config(None, environ={}).role("responder").base_url == "https://api.openai.com/v1"


def test_run_config_refuses_keys_and_unknown_settings(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text('[default]\napi_key = "sk-oops"\n')
    with pytest.raises(ConfigError, match="keys must not be written"):
        load_run_config(path)
    path.write_text("[default]\nconcurency = 4\n")
    with pytest.raises(ConfigError, match="unknown setting.*concurency.*valid: .*concurrency"):
        load_run_config(path)
    path.write_text('[roles.critic]\nmodel = "x"\n')
    with pytest.raises(ConfigError, match="unknown role 'critic'.*translator"):
        load_run_config(path)
