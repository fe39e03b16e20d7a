"""Issue 17 in a real Chromium: a visit typed across an idle logout comes back after logging in,
the warning before the timeout, the visit form's wording, today's visits first, and the error
pages in Chinese with DEBUG off and on. Screenshots go to test-artifacts/daily-*.png."""

import re
import time
from datetime import timedelta
from importlib import import_module

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from playwright.sync_api import expect

from config.middleware import NoStoreForAuthenticatedMiddleware
from issues.models import Issue
from tests.factories import EnterpriseFactory, OfficialFactory, UserFactory, VisitFactory, category
from visits.models import Visit, VisitStatus

PASSWORD = "correct-horse-battery-9"
SUMMARY = "企业二期扩建项目推进顺利，反映用电增容和人才公寓两件事。"
DESKTOP = {"width": 1366, "height": 768}
KEPT = "登录已超时，已为您保留填写内容"
DEBUG_ERRORS = "config.views.ErrorPagesInDebugMiddleware"


def drafts(page) -> list[str]:
    return page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('evt-draft:'))")


def idle_for(page, seconds: int) -> None:
    """The server's idle clock as if the browser had sent nothing for `seconds` (the session row)."""
    cookie = next(c for c in page.context.cookies() if c["name"] == django_settings.SESSION_COOKIE_NAME)
    session = import_module(django_settings.SESSION_ENGINE).SessionStore(session_key=cookie["value"])
    session[NoStoreForAuthenticatedMiddleware.SESSION_KEY] = int(time.time()) - seconds
    session.save()


@pytest.fixture
def visit_world(db):
    UserFactory(username="official1", role="official")
    enterprise = EnterpriseFactory(name="天津滨海新材料科技有限公司")
    OfficialFactory(name="王副市长", title="副市长")
    return enterprise, category("approvals"), category("tax")


@pytest.mark.django_db(transaction=True)
def test_a_visit_typed_across_an_idle_logout_comes_back_after_logging_in(
    page, live_server, login, screenshot, no_dialogs, visit_world
):
    enterprise, approvals, tax = visit_world
    login("official1")
    page.goto(f"{live_server.url}/visits/new/")
    page.fill("#id_enterprise", f"{enterprise.name} {enterprise.credit_code}")
    page.get_by_label("王副市长（副市长）").check()
    page.fill("#id_summary", SUMMARY)
    page.fill("#id_issues-0-title", "扩建项目用电增容")
    page.select_option("#id_issues-0-category", str(approvals.pk))
    page.click("#add-issue")
    page.click("#add-issue")  # five rows: the draft must bring back the two added ones too
    page.fill("#id_issues-4-title", "人才公寓配租")
    page.select_option("#id_issues-4-category", str(tax.pk))
    page.check("#id_issues-4-solved_on_site")
    page.fill("#id_issues-4-resolution", "区住建委现场协调，当场答复")
    expect(page.locator("#draft-status")).to_contain_text("草稿已于")
    token = page.input_value("input[name=submission_token]")

    # The official is called away; 31 minutes later the server has logged the session out.
    idle_for(page, django_settings.SESSION_IDLE_TIMEOUT + 60)
    page.locator("button[type=submit]", has_text="保存").click()
    page.wait_for_url(re.compile(r"/accounts/login/\?next="))
    expect(page.locator("#login-draft-notice")).to_contain_text(KEPT)
    assert Visit.objects.count() == 0
    screenshot("daily-idle-login-notice-phone")

    page.fill("#id_username", "official1")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/visits/new/")
    notice = page.locator("#draft-notice")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text(KEPT)
    assert page.input_value("#id_summary") == SUMMARY
    assert page.input_value("#id_enterprise") == f"{enterprise.name} {enterprise.credit_code}"
    assert page.get_by_label("王副市长（副市长）").is_checked()
    assert page.input_value("#id_issues-TOTAL_FORMS") == "5"
    assert page.input_value("#id_issues-0-title") == "扩建项目用电增容"
    assert page.input_value("#id_issues-4-title") == "人才公寓配租"
    assert page.input_value("#id_issues-4-category") == str(tax.pk)
    expect(page.locator("#id_issues-4-resolution")).to_be_visible()  # ticked, so shown
    assert page.input_value("input[name=submission_token]") == token  # a repeat post still saves once
    filled = page.locator("[data-issue-form]").evaluate_all(
        "rows => rows.map(r => r.hasAttribute('data-filled'))"
    )
    assert filled == [True, False, False, False, True]
    screenshot("daily-draft-restored-phone")

    page.locator("button[type=submit]", has_text="保存").click()
    page.wait_for_url(re.compile(r"/visits/\d+/$"))
    visit = Visit.objects.get()
    assert visit.summary == SUMMARY and visit.submission_token and str(visit.submission_token) == token
    assert sorted(Issue.objects.values_list("title", flat=True)) == ["人才公寓配租", "扩建项目用电增容"]
    assert drafts(page) == []  # the server confirmed the save: the draft is gone

    page.goto(f"{live_server.url}/visits/new/")
    expect(page.locator("#draft-notice")).to_be_hidden()
    assert page.input_value("#id_summary") == ""


