"""The change trail (issue 13): old and new values of every change to visits, enterprises,
contacts, departments, users and their groups, and an issue's details (django-simple-history),
shown to coordinators and administrators only."""

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from enterprises.models import Contact, District, Enterprise
from enterprises.survey_import import import_survey_file
from issues import trail, workflow
from issues.models import Department, Issue, Priority
from visits import services
from visits.models import Topic, Visit

from .factories import (
    ContactFactory,
    DepartmentFactory,
    EnterpriseFactory,
    IssueFactory,
    OfficialFactory,
    UserFactory,
    category,
)

pytestmark = pytest.mark.django_db
SURVEY_FILE = Path(__file__).resolve().parent / "fixtures" / "survey" / "survey-utf8.csv"


def changes_of(entry) -> dict:
    return {c.name: (c.old, c.new) for c in entry.changes}


@pytest.fixture
def visit(official):
    mayor = OfficialFactory(name="王副市长")
    visit, _created = services.create_visit(
        by=official,
        enterprise=EnterpriseFactory(name="天津测试变速器有限公司"),
        visited_on=timezone.localdate() - timedelta(days=2),
        status="completed",
        lead_officials=[mayor],
        topics=[Topic.PRODUCTION],
        summary="原来的纪要",
        submission_token=uuid.uuid4(),
    )
    return visit


def edit_visit(client, visit, **changes):
    data = {
        "enterprise": f"{visit.enterprise.name} {visit.enterprise.credit_code}",
        "visited_on": visit.visited_on.isoformat(),
        "status": visit.status,
        "lead_officials": [o.pk for o in visit.lead_officials.all()],
        "topics": visit.topics,
        "policies_explained": visit.policies_explained,
        "summary": visit.summary,
        "version": visit.version,
        "issues-TOTAL_FORMS": "0",
        "issues-INITIAL_FORMS": "0",
        "issues-MIN_NUM_FORMS": "0",
        "issues-MAX_NUM_FORMS": "1000",
        **changes,
    }
    return client.post(reverse("visits:edit", args=[visit.pk]), data)


# -- visits: recorded with who did it, shown on the visit page to coordinators only -------------------


def test_visit_edit_is_shown_old_and_new_to_coordinators_only(
    client, visit, official, coordinator, admin_user, staff_a, leader
):
    deputy = OfficialFactory(name="李局长")
    client.force_login(official)
    response = edit_visit(
        client,
        visit,
        summary="修改后的纪要",
        lead_officials=[visit.lead_officials.get().pk, deputy.pk],
        topics=[Topic.PRODUCTION, Topic.FINANCING],
    )
    assert response.status_code == 302
    latest = trail.entries(visit)[0]
    assert latest.user == official and latest.kind == "changed"
    changed = changes_of(latest)
    assert changed["summary"] == ("原来的纪要", "修改后的纪要")
    old, new = changed["lead_officials"]
    assert "王副市长" in old and "李局长" not in old and "李局长" in new and "王副市长" in new
    assert str(Topic.FINANCING.label) in changed["topics"][1] and "financing" not in changed["topics"][1]

    for user in (coordinator, admin_user):
        client.force_login(user)
        page = client.get(visit.get_absolute_url()).content.decode()
        assert 'id="change-history"' in page and "原来的纪要" in page and "修改后的纪要" in page
    for user in (official, staff_a, leader):
        client.force_login(user)
        page = client.get(visit.get_absolute_url()).content.decode()
        assert 'id="change-history"' not in page and "原来的纪要" not in page


