"""End-to-end tests of `entropyinfer serve` through the official `openai` package, curl and raw HTTP.

Run by the EndToEndTests Swift target against the release binary (ENTROPYINFER_E2E=1), and by
ServerTests against the in-process server with the fake engine (ENTROPYINFER_E2E_FAKE=1).
"""
import concurrent.futures
import json
import math
import os
import pathlib
import signal
import socket
import subprocess
import time
import urllib.parse

import openai
import pytest

import sse
from conftest import API_KEY, FAKE, MODEL, ServerProcess, binary

HELLO = [{"role": "user", "content": "Say hello in five words."}]


# --- The official client -------------------------------------------------------------------


def test_chat_completion_with_the_openai_client(client, model_name):
    completion = client.chat.completions.create(model=model_name, messages=HELLO, max_tokens=24, temperature=0)
    assert completion.object == "chat.completion"
    assert completion.id.startswith("chatcmpl-")
    assert completion.model == model_name
    choice = completion.choices[0]
    assert choice.message.role == "assistant"
    assert isinstance(choice.message.content, str) and choice.message.content
    assert choice.finish_reason in ("stop", "length")
    assert completion.usage.prompt_tokens > 0
    assert completion.usage.completion_tokens > 0
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens


def test_streaming_with_the_openai_client_matches_non_streaming(client, model_name):
    plain = client.chat.completions.create(model=model_name, messages=HELLO, max_tokens=24, temperature=0, seed=7)
    stream = client.chat.completions.create(model=model_name, messages=HELLO, max_tokens=24, temperature=0, seed=7,
                                            stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert len({chunk.id for chunk in chunks}) == 1
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text == plain.choices[0].message.content
    finishing = [chunk for chunk in chunks if chunk.choices and chunk.choices[0].finish_reason]
    assert len(finishing) == 1 and finishing[0] is [c for c in chunks if c.choices][-1]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == plain.usage.completion_tokens


def test_completions_with_the_openai_client(client, model_name):
    completion = client.completions.create(model=model_name, prompt="The capital of France is", max_tokens=8, temperature=0)
    assert completion.object == "text_completion"
    assert completion.choices[0].text
    assert completion.choices[0].finish_reason in ("stop", "length")
    stream = client.completions.create(model=model_name, prompt="The capital of France is", max_tokens=8, temperature=0,
                                       stream=True)
    assert "".join(chunk.choices[0].text for chunk in stream if chunk.choices) == completion.choices[0].text


def test_models_with_the_openai_client(client, model_name):
    models = client.models.list()
    assert models.data[0].id == model_name
    entry = client.models.retrieve(model_name)
    assert entry.id == model_name
    assert entry.model_extra["max_model_len"] > 0
    assert set(entry.model_extra["meta"]) >= {"architecture", "parameters", "quantization"}


def test_the_openai_client_raises_the_right_errors(client, model_name, server):
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model=model_name, messages=HELLO, temperature=5)
    assert error.value.code == "invalid_value" and error.value.param == "temperature"
    with pytest.raises(openai.NotFoundError) as error:
        client.chat.completions.create(model="no-such-model", messages=HELLO)
    assert error.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model=model_name, messages=HELLO, functions=[{"name": "f"}])
    assert error.value.code == "unsupported_parameter" and error.value.param == "functions"
    wrong = openai.OpenAI(base_url=server.url + "/v1", api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as error:
        wrong.chat.completions.create(model=model_name, messages=HELLO)
    assert error.value.code == "invalid_api_key"


def test_context_length_exceeded_through_the_client(client, model_name, http):
    _, _, models = http("GET", "/v1/models")
    context = models["data"][0]["max_model_len"]
    long = " hello" * (context + 50)
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model=model_name, messages=[{"role": "user", "content": long}])
    assert error.value.code == "context_length_exceeded"
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model=model_name, messages=[{"role": "user", "content": long}], stream=True)
    assert error.value.code == "context_length_exceeded"


