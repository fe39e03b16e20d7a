"""The access log (issue 13): exports, survey imports, feedback links and sign-ins — who, when,
what filter, how many rows; searched by administrators; pruned after ACCESS_LOG_DAYS."""

import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from enterprises.survey_import import import_survey_file
from issues import feedback_links, workflow
from issues.models import AccessKind, AccessLog

from .factories import IssueFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery-9"
SURVEY_FILE = Path(__file__).resolve().parent / "fixtures" / "survey" / "survey-utf8.csv"


@pytest.fixture
def issues(official, coordinator, dept_a, dept_b, staff_a):
    made = []
    for n, dept in enumerate([dept_a, dept_a, dept_a, dept_b]):
        issue = IssueFactory(raised_by=official, title=f"导出问题{n}")
        workflow.assign(
            issue_id=issue.pk,
            by=coordinator,
            department=dept,
            owner=staff_a if dept == dept_a else None,
            deadline=timezone.localdate() + timedelta(days=10),
        )
        issue.refresh_from_db()
        made.append(issue)
    return made


def latest(kind):
    return AccessLog.objects.filter(kind=kind).order_by("-id").first()


def xlsx_data_rows(response) -> int:
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    return sum(max(sum(1 for _row in sheet.iter_rows()) - 1, 0) for sheet in book.worksheets)


# -- exports ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_issue_list_export_is_logged_with_filter_and_rows(client, issues, staff_a, fmt):
    client.force_login(staff_a)
    response = client.get(reverse("issues:export"), {"format": fmt, "status": "assigned", "q": "导出"})
    assert response.status_code == 200
    entry = latest(AccessKind.EXPORT)
    assert entry.user == staff_a and entry.username == "staff_a" and entry.ip == "127.0.0.1"
    assert entry.target == "issues:export"
    assert "status=assigned" in entry.query and f"format={fmt}" in entry.query
    assert entry.rows == 3  # department A's three issues, not B's
    assert timezone.now() - entry.at < timedelta(minutes=1)


def test_dashboard_report_and_weekly_xlsx_are_logged(client, issues, coordinator):
    client.force_login(coordinator)
    response = client.get(reverse("dashboard:report-xlsx"), {"period": "month"})
    assert response.status_code == 200
    entry = latest(AccessKind.EXPORT)
    assert entry.target == "dashboard:report-xlsx" and "period=month" in entry.query
    assert entry.rows == xlsx_data_rows(response) > 0
    response = client.get(reverse("dashboard:weekly"), {"format": "xlsx"})
    assert response.status_code == 200
    entry = latest(AccessKind.EXPORT)
    assert entry.target == "dashboard:weekly" and entry.query == "format=xlsx"
    assert entry.rows == xlsx_data_rows(response)
    # The pages themselves are not exports.
    count = AccessLog.objects.filter(kind=AccessKind.EXPORT).count()
    assert client.get(reverse("dashboard:weekly")).status_code == 200
    assert AccessLog.objects.filter(kind=AccessKind.EXPORT).count() == count


def test_admin_export_action_is_logged_with_the_selection(client, issues, coordinator):
    client.force_login(coordinator)
    response = client.post(
        "/admin/issues/issue/?status__exact=assigned",
        {"action": "export_csv", "_selected_action": [issues[0].pk, issues[1].pk]},
    )
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    entry = latest(AccessKind.EXPORT)
    assert entry.target == "admin:issues_issue_changelist · export_csv"
    assert entry.query == "status__exact=assigned&selected=2" and entry.rows == 2


def test_evidence_file_downloads_are_not_exports(client, issues, staff_a, settings, tmp_path):
    from issues import attachments

    from . import evidence_samples as S

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    document = attachments.attach(
        by=staff_a, checked=attachments.check_upload(S.upload("台账.xlsx", S.xlsx())), issue=issues[0]
    )
    client.force_login(staff_a)
    assert client.get(reverse("issues:file", args=[document.pk])).status_code == 200
    assert not AccessLog.objects.filter(kind=AccessKind.EXPORT).exists()


