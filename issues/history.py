"""Writing history: an issue's events and the enterprise's feedback rounds.

The one place their rows are made. Each row records, typed and once, the facts the
dashboard counts (`dashboard.figures`): the day it counts on, where it counts (the issue's
department, category, district and sector at that moment: `FigureSnapshot`) and, for a
triage or a resolution, whether it was done by its due date. The dashboard's daily counts
grow in the same transaction (`dashboard.rollup.add`). Nothing here is ever updated.
"""

from datetime import date

from django.utils import timezone

from dashboard import rollup

from . import clock
from .models import FeedbackRound, Issue, IssueEvent


def record(
    issue: Issue,
    kind: str,
    by,
    *,
    note: str = "",
    status_from: str = "",
    day: date | None = None,
    public: bool = False,
    **facts,
) -> IssueEvent:
    """Append one event to the issue's record; `facts` are IssueEvent's typed columns."""
    at = clock.now()
    event = IssueEvent(
        issue=issue,
        kind=kind,
        actor=by,
        at=at,
        status_from=status_from,
        status_to=issue.status if status_from else "",
        note=note,
        public=public,
        day=day or timezone.localdate(at),
        scope=issue.scope,
        **facts,
    )
    event.snapshot(issue)
    event.save()
    rollup.add([event], using=event._state.db)
    return event


def add_round(issue: Issue, **answer) -> FeedbackRound:
    """Append the enterprise's next feedback round (numbered from 1)."""
    last = issue.feedback_rounds.order_by("-number").values_list("number", flat=True).first()
    feedback = FeedbackRound(issue=issue, number=(last or 0) + 1, **answer)
    feedback.snapshot(issue)
    feedback.save()
    rollup.add([feedback], using=feedback._state.db)
    return feedback
