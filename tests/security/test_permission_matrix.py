"""SECURITY.md 6, 11, 12, 13: every URL × every role × own/other department, as the matrix says.

The walker reads `get_resolver()`, so a page added later is either in the matrix or fails
`test_every_url_is_in_the_matrix`.
"""

import io
import re
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db.models import ForeignKey
from django.urls import reverse

from issues.models import Issue, IssueEvent
from issues.permissions import Action, can

from . import permission_matrix as M
from .conftest import B_CREDIT_CODE, B_TITLE
from .urlwalk import Route, walk

LOGIN_PATHS = ("/accounts/login/", "/admin/login/")


# -- filling URL parameters with real ids -------------------------------------------------------


def _admin_model(route: str):
    match = re.match(r"admin/(\w+)/(\w+)/", route)
    if not match:
        return None
    try:
        return apps.get_model(match[1], match[2])
    except LookupError:
        return None


def _admin_object_id(w, route: str, side: str) -> str:
    model = _admin_model(route)
    issue = w.issue_a if side == "own" else w.issue_b
    dept = w.dept_a if side == "own" else w.dept_b
    if model is None:
        return "1"
    if model is Issue:
        return str(issue.pk)
    if model._meta.model_name == "department":
        return str(dept.pk)
    if model._meta.model_name == "user":
        return str(w.users["department"].pk if side == "own" else w.official_b.pk)
    for field in model._meta.get_fields():
        if isinstance(field, ForeignKey) and field.related_model is Issue:
            obj = model._base_manager.filter(**{field.name: issue}).first()
            if obj is not None:
                return str(obj.pk)
    obj = model._base_manager.order_by("pk").first()
    return str(obj.pk) if obj else "999999"


def fill(route: Route, w, side: str, action: str = Action.RESOLVE) -> str:
    """The concrete path of `route` for the own (dept A) or other (dept B) side."""
    issue = w.issue_a if side == "own" else w.issue_b
    values = {}
    for param in route.params:
        if param == "pk":
            if route.name.startswith("enterprises:"):
                values[param] = (w.enterprise_a if side == "own" else w.enterprise_b).pk
            elif route.name.startswith("visits:"):
                values[param] = (w.visit_a if side == "own" else w.visit_b).pk
            elif route.name.startswith(("issues:", "dashboard:", "enterprise:")):
                values[param] = issue.pk
            elif route.name == "admin:enterprises_survey_import_job":
                # The matrix world has no import job: staff get the admin's 404. Owners,
                # other coordinators and superusers: tests/test_survey_import_jobs.py.
                values[param] = 999999
            else:
                raise LookupError(f"{route.name}: no filler for <pk>; add one in fill()")
        elif param == "action":
            values[param] = action
        elif param in ("object_id", "id"):
            values[param] = _admin_object_id(w, route.route, side)
        elif param == "content_type_id":
            values[param] = ContentType.objects.get_for_model(Issue).pk
        elif param == "app_label":
            values[param] = "issues"
        elif param == "url":
            values[param] = "no-such-page/"
        elif param == "token":
            values[param] = "not-a-valid-token"
        elif param == "uidb64":
            values[param] = "MQ"
        elif param in ("milestone_id", "milestone"):
            values[param] = (w.milestone_a if side == "own" else w.milestone_b).pk
        else:
            raise LookupError(f"{route.name}: no filler for URL parameter <{param}>; add one in fill()")
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(values[m[1]]), route.route)
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m[1]]), path)
    return "/" + path.replace("^", "").replace("$", "")


def check(response, expected: str) -> str | None:
    """None if the answer matches the expectation, else a description of the mismatch."""
    status = response.status_code
    if status not in M.ACCEPT[expected]:
        return f"{status} (expected {expected})"
    if expected == M.LOGIN and not response["Location"].startswith(LOGIN_PATHS):
        return f"302 to {response['Location']} (expected the login page)"
    return None


ROUTES = walk()


def _state():
    return (
        list(Issue.objects.order_by("pk").values_list("pk", "status", "version", "deadline", "owner_id")),
        IssueEvent.objects.count(),
    )


# -- 6 and 11: coverage and GET ----------------------------------------------------------------


def test_every_url_is_in_the_matrix():
    missing = sorted({r.name for r in ROUTES if M.get_expectation(r.name) is None})
    assert not missing, f"URLs without a row in tests/security/permission_matrix.py: {missing}"


def test_matrix_has_no_stale_rows():
    """Rows for URLs not (yet) built are listed, so a renamed URL does not go untested."""
    names = {r.name for r in ROUTES}
    stale = sorted(set(M.GET) - names)
    # Pages in the URL contract (TEAM.md) may still be under construction: report, not fail.
    contract = {
        "visits:create",
        "visits:plan",
        "visits:edit",
        "issues:export",
        "issues:action",
        "enterprises:lookup",
    }
    assert set(stale) <= contract, f"matrix rows for URLs that no longer exist: {stale}"


