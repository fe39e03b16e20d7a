"""SECURITY.md 18 (CSRF, safe methods) and 19 (no raw SQL anywhere in our code)."""

import re
from pathlib import Path

from django.test import Client
from django.urls import reverse

from issues.models import Issue, IssueEvent

from .conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]


def _state():
    return list(
        Issue.objects.order_by("pk").values_list("pk", "status", "version")
    ), IssueEvent.objects.count()


def test_action_post_without_csrf_token_is_refused(world):
    url = reverse("issues:action", args=[world.issue_a.pk, "progress"])
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["coordinator"])
    before = _state()
    response = client.post(url, {"note": "无令牌", "expected_version": world.issue_a.version})
    assert response.status_code == 403
    assert _state() == before


def test_action_url_refuses_get(world, client_for):
    url = reverse("issues:action", args=[world.issue_a.pk, "resolve"])
    before = _state()
    for method in ("get", "head"):
        response = getattr(client_for(world.users["coordinator"]), method)(url + "?resolution=x")
        assert response.status_code == 405
    assert _state() == before


def test_login_without_csrf_token_is_refused(staff_a):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "staff_a", "password": PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_login_with_csrf_token_works(staff_a):
    """The other side: the real form, token included, signs in."""
    client = Client(enforce_csrf_checks=True)
    page = client.get(reverse("login"))
    token = page.cookies["csrftoken"].value
    response = client.post(
        reverse("login"), {"username": "staff_a", "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302


def test_visit_create_without_csrf_token_is_refused(world):
    url = reverse("visits:create")
    from visits.models import Visit

    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["official"])
    count = Visit.objects.count()
    assert client.post(url, {"enterprise": world.enterprise_a.pk}).status_code == 403
    assert Visit.objects.count() == count


RAW_SQL = re.compile(r"\.raw\(|\.extra\(|\bRawSQL\b")
# Files that may use them, each with its reason: none. This file only names the patterns.
ALLOWED = {"tests/security/test_csrf_and_code.py"}


def test_no_raw_sql_in_our_code():
    offenders = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        if (
            rel.startswith((".venv/", "staticfiles/", "node_modules/"))
            or "/migrations/" in rel
            or rel in ALLOWED
        ):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if RAW_SQL.search(line):
                offenders.append(f"{rel}:{number}: {line.strip()}")
    assert not offenders, "raw SQL found:\n" + "\n".join(offenders)


def test_the_grep_would_find_raw_sql():
    assert RAW_SQL.search("Issue.objects.raw('SELECT 1')")
    assert RAW_SQL.search("qs.extra(where=['1=1'])")
    assert RAW_SQL.search("from django.db.models.expressions import RawSQL")
