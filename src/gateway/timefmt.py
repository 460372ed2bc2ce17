"""The one timestamp format of the database: UTC 'YYYY-MM-DD HH:MM:SS.SSS' (sorts as text)."""

from __future__ import annotations

import time


def utc_text(epoch_seconds: float) -> str:
    whole = int(epoch_seconds)
    millis = int((epoch_seconds - whole) * 1000)
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(whole)) + f".{millis:03d}"