@pytest.mark.parametrize("role", M.ROLES)
def test_get_every_url_as_every_role(world, client_for, role):
    client = client_for(world.users[role])
    before = _state()
    failures, checked = [], 0
    for route in ROUTES:
        expected = M.get_expectation(route.name)
        for side in ("own", "other") if route.params else ("own",):
            path = fill(route, world, side)
            response = client.get(path)
            checked += 1
            problem = check(response, expected[role][side])
            if problem:
                failures.append(f"GET {path} [{route.name}] as {role}/{side}: {problem}")
    assert _state() == before, "a GET changed issues or events"
    assert checked >= len(ROUTES)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("role", ["anonymous", "inactive"])
def test_login_required_everywhere_except_the_allowlist(world, client_for, role):
    """SECURITY.md 6: every route but the allowlist sends a stranger to the login page."""
    client = client_for(world.users[role])
    leaks = []
    for route in ROUTES:
        if route.name in M.PUBLIC_ALLOWLIST:
            continue
        response = client.get(fill(route, world, "own"))
        if response.status_code != 302 or not response["Location"].startswith(LOGIN_PATHS):
            leaks.append(f"{route.name}: {response.status_code}")
    assert not leaks, leaks
    assert client.get("/static/app/app.css").status_code in (200, 302, 404)  # never data


# -- 11: actions (POST) ------------------------------------------------------------------------

ACTION_FORM = {
    "note": "安全测试",
    "resolution": "安全测试",
    "reason": "安全测试",
    "report": "安全测试",
    "title": "安全测试",
    "deadline": "2099-01-01",
    "due_on": "2099-01-01",
    "report_by": "2099-01-01",
    "contacted_on": "2020-01-01",
    "reply_satisfaction": "satisfied",
    "solution_satisfaction": "satisfied",
    "outcome": "duplicate",
    "approve": "1",
}


def test_action_rights_match_the_permission_module(world):
    """The matrix's action columns agree with `permissions.can`, for every action."""
    wrong = []
    for role, rights in M.ACTION_RIGHTS.items():
        user = world.users[role]
        for side, issue in (("own", world.issue_a), ("other", world.issue_b)):
            for action in Action.values:
                if action == Action.VIEW:
                    continue
                expected = action in rights[side]
                if can(user, action, issue) != expected:
                    wrong.append(f"{role}/{side}/{action}: can()={not expected}")
    assert not wrong, wrong


@pytest.mark.parametrize("role", M.ROLES)
def test_post_every_action_as_every_role(world, client_for, role):
    route = next(r for r in ROUTES if r.name == "issues:action")
    client = client_for(world.users[role])
    failures = []
    for side in ("own", "other"):
        issue = world.issue_a if side == "own" else world.issue_b
        for action in Action.values:
            if action == Action.VIEW:
                continue
            expected = M.action_post_expectation(role, side, action)
            issue.refresh_from_db()
            data = {**ACTION_FORM, "expected_version": issue.version, "version": issue.version}
            before = _state()
            response = client.post(fill(route, world, side, action), data)
            problem = check(response, expected)
            if problem:
                failures.append(f"POST {action} on {side} as {role}: {problem}")
            if expected in (M.DENY, M.LOGIN) and _state() != before:
                failures.append(f"POST {action} on {side} as {role}: refused but state changed")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("role", M.ROLES)
def test_post_on_other_endpoints(world, client_for, role):
    client = client_for(world.users[role])
    failures = []
    for route in ROUTES:
        if route.name not in M.POST:
            continue
        for side in ("own", "other") if route.params else ("own",):
            expected = M.POST[route.name][role][side]
            before = _state()
            response = client.post(fill(route, world, side), {})
            problem = check(response, expected)
            if problem:
                failures.append(f"POST {route.name} {side} as {role}: {problem}")
            if expected in (M.DENY, M.LOGIN) and _state() != before:
                failures.append(f"POST {route.name} {side} as {role}: refused but state changed")
    assert not failures, "\n".join(failures)


# -- 13: the leader reads, never writes ----------------------------------------------------------


def _counts():
    from enterprises.models import Enterprise
    from visits.models import Visit

    return (
        Issue.objects.count(),
        IssueEvent.objects.count(),
        Visit.objects.count(),
        Enterprise.objects.count(),
    )


