"""UTC days and months: the windows of request limits, budgets and the neuron budget."""

from __future__ import annotations

import calendar
import time

DAY_SECONDS = 86_400


def utc_day(now: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(now))


def utc_month(now: float) -> str:
    return time.strftime("%Y-%m", time.gmtime(now))


def seconds_to_next_day(now: float) -> int:
    """Whole seconds until the next 00:00 UTC (at least 1, so a Retry-After is never 0)."""
    return max(DAY_SECONDS - int(now) % DAY_SECONDS, 1)


def seconds_to_next_month(now: float) -> int:
    tm = time.gmtime(now)
    year, month = (tm.tm_year + 1, 1) if tm.tm_mon == 12 else (tm.tm_year, tm.tm_mon + 1)
    return max(calendar.timegm((year, month, 1, 0, 0, 0)) - int(now), 1)
