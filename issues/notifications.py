"""Telling people at once (issue 16): by email and by a group-chat robot (企业微信 / 钉钉).

`notify(kind, issue)` is called by the workflow inside its transaction: it writes one
`Notification` row per message (each person's email, as they chose; one message to a
department's or the coordinators' group chat) and queues its delivery for after the commit
(`deliver`, a django-tasks task). Delivery retries with backoff where the task backend can
run a task later (the database backend); a failure is kept on the row and logged, and
never blocks or rolls back the workflow step, which has committed by then.

Channels are functions in CHANNELS. An SMS gateway is one more: a function that takes the
Notification and raises on failure, a NotificationChannel choice, and the address to use
(a mobile number on the user): see docs/production.md "Notifications".
"""

from __future__ import annotations

import json
import logging
import urllib.request
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django_tasks import default_task_backend, task

from .models import (
    Issue,
    Notification,
    NotificationChannel,
    NotificationKind,
    NotificationPreference,
    NotificationStatus,
)
from .people import person_name
from .roles import Role

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
CHAT_TIMEOUT_SECONDS = 5


# -- who is told --------------------------------------------------------------------------------


def _department_people(issue: Issue) -> list:
    """The issue's owner, or else the active members of its lead department."""
    if issue.owner_id:
        return [issue.owner]
    if issue.lead_department_id is None:
        return []
    return list(issue.lead_department.members.filter(is_active=True))


def _coordinators() -> list:
    return list(get_user_model().objects.filter(is_active=True, groups__name=Role.COORDINATOR).distinct())


def audience(kind: str, issue: Issue) -> tuple[list, list[str]]:
    """(people told by email, group-chat robot URLs told) for a kind of notification."""
    department_chat = [issue.lead_department.chat_webhook] if issue.lead_department_id else []
    coordinator_chat = [settings.COORDINATOR_CHAT_WEBHOOK]
    people, chats = {
        NotificationKind.ASSIGNED: (_department_people(issue), department_chat),
        NotificationKind.AWAITING_ANSWER: (_coordinators(), coordinator_chat),
        NotificationKind.ANSWER_RECEIVED: (
            _coordinators() + _department_people(issue),
            coordinator_chat + department_chat,
        ),
        NotificationKind.SENT_BACK: (_department_people(issue), department_chat + coordinator_chat),
        NotificationKind.ENTERPRISE_REQUEST: (_coordinators(), coordinator_chat),
    }[kind]
    unique = list({user.pk: user for user in people}.values())
    return unique, [url for url in dict.fromkeys(chats) if url]


# -- writing and queuing ------------------------------------------------------------------------


def notify(kind: str, issue: Issue, **context) -> list[Notification]:
    """Write the messages of `kind` about `issue` and deliver them after the commit."""
    people, chats = audience(kind, issue)
    preferences = {p.user_id: p for p in NotificationPreference.objects.filter(user__in=people)}
    subject, body = render(kind, issue, **context)
    rows = []
    for person in people:
        chosen = preferences.get(person.pk) or NotificationPreference(user=person)
        if chosen.email and person.email:
            rows.append(
                Notification(
                    kind=kind,
                    channel=NotificationChannel.EMAIL,
                    issue=issue,
                    recipient=person,
                    address=person.email,
                    subject=subject,
                    body=body,
                )
            )
    wanting_chat = [p for p in people if (preferences.get(p.pk) or NotificationPreference(user=p)).chat]
    if wanting_chat or not people:
        names = "、".join(person_name(p) for p in wanting_chat)
        chat_body = f"{subject}\n{body}" + (f"\n@{names}" if names else "")
        for url in chats:
            rows.append(
                Notification(
                    kind=kind,
                    channel=NotificationChannel.CHAT,
                    issue=issue,
                    address=url,
                    subject=subject,
                    body=chat_body,
                )
            )
    return queue(rows)


def notify_address(kind: str, issue: Issue, address: str, **context) -> list[Notification]:
    """One email to an address that is no user's (the enterprise contact's feedback link)."""
    subject, body = render(kind, issue, **context)
    row = Notification(
        kind=kind, channel=NotificationChannel.EMAIL, issue=issue, address=address, subject=subject, body=body
    )
    return queue([row])


def queue(rows: list[Notification]) -> list[Notification]:
    saved = Notification.objects.bulk_create(rows)
    for row in saved:
        transaction.on_commit(lambda pk=row.pk: deliver.enqueue(pk))
    return saved


def render(kind: str, issue: Issue, **context) -> tuple[str, str]:
    """Subject and text of a message, in the site's language."""
    base = settings.SITE_URL.rstrip("/")
    with translation.override(settings.LANGUAGE_CODE):
        text = render_to_string(
            "notifications/message.txt",
            {"kind": kind, "issue": issue, "url": f"{base}{issue.get_absolute_url()}", **context},
        ).strip()
        subject = str(NotificationKind(kind).label) + f" · #{issue.pk} {issue.title}"
    return subject[:200], text


# -- delivering ------------------------------------------------------------------------------------


def send_email(notification: Notification) -> None:
    EmailMessage(notification.subject, notification.body, to=[notification.address]).send()


def post_chat(notification: Notification) -> None:
    """A text message to a group robot: the JSON both 企业微信 and 钉钉 accept."""
    payload = json.dumps({"msgtype": "text", "text": {"content": notification.body}}, ensure_ascii=False)
    request = urllib.request.Request(
        notification.address,
        data=payload.encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=CHAT_TIMEOUT_SECONDS) as response:  # noqa: S310 (an admin's URL)
        answer = response.read(10_000)
    try:
        code = json.loads(answer or b"{}").get("errcode", 0)
    except ValueError:
        code = 0
    if code:
        raise RuntimeError(f"the chat robot answered errcode {code}: {answer[:200]!r}")


CHANNELS = {NotificationChannel.EMAIL: send_email, NotificationChannel.CHAT: post_chat}


@task()
def deliver(notification_id: int) -> str:
    """Send one notification; on failure, try again later (1, 2, 4, 8 minutes) where the task
    backend can wait, up to MAX_ATTEMPTS, then leave it failed and logged."""
    notification = Notification.objects.filter(pk=notification_id).first()
    if notification is None or notification.status == NotificationStatus.SENT:
        return "nothing to do"
    notification.attempts += 1
    try:
        CHANNELS[notification.channel](notification)
    except Exception as error:  # a mail server or a robot that fails must not stop anything
        notification.last_error = f"{type(error).__name__}: {error}"[:2000]
        retry = notification.attempts < MAX_ATTEMPTS and default_task_backend.supports_defer
        notification.status = NotificationStatus.PENDING if retry else NotificationStatus.FAILED
        notification.save(update_fields=["attempts", "last_error", "status"])
        log.warning(
            "notification %s (%s to %s) failed, attempt %s: %s",
            notification.pk,
            notification.channel,
            notification.address,
            notification.attempts,
            notification.last_error,
        )
        if retry:
            wait = timedelta(minutes=2 ** (notification.attempts - 1))
            deliver.using(run_after=timezone.now() + wait).enqueue(notification.pk)
        return "failed"
    notification.status, notification.sent_at = NotificationStatus.SENT, timezone.now()
    notification.save(update_fields=["attempts", "status", "sent_at", "last_error"])
    return "sent"
