"""Attribution tags, the pure part (pipeline/tags.py; docs/cost.md "Tags"): the header's format, the merge
with the body's metadata, OpenAI's metadata limits applied to the result, and which parameter a 400 names."""

from __future__ import annotations

import pytest

from gateway.pipeline import tags
from gateway.pipeline.tags import InvalidTags

H = tags.HEADER


@pytest.mark.parametrize("raw, want", [
    (None, {}),
    ("   ", {}),
    ("app=checkout", {"app": "checkout"}),
    (" app = checkout , feature=summary,end_user=u_42 ", {"app": "checkout", "feature": "summary", "end_user": "u_42"}),
    ("a=1,,b=2,", {"a": "1", "b": "2"}),                      # empty items are separators
    ("note=a%2Cb%20c, k=%E2%9C%93", {"note": "a,b c", "k": "✓"}),  # percent-decoded, UTF-8
    ("empty=", {"empty": ""}),
    ("url=https://x.test/?q=1", {"url": "https://x.test/?q=1"}),   # only the first '=' splits
    ("v1.2:x-y_z=ok", {"v1.2:x-y_z": "ok"}),
])
def test_header_format(raw, want):
    assert tags.request_tags({H: raw} if raw is not None else {}) == want


def test_the_header_wins_over_metadata_on_the_same_key():
    merged = tags.request_tags({H: "end_user=header"}, {"end_user": "body", "feature": "f"})
    assert merged == {"end_user": "header", "feature": "f"}


def test_anthropic_user_id_is_the_end_user_tag():
    assert tags.from_anthropic_metadata({"user_id": "u_7"}) == {"end_user": "u_7"}
    assert tags.from_anthropic_metadata({"user_id": ""}) == {}
    assert tags.from_anthropic_metadata(None) == {}


@pytest.mark.parametrize("headers, body, param", [
    ({H: "novalue"}, None, H),
    ({H: "a=1, a=2"}, None, H),
    ({H: "bad key=1"}, None, H),
    ({H: "k" * 65 + "=1"}, None, H),
    ({H: "k=" + "v" * 513}, None, H),
    ({H: ",".join(f"k{i}=v" for i in range(17))}, None, H),
    ({H: "k=%C3"}, None, H),                                          # not UTF-8 once decoded
    ({}, {"bad key": "v"}, "metadata"),
    ({}, {f"k{i}": "v" for i in range(17)}, "metadata"),
    ({H: ",".join(f"h{i}=v" for i in range(10))}, {f"b{i}": "v" for i in range(7)}, "metadata"),  # 17 merged
])
def test_refusals_name_where_the_problem_is(headers, body, param):
    with pytest.raises(InvalidTags) as raised:
        tags.request_tags(headers, body)
    assert (raised.value.status, raised.value.param) == (400, param)


def test_limits_are_inclusive():
    sixteen = {f"k{i}": "v" * 512 for i in range(15)} | {"k" * 64: ""}
    assert tags.request_tags({}, sixteen) == sixteen


@pytest.mark.parametrize("metadata", [["a"], "a=b", {"k": 1}, {"k": None}])
def test_openai_metadata_must_be_a_map_of_strings(metadata):
    with pytest.raises(InvalidTags) as raised:
        tags.from_openai_metadata(metadata)
    assert raised.value.param == "metadata"
