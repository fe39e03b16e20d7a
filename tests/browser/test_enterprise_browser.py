"""The enterprise's own voice on a phone, in real Chromium (issue 16): the enterprise opens
a feedback link as from its QR code and answers unsatisfied, and the issue is back with
its department with the words in the timeline; an enterprise account raises a problem that
lands in the coordinators' triage queue; the enterprise sees a public note and never an
internal one. Screenshots go to test-artifacts/."""

from datetime import timedelta

import pytest
from django.utils import timezone

from enterprises.accounts import invite
from issues import feedback_links, workflow
from issues.models import EventKind, Issue, Source, Status
from tests.factories import ContactFactory, EnterpriseFactory, category

PASSWORD = "海河港口物流园区2026春季"


@pytest.fixture
def handled(coordinator, staff_a, dept_a):
    enterprise = EnterpriseFactory(name="天津渤海精密机械有限公司")
    ContactFactory(enterprise=enterprise, name="王经理", is_primary=True)
    issue = workflow.raise_issue(
        by=coordinator,
        enterprise=enterprise,
        title="厂房扩建用电增容",
        category=category(),
        source=Source.OTHER,
    )
    workflow.assign(
        issue_id=issue.pk,
        by=coordinator,
        department=dept_a,
        owner=staff_a,
        deadline=timezone.localdate() + timedelta(days=15),
    )
    workflow.post_progress(issue_id=issue.pk, by=staff_a, note="内部：等待供电公司排期")
    workflow.post_progress(issue_id=issue.pk, by=staff_a, note="已与供电公司协调，下周施工", public=True)
    return Issue.objects.get(pk=issue.pk)


@pytest.mark.django_db(transaction=True)
def test_the_enterprise_answers_unsatisfied_by_link_and_the_issue_goes_back(
    handled, staff_a, page, live_server, login, screenshot
):
    workflow.resolve(issue_id=handled.pk, by=staff_a, resolution="已完成增容并送电")
    link = feedback_links.issue_link(Issue.objects.get(pk=handled.pk), None)
    page.goto(f"{live_server.url}{link.path}")
    assert page.locator("text=已与供电公司协调，下周施工").is_visible()
    assert page.locator("text=内部：等待供电公司排期").count() == 0
    screenshot("enterprise-feedback-link-phone")
    page.locator("input[name=reply_satisfaction][value=satisfied]").check()
    page.locator("input[name=solution_satisfaction][value=unsatisfied]").check()
    page.locator("textarea[name=comment]").fill("送电后仍频繁跳闸")
    page.locator("#answer-form button[type=submit]").click()
    page.locator("#thanks").wait_for()
    screenshot("enterprise-feedback-thanks-phone")
    issue = Issue.objects.get(pk=handled.pk)
    assert issue.status == Status.IN_PROGRESS
    assert issue.events.get(kind=EventKind.SENT_BACK).note == "送电后仍频繁跳闸"
    # The department sees it back on its list, with the enterprise's words in the timeline.
    login("staff_a")
    page.goto(f"{live_server.url}{issue.get_absolute_url()}")
    assert page.locator("#timeline >> text=送电后仍频繁跳闸").first.is_visible()
    screenshot("issue-sent-back-staff-phone")


@pytest.mark.django_db(transaction=True)
def test_an_enterprise_account_raises_a_problem_that_reaches_the_triage_queue(
    handled, coordinator, page, live_server, login, screenshot
):
    account, _made = invite(handled.enterprise.contacts.get(), coordinator)
    account.user.set_password(PASSWORD)
    account.user.save()
    login(account.user.username, PASSWORD)
    assert page.url.endswith("/e/")
    assert page.locator("text=已与供电公司协调").count() == 0  # the list shows titles, not notes
    page.locator("text=厂房扩建用电增容").click()
    assert page.locator("#public-entries >> text=已与供电公司协调，下周施工").is_visible()
    assert page.locator("text=内部：等待供电公司排期").count() == 0
    screenshot("enterprise-issue-phone")
    page.goto(f"{live_server.url}/e/raise/")
    page.fill("#id_title", "消防验收排期太久")
    page.fill("#id_description", "消防验收申请已提交两个月仍未排期。")
    page.select_option("#id_category", index=1)
    page.locator("#raise-form button[type=submit]").click()
    reference = page.locator("#reference").inner_text()
    screenshot("enterprise-raised-phone")
    raised = Issue.objects.get(pk=int(reference))
    assert (raised.source, raised.status) == (Source.ENTERPRISE_REQUEST, Status.NEW)
    page.context.clear_cookies()
    login("coordinator")
    assert page.locator("#new-issues >> text=消防验收排期太久").is_visible()
    screenshot("coordinator-triage-queue-phone")
