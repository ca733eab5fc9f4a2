"""Tool calling through the official `openai` client: a whole conversation (call → tool result →
answer), streamed and not, streamed == non-streamed, and a 400 with the OpenAI envelope for every
invalid tool request.

Against the real model (SmolLM2-135M, which rarely calls tools on its own) the calls are forced
with `tool_choice` "required" or a named function, which the grammar engine constrains to the
function's schema; with "auto" only the shape is checked. Against the fake engine
(ENTROPYINFER_E2E_FAKE=1) the engine calls the first tool whenever tools are offered.
"""
import json

import openai
import pytest

import sse
from conftest import MODEL

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1, "maximum": 7}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}
TIME = {
    "type": "function",
    "function": {"name": "get_time", "description": "The local time in a city.",
                 "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}},
}
QUESTION = [{"role": "system", "content": "You are a weather assistant. Use the tools."},
            {"role": "user", "content": "What is the weather in Paris?"}]


def check_weather_arguments(text: str) -> dict:
    arguments = json.loads(text)
    assert isinstance(arguments, dict) and isinstance(arguments["city"], str)
    assert set(arguments) <= {"city", "days"}
    if "days" in arguments:
        assert isinstance(arguments["days"], int) and 1 <= arguments["days"] <= 7
    return arguments


def streamed(server, body):
    connection, response = sse.open_stream(server.url, "/v1/chat/completions", {**body, "stream": True}, server.api_key)
    assert response.status == 200
    events, done, _ = sse.collect(response)
    connection.close()
    assert done
    return sse.check_tool_call_stream(events)


@pytest.mark.parametrize("tool_choice", ["required", {"type": "function", "function": {"name": "get_weather"}}])
def test_a_tool_conversation_with_the_openai_client(client, model_name, tool_choice):
    first = client.chat.completions.create(model=model_name, messages=QUESTION, tools=[WEATHER, TIME],
                                           tool_choice=tool_choice, max_tokens=128, temperature=0)
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls
    assert calls and all(call.type == "function" and call.id.startswith("call_") for call in calls)
    if isinstance(tool_choice, dict):
        assert {call.function.name for call in calls} == {"get_weather"}
    for call in calls:
        assert call.function.name in ("get_weather", "get_time")
        arguments = json.loads(call.function.arguments)
        if call.function.name == "get_weather":
            check_weather_arguments(call.function.arguments)
        else:
            assert isinstance(arguments["city"], str)

    # The assistant turn goes back as the client library gives it, then one result per call.
    history = QUESTION + [choice.message.model_dump(exclude_none=True)]
    history += [{"role": "tool", "tool_call_id": call.id, "content": json.dumps({"temperature_c": 18, "sky": "clear"})}
                for call in calls]
    final = client.chat.completions.create(model=model_name, messages=history, tools=[WEATHER, TIME], tool_choice="none",
                                           max_tokens=32, temperature=0)
    assert final.choices[0].message.tool_calls is None
    assert isinstance(final.choices[0].message.content, str) and final.choices[0].message.content
    assert final.choices[0].finish_reason in ("stop", "length")

    # The same conversation streamed through the client.
    stream = client.chat.completions.create(model=model_name, messages=QUESTION, tools=[WEATHER, TIME],
                                            tool_choice=tool_choice, max_tokens=128, temperature=0, stream=True)
    chunks = list(stream)
    names, arguments = {}, {}
    for chunk in chunks:
        for call in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            if call.id:
                names[call.index] = call.function.name
                arguments[call.index] = call.function.arguments or ""
            else:
                arguments[call.index] += call.function.arguments or ""
    assert [names[i] for i in sorted(names)] == [call.function.name for call in calls]
    assert [arguments[i] for i in sorted(arguments)] == [call.function.arguments for call in calls]
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


@pytest.mark.parametrize("seed", [1, 2])
def test_streamed_tool_calls_equal_non_streamed_for_a_seed(client, server, model_name, seed):
    body = {"model": model_name, "messages": QUESTION, "tools": [WEATHER, TIME], "tool_choice": "required",
            "max_tokens": 128, "temperature": 0.8, "seed": seed}
    whole = client.chat.completions.create(**body)
    content, calls, finish_reason = streamed(server, body)
    message = whole.choices[0].message
    assert finish_reason == whole.choices[0].finish_reason
    assert content == message.content
    assert [(call["name"], call["arguments"]) for call in calls] == \
           [(call.function.name, call.function.arguments) for call in message.tool_calls]


def test_auto_tool_choice_answers_in_a_valid_shape(client, server, model_name):
    body = {"model": model_name, "messages": QUESTION, "tools": [WEATHER], "max_tokens": 128, "temperature": 0}
    completion = client.chat.completions.create(**body)
    choice = completion.choices[0]
    if choice.message.tool_calls:
        assert choice.finish_reason in ("tool_calls", "length")
        for call in choice.message.tool_calls:
            assert call.type == "function" and call.id.startswith("call_") and call.function.name
            assert isinstance(call.function.arguments, str)
    else:
        assert isinstance(choice.message.content, str)
        assert choice.finish_reason in ("stop", "length")
    content, calls, finish_reason = streamed(server, body)
    assert finish_reason == choice.finish_reason
    assert content == choice.message.content
    assert [call["name"] for call in calls] == [call.function.name for call in choice.message.tool_calls or []]


def test_parallel_tool_calls_false_gives_at_most_one_call(client, model_name):
    completion = client.chat.completions.create(model=model_name, messages=QUESTION, tools=[WEATHER, TIME],
                                                tool_choice="required", parallel_tool_calls=False, max_tokens=128,
                                                temperature=0)
    assert len(completion.choices[0].message.tool_calls) == 1


INVALID = [
    ({"tools": [{"type": "function", "function": {"name": "bad name!"}}]}, "tools[0].function.name"),
    ({"tools": [WEATHER, WEATHER]}, "tools[1].function.name"),
    ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "array"}}}]}, "tools[0].function.parameters.type"),
    ({"tools": [{"type": "code_interpreter"}]}, "tools[0].type"),
    ({"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "get_time"}}}, "tool_choice.function.name"),
    ({"tools": [WEATHER], "tool_choice": "sometimes"}, "tool_choice"),
    ({"tool_choice": "required"}, "tool_choice"),
    ({"tools": [WEATHER], "messages": QUESTION + [{"role": "tool", "tool_call_id": "call_nope", "content": "18"}]},
     "messages[2].tool_call_id"),
    ({"tools": [WEATHER], "messages": QUESTION + [{"role": "tool", "tool_call_id": None, "content": "18"}]},
     "messages[2].tool_call_id"),
    ({"tools": [WEATHER], "messages": QUESTION + [
        {"role": "assistant", "content": None,
         "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{not json"}}]}]},
     "messages[2].tool_calls[0].function.arguments"),
]


