"""Small helpers shared by tests (fixtures live in conftest.py)."""

from contextlib import contextmanager
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from issues import workflow
from issues.clock import replaying
from issues.models import IssueEvent

from .factories import IssueFactory


@contextmanager
def travel(day: date, hour: int = 10):
    """Run the workflow as on `day` (Asia/Shanghai): what it writes carries that date. Each
    call of the clock inside is a second later, so events keep their order."""
    start = timezone.make_aware(datetime.combine(day, time(hour)))
    ticks = iter(range(100_000))
    with replaying(lambda: start + timedelta(seconds=next(ticks))):
        yield


def login(client, user, language: str = "en"):
    """The test client signed in as `user`. Assertions on the app's own messages use the
    English source strings, so English unless asked; Chinese, the default, is tested apart."""
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


def raise_issue(official, **kwargs):
    """A new issue raised on a visit by `official` (status new)."""
    return IssueFactory(raised_by=official, visit__created_by=official, **kwargs)


def assign(issue, coordinator, department, owner=None, days: int = 30):
    """Triage `issue` to `department` (and `owner`), due in `days` days."""
    return workflow.assign(
        issue_id=issue.pk,
        by=coordinator,
        department=department,
        owner=owner,
        deadline=timezone.localdate() + timedelta(days=days),
    )


def kinds(issue) -> list[str]:
    """The kinds of the issue's history rows, oldest first."""
    return list(IssueEvent.objects.filter(issue=issue).order_by("id").values_list("kind", flat=True))
