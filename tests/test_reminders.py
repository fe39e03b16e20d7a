"""Reminder emails: who gets what, once a day, in which language, with bounded queries."""

from datetime import date, timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import IntegrityError, transaction

from issues import reminders, workflow
from issues.models import Issue, ReminderSent

from .factories import IssueFactory, UserFactory

TODAY = date(2026, 11, 26)  # a Thursday
MONDAY = date(2026, 11, 30)
pytestmark = pytest.mark.django_db


def active_issue(coordinator, department, *, owner=None, colour: str, title: str):
    """An issue assigned through the workflow, then dated so it shows `colour` on TODAY."""
    issue = IssueFactory(title=title)
    workflow.assign(
        issue_id=issue.pk, by=coordinator, department=department, owner=owner, deadline=TODAY + timedelta(30)
    )
    issue.refresh_from_db()
    deadline, last_progress = {
        "red": (TODAY - timedelta(days=3), TODAY - timedelta(days=5)),
        "yellow": (TODAY + timedelta(days=30), TODAY - timedelta(days=30)),
        "blue": (TODAY + timedelta(days=2), TODAY - timedelta(days=1)),
        "none": (TODAY + timedelta(days=40), TODAY - timedelta(days=1)),
    }[colour]
    issue.deadline, issue.last_progress_on = deadline, last_progress
    issue.compute_supervision_dates(None)
    # Back-dating is test set-up (the workflow refuses past deadlines, rightly).
    issue.save(update_fields=["deadline", "last_progress_on", "due_soon_from", "stalled_from"])
    assert Issue.objects.with_colour(TODAY).get(pk=issue.pk).colour == ("" if colour == "none" else colour)
    return issue


@pytest.fixture
def cast(coordinator, leader, dept_a, dept_b):
    owner = UserFactory(username="owner_a", email="owner@example.com", role="department", department=dept_a)
    mate = UserFactory(username="mate_a", email="mate@example.com", role="department", department=dept_a)
    silent = UserFactory(username="silent_a", email="", role="department", department=dept_a)
    staff_b = UserFactory(username="staff_b", email="b@example.com", role="department", department=dept_b)
    coordinator.email = "coord@example.com"
    coordinator.save()
    leader.email = "leader@example.com"
    leader.save()
    issues = {
        "owned_red": active_issue(coordinator, dept_a, owner=owner, colour="red", title="电力增容逾期"),
        "owned_yellow": active_issue(coordinator, dept_a, owner=owner, colour="yellow", title="环评滞后"),
        "owned_none": active_issue(coordinator, dept_a, owner=owner, colour="none", title="正常办理"),
        "unowned_blue": active_issue(coordinator, dept_a, colour="blue", title="税务即将到期"),
        "b_red": active_issue(coordinator, dept_b, owner=staff_b, colour="red", title="物流<通道>&拥堵"),
    }
    return {"owner": owner, "mate": mate, "silent": silent, "staff_b": staff_b, **issues}


def sent_to(address, subject_part=""):
    return [m for m in mail.outbox if m.to == [address] and subject_part in m.subject]


def test_each_recipient_gets_one_message_with_their_issues(cast, settings):
    settings.LANGUAGE_CODE = "en"
    call_command("send_reminders", "--date", TODAY.isoformat(), verbosity=0)

    (owner_mail,) = sent_to("owner@example.com")
    body = owner_mail.body
    # Own red and yellow, the department's unowned blue; not the on-track one, not dept B's.
    assert "电力增容逾期" in body and "环评滞后" in body and "税务即将到期" in body
    assert "正常办理" not in body and "物流" not in body
    assert body.index("电力增容逾期") < body.index("环评滞后") < body.index("税务即将到期")  # red first
    assert "1 overdue, 1 behind schedule, 1 due soon" in owner_mail.subject

    # A department mate sees only the unowned issue of the department.
    (mate_mail,) = sent_to("mate@example.com")
    assert "税务即将到期" in mate_mail.body and "电力增容逾期" not in mate_mail.body

    # The coordinator gets the red list (both red issues), and no daily list of their own.
    (red_list,) = sent_to("coord@example.com")
    assert "Supervision list: 2 overdue" in red_list.subject
    assert "电力增容逾期" in red_list.body and "物流<通道>&拥堵" in red_list.body

    # Plain text and HTML; the HTML escapes what users typed.
    html, mimetype = red_list.alternatives[0]
    assert mimetype == "text/html"
    assert "物流&lt;通道&gt;&amp;拥堵" in html and "<通道>" not in html

    # Leadership gets nothing on a Thursday without --weekly; nobody without an email address.
    assert not sent_to("leader@example.com")
    assert all(m.to != [""] for m in mail.outbox)
    assert len(mail.outbox) == 4  # owner, mate, staff_b, coordinator
    assert ReminderSent.objects.count() == 4


