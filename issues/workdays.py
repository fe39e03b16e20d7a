"""Working days on the official Chinese calendar, with make-up working days (调休).

The State Council publishes each year's holiday schedule late in the previous year; the
`chinesecalendar` package carries the years it knew when it was released. For a later
year we fall back to Monday-Friday, log it once, and `is_official(year)` lets pages say so.
"""

import logging
from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar

log = logging.getLogger(__name__)


@lru_cache(maxsize=64)
def is_official(year: int) -> bool:
    """True when the calendar library knows this year's holiday schedule."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        log.warning(
            "No official holiday schedule for %s is known: counting Monday-Friday as working days.",
            year,
        )
        return False
    return True


@lru_cache(maxsize=4096)
def is_workday(day: date) -> bool:
    if is_official(day.year):
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5


def add_workdays(day: date, n: int) -> date:
    """The n-th working day after `day` (n < 0: before it). n = 0 gives `day` itself."""
    step = 1 if n >= 0 else -1
    remaining = abs(n)
    while remaining:
        day += timedelta(days=step)
        if is_workday(day):
            remaining -= 1
    return day


def workdays_between(start: date, end: date) -> int:
    """Working days in (start, end]: how many working days after `start` `end` is."""
    if end <= start:
        return -workdays_between(end, start) if end < start else 0
    return sum(1 for i in range(1, (end - start).days + 1) if is_workday(start + timedelta(days=i)))
