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