def test_a_visit_saved_by_a_page_is_one_entry(client, official):
    """The page writes a record for the row and one per many-to-many list: one request, one
    entry."""
    target, mayor = EnterpriseFactory(), OfficialFactory()
    client.force_login(official)
    response = client.post(
        reverse("visits:create"),
        {
            "enterprise": f"{target.name} {target.credit_code}",
            "visited_on": (timezone.localdate() - timedelta(days=1)).isoformat(),
            "lead_officials": [mayor.pk],
            "summary": "纪要",
            "submission_token": str(uuid.uuid4()),
            "issues-TOTAL_FORMS": "0",
            "issues-INITIAL_FORMS": "0",
            "issues-MIN_NUM_FORMS": "0",
            "issues-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302
    visit = Visit.objects.get(enterprise=target)
    assert visit.history.count() == 2  # the row, then its lead officials
    (entry,) = trail.entries(visit)
    assert entry.kind == "created" and entry.user == official


def test_trail_queries_do_not_grow(visit, official, django_assert_max_num_queries):
    for n in range(40):
        visit.summary = f"纪要{n}"
        visit.save()
        newest = visit.history.order_by("-history_id").first()
        visit.history.filter(history_id=newest.history_id).update(
            history_date=timezone.now() + timedelta(minutes=n + 1)
        )
    with django_assert_max_num_queries(4):  # records, two many-to-many lists, names
        entries = trail.entries(visit, limit=30)
    assert len(entries) == 30 and changes_of(entries[0])["summary"] == ("纪要38", "纪要39")


# -- enterprises and contacts, on the admin's History page -----------------------------------------


def test_enterprise_history_in_the_admin_for_coordinators(client, coordinator, staff_a, admin_user):
    enterprise = EnterpriseFactory(name="旧名称有限公司", is_key=False)
    enterprise.name, enterprise.district = "新名称有限公司", District.objects.get_or_create(name="西青区")[0]
    enterprise._history_user = coordinator
    enterprise.save()
    url = reverse("admin:enterprises_enterprise_history", args=[enterprise.pk])
    for user in (coordinator, admin_user):
        client.force_login(user)
        page = client.get(url).content.decode()
        assert (
            "旧名称有限公司" in page and "新名称有限公司" in page and "西青区" in page and "滨海新区" in page
        )
    client.force_login(staff_a)
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    # No view of an old version, no revert.
    with pytest.raises(NoReverseMatch):
        reverse("admin:enterprises_enterprise_simple_history", args=[enterprise.pk, 1])


def test_contact_changes_are_recorded(coordinator):
    contact = ContactFactory(phone="022-11111111")
    contact.phone = "022-22222222"
    contact.save()
    assert changes_of(trail.entries(contact)[0])["phone"] == ("022-11111111", "022-22222222")


# -- departments (members), users (groups = roles) -------------------------------------------------


def test_department_members_from_either_side(dept_a, staff_a):
    newcomer = UserFactory(username="newcomer", first_name="新人")
    dept_a.members.add(newcomer)
    assert "新人" in changes_of(trail.entries(dept_a)[0])["members"][1]
    # From the user's side (user.departments): still recorded on the department.
    other = DepartmentFactory(name="市商务局")
    newcomer.departments.add(other)
    assert "新人" in changes_of(trail.entries(other)[0])["members"][1]
    newcomer.departments.clear()
    latest = changes_of(trail.entries(dept_a)[0])["members"]
    assert "新人" in latest[0] and "新人" not in latest[1]


def test_group_membership_is_recorded_and_passwords_never(client, admin_user):
    User = get_user_model()
    user = UserFactory(username="promoted")
    user.groups.add(Group.objects.get(name="coordinator"))
    assert changes_of(trail.entries(user)[0])["groups"] == ("—", "coordinator")
    history_fields = {f.name for f in User.history.model._meta.get_fields()}
    assert "password" not in history_fields and "last_login" not in history_fields
    before = user.history.count()
    client.force_login(user)  # sets last_login: not a change worth a record
    assert user.history.count() == before
    user.set_password("another-long-passphrase-42")
    user.save()
    assert user.history.count() == before + 1 and trail.entries(user)[0].changes == []
    client.force_login(admin_user)
    page = client.get(reverse("admin:auth_user_history", args=[user.pk])).content.decode()
    assert "coordinator" in page and "pbkdf2" not in page and "md5$" not in page


# -- an issue's details; the workflow's steps are its own record ----------------------------------


def test_issue_detail_edits_have_old_and_new_values(client, coordinator, official, dept_a):
    issue = IssueFactory(title="旧标题", raised_by=official)
    workflow.assign(
        issue_id=issue.pk,
        by=coordinator,
        department=dept_a,
        deadline=timezone.localdate() + timedelta(days=9),
    )
    issue.refresh_from_db()
    before = issue.history.count()  # the raise; assigning records nothing here
    assert before == 1
    client.force_login(coordinator)
    response = client.post(
        reverse("issues:action", args=[issue.pk, "edit"]),
        {
            "version": issue.version,
            "title": "新标题",
            "description": issue.description,
            "category": category("tax").pk,
            "priority": Priority.URGENT,
        },
    )
    assert response.status_code == 302
    entry = trail.entries(issue)[0]
    assert entry.user == coordinator
    changed = changes_of(entry)
    assert changed["title"] == ("旧标题", "新标题")
    assert changed["priority"] == (str(Priority.NORMAL.label), str(Priority.URGENT.label))
    assert changed["category"] == (category("approvals").name, category("tax").name)
    client.force_login(coordinator)
    page = client.get(reverse("admin:issues_issue_history", args=[issue.pk])).content.decode()
    assert "旧标题" in page and "新标题" in page


def test_department_history_page_is_for_coordinators(client, dept_a, coordinator, leader):
    dept_a.short_name = "发改委"
    dept_a.save()
    url = reverse("admin:issues_department_history", args=[dept_a.pk])
    client.force_login(coordinator)
    assert "发改委" in client.get(url).content.decode()
    client.force_login(leader)
    assert client.get(url).status_code == 302  # not staff: the admin login


# -- bulk writes record nothing (said in docs/security.md); the import writes with history --------


def test_bulk_update_records_nothing(coordinator):
    enterprise = EnterpriseFactory(name="甲")
    before = enterprise.history.count()
    Enterprise.objects.filter(pk=enterprise.pk).update(name="乙")
    Department.objects.update(short_name="x")
    assert enterprise.history.count() == before


def test_survey_import_changes_are_in_the_trail(coordinator, tmp_path):
    def run(data: bytes, name: str):
        result = import_survey_file(
            data=data,
            filename=name,
            survey_name="2024年问卷",
            by=coordinator,
            create_issues=False,
            dry_run=False,
        )
        assert result.ok, [str(e) for e in result.errors]

    text = SURVEY_FILE.read_text(encoding="utf-8")
    run(text.encode(), "first.csv")
    enterprise = Enterprise.objects.get(credit_code="91120111NEUCAKJX4R")
    assert enterprise.history.get().history_user == coordinator  # created with its record
    run(
        text.replace("天津新宏精密有限公司,北辰区", "天津新宏精密股份有限公司,滨海新区").encode(),
        "second.csv",
    )
    entry = trail.entries(enterprise)[0]
    assert entry.user == coordinator
    assert changes_of(entry)["name"] == ("天津新宏精密有限公司", "天津新宏精密股份有限公司")
    assert changes_of(entry)["district"] == ("北辰区", "滨海新区")


def test_trail_is_only_for_coordinators(coordinator, admin_user, staff_a, leader, official):
    assert trail.may_see(coordinator) and trail.may_see(admin_user)
    assert not any(trail.may_see(u) for u in (staff_a, leader, official))


def test_contact_model_is_tracked():
    assert hasattr(Contact, "history") and hasattr(Visit, "history") and hasattr(Issue, "history")


def test_baseline_after_an_upgrade_shows_old_values_of_the_first_change(dept_a, staff_a):
    """Rows older than the trail: `manage.py trail_baseline` records them once (members too)."""
    from io import StringIO

    from django.core.management import call_command

    enterprise = EnterpriseFactory(name="升级前的名称")
    for obj in (enterprise, dept_a):
        obj.history.all().delete()  # as if written before the trail existed
    out = StringIO()
    call_command("trail_baseline", stdout=out)
    assert "enterprises.Enterprise: 1 recorded" in out.getvalue()
    assert "issues.Department: 1 recorded" in out.getvalue()
    call_command("trail_baseline", stdout=StringIO())  # a second run records nothing
    assert enterprise.history.count() == 1 and dept_a.history.count() == 1
    enterprise.name = "升级后的名称"
    enterprise.save()
    assert changes_of(trail.entries(enterprise)[0])["name"] == ("升级前的名称", "升级后的名称")
    newcomer = UserFactory(username="after_upgrade", first_name="后来者")
    dept_a.members.add(newcomer)
    old, new = changes_of(trail.entries(dept_a)[0])["members"]
    assert "staff_a" in old or "用户" in old  # the members before were recorded
    assert "后来者" in new and "后来者" not in old
