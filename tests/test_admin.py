"""The coordinators' admin, through the real admin views: triage actions that call the
workflow, read-only status and timeline, guards against forged posts, and query counts
that do not grow with the data."""

import csv
import io
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from issues import workflow
from issues.models import (
    EventKind,
    Issue,
    IssueEvent,
    Outcome,
    Satisfaction,
    Scope,
    Source,
    Status,
)
from visits.models import Visit

from .factories import (
    EnterpriseFactory,
    IssueFactory,
    OfficialFactory,
    UserFactory,
    VisitFactory,
    category,
)

CHANGELIST = "admin:issues_issue_changelist"
# The same bound at 20 and at 200 issues: a page whose cost grew per row would fail at 200.
# Measured (SQLite): 11, 10, 9, 8 and 12; the slack of 2 covers the session write that
# the idle-timeout middleware makes once a minute.
MAX_QUERIES = {
    "issue_changelist": 13,
    "issue_change": 12,
    "visit_changelist": 11,
    "event_changelist": 10,
    "visit_change": 14,
}


@pytest.fixture(autouse=True)
def _english(settings):
    # Assert on the English source strings, whatever catalogues are compiled.
    settings.LANGUAGE_CODE = "en"


def changelist_url():
    return reverse(CHANGELIST)


def change_url(issue):
    return reverse("admin:issues_issue_change", args=[issue.pk])


def post_action(client, action, issues, **data):
    return client.post(
        changelist_url(),
        {"action": action, "_selected_action": [i.pk for i in issues], **data},
    )


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


def change_form_data(response) -> dict:
    """What the browser would post back: the form's current values and the inlines'
    management forms (the inlines themselves are read-only)."""
    form = response.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is not None:  # an empty field is simply not posted
            data[name] = value
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
    return data


def events(issue):
    return list(IssueEvent.objects.filter(issue=issue).values_list("kind", flat=True))


# -- the whole life through the admin -------------------------------------------------------------


def test_coordinator_takes_new_issue_to_closed_with_full_timeline(
    as_user, coordinator, staff_a, dept_a, new_issue, today
):
    client = as_user(coordinator)
    listing = client.get(changelist_url())
    assert listing.status_code == 200
    assert new_issue.title in listing.content.decode()

    # Step 1 of the action: the intermediate form lists the selected issue.
    form_page = post_action(client, "assign_issues", [new_issue])
    assert form_page.status_code == 200
    body = form_page.content.decode()
    assert "Assign issues" in body and new_issue.title in body
    assert 'name="deadline"' in body and 'name="owner"' in body

    # Step 2: department, owner and deadline in one go.
    deadline = today + timedelta(days=20)
    response = post_action(
        client,
        "assign_issues",
        [new_issue],
        apply="1",
        department=dept_a.pk,
        owner=staff_a.pk,
        deadline=deadline.isoformat(),
        note="请发改委牵头",
    )
    assert response.status_code == 302
    new_issue.refresh_from_db()
    assert new_issue.status == Status.ASSIGNED
    assert (new_issue.lead_department, new_issue.owner, new_issue.deadline) == (dept_a, staff_a, deadline)
    assert new_issue.original_deadline == deadline
    assert "1 issue assigned." in messages_of(client.get(changelist_url()))

    # The department works on it in its browser pages (the same workflow functions).
    workflow.start(issue_id=new_issue.pk, by=staff_a, note="已对接企业")
    workflow.resolve(issue_id=new_issue.pk, by=staff_a, resolution="能评审批已办结")
    workflow.confirm(
        issue_id=new_issue.pk,
        by=coordinator,
        contacted_on=today,
        reply_satisfaction=Satisfaction.SATISFIED,
        solution_satisfaction=Satisfaction.SATISFIED,
    )
    new_issue.refresh_from_db()
    assert new_issue.status == Status.CLOSED

    page = client.get(change_url(new_issue))
    assert page.status_code == 200
    body = page.content.decode()
    for kind in (
        EventKind.ASSIGNED,
        EventKind.STARTED,
        EventKind.RESOLVED,
        EventKind.FEEDBACK,
        EventKind.CONFIRMED,
    ):
        assert str(kind.label) in body
    assert "请发改委牵头" in body and "能评审批已办结" in body
    # A closed issue is shown read-only: no save button.
    assert 'name="_save"' not in body
    assert events(new_issue) == [
        EventKind.ASSIGNED,
        EventKind.STARTED,
        EventKind.RESOLVED,
        EventKind.FEEDBACK,
        EventKind.CONFIRMED,
    ]