def test_leader_every_post_is_refused(world, client_for):
    client = client_for(world.users["leader"])
    failures, tried, deviations = [], 0, set()
    for route in ROUTES:
        if route.name in M.POST_EXEMPT:
            continue
        for side in ("own", "other") if route.params else ("own",):
            actions = [a for a in Action.values if a != Action.VIEW] if "action" in route.params else [None]
            for action in actions:
                path = fill(route, world, side, action or Action.RESOLVE)
                before = (_state(), _counts())
                response = client.post(path, ACTION_FORM)
                tried += 1
                ok = response.status_code in (403, 404, 405) or (
                    route.is_admin
                    and response.status_code == 302
                    and response["Location"].startswith("/admin/login/")
                )
                if not ok and route.name in M.KNOWN_POST_DEVIATIONS and response.status_code == 200:
                    deviations.add(route.name)
                elif not ok:
                    failures.append(f"POST {path} [{route.name}]: {response.status_code}")
                if (_state(), _counts()) != before:
                    failures.append(f"POST {path} [{route.name}]: data changed")
    assert tried >= len(ROUTES) - len(M.POST_EXEMPT)
    assert not failures, "\n".join(failures)
    if deviations:
        print("known POST deviations (data unchanged):", sorted(deviations))


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.post_actions = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self.post_actions.append(attrs.get("action") or "")


def test_leader_sees_dashboard_and_no_action_buttons(world, client_for):
    client = client_for(world.users["leader"])
    assert client.get(reverse("dashboard:index")).status_code == 200
    for issue in (world.issue_a, world.issue_b):
        response = client.get(reverse("issues:detail", args=[issue.pk]))
        assert response.status_code == 200
        parser = _Forms()
        parser.feed(response.content.decode())
        allowed = {reverse("logout"), reverse("set_language")}
        assert set(parser.post_actions) <= allowed, parser.post_actions


# -- 12: secondary endpoints never show another department's issue -------------------------------


def _body_text(response) -> str:
    content_type = response.get("Content-Type", "")
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    if "spreadsheetml" in content_type:
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(raw), read_only=True)
        return "\n".join(
            str(cell) for sheet in book.worksheets for r in sheet.iter_rows(values_only=True) for cell in r
        )
    return raw.decode("utf-8", "replace")


def _secondary_paths(world) -> list[tuple[str, bool]]:
    """(path, issue-centric?) — issue-centric pages must not show B's credit code either."""
    b = world.issue_b
    params = [
        "",
        # Parts of B's markers: a search box echoing the term must not count as a leak.
        "?q=BRAVO",
        f"?q={B_CREDIT_CODE[-8:]}",
        f"?department={world.dept_b.pk}",
        f"?enterprise={world.enterprise_b.pk}",
        f"?status=assigned&department={world.dept_b.pk}&ordering=-deadline",
    ]
    paths = []
    for name in ("home", "issues:list", "dashboard:index", "dashboard:weekly"):
        paths += [(reverse(name) + p, True) for p in params]
    paths.append((reverse("dashboard:weekly") + "?format=xlsx", True))
    export = reverse("issues:export")
    for fmt in ("csv", "xlsx"):
        paths += [(f"{export}{p or '?'}&format={fmt}", True) for p in params]
    # Dashboard drill-downs are issue-list URLs with figure parameters.
    paths += [
        (reverse("issues:list") + f"?response=in_time&resolved_on_time=1&department={world.dept_b.pk}", True),
        (reverse("issues:list") + "?solution_satisfaction=any", True),
    ]
    paths.append(
        (
            "/admin/autocomplete/?app_label=issues&model_name=issue&field_name=common_issue&term=BRAVO",
            True,
        )
    )
    paths.append((f"/admin/issues/issue/{b.pk}/change/", True))
    # Shared reference pages: they may show B's enterprise, never B's issue.
    paths.append((reverse("enterprises:detail", args=[world.enterprise_b.pk]), False))
    paths.append((reverse("visits:detail", args=[world.visit_b.pk]), False))
    paths.append((reverse("issues:detail", args=[b.pk]), True))
    return paths


@pytest.mark.parametrize("role", ["department", "official"])
def test_no_other_department_issue_in_any_body(world, client_for, role):
    client = client_for(world.users[role])
    leaks, tried = [], 0
    paths = _secondary_paths(world)
    # ...and every GET route of the walker, with B's ids where it takes any.
    paths += [(fill(r, world, "other"), r.name.startswith(("issues:", "dashboard:"))) for r in ROUTES]
    for path, issue_centric in paths:
        response = client.get(path)
        tried += 1
        assert response.status_code != 500, path
        body = _body_text(response)
        if B_TITLE in body:
            leaks.append(f"{path}: shows dept B's issue title")
        if issue_centric and B_CREDIT_CODE in body:
            leaks.append(f"{path}: shows dept B's credit code")
    assert tried > 40
    assert not leaks, "\n".join(leaks)


def test_other_department_sees_own_issue(world, client_for):
    """The other side of the boundary: dept A's own issue does show (the check can fail)."""
    client = client_for(world.users["department"])
    assert world.issue_a.title in client.get(reverse("issues:list")).content.decode()
    assert (
        world.issue_a.title in client.get(reverse("issues:detail", args=[world.issue_a.pk])).content.decode()
    )
