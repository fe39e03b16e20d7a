"""The workflow's clock: the real time, unless a block replays a recorded past.

Only the demo seed replays one (`replaying`): it writes its story through the real
workflow at the story's dates, so that overdue issues are overdue honestly (a deadline
cannot be set in the past). A context variable, so nothing global is patched and the real
clock is back when the block ends, even on error.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime

from django.utils import timezone

_replayed: ContextVar[Callable[[], datetime] | None] = ContextVar("replayed_clock", default=None)


def now() -> datetime:
    source = _replayed.get()
    return source() if source else timezone.now()


def today() -> date:
    return timezone.localdate(now())


@contextmanager
def replaying(source: Callable[[], datetime]) -> Iterator[None]:
    """Inside the block, `now()` is `source()`."""
    token = _replayed.set(source)
    try:
        yield
    finally:
        _replayed.reset(token)
