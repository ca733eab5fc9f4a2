"""Reading server-sent events over a raw socket, and the chat streaming invariants."""
import http.client
import json
import urllib.parse


def open_stream(url: str, path: str, body: dict, api_key: str | None, timeout: float = 600):
    """POSTs `body` and returns (connection, response) with the response unread."""
    parsed = urllib.parse.urlparse(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=timeout)
    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    connection.request("POST", path, body=json.dumps(body), headers=headers)
    return connection, connection.getresponse()


def post_json(url: str, path: str, body: dict, api_key: str | None, timeout: float = 600):
    """POSTs `body` and returns (status, parsed JSON body)."""
    connection, response = open_stream(url, path, body, api_key, timeout)
    try:
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def read_events(response):
    """Yields ('data', payload) and ('comment', text) in arrival order, checking the framing."""
    buffer = b""
    while True:
        chunk = response.read1(65536) if hasattr(response, "read1") else response.read(1)
        if not chunk:
            break
        buffer += chunk
        while b"\n\n" in buffer:
            block, buffer = buffer.split(b"\n\n", 1)
            for line in block.decode().split("\n"):
                if line.startswith(":"):
                    yield "comment", line[1:].strip()
                elif line.startswith("data: "):
                    yield "data", line[6:]
                else:
                    raise AssertionError(f"malformed SSE line: {line!r}")
    assert buffer == b"", f"stream ended inside an event: {buffer!r}"


def collect(response):
    """All JSON events, whether [DONE] came last, and the number of comments."""
    events, done, comments = [], False, 0
    for kind, payload in read_events(response):
        if kind == "comment":
            comments += 1
            continue
        assert not done, "event after [DONE]"
        if payload == "[DONE]":
            done = True
        else:
            events.append(json.loads(payload))
    return events, done, comments


def check_chat_invariants(events, choice_count=1, include_usage=False):
    """llama.cpp's streaming invariants; returns the text of each choice."""
    assert events, "no events"
    first = events[0]
    texts = [""] * choice_count
    role_seen = [False] * choice_count
    finished = [False] * choice_count
    for position, event in enumerate(events):
        assert event["id"] == first["id"] and event["created"] == first["created"] and event["model"] == first["model"]
        assert event["object"] == "chat.completion.chunk"
        choices = event["choices"]
        if not choices:
            if event.get("usage"):
                assert include_usage and position == len(events) - 1, "usage chunk must be last"
            continue
        assert len(choices) == 1
        choice = choices[0]
        index = choice["index"]
        assert not finished[index], "chunk after finish_reason"
        delta = choice["delta"]
        if not role_seen[index]:
            assert delta == {"role": "assistant", "content": None}, f"first chunk must carry the role: {delta}"
            role_seen[index] = True
            continue
        assert "role" not in delta, "role repeated"
        if choice["finish_reason"] is not None:
            assert choice["finish_reason"] in ("stop", "length")
            assert delta == {}
            finished[index] = True
        else:
            assert delta.get("content"), "empty content delta"
            texts[index] += delta["content"]
    assert all(finished), "every choice must finish"
    if include_usage:
        assert events[-1]["choices"] == [] and events[-1]["usage"]["total_tokens"] > 0
    return texts


def check_tool_call_stream(events):
    """The invariants of a streamed answer with tool calls (one choice): the role chunk first;
    content deltas never empty and never carrying `<tool_call>` markup; per call an `index`, its
    first delta with `id`, `type: "function"`, a non-empty `function.name` and `arguments: ""`,
    later deltas only appending `function.arguments`; one final chunk with an empty delta.
    Returns (content or None, [{"id", "name", "arguments"}], finish_reason)."""
    assert events and events[0]["choices"][0]["delta"] == {"role": "assistant", "content": None}
    content, calls, finish_reason = None, [], None
    for event in events[1:]:
        assert event["id"] == events[0]["id"] and event["object"] == "chat.completion.chunk"
        if not event["choices"]:
            continue
        assert finish_reason is None, "chunk after finish_reason"
        choice = event["choices"][0]
        delta = choice["delta"]
        assert "role" not in delta, "role repeated"
        if choice["finish_reason"] is not None:
            assert delta == {}
            finish_reason = choice["finish_reason"]
            continue
        if delta.get("content") is not None:
            text = delta["content"]
            assert text and "<tool_call>" not in text and "</tool_call>" not in text, f"bad content delta {text!r}"
            content = (content or "") + text
        for call in delta.get("tool_calls") or []:
            index = call["index"]
            if index == len(calls):
                assert set(call) == {"index", "id", "type", "function"}, call
                assert call["type"] == "function" and call["id"].startswith("call_")
                assert call["function"]["name"] and call["function"]["arguments"] == ""
                calls.append({"id": call["id"], "name": call["function"]["name"], "arguments": ""})
            else:
                assert index == len(calls) - 1, "a delta for an earlier call"
                assert set(call) == {"index", "function"} and set(call["function"]) == {"arguments"}, call
                calls[index]["arguments"] += call["function"]["arguments"]
    assert finish_reason is not None, "no finish_reason"
    return content, calls, finish_reason