# --- Streaming invariants on the wire ------------------------------------------------------------


def test_chat_stream_invariants_on_the_wire(server, model_name):
    connection, response = sse.open_stream(server.url, "/v1/chat/completions",
                                           {"model": model_name, "messages": HELLO, "max_tokens": 16, "stream": True,
                                            "n": 2, "seed": 3, "stream_options": {"include_usage": True}},
                                           server.api_key)
    assert response.status == 200
    assert response.getheader("Content-Type") == "text/event-stream"
    events, done, _ = sse.collect(response)
    connection.close()
    assert done
    texts = sse.check_chat_invariants(events, choice_count=2, include_usage=True)
    assert all(texts)


def test_streaming_context_errors_are_plain_json(server, http):
    _, _, models = http("GET", "/v1/models")
    long = " hello" * (models["data"][0]["max_model_len"] + 50)
    connection, response = sse.open_stream(server.url, "/v1/chat/completions",
                                           {"messages": [{"role": "user", "content": long}], "stream": True}, server.api_key)
    assert response.status == 400
    assert response.getheader("Content-Type") == "application/json"
    body = json.loads(response.read())
    connection.close()
    assert body["error"]["code"] == "context_length_exceeded"
    assert body["error"]["n_prompt_tokens"] > body["error"]["n_ctx"]


def test_a_client_that_disconnects_mid_stream_frees_its_session(server, http, model_name):
    connection, response = sse.open_stream(server.url, "/v1/chat/completions",
                                           {"model": model_name, "messages": HELLO, "stream": True, "ignore_eos": True},
                                           server.api_key)
    assert response.status == 200
    events = sse.read_events(response)
    for kind, _ in events:
        if kind == "data":
            break
    connection.sock.shutdown(socket.SHUT_RDWR)
    connection.close()
    # Generous for a loaded CI machine, and still far below the time the stream takes to finish
    # by itself (fake engine: 50 s; real model: hundreds of tokens), so only cancellation passes.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        status, _, slots = http("GET", "/slots")
        if status == 200 and slots == []:
            break
        time.sleep(0.05)
    assert slots == [], f"the session is still running: {slots}"
    assert http("GET", "/health")[0] == 200


# --- curl ---------------------------------------------------------------------------------------


def curl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["curl", "-sS", "--max-time", "600", *args], capture_output=True, text=True)


def test_curl_streams_and_posts_without_a_content_type(server, model_name):
    body = json.dumps({"model": model_name, "messages": HELLO, "max_tokens": 8, "stream": True})
    result = curl("-N", "-H", f"Authorization: Bearer {server.api_key}", "-d", body, server.url + "/v1/chat/completions")
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith("data: [DONE]")
    assert result.stdout.startswith("data: ") or result.stdout.startswith(":")
    # `curl -d` sends application/x-www-form-urlencoded; the body is JSON all the same.
    result = curl("-H", f"X-Api-Key: {server.api_key}", "-d", json.dumps({"model": model_name, "prompt": "Hi", "max_tokens": 4}),
                  server.url + "/v1/completions")
    assert json.loads(result.stdout)["object"] == "text_completion"


def test_curl_sees_status_codes_and_headers(server):
    result = curl("-i", "-X", "DELETE", server.url + "/v1/models")
    assert result.stdout.startswith("HTTP/1.1 405")
    assert "Allow: GET" in result.stdout
    result = curl("-i", server.url + "/v1/models")
    assert result.stdout.startswith("HTTP/1.1 401")
    assert "WWW-Authenticate: Bearer" in result.stdout
    result = curl("-i", server.url + "/health")
    assert result.stdout.startswith("HTTP/1.1 200")


# --- Every error path over HTTP ---------------------------------------------------------------


def expect_error(result, status, code, param="<any>"):
    got_status, _, body = result
    assert got_status == status, body
    assert isinstance(body, dict) and list(body) == ["error"], body
    error = body["error"]
    assert list(error)[:4] == ["message", "type", "param", "code"], error
    assert error["message"]
    assert error["code"] == code, error
    if param != "<any>":
        assert error["param"] == param, error
    return error