def test_assign_keeps_successes_and_reports_each_failure(
    as_user, coordinator, dept_a, staff_a, official, today
):
    fresh = IssueFactory(raised_by=official, visit__created_by=official)
    taken = IssueFactory(raised_by=official, visit__created_by=official)
    workflow.assign(issue_id=taken.pk, by=coordinator, department=dept_a, deadline=today + timedelta(days=5))
    client = as_user(coordinator)
    response = post_action(
        client,
        "assign_issues",
        [fresh, taken],
        apply="1",
        department=dept_a.pk,
        deadline=(today + timedelta(days=10)).isoformat(),
    )
    assert response.status_code == 302
    fresh.refresh_from_db()
    taken.refresh_from_db()
    assert fresh.status == Status.ASSIGNED and fresh.deadline == today + timedelta(days=10)
    assert taken.deadline == today + timedelta(days=5)  # untouched
    shown = messages_of(client.get(changelist_url()))
    assert "1 issue assigned." in shown
    assert any(m.startswith(f"#{taken.pk} ") and "Assigned" in m for m in shown)


def test_assign_form_refuses_owner_outside_department(
    as_user, coordinator, dept_a, staff_b, new_issue, today
):
    response = post_action(
        as_user(coordinator),
        "assign_issues",
        [new_issue],
        apply="1",
        department=dept_a.pk,
        owner=staff_b.pk,
        deadline=(today + timedelta(days=10)).isoformat(),
    )
    assert response.status_code == 200
    assert "is not a member of 市发展改革委" in response.content.decode()
    new_issue.refresh_from_db()
    assert new_issue.status == Status.NEW
    assert events(new_issue) == []


def test_assign_form_refuses_past_deadline(as_user, coordinator, dept_a, new_issue, today):
    response = post_action(
        as_user(coordinator),
        "assign_issues",
        [new_issue],
        apply="1",
        department=dept_a.pk,
        deadline=(today - timedelta(days=1)).isoformat(),
    )
    assert response.status_code == 200
    assert "cannot be in the past" in response.content.decode()
    new_issue.refresh_from_db()
    assert new_issue.status == Status.NEW


def test_merge_into_existing_common_issue(as_user, coordinator, official):
    first = IssueFactory(raised_by=official, visit__created_by=official)
    second = IssueFactory(raised_by=official, visit__created_by=official)
    common = workflow.create_common_issue(
        by=coordinator, title="园区用电增容普遍困难", category=category("energy")
    )
    client = as_user(coordinator)
    form_page = post_action(client, "merge_into_common_issue", [first, second])
    assert form_page.status_code == 200
    assert "园区用电增容普遍困难" in form_page.content.decode()  # offered as a choice

    response = post_action(
        client, "merge_into_common_issue", [first, second], apply="1", common_issue=common.pk, note="同类问题"
    )
    assert response.status_code == 302
    for issue in (first, second):
        issue.refresh_from_db()
        assert issue.common_issue == common
        assert events(issue) == [EventKind.MERGED]


def test_merge_creates_a_new_common_issue(as_user, coordinator, official):
    first = IssueFactory(raised_by=official, visit__created_by=official)
    second = IssueFactory(raised_by=official, visit__created_by=official)
    response = post_action(
        as_user(coordinator),
        "merge_into_common_issue",
        [first, second],
        apply="1",
        title="融资担养难",
        category=category("financing").pk,
    )
    assert response.status_code == 302
    common = Issue.objects.get(scope=Scope.COMMON)
    assert common.title == "融资担养难" and common.enterprise is None
    assert events(common) == [EventKind.RAISED]
    assert set(common.linked_issues.all()) == {first, second}


