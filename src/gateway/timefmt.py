"""The one timestamp format of the database: UTC 'YYYY-MM-DD HH:MM:SS.SSS' (sorts as text)."""

from __future__ import annotations

import time


def utc_text(epoch_seconds: float) -> str:
    whole, millis = divmod(int(round(epoch_seconds * 1000)), 1000)
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(whole)) + f".{millis:03d}"