@pytest.mark.parametrize("body,status,code,param", [
    ('{"messages": [', 400, "invalid_json", None),
    ('[]', 400, "invalid_json", None),
    ('{"messages": "hi"}', 400, "invalid_type", "messages"),
    ('{"messages": [{"role": "user", "content": "x"}], "max_tokens": "5"}', 400, "invalid_type", "max_tokens"),
    ('{}', 400, "missing_required_parameter", "messages"),
    ('{"messages": []}', 400, "invalid_value", "messages"),
    ('{"messages": [{"role": "robot", "content": "x"}]}', 400, "invalid_value", "messages[0].role"),
    ('{"messages": [{"role": "user", "content": "x"}], "temperature": 9}', 400, "invalid_value", "temperature"),
    ('{"messages": [{"role": "user", "content": "x"}], "n": 0}', 400, "invalid_value", "n"),
    ('{"messages": [{"role": "user", "content": "x"}], "top_logprobs": 3}', 400, "invalid_value", "top_logprobs"),
    ('{"messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_schema", "json_schema": '
     '{"name": "x", "schema": {"type": "string", "pattern": "^a"}}}}', 400, "invalid_value", "response_format.json_schema.schema"),
    ('{"messages": [{"role": "user", "content": "x"}], "tool_choice": "required"}', 400, "invalid_value", "tool_choice"),
    ('{"messages": [{"role": "user", "content": "x"}], "functions": [{"name": "f"}]}', 400, "unsupported_parameter", "functions"),
    ('{"messages": [{"role": "user", "content": "x"}], "model": "gpt-nope"}', 404, "model_not_found", "model"),
])
def test_chat_errors(http, body, status, code, param):
    expect_error(http("POST", "/v1/chat/completions", raw=body.encode()), status, code, param)


def test_completion_errors(http):
    expect_error(http("POST", "/v1/completions", {"prompt": "a", "suffix": "b"}), 400, "unsupported_parameter", "suffix")
    expect_error(http("POST", "/v1/completions", {"prompt": [1, -5]}), 400, "invalid_value", "prompt[1]")
    expect_error(http("POST", "/v1/completions", {"prompt": "a", "logprobs": 99}), 400, "invalid_value", "logprobs")


def test_auth_routing_and_size_errors(http):
    expect_error(http("GET", "/v1/models", auth=False), 401, "invalid_api_key")
    expect_error(http("GET", "/v1/models", auth=False, headers={"Authorization": "Bearer nope"}), 401, "invalid_api_key")
    assert http("GET", "/v1/models", auth=False, headers={"X-Api-Key": API_KEY})[0] == 200
    assert http("GET", "/health", auth=False)[0] == 200
    assert http("GET", "/metrics", auth=False)[0] == 200
    expect_error(http("GET", "/v1/nope"), 404, "unknown_url")
    expect_error(http("GET", "/v1/models/nope"), 404, "model_not_found")
    status, headers, _ = http("PUT", "/v1/chat/completions", {})
    assert status == 405 and headers.get("Allow") == "POST"
    big = b'{"prompt": "' + b"x" * (17 * 1024 * 1024) + b'"}'
    try:
        result = http("POST", "/v1/completions", raw=big)
        expect_error(result, 413, "request_too_large")
    except (ConnectionError, OSError):
        pytest.fail("the server must answer 413, not drop the connection")


@pytest.mark.own_server
def test_a_full_queue_answers_503_with_retry_after():
    server = ServerProcess("--max-queue", "1").start()
    try:
        body = {"messages": HELLO, "max_tokens": 64, "ignore_eos": True}
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            def post(_):
                connection, response = sse.open_stream(server.url, "/v1/chat/completions", body, server.api_key)
                payload = response.read()
                headers = dict(response.getheaders())
                connection.close()
                return response.status, headers, json.loads(payload)
            results = list(pool.map(post, range(8)))
        overloaded = [result for result in results if result[0] == 503]
        assert overloaded, f"8 concurrent requests against --max-queue 1 all passed: {[r[0] for r in results]}"
        for status, headers, payload in overloaded:
            assert headers.get("Retry-After")
            assert payload["error"]["code"] == "server_overloaded"
        assert all(result[0] in (200, 503) for result in results)
    finally:
        assert server.stop() == 0


