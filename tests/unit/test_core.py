"""The core's own helpers."""

from __future__ import annotations

from gateway.core import new_request_id


def test_request_ids_are_unique_and_sort_by_time():
    earlier = [new_request_id(1_700_000_000.000) for _ in range(100)]
    later = new_request_id(1_700_000_000.001)
    assert len(set(earlier)) == 100
    assert all(request_id < later for request_id in earlier)
    assert all(request_id.startswith("req_") and len(request_id) == 4 + 12 + 20 for request_id in earlier)
