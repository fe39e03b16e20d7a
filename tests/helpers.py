"""Small helpers shared by tests (fixtures live in conftest.py)."""

from contextlib import contextmanager
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from issues.clock import replaying


@contextmanager
def travel(day: date, hour: int = 10):
    """Run the workflow as on `day` (Asia/Shanghai): what it writes carries that date. Each
    call of the clock inside is a second later, so events keep their order."""
    start = timezone.make_aware(datetime.combine(day, time(hour)))
    ticks = iter(range(100_000))
    with replaying(lambda: start + timedelta(seconds=next(ticks))):
        yield
