"""Several endpoints per role, served-model accounting and rate limits that never lose a record."""

import asyncio
import time
from dataclasses import replace

import pytest
from conftest import closed_port_url
from test_llm import _run

from okapi.llm import (
    ChatRequest,
    ConfigError,
    EndpointConfig,
    EndpointError,
    LLMClient,
    ResponseCache,
    load_run_config,
)
from okapi.llm.limits import AdaptiveLimiter, parse_duration


def _requests(n: int, tag: str = "q") -> list[ChatRequest]:
    return [ChatRequest(messages=(("user", f"{tag} {i}"),)) for i in range(n)]


def _client(tmp_path, urls: list[str], **role_settings) -> LLMClient:
    config = load_run_config(None, model="offline", environ={})
    endpoints = tuple(EndpointConfig(base_url=u) for u in urls)
    config.roles["default"] = replace(config.roles["default"], endpoints=endpoints, **role_settings)
    return LLMClient(config, ResponseCache(tmp_path / "responses.sqlite"))


# -- config


def test_endpoints_config_inherits_role_settings_and_sums_concurrency(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text(
        '[default]\nmodel = "m"\nconcurrency = 8\ntimeout_s = 30\n'
        'endpoints = [{ base_url = "http://gpu1:8000/v1", concurrency = 32 },'
        ' { base_url = "http://gpu2:8000/v1", requests_per_minute = 600 }]\n\n'
        '[roles.judge]\nmodel = "judge-model"\n\n'
        '[roles.responder]\nbase_url = "http://other:9000/v1"\n'
    )
    config = load_run_config(path, environ={})
    gpu1, gpu2 = config.role("translator").endpoint_configs()
    assert (gpu1.base_url, gpu1.concurrency, gpu1.requests_per_minute) == ("http://gpu1:8000/v1", 32, None)
    assert (gpu2.base_url, gpu2.concurrency, gpu2.requests_per_minute) == ("http://gpu2:8000/v1", 8, 600)
    assert gpu1.timeout_s == gpu2.timeout_s == 30 and gpu1.model == "m"
    # A role inherits [default]'s endpoints with its own model; one naming a base_url has its own.
    assert [e.model for e in config.role("judge").endpoint_configs()] == ["judge-model"] * 2
    assert [e.base_url for e in config.role("responder").endpoint_configs()] == ["http://other:9000/v1"]
    client = LLMClient(config, ResponseCache(tmp_path / "c.sqlite"))
    assert client.concurrency("translator") == 40 and client.concurrency("responder") == 8
    assert config.role("translator").concurrency == 8  # still the per-endpoint default
    # --base-url replaces every role's list by that one URL.
    flagged = load_run_config(path, base_url="http://flag/v1", environ={})
    assert [e.base_url for e in flagged.role("translator").endpoint_configs()] == ["http://flag/v1"]


def test_endpoints_config_refuses_unknown_keys_and_written_keys(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text('[roles.judge]\nendpoints = [{ base_url = "http://a/v1" }, { concurency = 4 }]\n')
    with pytest.raises(ConfigError) as refused:
        load_run_config(path, environ={})
    message = str(refused.value)
    assert "\n" not in message
    assert f"{path} [roles.judge] endpoints[1]: unknown setting(s) concurency" in message
    assert "valid: api_key_env, base_url, concurrency, requests_per_minute" in message
    path.write_text('[default]\nendpoints = [{ base_url = "http://a/v1", api_key = "sk-x" }]\n')
    with pytest.raises(ConfigError, match=r"endpoints\[0\]: keys must not be written"):
        load_run_config(path, environ={})
    path.write_text('[default]\nendpoints = "http://a/v1"\n')
    with pytest.raises(ConfigError, match="endpoints must be a non-empty list of tables"):
        load_run_config(path, environ={})


# -- routing


def test_failing_endpoints_are_taken_out_and_every_request_is_answered(offline_server, tmp_path):
    good = [offline_server(latency_s=0.02), offline_server(latency_s=0.02)]
    failing = offline_server(faults={"500": 1.0})
    urls = [good[0].base_url, failing.base_url, closed_port_url(), good[1].base_url]
    # Two retries each at most: requests survive because they move to the endpoints that work.
    client = _client(tmp_path, urls, concurrency=4, max_retries=2, backoff_base_s=0.05)
    answers = _run(client, *_requests(80))
    usage = client.usage.role("translator")
    assert len(answers) == 80 and usage.failures == 0
    assert set(usage.endpoints) == {good[0].base_url, good[1].base_url}
    assert sum(usage.endpoints.values()) == 80
    # Taken out after a few failures in a row: most requests never went to the failing one.
    assert failing.stats.answered == 0 and failing.stats.statuses[500] < 30


def test_least_outstanding_spreads_load_over_equal_endpoints(offline_server, tmp_path):
    servers = [offline_server(latency_s=0.05) for _ in range(4)]
    client = _client(tmp_path, [s.base_url for s in servers], concurrency=4)
    _run(client, *_requests(120))
    answered = [s.stats.answered for s in servers]
    assert sum(answered) == 120 and min(answered) >= 20, answered


def test_a_rate_limited_endpoint_sends_its_retries_elsewhere(offline_server, tmp_path):
    limited = offline_server(faults={"429": 1.0})  # Retry-After: 1 on every request
    free = offline_server()
    client = _client(tmp_path, [limited.base_url, free.base_url], concurrency=4)
    start = time.monotonic()
    answers = _run(client, *_requests(20))
    assert len(answers) == 20 and free.stats.answered == 20
    assert time.monotonic() - start < 1.0  # no one waited out the Retry-After of 1 s: they moved


def test_an_unreachable_endpoint_fails_in_seconds_naming_url_model_and_cause(tmp_path):
    url = closed_port_url()
    client = _client(tmp_path, [url])  # default retries: 6, with backoff up to a minute
    start = time.monotonic()
    with pytest.raises(EndpointError) as failure:
        _run(client, *_requests(3))
    assert time.monotonic() - start < 5.0  # checked before the first request, not after all retries
    # openai calls a refused connection a timeout; the cause says what happened.
    message = str(failure.value)
    assert url in message and "'offline'" in message and "cannot connect" in message.lower()
    assert "no answer within" not in message and "--base-url" in message


def test_an_unreachable_endpoint_among_good_ones_is_taken_out_and_nothing_fails(offline_server, tmp_path):
    good = offline_server()
    client = _client(tmp_path, [closed_port_url(), good.base_url])
    assert len(_run(client, *_requests(10))) == 10
    assert client.usage.role("translator").endpoints == {good.base_url: 10}
    assert client.usage.role("translator").retries == 0  # the dead one never got a request


@pytest.mark.parametrize("body", [b"<html><body>Welcome to nginx!</body></html>", b'"hello"'])
def test_a_200_that_is_not_a_chat_completion_names_the_url_and_the_body(tmp_path, body):
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        with pytest.raises(EndpointError) as error:
            _run(_client(tmp_path, [url]), *_requests(1))
    finally:
        server.shutdown()
    assert url in str(error.value) and body.decode()[:20] in str(error.value)


# -- rate limits


@pytest.mark.parametrize("mode", ["window", "bucket"])
def test_a_server_limit_without_a_client_limit_loses_no_record(offline_server, tmp_path, mode):
    # 600/min in 2-s windows (20 per window) or a bucket refilling 10/s; the client is told nothing.
    server = offline_server(requests_per_minute=600, rate_limit_mode=mode, window_s=2.0, latency_s=0.05)
    client = _client(tmp_path, [server.base_url], concurrency=8, max_retries=0)
    answers = _run(client, *_requests(50))
    usage = client.usage.role("translator")
    assert len(answers) == 50 and usage.failures == 0 and server.stats.answered == 50
    assert server.stats.statuses[429] > 0 and usage.rate_limited == server.stats.statuses[429]


def test_insufficient_quota_is_final(offline_server, tmp_path):
    server = offline_server(faults={"quota": 1.0})
    client = _client(tmp_path, [server.base_url])
    with pytest.raises(EndpointError, match="insufficient_quota"):
        _run(client, *_requests(1))
    assert server.stats.requests == 1


def test_ratelimit_headers_hold_the_endpoint_until_the_budget_refills():
    async def go() -> float:
        limiter = AdaptiveLimiter(learn=True)
        ticket = await limiter.acquire(10)
        start = time.monotonic()
        headers = {
            "x-ratelimit-limit-requests": "10",
            "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-reset-requests": "1s",  # refills 10 per second: one in 0.1 s
        }
        limiter.answered(ticket, headers)
        return limiter.hold_until - start

    assert 0.08 <= asyncio.run(go()) <= 0.12
    assert parse_duration("6m0s") == 360 and parse_duration("20ms") == 0.02
    assert parse_duration("1h2m3.5s") == 3723.5 and parse_duration("1.5") == 1.5
    assert parse_duration("soon") is None


def test_the_learned_rate_saws_just_under_a_servers_limit():
    """AIMD against a token bucket of 10/s (burst 10), in simulated time: 150 s in milliseconds."""
    clock = [0.0]
    limiter = AdaptiveLimiter(learn=True, clock=lambda: clock[0])
    level, last, answered, refused = 10.0, 0.0, 0, 0
    while clock[0] < 150.0:
        # The client always has requests waiting; without a learned rate it sends 80/s.
        clock[0] = max(clock[0] + max(limiter.delay(), 0.0 if limiter.rate else 1 / 80), limiter.hold_until)
        ticket = limiter.sent(1)
        level, last = min(10.0, level + (clock[0] - last) * 10.0), clock[0]
        if level >= 1.0:
            level -= 1.0
            answered += 1
            limiter.answered(ticket, None)
        else:
            refused += 1
            limiter.rate_limited(ticket, (1.0 - level) / 10.0, None)
    assert answered / 150.0 >= 0.95 * 10.0  # the limit, used
    assert refused / (answered + refused) <= 0.02  # 429s kept rare
    assert 0.8 * 10.0 <= limiter.rate <= 1.2 * 10.0


# -- what served


def test_served_models_and_endpoints_are_counted_cache_hits_included(offline_server, tmp_path):
    server = offline_server(served_model="offline-v2")
    client = _client(tmp_path, [server.base_url])
    answers = _run(client, *_requests(3))
    assert {a.served_model for a in answers} == {"offline-v2"}
    usage = client.usage.role("translator")
    assert usage.served_models == {"offline-v2": 3} and usage.endpoints == {server.base_url: 3}
    again = _client(tmp_path, [server.base_url])
    hits = _run(again, *_requests(3))
    assert all(h.cached and h.served_model == "offline-v2" for h in hits)
    assert again.usage.role("translator").served_models == {"offline-v2": 3}
    assert client.usage.total().served_models == {"offline-v2": 3}