def test_twice_a_day_sends_nothing_twice(cast):
    call_command("send_reminders", "--date", TODAY.isoformat(), "--weekly", verbosity=0)
    first = len(mail.outbox)
    assert first == 5  # with the leader's weekly summary
    call_command("send_reminders", "--date", TODAY.isoformat(), "--weekly", verbosity=0)
    assert len(mail.outbox) == first
    # The next day is a new day.
    call_command("send_reminders", "--date", (TODAY + timedelta(days=1)).isoformat(), verbosity=0)
    assert len(mail.outbox) == first + 4


def test_a_racing_run_is_stopped_by_the_unique_constraint(cast):
    """Another run claimed the message between our read of the day's claims and our insert."""
    outcome_plan, _ = reminders.plan(TODAY, weekly=False)
    reminder = next(r for r in outcome_plan if r.recipient == cast["owner"])
    assert reminders._claim(reminder, TODAY) is True
    assert reminders._claim(reminder, TODAY) is False  # IntegrityError caught, savepoint rolled back
    with pytest.raises(IntegrityError), transaction.atomic():
        ReminderSent.objects.create(recipient=cast["owner"], kind=reminders.DAILY, sent_on=TODAY)
    assert ReminderSent.objects.filter(recipient=cast["owner"]).count() == 1


def test_weekly_summary_for_leadership_on_mondays(cast, settings):
    settings.LANGUAGE_CODE = "en"
    call_command("send_reminders", "--date", MONDAY.isoformat(), verbosity=0)
    (weekly,) = sent_to("leader@example.com")
    assert "Weekly summary" in weekly.subject
    assert "市发展改革委" in weekly.body and "市税务局" in weekly.body
    html = weekly.alternatives[0][0]
    assert "<table" in html and "市发展改革委" in html


def test_messages_are_written_in_the_site_language_by_default(cast, settings):
    call_command("send_reminders", "--date", TODAY.isoformat(), verbosity=0)
    (message,) = sent_to("owner@example.com")
    assert message.extra_headers["Content-Language"] == "zh-hans"
    assert '<html lang="zh-hans">' in message.alternatives[0][0]

    mail.outbox.clear()
    settings.LANGUAGE_CODE = "en"
    call_command("send_reminders", "--date", (TODAY + timedelta(days=1)).isoformat(), verbosity=0)
    (message,) = sent_to("owner@example.com")
    assert message.extra_headers["Content-Language"] == "en"
    assert message.body.startswith("Hello ")


def test_a_user_language_attribute_wins(cast):
    cast["owner"].language = "en"
    assert reminders.recipient_language(cast["owner"]) == "en"
    assert reminders.recipient_language(cast["mate"]) == "zh-hans"


def test_queries_do_not_grow_with_the_number_of_issues(
    cast, coordinator, dept_a, django_assert_max_num_queries
):
    # Baseline: 5 messages (owner, mate, staff_b, coordinator, leader).
    with django_assert_max_num_queries(30):
        call_command("send_reminders", "--date", TODAY.isoformat(), "--weekly", verbosity=0)
    for n in range(20):
        active_issue(coordinator, dept_a, owner=cast["owner"], colour="red", title=f"更多逾期{n}")
    ReminderSent.objects.all().delete()
    mail.outbox.clear()
    with django_assert_max_num_queries(30):
        call_command("send_reminders", "--date", TODAY.isoformat(), "--weekly", verbosity=0)
    (owner_mail,) = sent_to("owner@example.com")
    assert "更多逾期19" in owner_mail.body
