"""Working days on the official Chinese calendar, with make-up working days (调休).

The State Council publishes each year's holiday schedule late in the previous year. Three
sources, in order: the days administrators entered from the notice (`OfficialDay`, the
admin's official calendar), then the `chinesecalendar` package (it knows the years it was
released for: up to 2026 in 1.11.0), then Monday-Friday for a year nobody knows yet, which
`is_official(year)` lets pages and logs say.

The entered days are read once a minute per process (a small table), so every app server
follows an administrator's change within a minute; the process that saved it at once.
"""

import logging
import time
from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar
from django.db import DatabaseError

log = logging.getLogger(__name__)
RELOAD_SECONDS = 60

_entered: dict[date, bool] | None = None  # day → is a working day, as administrators entered it
_entered_years: frozenset[int] = frozenset()
_loaded_at = 0.0
_warned: set[int] = set()


def reset() -> None:
    """Forget what was read (after an administrator changed the calendar)."""
    global _entered, _loaded_at
    _entered, _loaded_at = None, 0.0
    is_workday.cache_clear()
    library_knows.cache_clear()


def entered_days() -> dict[date, bool]:
    global _entered, _entered_years, _loaded_at
    if _entered is None or time.monotonic() - _loaded_at > RELOAD_SECONDS:
        from .models import OfficialDay, OfficialDayKind

        try:
            rows = dict(OfficialDay.objects.values_list("day", "kind"))
        except DatabaseError:  # before the table exists (migrations)
            rows = {}
        found = {day: kind == OfficialDayKind.WORKDAY for day, kind in rows.items()}
        if found != _entered:
            is_workday.cache_clear()
        _entered, _entered_years, _loaded_at = found, frozenset(d.year for d in found), time.monotonic()
    return _entered


@lru_cache(maxsize=64)
def library_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def is_official(year: int) -> bool:
    """True when the year's holiday schedule is known (entered, or in the library)."""
    entered_days()
    known = year in _entered_years or library_knows(year)
    if not known and year not in _warned:
        _warned.add(year)
        log.warning("No official holiday schedule for %s is known: counting Monday-Friday.", year)
    return known


@lru_cache(maxsize=8192)
def _is_workday(day: date, entered: bool | None) -> bool:
    if entered is not None:
        return entered
    if library_knows(day.year):
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5


def is_workday(day: date) -> bool:
    return _is_workday(day, entered_days().get(day))


is_workday.cache_clear = _is_workday.cache_clear  # type: ignore[attr-defined]


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


def unknown_years(years) -> list[int]:
    """The years among `years` with no known schedule, sorted."""
    return sorted(year for year in set(years) if not is_official(year))