# -- imports and feedback links -------------------------------------------------------------------


def test_survey_import_is_logged_and_a_preview_is_not(coordinator):
    data = SURVEY_FILE.read_bytes()
    arguments = dict(
        data=data, filename="2024-q1.csv", survey_name="2024年一季度", by=coordinator, create_issues=False
    )
    assert import_survey_file(**arguments, dry_run=True).ok
    assert not AccessLog.objects.filter(kind=AccessKind.IMPORT).exists()
    assert import_survey_file(**arguments, dry_run=False).ok
    entry = latest(AccessKind.IMPORT)
    assert entry.user == coordinator and entry.target == "2024年一季度" and entry.query == "2024-q1.csv"
    assert entry.rows == 12


def test_survey_import_command_is_logged(coordinator):
    call_command("import_survey", str(SURVEY_FILE), "--survey", "命令导入", stdout=io.StringIO())
    entry = latest(AccessKind.IMPORT)
    assert entry.target == "命令导入" and entry.rows == 12 and entry.ip == ""


def test_feedback_link_issued_is_logged(issues, coordinator):
    link = feedback_links.issue_link(issues[0], coordinator)
    entry = latest(AccessKind.FEEDBACK_LINK)
    assert entry.user == coordinator and entry.target == f"#{issues[0].pk}" and entry.rows == 1
    assert link.token not in entry.query and link.token not in entry.target  # never the link itself


# -- sign-ins -----------------------------------------------------------------------------------------


def test_sign_in_and_failed_sign_in_are_logged_without_the_password(client):
    user = UserFactory(username="zhang", role="official")
    response = client.post(reverse("login"), {"username": "zhang", "password": "wrong-password-123"})
    assert response.status_code == 200
    failed = latest(AccessKind.LOGIN_FAILED)
    assert failed.username == "zhang" and failed.user is None and failed.ip == "127.0.0.1"
    response = client.post(reverse("login"), {"username": "zhang", "password": PASSWORD})
    assert response.status_code == 302
    entry = latest(AccessKind.LOGIN)
    assert entry.user == user and entry.ip == "127.0.0.1"
    for row in AccessLog.objects.all():
        assert "wrong-password" not in f"{row.query}{row.target}{row.username}"
        assert PASSWORD not in f"{row.query}{row.target}{row.username}"


# -- searched by administrators only -------------------------------------------------------------------


def test_administrators_search_the_log_in_the_admin(client, issues, admin_user, coordinator, staff_a):
    client.force_login(staff_a)
    client.get(reverse("issues:export"), {"format": "csv", "q": "导出"})
    url = reverse("admin:issues_accesslog_changelist")
    client.force_login(admin_user)
    page = client.get(url, {"q": "staff_a"}).content.decode()
    assert "issues:export" in page and "staff_a" in page
    entry = latest(AccessKind.EXPORT)
    assert client.get(reverse("admin:issues_accesslog_change", args=[entry.pk])).status_code == 200
    assert (
        client.post(reverse("admin:issues_accesslog_delete", args=[entry.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert AccessLog.objects.filter(pk=entry.pk).exists()
    # Coordinators export: they do not read (or tidy) the log of it.
    client.force_login(coordinator)
    assert client.get(url).status_code == 403
    client.force_login(staff_a)
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


# -- retention ------------------------------------------------------------------------------------------


def test_prune_keeps_the_days_set_in_settings(settings, coordinator):
    settings.ACCESS_LOG_DAYS = 30
    now = timezone.now()
    for age in (400, 31, 29, 0):
        AccessLog.objects.create(kind=AccessKind.LOGIN, username=f"age{age}", at=now - timedelta(days=age))
    out = io.StringIO()
    call_command("prune_access_log", stdout=out)
    assert "2 access log entries" in out.getvalue()
    assert sorted(AccessLog.objects.values_list("username", flat=True)) == ["age0", "age29"]
    call_command("prune_access_log", "--days", "1", stdout=io.StringIO())
    assert list(AccessLog.objects.values_list("username", flat=True)) == ["age0"]
