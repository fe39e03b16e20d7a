"""Supervision colours (三色督办) on the official Chinese calendar, with 'today' frozen.

The issues are moved by the workflow at historical dates (the demo seed's replay clock),
so the stored blue/yellow dates are the ones the workflow really computes; the colour on
a given day is then read through the `today` argument of the queryset methods.
"""

from datetime import date, timedelta

import pytest

from issues import workdays, workflow
from issues.management.commands.seed_demo import replayed_history
from issues.models import Colour, Issue

from .factories import IssueFactory


def days(first: date, last: date):
    while first <= last:
        yield first
        first += timedelta(days=1)


def colours(issue, *on):
    """The SQL-annotated colour of `issue` on each day."""
    return [Issue.objects.with_colour(day).values_list("colour", flat=True).get(pk=issue.pk) for day in on]


@pytest.fixture
def history(db, official, coordinator, staff_a, dept_a):
    """Issues assigned in 2026, each around a holiday, built through the workflow."""
    made = {}
    with replayed_history() as clock:

        def assigned(on: date, deadline: date):
            clock.at(on)
            issue = IssueFactory(raised_by=official, visit__created_by=official, raised_on=on)
            return workflow.assign(
                issue_id=issue.pk, by=coordinator, department=dept_a, owner=staff_a, deadline=deadline
            )

        # National Day 2026: Oct 1-7 off, Sat Oct 10 a make-up working day.
        made["national_day"] = assigned(date(2026, 9, 21), date(2026, 10, 9))
        # Spring Festival 2026: Feb 15-23 off, Sat Feb 14 a make-up working day.
        made["spring_festival"] = assigned(date(2026, 2, 2), date(2026, 2, 25))
        # A roadmap with a milestone due Mar 10, completed late on Mar 12.
        made["milestone"] = assigned(date(2026, 3, 2), date(2026, 4, 30))
        clock.at(date(2026, 3, 2))
        milestone = workflow.add_milestone(
            issue_id=made["milestone"].pk, by=staff_a, title="完成方案论证", due_on=date(2026, 3, 10)
        )
        made["milestone_stalled_from_before_done"] = Issue.objects.get(pk=made["milestone"].pk).stalled_from
        clock.at(date(2026, 3, 12))
        workflow.complete_milestone(milestone_id=milestone.pk, by=staff_a)
        # Resolved after its deadline: late, but no longer on the supervision list.
        made["resolved_late"] = assigned(date(2026, 3, 2), date(2026, 3, 20))
        clock.at(date(2026, 3, 25))
        workflow.resolve(issue_id=made["resolved_late"].pk, by=staff_a, resolution="已办结")
        # Deadline in 2027, a year the calendar library does not know yet.
        made["next_year"] = assigned(date(2026, 11, 2), date(2027, 10, 4))
    made["new"] = IssueFactory(raised_by=official, visit__created_by=official, raised_on=date(2026, 3, 2))
    return {k: (Issue.objects.get(pk=v.pk) if isinstance(v, Issue) else v) for k, v in made.items()}


def test_blue_starts_exactly_three_working_days_before_the_deadline_across_national_day(history):
    issue = history["national_day"]
    # Back from Fri Oct 9: Thu Oct 8, (Oct 1-7 off), Wed Sep 30, Tue Sep 29.
    assert issue.due_soon_from == date(2026, 9, 29)
    assert colours(issue, date(2026, 9, 28), date(2026, 9, 29), date(2026, 10, 5), date(2026, 10, 9)) == [
        Colour.NONE,
        Colour.BLUE,
        Colour.BLUE,
        Colour.BLUE,
    ]
    assert not Issue.objects.due_soon(date(2026, 9, 28)).filter(pk=issue.pk).exists()
    assert Issue.objects.due_soon(date(2026, 9, 29)).filter(pk=issue.pk).exists()


def test_red_the_day_after_the_deadline(history):
    issue = history["national_day"]
    assert colours(issue, date(2026, 10, 9), date(2026, 10, 10)) == [Colour.BLUE, Colour.RED]
    assert not Issue.objects.overdue(date(2026, 10, 9)).filter(pk=issue.pk).exists()
    assert Issue.objects.overdue(date(2026, 10, 10)).filter(pk=issue.pk).exists()
    on_12th = Issue.objects.with_colour(date(2026, 10, 12)).get(pk=issue.pk)
    assert on_12th.days_overdue(date(2026, 10, 12)) == 3


def test_spring_festival_make_up_saturday_counts_as_a_working_day(history):
    issue = history["spring_festival"]
    # Back from Wed Feb 25: Tue Feb 24, (Feb 15-23 off), Sat Feb 14 (make-up day), Fri Feb 13.
    assert workdays.is_workday(date(2026, 2, 14))
    assert issue.due_soon_from == date(2026, 2, 13)
    # No progress since the assignment on Mon Feb 2: the 10th working day after is Sat Feb 14.
    assert issue.stalled_from == date(2026, 2, 14)
    assert colours(
        issue, date(2026, 2, 12), date(2026, 2, 13), date(2026, 2, 14), date(2026, 2, 20), date(2026, 2, 26)
    ) == [Colour.NONE, Colour.BLUE, Colour.YELLOW, Colour.YELLOW, Colour.RED]