@pytest.mark.own_server
def test_kv_memory_and_batching_keys_reach_the_engine():
    # 8 MiB of f32 KV holds about 170 tokens of SmolLM2 (30 layers x 3 KV heads x 16-token blocks of 8 KiB).
    server = ServerProcess("--kv-memory", "8MiB", "--kv-cache-type", "f32", "--max-running-sessions", "2",
                           "--max-batch-tokens", "64").start()
    try:
        def metric(name):
            with urllib.request.urlopen(server.url + "/metrics", timeout=10) as response:
                text = response.read().decode()
            return float(next(line.split()[-1] for line in text.splitlines() if line.startswith("entropyinfer:" + name + "{")))
        assert 0.99 * (8 << 20) <= metric("kv_cache_bytes_total") <= 8 << 20   # whole blocks within the budget
        body = {"messages": HELLO, "max_tokens": 8, "temperature": 0}
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            results = list(pool.map(lambda _: sse.post_json(server.url, "/v1/chat/completions", body, server.api_key),
                                    range(3)))
        assert [status for status, _ in results] == [200, 200, 200]
        assert len({payload["choices"][0]["message"]["content"] for _, payload in results}) == 1
        status, payload = sse.post_json(server.url, "/v1/completions", {"prompt": "word " * 400, "max_tokens": 4},
                                        server.api_key)
        assert status == 400 and payload["error"]["code"] == "kv_memory_exceeded", payload
    finally:
        assert server.stop() == 0


# --- Concurrency, metrics, tokenizer routes --------------------------------------------------------


def test_concurrent_requests(client, model_name):
    def ask(index):
        return client.chat.completions.create(model=model_name, messages=[{"role": "user", "content": f"Count to {index}."}],
                                              max_tokens=12, temperature=0)
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        results = list(pool.map(ask, range(6)))
    assert all(result.choices[0].message.content for result in results)


def test_metrics_use_vllm_names(client, model_name, http):
    client.chat.completions.create(model=model_name, messages=HELLO, max_tokens=4)
    status, headers, text = http("GET", "/metrics", auth=False)
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    for name in ["entropyinfer:num_requests_running", "entropyinfer:num_requests_waiting", "entropyinfer:kv_cache_usage_perc",
                 "entropyinfer:prompt_tokens_total", "entropyinfer:generation_tokens_total",
                 "entropyinfer:time_to_first_token_seconds_bucket", "entropyinfer:inter_token_latency_seconds_bucket",
                 "entropyinfer:e2e_request_latency_seconds_count", "entropyinfer:request_success_total",
                 "entropyinfer:prefix_cache_queries_total", "entropyinfer:prefix_cache_hits_total",
                 "entropyinfer:num_preemptions_total"]:
        assert name in text, name
    count = [line for line in text.splitlines() if line.startswith("entropyinfer:time_to_first_token_seconds_count")]
    assert float(count[0].split()[-1]) >= 1


def test_tokenize_and_detokenize_round_trip(http):
    status, _, body = http("POST", "/tokenize", {"content": "Hello, wörld!"})
    assert status == 200 and body["tokens"]
    status, _, text = http("POST", "/detokenize", {"tokens": body["tokens"]})
    assert text == {"content": "Hello, wörld!"}
    status, _, pieces = http("POST", "/tokenize", {"content": "Hello", "with_pieces": True})
    assert "".join(piece["piece"] for piece in pieces["tokens"] if isinstance(piece["piece"], str)) == "Hello"


# --- Lifecycle ------------------------------------------------------------------------------------------