def test_merge_needs_a_target(as_user, coordinator, new_issue):
    response = post_action(as_user(coordinator), "merge_into_common_issue", [new_issue], apply="1")
    assert response.status_code == 200
    assert "Pick an existing common issue or give a title" in response.content.decode()
    assert not Issue.objects.filter(scope=Scope.COMMON).exists()


def test_close_as_duplicate_with_reason(as_user, coordinator, new_issue):
    client = as_user(coordinator)
    without_reason = post_action(
        client, "close_issues", [new_issue], apply="1", outcome=Outcome.DUPLICATE, reason=""
    )
    assert without_reason.status_code == 200
    new_issue.refresh_from_db()
    assert new_issue.status == Status.NEW

    response = post_action(
        client, "close_issues", [new_issue], apply="1", outcome=Outcome.DUPLICATE, reason="与#12重复"
    )
    assert response.status_code == 302
    new_issue.refresh_from_db()
    assert (new_issue.status, new_issue.outcome, new_issue.close_reason) == (
        Status.CLOSED,
        Outcome.DUPLICATE,
        "与#12重复",
    )
    assert events(new_issue) == [EventKind.CLOSED]


def test_export_selected_csv_and_xlsx(as_user, coordinator, official):
    issue = IssueFactory(raised_by=official, visit__created_by=official, title='=HYPERLINK("x")')
    other = IssueFactory(raised_by=official, visit__created_by=official)
    client = as_user(coordinator)
    response = post_action(client, "export_csv", [issue])
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 2
    assert rows[1][0] == str(issue.pk)
    assert rows[1][1] == '\'=HYPERLINK("x")'  # neutralised: never a formula
    assert rows[1][3] == issue.enterprise.credit_code
    assert other.title not in response.content.decode("utf-8-sig")

    xlsx = post_action(client, "export_xlsx", [issue, other])
    assert xlsx.status_code == 200
    assert xlsx.content[:2] == b"PK"


def test_add_goes_through_raise_issue(as_user, coordinator):
    enterprise = EnterpriseFactory()
    client = as_user(coordinator)
    assert client.get(reverse("admin:issues_issue_add")).status_code == 200
    response = client.post(
        reverse("admin:issues_issue_add"),
        {
            "enterprise": enterprise.pk,
            "source": Source.ENTERPRISE_REQUEST,
            "title": "企业来电：招工难",
            "description": "需要用工对接",
            "category": category("labour").pk,
            "priority": "high",
            "status": Status.CLOSED,  # forged: ignored
        },
    )
    assert response.status_code == 302
    issue = Issue.objects.get(title="企业来电：招工难")
    assert issue.status == Status.NEW
    assert issue.raised_by == coordinator
    assert issue.respond_by is not None  # set by the workflow, not by a bare save()
    assert events(issue) == [EventKind.RAISED]


# -- guards -----------------------------------------------------------------------------------------


def test_forged_status_on_change_form_is_ignored(as_user, coordinator, new_issue, dept_a):
    client = as_user(coordinator)
    page = client.get(change_url(new_issue))
    assert page.status_code == 200
    assert 'name="status"' not in page.content.decode()
    assert 'name="expected_version" value="1"' in page.content.decode()
    data = change_form_data(page)
    data.update(
        {
            "title": "改过的标题",
            "status": Status.CLOSED,
            "outcome": Outcome.RESOLVED,
            "lead_department": dept_a.pk,
            "deadline": "2030-01-01",
            "version": "99",
            "_save": "Save",
        }
    )
    response = client.post(change_url(new_issue), data)
    assert response.status_code == 302
    new_issue.refresh_from_db()
    assert new_issue.title == "改过的标题"  # the allowed field changed ...
    assert new_issue.status == Status.NEW  # ... the workflow fields did not
    assert new_issue.outcome == "" and new_issue.lead_department is None and new_issue.deadline is None
    assert new_issue.version == 2
    assert events(new_issue) == [EventKind.EDITED]