@pytest.mark.parametrize("extra,param", INVALID)
@pytest.mark.parametrize("stream", [False, True])
def test_invalid_tool_requests_get_a_400_envelope(http, model_name, extra, param, stream):
    body = {"model": model_name, "messages": QUESTION, "stream": stream, **extra}
    status, headers, payload = http("POST", "/v1/chat/completions", body)
    assert status == 400, payload
    assert set(payload) == {"error"}
    error = payload["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param and error["message"], error


def test_the_client_raises_bad_request_for_an_unknown_tool_choice(client, model_name):
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model=model_name, messages=QUESTION, tools=[WEATHER],
                                       tool_choice={"type": "function", "function": {"name": "launch_rockets"}})
    assert raised.value.status_code == 400 and raised.value.param == "tool_choice.function.name"


# --- Qwen2.5-Coder-0.5B (its own command, not in `make test`: `make test-tools-qwen`) -------------

QWEN = "qwen" in MODEL.lower()

QWEN_TOOL_SETS = [
    [WEATHER, TIME],
    [{"type": "function", "function": {
        "name": "create_event", "description": "Add an event to the calendar.",
        "parameters": {"type": "object", "properties": {
            "title": {"type": "string", "minLength": 1, "maxLength": 60},
            "date": {"type": "string", "format": "date"},
            "attendees": {"type": "array", "items": {"type": "string"}, "maxItems": 5},
            "priority": {"type": "string", "enum": ["low", "normal", "high"]},
            "reminder_minutes": {"type": ["integer", "null"], "minimum": 0, "maximum": 1440}},
            "required": ["title", "date", "priority"], "additionalProperties": False}}}],
    [{"type": "function", "function": {
        "name": "search_code", "description": "Search a repository.",
        "parameters": {"type": "object", "properties": {
            "query": {"type": "string"},
            "filters": {"type": "object", "properties": {"language": {"type": "string", "enum": ["swift", "c", "python"]},
                                                         "max_results": {"type": "integer", "minimum": 1, "maximum": 50}},
                        "required": ["language"], "additionalProperties": False},
            "exact": {"type": "boolean"}},
            "required": ["query", "filters"], "additionalProperties": False}}},
     {"type": "function", "function": {"name": "run_tests", "parameters": {"type": "object", "properties": {
         "suite": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]}},
         "required": ["suite"], "additionalProperties": False}}}],
]
QWEN_PROMPTS = ["What's the weather in Lisbon for the next 3 days?",
                "Plan a high-priority review meeting with Ana and Bo on 2025-03-14.",
                "Find Swift code that parses GGUF headers, then run the parser tests."]


