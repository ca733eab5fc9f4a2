"""Structured outputs through the official `openai` client: `response_format` json_schema and
json_object, the `grammar` extension, streamed and not, validated with `jsonschema`.

Every schema below bounds its strings and arrays so a complete answer fits in MAX_TOKENS: a
test then requires finish_reason "stop" and a valid document, never an excuse.

Seeds: ENTROPYINFER_E2E_SCHEMA_SEEDS (default 1) per schema, each run non-streamed and streamed
with the same seed (the two must be identical). The issue's bar (20 schemas x 5 seeds on
Qwen2.5-Coder-0.5B):

    ENTROPYINFER_E2E_MODEL=qwen2.5-coder-0.5b-instruct ENTROPYINFER_E2E_SCHEMA_SEEDS=5 \
        .build/e2e-venv/bin/python -m pytest Tests/EndToEnd/test_structured_outputs.py
"""
import json
import os

import jsonschema
import openai
import pytest

SEEDS = range(int(os.environ.get("ENTROPYINFER_E2E_SCHEMA_SEEDS", "1")))
MAX_TOKENS = 400

NAME = {"type": "string", "minLength": 1, "maxLength": 20}

SCHEMAS = {
    "person": {"type": "object", "properties": {"name": NAME, "age": {"type": "integer", "minimum": 0, "maximum": 120}},
               "required": ["name", "age"], "additionalProperties": False},
    "optional_fields": {"type": "object", "properties": {"title": NAME, "year": {"type": "integer", "minimum": 1900, "maximum": 2030},
                                                         "rating": {"type": "number", "minimum": 0, "maximum": 10}},
                        "required": ["title"]},
    "enum_color": {"type": "object", "properties": {"color": {"enum": ["red", "green", "blue"]}}, "required": ["color"]},
    "const_version": {"type": "object", "properties": {"version": {"const": 2}, "label": NAME}, "required": ["version", "label"]},
    "bounded_array": {"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string", "maxLength": 12},
                                                                "minItems": 1, "maxItems": 4}}, "required": ["tags"]},
    "integer_list": {"type": "array", "items": {"type": "integer", "minimum": -50, "maximum": 50}, "minItems": 2, "maxItems": 6},
    "nested_object": {"type": "object", "properties": {"address": {"type": "object", "properties": {"city": NAME, "zip": {"type": "string", "minLength": 5, "maxLength": 5}},
                                                                   "required": ["city", "zip"], "additionalProperties": False}},
                      "required": ["address"]},
    "nullable": {"type": "object", "properties": {"nickname": {"type": ["string", "null"], "maxLength": 10}, "score": {"type": ["number", "null"], "minimum": -5, "maximum": 5}},
                 "required": ["nickname", "score"]},
    "any_of": {"type": "object", "properties": {"value": {"anyOf": [{"type": "integer", "minimum": 0, "maximum": 9}, {"type": "boolean"}]}}, "required": ["value"]},
    "one_of": {"type": "object", "properties": {"shape": {"oneOf": [
        {"type": "object", "properties": {"kind": {"const": "circle"}, "radius": {"type": "integer", "minimum": 1, "maximum": 99}}, "required": ["kind", "radius"], "additionalProperties": False},
        {"type": "object", "properties": {"kind": {"const": "square"}, "side": {"type": "integer", "minimum": 1, "maximum": 99}}, "required": ["kind", "side"], "additionalProperties": False}]}},
        "required": ["shape"]},
    "refs": {"$defs": {"point": {"type": "object", "properties": {"x": {"type": "integer", "minimum": -9, "maximum": 9}, "y": {"type": "integer", "minimum": -9, "maximum": 9}},
                                 "required": ["x", "y"], "additionalProperties": False}},
             "type": "object", "properties": {"start": {"$ref": "#/$defs/point"}, "end": {"$ref": "#/$defs/point"}}, "required": ["start", "end"]},
    "recursive_list": {"$defs": {"node": {"type": "object", "properties": {"v": {"type": "integer", "minimum": 0, "maximum": 9},
                                                                           "next": {"anyOf": [{"$ref": "#/$defs/node"}, {"type": "null"}]}},
                                          "required": ["v", "next"], "additionalProperties": False}},
                       "$ref": "#/$defs/node"},
    "date_format": {"type": "object", "properties": {"day": {"type": "string", "format": "date"}}, "required": ["day"]},
    "uuid_format": {"type": "object", "properties": {"id": {"type": "string", "format": "uuid"}}, "required": ["id"]},
    "email_format": {"type": "object", "properties": {"email": {"type": "string", "format": "email"}}, "required": ["email"]},
    "date_time_format": {"type": "object", "properties": {"at": {"type": "string", "format": "date-time"}}, "required": ["at"]},
    "exclusive_bounds": {"type": "object", "properties": {"percent": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 100},
                                                          "ratio": {"type": "number", "exclusiveMinimum": -1, "maximum": 1}},
                         "required": ["percent", "ratio"]},
    "additional_typed": {"type": "object", "properties": {"id": {"type": "integer", "minimum": 1, "maximum": 999},
                                                          "flags": {"type": "array", "items": {"type": "boolean"}, "maxItems": 3}},
                         "required": ["id"], "additionalProperties": {"type": "boolean"}},
    "booleans": {"type": "object", "properties": {"done": {"type": "boolean"}, "verified": {"type": "boolean"}, "note": {"type": "null"}},
                 "required": ["done", "verified", "note"], "additionalProperties": False},
    "array_of_objects": {"type": "array", "items": {"type": "object", "properties": {"sku": {"type": "string", "maxLength": 8}, "qty": {"type": "integer", "minimum": 1, "maximum": 20}},
                                                    "required": ["sku", "qty"], "additionalProperties": False},
                         "minItems": 1, "maxItems": 3},
    "top_level_enum": {"enum": ["yes", "no", "maybe", 42, None]},
}
# Schemas whose valid outputs have no length bound (recursion): a length cut is allowed there.
UNBOUNDED = {"recursive_list"}


