"""Feedback links: the enterprise answers about a resolution with no account (issue 16).

A link is `/f/<token>/`. The token is `django.core.signing` with its own salt and a maximum
age (settings.FEEDBACK_LINK_DAYS, 14 by default): the id of a `FeedbackRequest` and a random
secret of 32 bytes. Only the secret's SHA-256 is stored, so the table cannot be turned back
into links; the secret is compared in constant time. A link works once, until it expires or
a coordinator revokes it (issuing a new link for the same issue revokes the old one), and
only while the issue waits for the enterprise's answer. Anything else gets a page saying
why, and changes nothing.

The same link is offered as a QR code (SVG from segno) to print on a visit sheet or send in
a chat, and by `manage.py feedback_link ISSUE_ID`.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from . import access_log, clock, history
from .models import EventKind, FeedbackRequest, Issue, Status

SALT = "issues.feedback_links"


def link_days() -> int:
    return int(getattr(settings, "FEEDBACK_LINK_DAYS", 14))


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass
class IssuedLink:
    request: FeedbackRequest
    token: str

    @property
    def path(self) -> str:
        return reverse("feedback", args=[self.token])

    def url(self, base: str = "") -> str:
        return f"{(base or settings.SITE_URL).rstrip('/')}{self.path}"


class LinkRefused(Exception):
    """The link cannot be used; `reason` says why in words for the enterprise."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@transaction.atomic
def issue_link(issue: Issue, by) -> IssuedLink:
    """A new link for the enterprise's answer about the issue's current resolution. Earlier
    unused links of the issue are revoked: only the newest one works."""
    now = clock.now()
    FeedbackRequest.objects.filter(issue=issue, used_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=now
    )
    secret = secrets.token_urlsafe(32)
    request = FeedbackRequest.objects.create(
        issue=issue,
        secret_hash=_hash(secret),
        created_by=by,
        created_at=now,
        expires_at=now + timedelta(days=link_days()),
    )
    token = signing.dumps({"r": request.pk, "s": secret}, salt=SALT, compress=True)
    history.record(
        issue,
        EventKind.FEEDBACK_REQUESTED,
        by,
        note=_("Valid until %(date)s.") % {"date": timezone.localtime(request.expires_at).date().isoformat()},
    )
    access_log.record_feedback_link(by=by, issue=issue)
    return IssuedLink(request, token)


def revoke(request: FeedbackRequest) -> None:
    FeedbackRequest.objects.filter(pk=request.pk, used_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=clock.now()
    )


def open_link(token: str) -> FeedbackRequest:
    """The request a token opens, or LinkRefused with the reason (tampered, expired, used,
    revoked, or the issue no longer waits for an answer)."""
    try:
        data = signing.loads(token, salt=SALT, max_age=timedelta(days=link_days()))
        request_id, secret = int(data["r"]), str(data["s"])
    except signing.SignatureExpired as exc:
        raise LinkRefused(_("This link has expired. Ask the government office for a new one.")) from exc
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise LinkRefused(_("This link is not valid. Check that it was copied whole.")) from exc
    request = (
        FeedbackRequest.objects.select_related("issue", "issue__enterprise", "issue__lead_department")
        .filter(pk=request_id)
        .first()
    )
    if request is None or not hmac.compare_digest(request.secret_hash, _hash(secret)):
        raise LinkRefused(_("This link is not valid. Check that it was copied whole."))
    if request.used_at is not None:
        raise LinkRefused(_("This link has already been used: thank you, your answer was recorded."))
    if request.revoked_at is not None:
        raise LinkRefused(_("This link was withdrawn: a newer one was sent, or the issue changed."))
    if request.expires_at < clock.now():
        raise LinkRefused(_("This link has expired. Ask the government office for a new one."))
    if request.issue.status != Status.RESOLVED:
        raise LinkRefused(_("This issue is not waiting for your answer any more."))
    return request


def qr_svg(url: str) -> str:
    """The link as an SVG QR code (segno: pure Python)."""
    import segno

    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=4, border=2, xmldecl=False, svgns=True)
    return buffer.getvalue().decode()
