"""SseDecoder turns upstream bytes into events however the network cuts them; encode_chunk writes ours."""

from __future__ import annotations

import json

from gateway.sse import DONE, SseDecoder, SseEvent, encode_chunk

STREAM = (
    b": keep-alive\n\n"
    b'data: {"id":"1","choices":[{"delta":{"content":"H\xc3\xa9"}}]}\n\n'
    b"event: ping\ndata: first\ndata: second\n\n"
    b"data: [DONE]\n\n"
)
EXPECTED = [
    SseEvent(data='{"id":"1","choices":[{"delta":{"content":"Hé"}}]}'),
    SseEvent(data="first\nsecond", event="ping"),
    SseEvent(data="[DONE]"),
]


def decode_all(chunks: list[bytes]) -> list[SseEvent]:
    decoder = SseDecoder()
    events = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    return events + decoder.flush()


def test_whole_stream_in_one_read():
    assert decode_all([STREAM]) == EXPECTED


def test_byte_by_byte_reads_give_the_same_events():
    # Splits land inside lines, inside '\n\n' and inside the two-byte 'é'.
    assert decode_all([STREAM[i : i + 1] for i in range(len(STREAM))]) == EXPECTED


def test_events_come_out_as_soon_as_their_blank_line_arrives():
    decoder = SseDecoder()
    assert decoder.feed(b"data: a\n") == []
    assert decoder.feed(b"\ndata: b") == [SseEvent(data="a")]
    assert decoder.feed(b"\n\n") == [SseEvent(data="b")]


def test_crlf_line_endings():
    crlf = STREAM.replace(b"\n", b"\r\n")
    assert decode_all([crlf]) == EXPECTED


def test_crlf_split_between_reads_at_every_position():
    crlf = STREAM.replace(b"\n", b"\r\n")
    for cut in range(1, len(crlf)):
        assert decode_all([crlf[:cut], crlf[cut:]]) == EXPECTED, cut


def test_cr_only_line_endings():
    assert decode_all([STREAM.replace(b"\n", b"\r")]) == EXPECTED


def test_last_event_without_blank_line_is_delivered_by_flush():
    decoder = SseDecoder()
    assert decoder.feed(b"data: a\n\ndata: tail") == [SseEvent(data="a")]
    assert decoder.flush() == [SseEvent(data="tail")]
    assert decoder.flush() == []


def test_flush_after_a_final_crlf_does_not_leave_a_carriage_return_in_the_data():
    decoder = SseDecoder()
    assert decoder.feed(b"data: [DONE]\r") == []
    assert decoder.flush() == [SseEvent(data="[DONE]")]


def test_flush_of_nothing_or_whitespace_gives_no_event():
    assert SseDecoder().flush() == []
    decoder = SseDecoder()
    decoder.feed(b"\n \n")
    assert decoder.flush() == []


def test_comments_and_blocks_without_data_are_not_events():
    assert decode_all([b": comment\n\nevent: ping\n\nid: 7\nretry: 100\n\n"]) == []


def test_field_value_loses_exactly_one_leading_space():
    assert decode_all([b"data:x\n\ndata:  two spaces\n\n"]) == [SseEvent(data="x"), SseEvent(data=" two spaces")]


def test_empty_data_line_is_an_event_with_empty_data():
    assert decode_all([b"data:\n\n"]) == [SseEvent(data="")]


def test_encode_chunk_is_one_compact_data_line_ending_in_a_blank_line():
    encoded = encode_chunk({"id": "c1", "choices": [{"delta": {"content": "hi"}}]})
    assert encoded == b'data: {"id":"c1","choices":[{"delta":{"content":"hi"}}]}\n\n'


def test_encoded_chunks_decode_back_to_the_same_objects():
    chunks = [{"n": 1, "text": "line\nbreak"}, {"n": 2, "text": "ünïcode"}]
    events = decode_all([b"".join(encode_chunk(c) for c in chunks) + DONE])
    assert [json.loads(e.data) for e in events[:-1]] == chunks
    assert events[-1] == SseEvent(data="[DONE]")


def test_an_unchanged_upstream_chunk_is_forwarded_byte_for_byte():
    from gateway.sse import EncodedChunk

    original = '{"id": "c1",  "choices": [], "usage": null}'  # spacing a re-encode would not keep
    chunk = EncodedChunk({"id": "c1", "choices": [], "usage": None}, original)
    assert chunk == {"id": "c1", "choices": [], "usage": None}
    assert encode_chunk(chunk) == b"data: " + original.encode() + b"\n\n"
    assert encode_chunk(dict(chunk)) == b'data: {"id":"c1","choices":[],"usage":null}\n\n'