@pytest.mark.django_db(transaction=True)
def test_a_draft_comes_back_on_return_and_can_be_discarded(page, live_server, login, no_dialogs, visit_world):
    login("official1")
    page.goto(f"{live_server.url}/visits/new/")
    page.fill("#id_summary", SUMMARY)
    expect(page.locator("#draft-status")).to_be_visible()
    page.goto(f"{live_server.url}/visits/")  # away, without saving
    page.goto(f"{live_server.url}/visits/new/")
    expect(page.locator("#draft-notice")).to_contain_text("已恢复您于")
    assert page.input_value("#id_summary") == SUMMARY
    page.click("#draft-discard")
    page.wait_for_load_state("load")
    expect(page.locator("#draft-notice")).to_be_hidden()
    assert page.input_value("#id_summary") == ""
    assert drafts(page) == []


@pytest.mark.django_db(transaction=True)
def test_a_draft_is_kept_per_user(page, live_server, login, no_dialogs, visit_world):
    UserFactory(username="official2", role="official")
    login("official1")
    page.goto(f"{live_server.url}/visits/new/")
    page.fill("#id_summary", SUMMARY)
    expect(page.locator("#draft-status")).to_be_visible()
    page.context.clear_cookies()  # another official on the same phone (no logout click)
    login("official2")
    page.goto(f"{live_server.url}/visits/new/")
    expect(page.locator("#draft-notice")).to_be_hidden()
    assert page.input_value("#id_summary") == ""
    assert len(drafts(page)) == 1  # official1's, untouched


