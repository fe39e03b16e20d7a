"""Reminder emails for the daily cron (`manage.py send_reminders`).

Who gets what, on a day:

- **daily** — each user with an email address gets ONE message listing the blue, yellow
  and red issues they own, plus the issues of their departments that have no owner yet
  (every member of the department gets those). Nothing to list: no message.
- **red_list** — each coordinator gets the supervision list (督办清单): every red issue.
- **weekly** — each leader gets a summary by department (open, red, yellow, blue, raised
  and resolved in the last 7 days); on Mondays, or whenever `weekly=True`.

Once per recipient, kind and day: a `ReminderSent` row is claimed in its own savepoint
before the message goes out, so a second run (or a run racing this one: the unique
constraint answers the race) sends nothing again. If sending fails, the claim is dropped
so the next run retries.

Language: users have no language field, so messages are written in
`settings.LANGUAGE_CODE` (zh-hans); `recipient_language` is the one place to change when
a per-user language is stored (a `language` attribute on the user is already honoured).

Queries are bounded by the number of recipients, never by the number of issues: one query
for the coloured issues, one for department memberships, one each for users, roles and
the day's claims, two for the weekly figures, and one savepoint-wrapped INSERT per message.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from .models import Colour, Department, Issue, ReminderSent, colour_conditions
from .roles import Role

log = logging.getLogger(__name__)

DAILY, RED_LIST, WEEKLY = "daily", "red_list", "weekly"
# A message lists at most this many issues (the counts above the list stay exact); the
# rest are one click away in the issue list.
LIST_LIMIT = 200
COLOURS = (Colour.RED, Colour.YELLOW, Colour.BLUE)


@dataclass
class Outcome:
    sent: int = 0
    already_sent: int = 0
    no_email: int = 0
    failed: int = 0
    by_kind: dict[str, int] = field(default_factory=lambda: defaultdict(int))


@dataclass
class Reminder:
    recipient: object
    kind: str
    context: dict
    issue_count: int


def recipient_language(user) -> str:
    """The language to write to `user` in: their own, once users store one; else the site's."""
    return getattr(user, "language", "") or settings.LANGUAGE_CODE


def coloured_issues(today: date) -> list[dict]:
    """Every open issue that is red, yellow or blue today, red first (the colour's rank), by
    deadline. Red includes issues untriaged past their limit: they have no owner yet and go
    to the coordinators' supervision list."""
    colours = colour_conditions(today)
    return list(
        Issue.objects.open()
        .filter(colours[Colour.RED] | colours[Colour.YELLOW] | colours[Colour.BLUE])
        .with_colour(today)
        .order_by("colour_rank", F("deadline").asc(nulls_first=True), "id")
        .values(
            "id",
            "title",
            "deadline",
            "colour",
            "owner_id",
            "lead_department_id",
            "lead_department__name",
            "enterprise__name",
        )
    )


def _summary(issues: list[dict]) -> dict:
    counts = {c: 0 for c in COLOURS}
    for issue in issues:
        counts[issue["colour"]] += 1
    return {
        "red_count": counts[Colour.RED],
        "yellow_count": counts[Colour.YELLOW],
        "blue_count": counts[Colour.BLUE],
        "total": len(issues),
        "issues": issues[:LIST_LIMIT],
        "more": max(0, len(issues) - LIST_LIMIT),
    }


def weekly_figures(today: date) -> dict:
    """Open issues by department with their colours (the now figures), and what happened in
    the last seven days (the dashboard's period figures): two queries and the daily counts."""
    from dashboard import figures

    week = figures.Period(today - timedelta(days=6), today)
    by_department = Issue.objects.now_counts(today, by="lead_department__name")
    departments = sorted(
        (
            {"lead_department__name": name, "open": c["open"], "red": c["overdue"], "yellow": c["yellow"],
             "blue": c["blue"]}
            for name, c in by_department.items()
        ),
        key=lambda d: (-d["red"], -d["open"], d["lead_department__name"] or ""),
    )  # fmt: skip
    counts = figures.tallies(week, figures.Filters())
    flow = {"raised": counts["raised"], "resolved": counts["resolved"], "closed": counts["closed"]}
    totals = {k: sum(d[k] for d in departments) for k in ("open", "red", "yellow", "blue")}
    return {"departments": departments, "flow": flow, "totals": totals, "week_start": week.start}


