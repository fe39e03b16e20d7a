"""The access log (issue 13): who took data out, let data in, or signed in — and when.

- Exports: `AccessLogMiddleware` records every spreadsheet download (a CSV or XLSX answered
  as an attachment), whichever page made it: the issue list export, the dashboard report
  and weekly list, the admin's export actions and the enterprise export. It records the
  page (URL name, and the admin action), the filter (the query string; for an admin action
  also how many rows were ticked) and how many rows the file holds (counted from the file
  itself, so no export can forget to say).
- Survey imports: `record_import`, called by the import pipeline when it has written.
- Feedback links: `record`, called by `issues.feedback_links.issue_link`.
- Sign-ins and failed sign-ins: the auth signals (connected in `IssuesConfig.ready`).

Rows are searched by administrators in the admin and removed after ACCESS_LOG_DAYS days by
`manage.py prune_access_log` (daily cron).
"""

from __future__ import annotations

import csv
import io
import zipfile
from contextvars import ContextVar
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

_request: ContextVar = ContextVar("access_log_request", default=None)

MAX_QUERY = 2000
SPREADSHEET_TYPES = ("text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def retention_days() -> int:
    return int(getattr(settings, "ACCESS_LOG_DAYS", 365))


def _clean(text, limit: int) -> str:
    return str(text or "").replace("\x00", "")[:limit]


def record(
    kind: str, *, user=None, username: str = "", target: str = "", query: str = "", rows=None, request=None
):
    """Write one entry. The client IP comes from the request being served, if any."""
    from config.security import client_ip

    from .models import AccessLog

    request = request if request is not None else _request.get()
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    return AccessLog.objects.create(
        kind=kind,
        user=user,
        username=_clean(username or (user.get_username() if user is not None else ""), 150),
        ip=_clean(client_ip(request) if request is not None else "", 45).strip("-"),
        target=_clean(target, 200),
        query=_clean(query, MAX_QUERY),
        rows=rows,
    )


def record_import(*, by, survey_name: str, filename: str, rows: int):
    from .models import AccessKind

    return record(AccessKind.IMPORT, user=by, target=survey_name, query=filename, rows=rows)


def record_feedback_link(*, by, issue):
    from .models import AccessKind

    return record(AccessKind.FEEDBACK_LINK, user=by, target=f"#{issue.pk}", rows=1)


# -- sign-ins ---------------------------------------------------------------------------------


def _logged_in(sender, request, user, **kwargs) -> None:
    from .models import AccessKind

    record(AccessKind.LOGIN, user=user, request=request, target=getattr(request, "path", "")[:200])


def _login_failed(sender, credentials, request=None, **kwargs) -> None:
    from .models import AccessKind

    # `credentials` holds the password as well: only the user name is kept.
    record(
        AccessKind.LOGIN_FAILED,
        username=_clean(credentials.get("username", ""), 150),
        request=request,
        target=getattr(request, "path", "")[:200],
    )


def connect() -> None:
    from django.contrib.auth.signals import user_logged_in, user_login_failed

    user_logged_in.connect(_logged_in, dispatch_uid="access_log.logged_in")
    user_login_failed.connect(_login_failed, dispatch_uid="access_log.login_failed")


# -- exports ----------------------------------------------------------------------------------


def count_rows(response) -> int | None:
    """Data rows in a spreadsheet response (without the header row of each sheet); None when
    it cannot be told (a streamed response)."""
    if getattr(response, "streaming", False):
        return None
    content_type = response.get("Content-Type", "")
    body = response.content
    if content_type.startswith("text/csv"):
        text = body.decode("utf-8-sig", errors="replace")
        return max(sum(1 for _row in csv.reader(io.StringIO(text))) - 1, 0)
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as book:
            rows = 0
            for name in book.namelist():
                if name.startswith("xl/worksheets/sheet") and name.endswith(".xml"):
                    sheet_rows = book.read(name).count(b"<row ")
                    rows += max(sheet_rows - 1, 0)
            return rows
    except (zipfile.BadZipFile, OSError, ValueError):
        return None


def exported_rows(response) -> int | None:
    """The data rows of the file, without a note row a view wrote into it (`note_rows`: the
    issue list's "only the first N issues" when it was cut)."""
    rows = count_rows(response)
    return None if rows is None else rows - getattr(response, "note_rows", 0)


def is_export(response) -> bool:
    if getattr(response, "evidence_file", False):
        return False
    disposition = response.get("Content-Disposition", "")
    content_type = response.get("Content-Type", "")
    return disposition.startswith("attachment") and content_type.startswith(SPREADSHEET_TYPES)


class AccessLogMiddleware:
    """Records every spreadsheet download, and makes the request known to `record` (for the
    client IP of a feedback link or an import)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request.set(request)
        try:
            response = self.get_response(request)
            if response.status_code == 200 and is_export(response):
                self._record_export(request, response)
            return response
        finally:
            _request.reset(token)

    def _record_export(self, request, response) -> None:
        from .models import AccessKind

        match = request.resolver_match
        target = match.view_name if match is not None else request.path
        query = request.META.get("QUERY_STRING", "")
        if request.method == "POST" and request.POST.get("action"):
            # An admin action: which one, and on what.
            target = f"{target} · {request.POST['action']}"
            ticked = request.POST.getlist("_selected_action")
            extra = (
                "select_across=1" if request.POST.get("select_across") == "1" else f"selected={len(ticked)}"
            )
            query = f"{query}&{extra}" if query else extra
        user = getattr(request, "user", None)
        record(
            AccessKind.EXPORT,
            user=user,
            request=request,
            target=target,
            query=query,
            rows=exported_rows(response),
        )


def prune(days: int | None = None, *, now=None) -> int:
    """Delete entries older than `days` (ACCESS_LOG_DAYS); returns how many."""
    from .models import AccessLog

    days = retention_days() if days is None else days
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted, _detail = AccessLog.objects.filter(at__lt=cutoff).delete()
    return deleted
