"""Issue-list filters that reproduce exactly what each dashboard figure counts.

The issue list's FilterSet (issues.filters.IssueFilter) inherits these, so every figure on
the dashboard links to `issues:list?<params>` and the list shows exactly those rows. The
row conditions come from `issues.figures`, where each figure is defined, so the two cannot
drift apart. Only declared filters here (no Meta): IssueFilter supplies the model and the
base parameters (scope, district, sector, department, raised_after/raised_before, overdue,
due_soon, colour, status …).

Dates are YYYY-MM-DD and inclusive; a timestamp matches by its Asia/Shanghai date.
"""

from datetime import datetime, time, timedelta

import django_filters
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters.widgets import BooleanWidget

from . import figures
from .models import OPEN_STATUSES, Outcome, Satisfaction

SATISFACTION_CHOICES = [("any", _("Any feedback")), *Satisfaction.choices]


def _start_of(day):
    return datetime.combine(day, time.min, tzinfo=figures.SHANGHAI)


def _timestamp_after(field_name: str):
    def method(queryset, name, value):
        return queryset.filter(**{f"{field_name}__gte": _start_of(value)})

    return method


def _timestamp_before(field_name: str):
    def method(queryset, name, value):
        return queryset.filter(**{f"{field_name}__lt": _start_of(value + timedelta(days=1))})

    return method


class FigureFilters(django_filters.FilterSet):
    open = django_filters.BooleanFilter(
        label=_("Open (not closed)"), method="filter_open", widget=BooleanWidget
    )
    solved_on_site = django_filters.BooleanFilter(
        label=_("Solved on the spot"), field_name="solved_on_site", widget=BooleanWidget
    )
    outcome = django_filters.ChoiceFilter(label=_("Outcome"), choices=Outcome.choices)
    assigned_after = django_filters.DateFilter(
        label=_("Assigned on or after"), method="filter_assigned_after"
    )
    assigned_before = django_filters.DateFilter(
        label=_("Assigned on or before"), method="filter_assigned_before"
    )
    resolved_after = django_filters.DateFilter(
        label=_("Resolved on or after"), method="filter_resolved_after"
    )
    resolved_before = django_filters.DateFilter(
        label=_("Resolved on or before"), method="filter_resolved_before"
    )
    closed_after = django_filters.DateFilter(label=_("Closed on or after"), method="filter_closed_after")
    closed_before = django_filters.DateFilter(label=_("Closed on or before"), method="filter_closed_before")
    contacted_after = django_filters.DateFilter(
        label=_("Feedback on or after"), field_name="contacted_on", lookup_expr="gte"
    )
    contacted_before = django_filters.DateFilter(
        label=_("Feedback on or before"), field_name="contacted_on", lookup_expr="lte"
    )
    response = django_filters.ChoiceFilter(
        label=_("Response (assignment within 2 working days)"),
        method="filter_response",
        choices=[
            ("in_time", _("Responded in time")),
            ("late", _("Responded late or not yet, past due")),
            ("due", _("Due for a response (in time or late)")),
            ("pending", _("Awaiting response, not yet due")),
        ],
    )
    resolved_on_time = django_filters.ChoiceFilter(
        label=_("Resolved by the original deadline"),
        method="filter_resolved_on_time",
        choices=[("1", _("On time")), ("0", _("Late")), ("any", _("Resolved, with a deadline"))],
    )
    reply_satisfaction = django_filters.ChoiceFilter(
        label=_("Reply satisfaction"), method="filter_satisfaction", choices=SATISFACTION_CHOICES
    )
    solution_satisfaction = django_filters.ChoiceFilter(
        label=_("Solution satisfaction"), method="filter_satisfaction", choices=SATISFACTION_CHOICES
    )

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        return (
            queryset.filter(status__in=OPEN_STATUSES) if value else queryset.exclude(status__in=OPEN_STATUSES)
        )

    filter_assigned_after = staticmethod(_timestamp_after("assigned_at"))
    filter_assigned_before = staticmethod(_timestamp_before("assigned_at"))
    filter_resolved_after = staticmethod(_timestamp_after("resolved_at"))
    filter_resolved_before = staticmethod(_timestamp_before("resolved_at"))
    filter_closed_after = staticmethod(_timestamp_after("closed_at"))
    filter_closed_before = staticmethod(_timestamp_before("closed_at"))

    def filter_response(self, queryset, name, value):
        today = timezone.localdate()
        condition = {
            "in_time": figures.q_responded_in_time,
            "late": lambda: figures.q_response_late(today),
            "due": lambda: figures.q_response_due(today),
            "pending": lambda: figures.q_response_pending(today),
        }[value]()
        return queryset.filter(condition)

    def filter_resolved_on_time(self, queryset, name, value):
        condition = {
            "1": figures.q_resolved_on_time,
            "0": figures.q_resolved_late,
            "any": figures.q_resolved_judged,
        }[value]()
        return queryset.filter(condition)

    def filter_satisfaction(self, queryset, name, value):
        return queryset.filter(figures.q_satisfaction(name, value))