def plan(today: date, *, weekly: bool) -> tuple[list[Reminder], int]:
    """The messages due today (already-sent ones included), and how many users lack an email."""
    User = get_user_model()
    issues = coloured_issues(today)
    by_owner: dict[int, list[dict]] = defaultdict(list)
    unowned_by_dept: dict[int, list[dict]] = defaultdict(list)
    for issue in issues:
        if issue["owner_id"]:
            by_owner[issue["owner_id"]].append(issue)
        else:
            unowned_by_dept[issue["lead_department_id"]].append(issue)
    members: dict[int, list[int]] = defaultdict(list)
    for dept_id, user_id in Department.members.through.objects.filter(
        department_id__in=list(unowned_by_dept), department__is_active=True
    ).values_list("department_id", "user_id"):
        members[user_id].append(dept_id)

    role_rows = User.groups.through.objects.filter(group__name__in=[Role.COORDINATOR, Role.LEADER])
    roles: dict[int, set[str]] = defaultdict(set)
    for user_id, name in role_rows.values_list("user_id", "group__name"):
        roles[user_id].add(name)
    send_weekly = weekly or today.weekday() == 0
    wanted_ids = set(by_owner) | set(members)
    wanted_ids |= {u for u, r in roles.items() if Role.COORDINATOR in r or (send_weekly and Role.LEADER in r)}
    users = {u.pk: u for u in User.objects.filter(pk__in=wanted_ids, is_active=True)}

    red = [i for i in issues if i["colour"] == Colour.RED]
    order = {colour: rank for rank, colour in enumerate(COLOURS)}
    figures = weekly_figures(today) if send_weekly and any(Role.LEADER in roles[u] for u in users) else None
    reminders: list[Reminder] = []
    for user_id, user in sorted(users.items()):
        own = list(by_owner.get(user_id, []))
        for dept_id in members.get(user_id, []):
            own += unowned_by_dept[dept_id]
        if own:
            own.sort(key=lambda r: (order[r["colour"]], r["deadline"] or today, r["id"]))
            reminders.append(Reminder(user, DAILY, _summary(own), len(own)))
        if Role.COORDINATOR in roles.get(user_id, ()) and red:
            reminders.append(Reminder(user, RED_LIST, _summary(red), len(red)))
        if figures and Role.LEADER in roles.get(user_id, ()):
            reminders.append(Reminder(user, WEEKLY, figures, figures["totals"]["open"]))
    no_email = sum(1 for r in reminders if not r.recipient.email)
    return [r for r in reminders if r.recipient.email], no_email


SUBJECTS = {
    DAILY: lambda ctx: (
        _("Your issues to watch: %(red)s overdue, %(yellow)s behind schedule, %(blue)s due soon")
        % {"red": ctx["red_count"], "yellow": ctx["yellow_count"], "blue": ctx["blue_count"]}
    ),
    RED_LIST: lambda ctx: _("Supervision list: %(count)s overdue issues") % {"count": ctx["red_count"]},
    WEEKLY: lambda ctx: (
        _("Weekly summary: %(open)s open issues, %(red)s overdue")
        % {"open": ctx["totals"]["open"], "red": ctx["totals"]["red"]}
    ),
}


def render(reminder: Reminder, today: date, base_url: str) -> EmailMultiAlternatives:
    language = recipient_language(reminder.recipient)
    with translation.override(language):
        context = {
            **reminder.context,
            "recipient": reminder.recipient,
            "today": today,
            "base_url": base_url.rstrip("/"),
            "list_url": reverse("issues:list"),
            "language": language,
        }
        if "issues" in context:
            context["issues"] = [
                {
                    **i,
                    "url": reverse("issues:detail", args=[i["id"]]),
                    "colour_label": Colour(i["colour"]).label,
                }
                for i in context["issues"]
            ]
        subject = str(SUBJECTS[reminder.kind](context))
        text = render_to_string(f"email/{reminder.kind}.txt", context)
        html = render_to_string(f"email/{reminder.kind}.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[reminder.recipient.email],
        headers={"Content-Language": language, "Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(html, "text/html")
    return message


def _claim(reminder: Reminder, today: date) -> bool:
    """Record the message as sent today; False when another run already did (the race included)."""
    try:
        with transaction.atomic():
            ReminderSent.objects.create(
                recipient=reminder.recipient,
                kind=reminder.kind,
                sent_on=today,
                issue_count=reminder.issue_count,
            )
    except IntegrityError:
        return False
    return True


def send_reminders(today: date, *, weekly: bool = False, base_url: str = "") -> Outcome:
    outcome = Outcome()
    reminders, outcome.no_email = plan(today, weekly=weekly)
    done = set(ReminderSent.objects.filter(sent_on=today).values_list("recipient_id", "kind"))
    connection = get_connection()
    with connection:
        for reminder in reminders:
            if (reminder.recipient.pk, reminder.kind) in done or not _claim(reminder, today):
                outcome.already_sent += 1
                continue
            message = render(reminder, today, base_url)
            message.connection = connection
            try:
                message.send()
            except Exception:
                # Not sent: drop the claim so the next run tries again.
                ReminderSent.objects.filter(
                    recipient=reminder.recipient, kind=reminder.kind, sent_on=today
                ).delete()
                log.exception("Reminder %s to user %s failed", reminder.kind, reminder.recipient.pk)
                outcome.failed += 1
                continue
            outcome.sent += 1
            outcome.by_kind[reminder.kind] += 1
    return outcome