def test_stale_edit_is_refused_and_first_edit_kept(client, coordinator, new_issue):
    other = UserFactory(username="coordinator2", role="coordinator")
    a, b = client, Client()
    a.force_login(coordinator)
    b.force_login(other)
    form_a = change_form_data(a.get(change_url(new_issue)))
    form_b = change_form_data(b.get(change_url(new_issue)))

    saved = a.post(change_url(new_issue), {**form_a, "title": "A的标题", "_save": "Save"})
    assert saved.status_code == 302

    refused = b.post(change_url(new_issue), {**form_b, "title": "B的标题", "_save": "Save"})
    assert refused.status_code == 200
    assert "changed by someone else" in refused.content.decode()
    new_issue.refresh_from_db()
    assert new_issue.title == "A的标题"
    assert events(new_issue) == [EventKind.EDITED]


def test_issue_cannot_be_deleted(as_user, coordinator, new_issue):
    client = as_user(coordinator)
    assert (
        client.post(reverse("admin:issues_issue_delete", args=[new_issue.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert Issue.objects.filter(pk=new_issue.pk).exists()


def test_issue_event_is_read_only_in_admin(as_user, coordinator, dept_a, new_issue, today):
    workflow.assign(
        issue_id=new_issue.pk, by=coordinator, department=dept_a, deadline=today + timedelta(days=5)
    )
    event = IssueEvent.objects.get(issue=new_issue)
    client = as_user(coordinator)
    url = reverse("admin:issues_issueevent_change", args=[event.pk])
    assert client.get(url).status_code == 200  # can read it
    assert (
        client.post(reverse("admin:issues_issueevent_delete", args=[event.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert client.post(url, {"note": "rewritten", "kind": "closed"}).status_code == 403
    assert client.get(reverse("admin:issues_issueevent_add")).status_code == 403
    event.refresh_from_db()
    assert event.note == "" and event.kind == EventKind.ASSIGNED
    listing = client.get(reverse("admin:issues_issueevent_changelist"))
    assert "delete_selected" not in listing.content.decode()


def test_department_staff_is_sent_to_their_start_page_not_the_admin_login(as_user, staff_a):
    response = as_user(staff_a).get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == reverse("home")
    assert "not authorized to access this page" not in response.content.decode()


@pytest.mark.parametrize("role", ["department", "leader"])
def test_actions_refused_for_staff_who_are_not_coordinators(as_user, role, dept_a, new_issue, today):
    # Even a user let into the admin (is_staff) without the coordinator role: no triage.
    user = UserFactory(username=f"staff-{role}", role=role, department=dept_a, is_staff=True)
    client = as_user(user)
    listing = client.get(changelist_url())
    body = listing.content.decode()
    assert "assign_issues" not in body and "close_issues" not in body
    response = post_action(
        client,
        "assign_issues",
        [new_issue],
        apply="1",
        department=dept_a.pk,
        deadline=(today + timedelta(days=10)).isoformat(),
    )
    assert response.status_code in (200, 302, 403)
    post_action(client, "close_issues", [new_issue], apply="1", outcome=Outcome.DUPLICATE, reason="x")
    new_issue.refresh_from_db()
    assert new_issue.status == Status.NEW
    assert events(new_issue) == []


def test_coordinator_is_offered_the_actions(as_user, coordinator, new_issue):
    body = as_user(coordinator).get(changelist_url()).content.decode()
    for action in ("assign_issues", "merge_into_common_issue", "close_issues", "export_csv", "export_xlsx"):
        assert f'value="{action}"' in body
    assert "delete_selected" not in body


def test_department_admin_sees_only_its_issues(as_user, dept_a, dept_b, coordinator, official, today):
    mine = IssueFactory(raised_by=official, visit__created_by=official, title="甲局的问题")
    theirs = IssueFactory(raised_by=official, visit__created_by=official, title="乙局的问题")
    workflow.assign(issue_id=mine.pk, by=coordinator, department=dept_a, deadline=today + timedelta(days=5))
    workflow.assign(issue_id=theirs.pk, by=coordinator, department=dept_b, deadline=today + timedelta(days=5))
    user = UserFactory(username="dept-a-admin", role="department", department=dept_a, is_staff=True)
    client = as_user(user)
    body = client.get(changelist_url()).content.decode()
    assert "甲局的问题" in body and "乙局的问题" not in body
    assert client.get(change_url(theirs)).status_code == 302  # "does not exist" redirect
    events_body = client.get(reverse("admin:issues_issueevent_changelist")).content.decode()
    assert "乙局的问题" not in events_body


def test_list_search_by_credit_code_and_enterprise_name(as_user, coordinator, official):
    issue = IssueFactory(raised_by=official, visit__created_by=official, title="要找的问题")
    IssueFactory(raised_by=official, visit__created_by=official, title="别的问题")
    client = as_user(coordinator)
    for term in (issue.enterprise.credit_code, issue.enterprise.name):
        body = client.get(changelist_url(), {"q": term}).content.decode()
        assert "要找的问题" in body and "别的问题" not in body


def test_list_filters_by_colour_overdue_and_due_soon(as_user, coordinator, dept_a, official, today):
    late = IssueFactory(raised_by=official, visit__created_by=official, title="已超期的问题")
    soon = IssueFactory(raised_by=official, visit__created_by=official, title="即将到期的问题")
    calm = IssueFactory(raised_by=official, visit__created_by=official, title="时间充裕的问题")
    for issue, days in ((late, 2), (soon, 1), (calm, 60)):
        workflow.assign(
            issue_id=issue.pk, by=coordinator, department=dept_a, deadline=today + timedelta(days=days)
        )
    # Overdue: move the deadline into the past in the database (time passing).
    Issue.objects.filter(pk=late.pk).update(deadline=today - timedelta(days=3))
    client = as_user(coordinator)

    def titles(query):
        body = client.get(changelist_url() + query).content.decode()
        return {t for t in ("已超期的问题", "即将到期的问题", "时间充裕的问题") if t in body}

    assert titles("?overdue=yes") == {"已超期的问题"}
    assert titles("?colour=red") == {"已超期的问题"}
    assert titles("?due_soon=yes") == {"即将到期的问题"}
    assert titles("?colour=blue") == {"即将到期的问题"}
    assert titles("") == {"已超期的问题", "即将到期的问题", "时间充裕的问题"}
    body = client.get(changelist_url()).content.decode()
    assert "3 days overdue" in body and 'class="colour-red"' in body


# -- query counts -----------------------------------------------------------------------------------

MEASURED: dict[tuple[str, int], int] = {}


def make_issues(n, coordinator, dept, owner, today):
    """n issues over a handful of enterprises and visits; a third assigned, a few closed."""
    official_user = UserFactory(username="seed-official", role="official")
    leaders = [OfficialFactory(), OfficialFactory()]
    enterprises = [EnterpriseFactory() for _ in range(10)]
    visits = [
        VisitFactory(enterprise=e, created_by=official_user, lead_officials=leaders) for e in enterprises
    ]
    issues = []
    for i in range(n):
        visit = visits[i % len(visits)]
        issue = IssueFactory(enterprise=visit.enterprise, visit=visit, raised_by=official_user)
        if i % 3 == 0:
            workflow.assign(
                issue_id=issue.pk,
                by=coordinator,
                department=dept,
                owner=owner,
                deadline=today + timedelta(days=i % 9),
            )
        elif i % 7 == 0:
            workflow.close(
                issue_id=issue.pk, by=coordinator, outcome=Outcome.NOT_ACTIONABLE, reason="不属政府职能"
            )
        issues.append(issue)
    # Visits grow with the data too.
    for i in range(n // 2):
        VisitFactory(enterprise=enterprises[i % 10], created_by=official_user, lead_officials=leaders)
    return issues


@pytest.mark.parametrize("n", [20, 200])
def test_admin_pages_stay_within_a_fixed_number_of_queries(
    n, as_user, coordinator, dept_a, staff_a, today, django_assert_max_num_queries
):
    issues = make_issues(n, coordinator, dept_a, staff_a, today)
    # The viewed issue's timeline grows with the data as well.
    target = issues[0]
    for k in range(n // 10):
        workflow.post_progress(issue_id=target.pk, by=staff_a, note=f"进展{k}")
    workflow.add_milestone(issue_id=target.pk, by=staff_a, title="完成审批", due_on=today + timedelta(days=3))
    client = as_user(coordinator)
    client.get(changelist_url())  # warm the session row

    pages = {
        "issue_changelist": changelist_url(),
        "issue_change": change_url(target),
        "visit_changelist": reverse("admin:visits_visit_changelist"),
        "event_changelist": reverse("admin:issues_issueevent_changelist"),
        # The first visit carries a tenth of the issues: its inline grows with the data.
        "visit_change": reverse("admin:visits_visit_change", args=[target.visit_id]),
    }
    for name, url in pages.items():
        with django_assert_max_num_queries(MAX_QUERIES[name]) as captured:
            response = client.get(url)
        assert response.status_code == 200, name
        MEASURED[(name, n)] = len(captured.captured_queries)
    # The filtered list too: filters add no per-row queries.
    with django_assert_max_num_queries(MAX_QUERIES["issue_changelist"]):
        assert client.get(changelist_url() + "?status__exact=assigned&colour=blue").status_code == 200
    assert Visit.objects.count() >= 10 + n // 2
    print(f"\nadmin query counts at {n} issues:", {k: v for (k, size), v in MEASURED.items() if size == n})


# -- visits -----------------------------------------------------------------------------------------


def test_coordinator_adds_and_edits_a_visit_in_admin(as_user, coordinator, official, today):
    enterprise = EnterpriseFactory()
    leader = OfficialFactory(name="王副市长")
    client = as_user(coordinator)
    add_url = reverse("admin:visits_visit_add")
    data = change_form_data(client.get(add_url))
    data.update(
        {
            "enterprise": enterprise.pk,
            "visited_on": today.isoformat(),
            "status": "completed",
            "lead_officials": [leader.pk],
            "topics": ["orders", "financing"],
            "summary": "了解订单情况",
            "created_by": official.pk,  # forged: the admin records who added it
            "_save": "Save",
        }
    )
    assert client.post(add_url, data).status_code == 302
    visit = Visit.objects.get(enterprise=enterprise)
    assert visit.created_by == coordinator
    assert visit.topics == ["orders", "financing"]
    assert list(visit.lead_officials.all()) == [leader]

    change = reverse("admin:visits_visit_change", args=[visit.pk])
    data = change_form_data(client.get(change))
    data.update({"summary": "补充：融资需求", "_save": "Save"})
    assert client.post(change, data).status_code == 302
    visit.refresh_from_db()
    assert visit.summary == "补充：融资需求"
    assert visit.version == 2  # a page form loaded before this edit is now stale
    assert visit.created_by == coordinator
    listing = client.get(reverse("admin:visits_visit_changelist")).content.decode()
    assert "王副市长" in listing


# -- extension requests and objections ---------------------------------------------------------------


@pytest.fixture
def assigned_issue(new_issue, coordinator, dept_a, staff_a, today):
    workflow.assign(
        issue_id=new_issue.pk,
        by=coordinator,
        department=dept_a,
        owner=staff_a,
        deadline=today + timedelta(days=10),
    )
    new_issue.refresh_from_db()
    return new_issue


def test_coordinator_approves_and_refuses_extensions(
    as_user, coordinator, staff_a, assigned_issue, official, today
):
    ext = workflow.request_extension(
        issue_id=assigned_issue.pk, by=staff_a, deadline=today + timedelta(days=30), reason="需等待环评批复"
    )
    client = as_user(coordinator)
    url = reverse("admin:issues_extensionrequest_changelist")
    assert client.post(url, {"action": "approve", "_selected_action": [ext.pk]}).status_code == 302
    assigned_issue.refresh_from_db()
    assert assigned_issue.deadline == today + timedelta(days=30)
    assert assigned_issue.original_deadline == today + timedelta(days=10)

    second = workflow.request_extension(
        issue_id=assigned_issue.pk, by=staff_a, deadline=today + timedelta(days=60), reason="再延期"
    )
    form_page = client.post(url, {"action": "refuse", "_selected_action": [second.pk]})
    assert form_page.status_code == 200 and assigned_issue.title in form_page.content.decode()
    response = client.post(
        url, {"action": "refuse", "_selected_action": [second.pk], "apply": "1", "note": "理由不充分"}
    )
    assert response.status_code == 302
    second.refresh_from_db()
    assigned_issue.refresh_from_db()
    assert second.status == "refused" and second.decision_note == "理由不充分"
    assert assigned_issue.deadline == today + timedelta(days=30)
    assert EventKind.EXTENSION_APPROVED in events(assigned_issue)
    assert EventKind.EXTENSION_REFUSED in events(assigned_issue)


def test_coordinator_upholds_an_objection_and_reassigns(
    as_user, coordinator, staff_a, staff_b, dept_b, assigned_issue
):
    objection = workflow.object_to_assignment(issue_id=assigned_issue.pk, by=staff_a, reason="属税务事项")
    client = as_user(coordinator)
    url = reverse("admin:issues_objection_changelist")
    response = client.post(
        url,
        {
            "action": "uphold",
            "_selected_action": [objection.pk],
            "apply": "1",
            "department": dept_b.pk,
            "owner": staff_b.pk,
        },
    )
    assert response.status_code == 302
    assigned_issue.refresh_from_db()
    assert (assigned_issue.lead_department, assigned_issue.owner) == (dept_b, staff_b)
    assert events(assigned_issue)[-1] == EventKind.OBJECTION_UPHELD


def test_objection_rejected_keeps_assignment_and_needs_reason(
    as_user, coordinator, staff_a, dept_a, assigned_issue
):
    objection = workflow.object_to_assignment(issue_id=assigned_issue.pk, by=staff_a, reason="不归我们")
    client = as_user(coordinator)
    url = reverse("admin:issues_objection_changelist")
    no_reason = client.post(url, {"action": "reject", "_selected_action": [objection.pk], "apply": "1"})
    assert no_reason.status_code == 200
    objection.refresh_from_db()
    assert objection.status == "pending"
    client.post(
        url, {"action": "reject", "_selected_action": [objection.pk], "apply": "1", "note": "职责清单明确"}
    )
    objection.refresh_from_db()
    assigned_issue.refresh_from_db()
    assert objection.status == "refused"
    assert assigned_issue.lead_department == dept_a
    assert events(assigned_issue)[-1] == EventKind.OBJECTION_REJECTED


def test_decisions_refused_for_non_coordinator_staff(as_user, dept_a, staff_a, assigned_issue, today):
    ext = workflow.request_extension(
        issue_id=assigned_issue.pk, by=staff_a, deadline=today + timedelta(days=30), reason="需等待批复"
    )
    viewer = UserFactory(username="leader-staff", role="leader", is_staff=True)
    client = as_user(viewer)
    url = reverse("admin:issues_extensionrequest_changelist")
    assert 'value="approve"' not in client.get(url).content.decode()
    client.post(url, {"action": "approve", "_selected_action": [ext.pk]})
    ext.refresh_from_db()
    assert ext.status == "pending"


# -- city scale: no COUNT(*) over the whole table ---------------------------------------------------


def test_changelist_paginator_estimates_only_the_unfiltered_list(new_issue, official, coordinator):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from issues.admin import EstimatedCountPaginator

    IssueFactory(raised_by=official, visit__created_by=official)
    workflow.create_common_issue(by=coordinator, title="多家企业反映用电增容难", category=category())
    assert EstimatedCountPaginator(Issue.objects.filter(status="new"), 25).count == 3  # filtered: exact
    with CaptureQueriesContext(connection) as queries:
        total = EstimatedCountPaginator(Issue.objects.order_by("-raised_on", "-id"), 25).count
    assert total == 3  # a small table: counted exactly
    if connection.vendor == "postgresql":
        assert "reltuples" in queries[0]["sql"]  # the planner's estimate asked first, not a scan


def test_changelist_shows_25_rows(as_user, coordinator, official):
    for _ in range(27):
        IssueFactory(raised_by=official, visit__created_by=official)
    body = as_user(coordinator).get(changelist_url()).content.decode()
    assert body.count('class="action-select"') == 25


def test_a_robot_address_typed_without_scheme_is_kept_as_https(as_user, admin_user, dept_a):
    response = as_user(admin_user).post(
        reverse("admin:issues_department_change", args=[dept_a.pk]),
        {
            "name": dept_a.name,
            "short_name": "发改委",
            "is_active": "on",
            "chat_webhook": "qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc",
            "members": [],
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    dept_a.refresh_from_db()
    assert dept_a.chat_webhook == "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"
