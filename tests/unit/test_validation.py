"""Request bodies at the API boundary: JSON parsing and the chat schema, failing as OpenAI does."""

from __future__ import annotations

import pytest

from gateway.api.schemas import ChatCompletionRequest
from gateway.api.validation import field_path, max_cost, parse_json_object, validate
from gateway.errors import InvalidRequestError, PayloadTooLargeError

USER = {"role": "user", "content": "Hi"}


def ok(**fields) -> dict:
    return {"model": "openai/gpt-4o-mini", "messages": [USER], **fields}


def invalid(body: dict) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as raised:
        validate(ChatCompletionRequest, body)
    assert raised.value.status == 400
    return raised.value


# --- parse_json_object ---------------------------------------------------------------------------

def test_json_object_is_parsed():
    assert parse_json_object(b'{"model": "m", "n": 1}', 1000) == {"model": "m", "n": 1}


@pytest.mark.parametrize("raw", [b"", b"   \n", b"{not json", b'{"a": 1', b"\xff\xfe{}", b"[1, 2]", b'"text"', b"null"])
def test_bodies_that_are_not_a_json_object_are_invalid_json(raw):
    with pytest.raises(InvalidRequestError) as raised:
        parse_json_object(raw, 1000)
    assert raised.value.status == 400
    assert raised.value.code == "invalid_json"


def test_too_large_body_is_413_before_parsing():
    raw = b'{"model": "' + b"x" * 100 + b'"}'
    with pytest.raises(PayloadTooLargeError) as raised:
        parse_json_object(raw, len(raw) - 1)
    assert raised.value.status == 413
    assert parse_json_object(raw, len(raw))["model"] == "x" * 100


# --- the chat schema -----------------------------------------------------------------------------

def test_valid_request_keeps_unknown_fields():
    body = ok(temperature=0.5, stream=True, stream_options={"include_usage": True, "future": 1},
              reasoning_effort="low", vendor_extension={"x": [1, 2]})
    request = validate(ChatCompletionRequest, body)
    dumped = request.model_dump(exclude_unset=True)
    assert dumped["reasoning_effort"] == "low"
    assert dumped["vendor_extension"] == {"x": [1, 2]}
    assert dumped["stream_options"] == {"include_usage": True, "future": 1}


def test_multimodal_content_and_tool_messages_are_accepted():
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                     {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]},
        {"role": "assistant", "content": None,
         "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "t1", "content": "42"},
    ]
    assert len(validate(ChatCompletionRequest, ok(messages=messages)).messages) == 4


def test_integer_temperature_is_accepted():
    assert validate(ChatCompletionRequest, ok(temperature=1)).temperature == 1


def test_missing_model():
    error = invalid({"messages": [USER]})
    assert (error.param, error.code) == ("model", "missing_required_parameter")
    assert error.message == "Missing required parameter: 'model'."


def test_missing_messages():
    error = invalid({"model": "m"})
    assert (error.param, error.code) == ("messages", "missing_required_parameter")


def test_missing_role_names_the_message():
    error = invalid(ok(messages=[USER, {"content": "no role"}]))
    assert (error.param, error.code) == ("messages[1].role", "missing_required_parameter")


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (ok(messages=[{"role": "robot", "content": "x"}]), "messages[0].role"),
        (ok(messages=[USER, {"role": "user", "content": 5}]), "messages[1].content"),
        (ok(messages=[]), "messages"),
        (ok(messages="Hi"), "messages"),
        ({"model": 5, "messages": [USER]}, "model"),
        ({"model": "", "messages": [USER]}, "model"),
        (ok(temperature="0.5"), "temperature"),
        (ok(temperature=2.01), "temperature"),
        (ok(temperature=-0.1), "temperature"),
        (ok(top_p=1.5), "top_p"),
        (ok(n=0), "n"),
        (ok(max_tokens=0), "max_tokens"),
        (ok(max_tokens=1.5), "max_tokens"),
        (ok(stream="yes"), "stream"),
        (ok(stream_options={"include_usage": "yes"}), "stream_options.include_usage"),
        (ok(stop=[1]), "stop"),
        (ok(presence_penalty=3), "presence_penalty"),
    ],
)
def test_invalid_values_name_the_field(body, param):
    error = invalid(body)
    assert error.param == param
    assert error.code == "invalid_value"
    assert error.message.startswith(f"Invalid value for '{param}': ")


@pytest.mark.parametrize("temperature", [0, 0.0, 2, 2.0])
def test_temperature_range_is_inclusive(temperature):
    assert validate(ChatCompletionRequest, ok(temperature=temperature)).temperature == temperature


def test_field_path_drops_union_branch_labels():
    assert field_path(("messages", 0, "content", "str")) == "messages[0].content"
    assert field_path(("messages", 2, "content", "list[dict[str,any]]", 0)) == "messages[2].content[0]"
    assert field_path(("stop", "list[str]", 3)) == "stop[3]"
    assert field_path(()) == ""


# --- max_cost: the body's field and the x-gateway-max-cost header ---------------------------------

def test_max_cost_from_the_body_is_taken_out_of_it():
    body = ok(max_cost=0.002)
    assert max_cost({}, body) == 0.002
    assert "max_cost" not in body  # never forwarded to a provider
    assert max_cost({}, ok()) is None
    nulled = ok(max_cost=None)
    assert max_cost({}, nulled) is None and "max_cost" not in nulled


def test_max_cost_from_the_header_and_the_lower_of_both():
    assert max_cost({"x-gateway-max-cost": " 0.5 "}) == 0.5
    assert max_cost({"x-gateway-max-cost": ""}) is None
    assert max_cost({"x-gateway-max-cost": "0.5"}, ok(max_cost=0.25)) == 0.25
    assert max_cost({"x-gateway-max-cost": "0.125"}, ok(max_cost=0.25)) == 0.125


@pytest.mark.parametrize("value", ["0.01", -1, True, float("inf"), [1]])
def test_a_bad_max_cost_in_the_body_names_the_field(value):
    with pytest.raises(InvalidRequestError) as raised:
        max_cost({}, ok(max_cost=value))
    assert (raised.value.status, raised.value.param, raised.value.code) == (400, "max_cost", "invalid_value")


def test_a_bad_max_cost_header_names_the_header():
    with pytest.raises(InvalidRequestError) as raised:
        max_cost({"x-gateway-max-cost": "cheap"}, ok(max_cost=1))
    assert raised.value.param == "x-gateway-max-cost"