@pytest.mark.own_server
def test_sigterm_lets_a_running_stream_finish_then_exits_0():
    server = ServerProcess().start()
    connection, response = sse.open_stream(server.url, "/v1/chat/completions",
                                           {"messages": HELLO, "max_tokens": 48, "ignore_eos": True, "stream": True},
                                           server.api_key)
    events = sse.read_events(response)
    next(kind for kind, _ in events if kind == "data")
    server.process.send_signal(15)
    rest = [payload for kind, payload in events if kind == "data"]
    connection.close()
    assert rest[-1] == "[DONE]", "the running stream must complete"
    assert server.process.wait(timeout=60) == 0
    with pytest.raises(OSError):
        socket.create_connection((urllib.parse.urlparse(server.url).hostname, urllib.parse.urlparse(server.url).port), timeout=2)


@pytest.mark.own_server
def test_sigterm_stops_a_server_started_with_sigterm_blocked():
    server = ServerProcess().start(blocked_signals={signal.SIGTERM, signal.SIGINT})
    server.process.send_signal(signal.SIGTERM)
    try:
        assert server.process.wait(timeout=30) == 0
    finally:
        if server.process.poll() is None:
            server.process.kill()


@pytest.mark.own_server
def test_health_subcommand_is_the_container_healthcheck():
    server = ServerProcess().start()
    try:
        result = subprocess.run([str(binary()), "health", "--url", server.url + "/health"], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        port = urllib.parse.urlparse(server.url).port
        result = subprocess.run([str(binary()), "health"], capture_output=True, text=True,
                                env={**os.environ, "ENTROPYINFER_PORT": str(port)})
        assert result.returncode == 0, result.stderr
    finally:
        server.stop()
    result = subprocess.run([str(binary()), "health", "--url", server.url + "/health", "--timeout", "2"], capture_output=True, text=True)
    assert result.returncode == 1


# --- With the real model ----------------------------------------------------------------------------------


@pytest.mark.real_model
def test_greedy_output_equals_entropyinfer_generate(client, model_name):
    prompt = "Write one sentence about the sea."
    completion = client.chat.completions.create(model=model_name, messages=[{"role": "user", "content": prompt}],
                                                max_tokens=32, temperature=0)
    generated = subprocess.run([str(binary()), "generate", "--model", MODEL, "--prompt", prompt, "--chat",
                                "--max-tokens", "32", "--temperature", "0"], capture_output=True, text=True, timeout=600)
    assert generated.returncode == 0, generated.stderr
    assert generated.stdout.strip() == completion.choices[0].message.content.strip()


@pytest.mark.real_model
def test_prompt_logprobs_reproduce_the_reference_perplexity(http, model_name):
    text = pathlib.Path("/usr/share/common-licenses/GPL-3").read_text()
    status, _, tokenized = http("POST", "/tokenize", {"content": text, "add_special": True})
    assert status == 200
    tokens = tokenized["tokens"][:1024]
    status, _, body = http("POST", "/v1/completions", {"model": model_name, "prompt": tokens, "echo": True, "logprobs": 1,
                                                       "max_tokens": 0})
    assert status == 200, body
    logprobs = body["choices"][0]["logprobs"]["token_logprobs"]
    assert logprobs[0] is None and len(logprobs) == len(tokens)
    perplexity = math.exp(-sum(logprobs[1:]) / (len(logprobs) - 1))
    assert abs(perplexity - 19.30) <= 0.05, perplexity


@pytest.mark.real_model
def test_chat_logprobs_tokens_concatenate_to_the_text(client, model_name):
    completion = client.chat.completions.create(model=model_name, messages=HELLO, max_tokens=16, temperature=0,
                                                logprobs=True, top_logprobs=3)
    content = completion.choices[0].logprobs.content
    assert b"".join(bytes(entry.bytes) for entry in content).decode() == completion.choices[0].message.content
    assert all(len(entry.top_logprobs) == 3 for entry in content)
    assert all(entry.logprob <= 0 for entry in content)