@pytest.mark.real_model
@pytest.mark.skipif(not QWEN, reason="Qwen2.5-Coder-0.5B only (ENTROPYINFER_E2E_MODEL=qwen2.5-coder-0.5b-instruct)")
@pytest.mark.parametrize("tool_set", range(len(QWEN_TOOL_SETS)))
@pytest.mark.parametrize("stream", [False, True])
def test_qwen_required_tool_calls_always_parse_and_validate(client, server, model_name, tool_set, stream):
    import jsonschema

    tools = QWEN_TOOL_SETS[tool_set]
    schemas = {tool["function"]["name"]: tool["function"]["parameters"] for tool in tools}
    for seed in range(5):
        body = {"model": model_name, "messages": [{"role": "user", "content": QWEN_PROMPTS[tool_set]}], "tools": tools,
                "tool_choice": "required", "max_tokens": 256, "temperature": 0.9, "seed": seed}
        if stream:
            _, calls, finish_reason = streamed(server, body)
        else:
            choice = client.chat.completions.create(**body).choices[0]
            finish_reason = choice.finish_reason
            calls = [{"name": call.function.name, "arguments": call.function.arguments} for call in choice.message.tool_calls or []]
        assert finish_reason == "tool_calls", (seed, finish_reason, calls)
        assert calls
        for call in calls:
            jsonschema.validate(json.loads(call["arguments"]), schemas[call["name"]],
                                format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


@pytest.mark.real_model
@pytest.mark.skipif(not QWEN, reason="Qwen2.5-Coder-0.5B only (ENTROPYINFER_E2E_MODEL=qwen2.5-coder-0.5b-instruct)")
def test_qwen_auto_tool_choice_is_parsed_the_same_streamed_or_not(client, server, model_name):
    """Qwen2.5's template renders the tools; whatever the model answers with `auto` (at
    temperature 0 this 0.5B coder model tends to write the call as a ```json block rather than in
    <tool_call> tags, which stays content) has the same content and calls streamed or not, and
    any call it does make is valid JSON."""
    for prompt in QWEN_PROMPTS:
        body = {"model": model_name, "messages": [{"role": "user", "content": prompt}], "tools": QWEN_TOOL_SETS[0] + QWEN_TOOL_SETS[2],
                "max_tokens": 128, "temperature": 0}
        choice = client.chat.completions.create(**body).choices[0]
        for call in choice.message.tool_calls or []:
            assert isinstance(json.loads(call.function.arguments), dict)
        assert choice.finish_reason == ("tool_calls" if choice.message.tool_calls else "stop")
        content, calls, finish_reason = streamed(server, body)
        assert (content, finish_reason) == (choice.message.content, choice.finish_reason)
        assert [(c["name"], c["arguments"]) for c in calls] == \
               [(c.function.name, c.function.arguments) for c in choice.message.tool_calls or []]