def test_yellow_outranks_blue_in_the_colour_filter(history):
    issue = history["spring_festival"]
    feb14 = date(2026, 2, 14)
    assert Issue.objects.due_soon(feb14).filter(pk=issue.pk).exists()  # within 3 working days…
    assert not Issue.objects.with_colour_filter(Colour.BLUE, feb14).filter(pk=issue.pk).exists()
    assert Issue.objects.with_colour_filter(Colour.YELLOW, feb14).filter(pk=issue.pk).exists()


def test_late_milestone_turns_yellow_the_day_after_its_due_date(history):
    issue = history["milestone"]
    assert history["milestone_stalled_from_before_done"] == date(2026, 3, 11)
    # Completed on Mar 12: yellow is over, and starts again 10 working days later (Mar 26).
    assert issue.stalled_from == date(2026, 3, 26)
    assert colours(issue, date(2026, 3, 12), date(2026, 3, 25), date(2026, 3, 26)) == [
        Colour.NONE,
        Colour.NONE,
        Colour.YELLOW,
    ]
    assert Issue.objects.with_colour_filter(Colour.YELLOW, date(2026, 3, 26)).filter(pk=issue.pk).exists()
    assert not Issue.objects.with_colour_filter(Colour.YELLOW, date(2026, 3, 25)).filter(pk=issue.pk).exists()


def test_a_resolved_issue_has_no_colour(history):
    late = history["resolved_late"]
    assert colours(late, date(2026, 3, 26), date(2026, 6, 1)) == [Colour.NONE, Colour.NONE]
    assert not Issue.objects.overdue(date(2026, 6, 1)).filter(pk=late.pk).exists()


def test_an_untriaged_issue_turns_red_after_its_two_working_days(history):
    new = history["new"]  # raised Mon 2026-03-02: to be triaged by Wed 03-04 (交办时限)
    assert new.respond_by == date(2026, 3, 4)
    assert colours(new, date(2026, 3, 4), date(2026, 3, 5)) == [Colour.NONE, Colour.RED]
    assert Issue.objects.overdue(date(2026, 3, 5)).filter(pk=new.pk).exists()
    late = Issue.objects.with_colour(date(2026, 3, 9)).get(pk=new.pk)
    assert late.days_overdue(date(2026, 3, 9)) == 5


def test_the_colour_annotation_its_rank_and_every_filter_agree_on_every_day(history):
    """One definition (colour_conditions): the annotation, its rank and the filters derive
    from it, so they cannot disagree."""
    issues = [v for v in history.values() if isinstance(v, Issue)]
    rank = {Colour.RED: 0, Colour.YELLOW: 1, Colour.BLUE: 2, Colour.NONE: 3}
    for day in days(date(2026, 1, 30), date(2026, 10, 15)):
        annotated = {i.pk: (i.colour, i.colour_rank) for i in Issue.objects.with_colour(day)}
        for colour in (Colour.RED, Colour.YELLOW, Colour.BLUE):
            filtered = set(Issue.objects.with_colour_filter(colour, day).values_list("pk", flat=True))
            assert filtered == {i.pk for i in issues if annotated[i.pk][0] == colour}, (colour, day)
        assert all(annotated[i.pk][1] == rank[annotated[i.pk][0]] for i in issues)


def test_2027_falls_back_to_monday_to_friday(history):
    assert workdays.is_official(2026)
    assert not workdays.is_official(2027)
    # Officially Oct 1 2027 will be a holiday; until the schedule is published, Fri is a working day.
    assert workdays.is_workday(date(2027, 10, 1))
    assert not workdays.is_workday(date(2027, 10, 2))
    assert workdays.add_workdays(date(2027, 9, 30), 2) == date(2027, 10, 4)
    issue = history["next_year"]
    assert issue.due_soon_from == date(2027, 9, 29)  # Fri Oct 1, Thu Sep 30, Wed Sep 29
    assert not Issue.objects.due_soon(date(2027, 9, 28)).filter(pk=issue.pk).exists()
    assert Issue.objects.due_soon(date(2027, 9, 29)).filter(pk=issue.pk).exists()
    assert colours(issue, date(2027, 10, 5)) == [Colour.RED]


def test_annotated_on_track_colour_is_kept_on_the_instance(history):
    issue = Issue.objects.with_colour(date(2026, 2, 12)).get(pk=history["spring_festival"].pk)
    assert issue.colour == Colour.NONE  # on Feb 12 it was on track (it is red today)


def test_replay_clock_is_put_back(history):
    from django.utils import timezone

    assert workflow._today() == timezone.localdate()
    with pytest.raises(RuntimeError), replayed_history() as clock:
        clock.at(date(2026, 1, 5))
        assert workflow._today() == date(2026, 1, 5)
        raise RuntimeError("boom")
    assert workflow._today() == timezone.localdate()