@pytest.mark.django_db(transaction=True)
def test_a_warning_comes_before_the_idle_logout(
    page, live_server, login, screenshot, no_dialogs, visit_world
):
    page.clock.install()
    login("official1")
    page.goto(f"{live_server.url}/visits/new/")
    page.fill("#id_summary", SUMMARY)
    assert page.locator("body").get_attribute("data-session-idle-timeout") == "1800"
    expect(page.locator("#session-warning")).to_have_count(0)

    page.clock.fast_forward("23:00")
    expect(page.locator("#session-warning")).to_have_count(0)
    page.clock.fast_forward("01:30")  # 24.5 minutes without a request
    warning = page.locator("#session-warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("分钟后将自动退出登录")
    expect(warning).to_contain_text("正在填写的内容已保存在本机")
    screenshot("daily-idle-warning-phone")

    with page.expect_response(lambda r: r.url.endswith("/visits/new/") and r.request.method == "GET"):
        page.click("#session-stay")  # asks the server again: its idle clock starts over
    expect(warning).to_have_count(0)

    page.clock.fast_forward("31:00")
    expired = page.locator("#session-warning[data-state=expired]")
    expect(expired).to_be_visible()
    expect(expired).to_contain_text("登录已超时")


# -- the visit form's wording ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_visit_form_marks_what_is_required_and_no_more(page, live_server, login, screenshot, visit_world):
    login("official1")
    page.goto(f"{live_server.url}/visits/new/")
    section = page.locator("#issues-section")
    expect(section.locator("h2")).to_have_text("企业反映的问题")
    expect(page.get_by_text("提出问题数")).to_have_count(0)
    expect(page.locator("label[for=id_summary] .required-mark")).to_be_visible()
    expect(page.locator("label[for=id_enterprise] .required-mark")).to_be_visible()
    expect(page.locator("label[for=id_policies_explained] .required-mark")).to_have_count(0)
    # Blank optional rows: no red stars, no "remove this issue" box.
    expect(section.locator(".required-mark:visible")).to_have_count(0)
    expect(section.locator(".issue-remove:visible")).to_have_count(0)
    screenshot("daily-visit-form-phone")

    page.fill("#id_issues-1-title", "融资担保")
    row = page.locator("[data-issue-form]").nth(1)
    expect(row.locator(".required-mark:visible")).to_have_count(2)  # title and category
    expect(row.locator(".issue-remove")).to_be_visible()
    expect(section.locator(".required-mark:visible")).to_have_count(2)  # the other rows stay blank
    page.fill("#id_issues-1-title", "")
    expect(row.locator(".required-mark:visible")).to_have_count(0)

    page.set_viewport_size(DESKTOP)
    screenshot("daily-visit-form-desktop")


# -- the visit list: today's visit first ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_todays_visit_is_first_and_planned_ones_are_apart(page, live_server, login, screenshot):
    UserFactory(username="official1", role="official")
    today = timezone.localdate()
    for days in range(1, 9):  # eight planned visits to come, as in the demo
        VisitFactory(
            enterprise=EnterpriseFactory(name=f"计划企业{days}"),
            visited_on=today + timedelta(days=days * 3),
            status=VisitStatus.PLANNED,
        )
    VisitFactory(enterprise=EnterpriseFactory(name="今天走访的企业"), visited_on=today)
    VisitFactory(enterprise=EnterpriseFactory(name="昨天走访的企业"), visited_on=today - timedelta(days=1))
    login("official1")
    page.goto(f"{live_server.url}/visits/")
    recent = page.locator("#recent-visits")
    expect(recent.locator("h2")).to_have_text("今天及近期走访")
    first = recent.locator("li").first
    expect(first).to_contain_text("今天走访的企业")
    expect(first.locator(".visit-today")).to_have_text("今天")
    expect(recent.locator("li").nth(1)).to_contain_text("昨天走访的企业")
    planned = page.locator("#planned-visits")
    expect(planned.locator("h2")).to_have_text("待开展的计划走访")
    expect(planned.locator("li")).to_have_count(8)
    expect(planned.locator("li").first).to_contain_text("计划企业1")
    top = page.evaluate("[...document.querySelectorAll('main section')].map(s => s.id)")
    assert top == ["recent-visits", "planned-visits"]
    screenshot("daily-visit-list-phone")
    page.set_viewport_size(DESKTOP)
    screenshot("daily-visit-list-desktop")


# -- error pages ----------------------------------------------------------------------------------------


@pytest.mark.urls("tests.security.error_urls")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_error_pages_are_chinese_with_debug_off_and_on(page, live_server, login, screenshot, settings, debug):
    settings.DEBUG = debug
    UserFactory(username="staff1", role="department")
    mode = "debug-on" if debug else "debug-off"

    page.goto(f"{live_server.url}/no/such/page/")  # not logged in
    expect(page.locator("h1")).to_have_text("页面不存在")
    login("staff1")
    for url, status, heading in [
        ("/no/such/page/", 404, "页面不存在"),
        ("/visits/999999/", 404, "页面不存在"),
        ("/visits/new/", 403, "您无权打开此页面"),
        ("/boom/", 500, "系统出错了"),
    ]:
        response = page.goto(f"{live_server.url}{url}")
        assert response.status == status, url
        expect(page.locator("h1")).to_have_text(heading)
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        body = page.locator("body").inner_text()
        for english in ("Page not found", "Traceback", "Request Method", "Forbidden"):
            assert english not in body, (url, english)
        screenshot(f"daily-error-{status}-{url.strip('/').replace('/', '-')}-{mode}-phone")
    details = page.locator("#debug-details")
    expect(details).to_have_count(1 if debug else 0)  # the traceback, folded, for a developer