def error_object(exception):
    body = exception.body
    return body.get("error", body) if isinstance(body, dict) else {}


def messages(name, schema):
    return [{"role": "user", "content": f"Answer with JSON only, a '{name}' example valid under this JSON Schema: {json.dumps(schema)}"}]


def validate(schema, text):
    document = json.loads(text)
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER).validate(document)
    return document


def response_format(name, schema):
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}


def streamed(client, **kwargs):
    text, finish = "", None
    for chunk in client.chat.completions.create(stream=True, **kwargs):
        for choice in chunk.choices:
            text += choice.delta.content or ""
            finish = choice.finish_reason or finish
    return text, finish


@pytest.mark.real_model
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_json_schema_outputs_validate_streamed_and_not(client, model_name, name, seed):
    schema = SCHEMAS[name]
    arguments = dict(model=model_name, messages=messages(name, schema), response_format=response_format(name, schema),
                     seed=seed, temperature=1.0, max_tokens=MAX_TOKENS)
    response = client.chat.completions.create(**arguments)
    choice = response.choices[0]
    text, finish = streamed(client, **arguments)
    assert (text, finish) == (choice.message.content, choice.finish_reason), "streamed and non-streamed outputs differ for the same seed"
    if name in UNBOUNDED and choice.finish_reason == "length":
        # Recursion has no depth bound a grammar could impose; a model that keeps nesting is cut
        # by max_tokens, and the output is a prefix (checked by the Swift grammar tests).
        assert response.usage.completion_tokens == MAX_TOKENS
        return
    assert choice.finish_reason == "stop", (choice.finish_reason, choice.message.content)
    validate(schema, choice.message.content)


@pytest.mark.real_model
def test_json_object_mode_gives_objects(client, model_name):
    for seed in range(3):
        response = client.chat.completions.create(
            model=model_name, seed=seed, max_tokens=MAX_TOKENS, response_format={"type": "json_object"},
            messages=[{"role": "user", "content": "Give a JSON object with a 'city' (at most 3 words) and its 'country'."}])
        choice = response.choices[0]
        if choice.finish_reason == "stop":
            assert isinstance(json.loads(choice.message.content), dict), choice.message.content
        else:
            assert choice.finish_reason == "length"
            assert choice.message.content.startswith("{")


@pytest.mark.real_model
def test_length_cut_is_reported(client, model_name):
    schema = SCHEMAS["person"]
    response = client.chat.completions.create(model=model_name, messages=messages("person", schema), seed=1, max_tokens=3,
                                              response_format=response_format("person", schema))
    choice = response.choices[0]
    assert choice.finish_reason == "length"
    assert choice.message.content.startswith("{")
    assert response.usage.completion_tokens == 3


@pytest.mark.real_model
def test_grammar_extension_on_both_endpoints(client, model_name):
    grammar = 'root ::= ("yes" | "no") "." | "maybe"'
    completion = client.completions.create(model=model_name, prompt="Is the sky blue? Answer:", max_tokens=8, seed=3,
                                           extra_body={"grammar": grammar})
    assert completion.choices[0].text in ("yes.", "no.", "maybe")
    assert completion.choices[0].finish_reason == "stop"
    chat = client.chat.completions.create(model=model_name, max_tokens=8, seed=3, extra_body={"grammar": grammar},
                                          messages=[{"role": "user", "content": "Is the sky blue?"}])
    assert chat.choices[0].message.content in ("yes.", "no.", "maybe")


@pytest.mark.parametrize("format_, param, fragment", [
    (response_format("x", {"type": "string", "pattern": "^a"}), "response_format.json_schema.schema", "'pattern'"),
    (response_format("x", {"type": "object", "properties": {"n": {"type": "integer", "multipleOf": 3}}}), "response_format.json_schema.schema", "properties.n"),
    ({"type": "json_schema", "json_schema": {"schema": {}}}, "response_format.json_schema.name", "name"),
    ({"type": "yaml"}, "response_format.type", "json_schema"),
])
def test_bad_formats_are_400_with_the_envelope(client, model_name, format_, param, fragment):
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model=model_name, messages=[{"role": "user", "content": "x"}], response_format=format_)
    error = error_object(raised.value)
    assert raised.value.status_code == 400
    assert error["param"] == param and fragment in error["message"], error


def test_bad_grammar_is_400_naming_the_rule(client, model_name):
    with pytest.raises(openai.BadRequestError) as raised:
        client.completions.create(model=model_name, prompt="x", extra_body={"grammar": "root ::= answer"})
    error = error_object(raised.value)
    assert error["param"] == "grammar" and "undefined rule 'answer'" in error["message"], error
