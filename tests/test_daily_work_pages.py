"""Issue 17, officials and everyone: the visit form's wording and draft hooks, today's visits
first, error pages in Chinese with DEBUG on and off, amounts with separators and units."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings as project_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    EnterpriseFactory,
    OfficialFactory,
    SurveyResponseFactory,
    VisitFactory,
    category,
)
from visits.models import Visit, VisitStatus
from visits.views import DRAFT_SAVED_KEY

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
LIST = reverse("visits:list")
CREATE = reverse("visits:create")
DEBUG_ERRORS = "config.views.ErrorPagesInDebugMiddleware"


def text(response) -> str:
    """The page's visible words: tags dropped, spaces squeezed."""
    body = re.sub(r"<(script|style|template)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


# -- the visit form --------------------------------------------------------------------------------


def test_the_issues_section_has_a_heading_not_a_figure_label(as_user, official):
    body = as_user(official).get(CREATE, **ZH).content.decode()
    assert '<h2 class="h5">企业反映的问题</h2>' in body
    assert "提出问题数" not in body


def test_the_summary_is_marked_required_like_the_other_required_fields(as_user, official):
    body = as_user(official).get(CREATE, **ZH).content.decode()
    for field in ("enterprise", "visited_on", "summary"):
        label = re.search(rf'<label class="form-label" for="id_{field}">(.*?)</label>', body, re.S).group(1)
        assert 'class="text-danger required-mark"' in label, field
    summary = re.search(r"<textarea[^>]*id=\"id_summary\"[^>]*>", body).group(0)
    assert " required" in summary
    policies = re.search(r'<label class="form-label" for="id_policies_explained">(.*?)</label>', body, re.S)
    assert "required-mark" not in policies.group(1)  # optional, unmarked


def test_a_missing_summary_says_what_to_write(as_user, official):
    enterprise = EnterpriseFactory()
    mayor = OfficialFactory()
    response = as_user(official).post(
        CREATE,
        {
            "enterprise": enterprise.credit_code,
            "visited_on": timezone.localdate().isoformat(),
            "lead_officials": [mayor.pk],
            "summary": "  ",
            "issues-TOTAL_FORMS": "0",
            "issues-INITIAL_FORMS": "0",
        },
        **ZH,
    )
    assert response.status_code == 200
    assert response.context["form"].errors["summary"] == ["请简要填写走访情况。"]
    assert not Visit.objects.exists()


def test_edit_page_says_when_the_summary_is_needed(as_user, official):
    visit = VisitFactory(created_by=official)
    body = text(as_user(official).get(reverse("visits:edit", args=[visit.pk]), **ZH))
    assert "已完成的走访必填。" in body


def test_blank_issue_rows_carry_no_filled_mark_and_a_row_that_came_back_does(as_user, official):
    client = as_user(official)
    body = client.get(CREATE, **ZH).content.decode()
    assert body.count("data-issue-form") == 4  # three rows and the template's
    assert "data-filled" not in body
    enterprise, mayor = EnterpriseFactory(), OfficialFactory()
    response = client.post(
        CREATE,
        {
            "enterprise": enterprise.credit_code,
            "visited_on": timezone.localdate().isoformat(),
            "lead_officials": [mayor.pk],
            "summary": "",  # an error, so the form comes back
            "issues-TOTAL_FORMS": "3",
            "issues-INITIAL_FORMS": "0",
            "issues-0-title": "用地指标",
            "issues-0-category": category().pk,
        },
        **ZH,
    )
    rows = re.findall(r'<fieldset class="card mb-3 issue-form"[^>]*>', response.content.decode())
    assert ["data-filled" in row for row in rows] == [True, False, False, False]


def test_the_form_carries_what_the_draft_script_needs(as_user, official, settings):
    settings.SESSION_IDLE_TIMEOUT = 1200
    body = as_user(official).get(CREATE).content.decode()
    assert 'data-session-idle-timeout="1200"' in body
    assert f'data-draft data-draft-user="{official.pk}"' in body
    assert "data-draft-bound" not in body
    assert 'src="/static/app/session.js"' in body


def test_a_save_tells_the_visit_page_to_drop_the_draft_once(as_user, official):
    client = as_user(official)
    enterprise, mayor = EnterpriseFactory(), OfficialFactory()
    response = client.post(
        CREATE,
        {
            "enterprise": enterprise.credit_code,
            "visited_on": timezone.localdate().isoformat(),
            "lead_officials": [mayor.pk],
            "summary": "走访情况",
            "issues-TOTAL_FORMS": "0",
            "issues-INITIAL_FORMS": "0",
        },
    )
    visit = Visit.objects.get()
    assert response.url == visit.get_absolute_url()
    assert client.session[DRAFT_SAVED_KEY] == CREATE
    marker = f'data-draft-saved="{CREATE}" data-draft-user="{official.pk}"'
    assert marker in client.get(response.url).content.decode()
    assert marker not in client.get(response.url).content.decode()  # only right after the save


def test_an_edit_saved_drops_the_edit_pages_draft(as_user, official):
    visit = VisitFactory(created_by=official, lead_officials=[OfficialFactory()])
    client = as_user(official)
    edit = reverse("visits:edit", args=[visit.pk])
    data = {
        "enterprise": visit.enterprise.credit_code,
        "visited_on": visit.visited_on.isoformat(),
        "status": VisitStatus.COMPLETED,
        "lead_officials": [o.pk for o in visit.lead_officials.all()],
        "summary": "改过的走访情况",
        "version": visit.version,
        "issues-TOTAL_FORMS": "0",
        "issues-INITIAL_FORMS": "0",
    }
    response = client.post(edit, data)
    assert response.status_code == 302
    assert f'data-draft-saved="{edit}"' in client.get(response.url).content.decode()


def test_a_form_that_comes_back_with_errors_keeps_the_draft_and_is_not_refilled(as_user, official):
    response = as_user(official).post(CREATE, {"issues-TOTAL_FORMS": "0", "issues-INITIAL_FORMS": "0"})
    assert response.status_code == 200
    assert "data-draft-bound" in response.content.decode()
    assert DRAFT_SAVED_KEY not in as_user(official).session


# -- the visit list: today's and recent visits first, planned ones apart ---------------------------


@pytest.fixture
def around_today(official):
    today = timezone.localdate()
    made = {}
    for name, days, status in [
        ("下周计划", 7, VisitStatus.PLANNED),
        ("明天计划", 1, VisitStatus.PLANNED),
        ("今天走访", 0, VisitStatus.COMPLETED),
        ("昨天走访", -1, VisitStatus.COMPLETED),
        ("上周未去", -6, VisitStatus.PLANNED),  # planned, its day past: with the recent ones
        ("上月走访", -30, VisitStatus.COMPLETED),
    ]:
        made[name] = VisitFactory(
            enterprise=EnterpriseFactory(name=name), visited_on=today + timedelta(days=days), status=status
        )
    return made


def test_today_and_recent_visits_come_first_then_the_planned_ones_soonest_first(
    as_user, official, around_today
):
    response = as_user(official).get(LIST, **ZH)
    names = [v.enterprise.name for v in response.context["page"].object_list]
    assert names == ["今天走访", "昨天走访", "上周未去", "上月走访", "明天计划", "下周计划"]
    body = response.content.decode()
    recent, planned = body.index('id="recent-visits"'), body.index('id="planned-visits"')
    assert recent < body.index("今天走访") < body.index("上月走访") < planned < body.index("明天计划")
    assert "今天及近期走访" in body and "待开展的计划走访" in body
    assert body.count("visit-today") == 1
    assert response.context["upcoming_count"] == 2
    assert not response.context["upcoming_elsewhere"]  # they are on this page


def test_planned_visits_on_a_later_page_are_one_link_away(as_user, official, around_today, monkeypatch):
    monkeypatch.setattr("visits.views.PAGE_SIZE", 3)
    client = as_user(official)
    response = client.get(LIST, **ZH)
    assert [v.enterprise.name for v in response.context["page"].object_list] == [
        "今天走访",
        "昨天走访",
        "上周未去",
    ]
    assert response.context["page"].paginator.count == 6
    assert 'id="planned-visits"' not in response.content.decode()
    link = re.search(r'<a href="\?([^"]+)" id="planned-link">(.*?)</a>', response.content.decode())
    assert link.group(2) == "其中待开展的计划走访 2 次"
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert link.group(1) == f"visited_after={tomorrow}"
    planned = client.get(f"{LIST}?{link.group(1)}")
    assert [v.enterprise.name for v in planned.context["page"].object_list] == ["明天计划", "下周计划"]


def test_list_sections_follow_the_filters(as_user, official, around_today):
    response = as_user(official).get(LIST, {"status": "planned"})
    names = [v.enterprise.name for v in response.context["page"].object_list]
    assert names == ["上周未去", "明天计划", "下周计划"]


@pytest.mark.parametrize("n", [5, 40])
def test_list_queries_stay_flat(as_user, official, django_assert_max_num_queries, n):
    today = timezone.localdate()
    for i in range(n):
        VisitFactory(visited_on=today + timedelta(days=i - n // 2), lead_officials=[OfficialFactory()])
    client = as_user(official)
    with django_assert_max_num_queries(10):
        assert client.get(LIST).status_code == 200


# -- error pages: Chinese with DEBUG off and on ---------------------------------------------------


@pytest.fixture
def debug_mode(request, settings):
    settings.DEBUG = request.param
    return request.param


@pytest.mark.urls("tests.security.error_urls")
@pytest.mark.parametrize("debug_mode", [False, True], ids=["debug-off", "debug-on"], indirect=True)
@pytest.mark.parametrize(
    ("who", "url", "status", "words"),
    [
        ("official", "/no/such/page/", 404, "页面不存在"),
        (None, "/no/such/page/", 404, "页面不存在"),
        ("official", "/visits/999999/", 404, "页面不存在"),
        ("staff_a", "/visits/new/", 403, "您无权打开此页面"),
        ("official", "/boom/", 500, "系统出错了"),
    ],
)
def test_error_pages_are_the_apps_own_in_chinese(request, debug_mode, who, url, status, words):
    client = Client(raise_request_exception=False)
    if who:
        client.force_login(request.getfixturevalue(who))
    response = client.get(url, **ZH)
    assert response.status_code == status
    body = response.content.decode()
    assert words in text(response)
    assert '<html lang="zh-CN">' in body
    for english in ("Page not found at", "Using the URLconf", "Request Method", "Traceback (most recent"):
        assert english not in text(response).split("技术细节")[0], english
    if status == 500:
        # The traceback for a developer, folded, with DEBUG only.
        assert ('id="debug-details"' in body) is debug_mode


@pytest.mark.urls("tests.security.error_urls")
def test_error_pages_speak_english_to_english_users(official, settings):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    client.force_login(official)
    response = client.get("/boom/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 500
    assert '<html lang="en">' in response.content.decode()
    assert "Something went wrong" in response.content.decode()


def test_debug_500_is_still_logged_and_raised_in_tests(official, settings, caplog):
    settings.DEBUG = True
    settings.ROOT_URLCONF = "tests.security.error_urls"
    client = Client()  # raises what a view raised, as Django's test client does
    client.force_login(official)
    with pytest.raises(RuntimeError, match="kaboom"):
        client.get("/boom/")
    assert any(r.name == "django.request" and r.exc_info for r in caplog.records)


def test_a_csrf_refusal_is_a_chinese_page_in_every_mode(official, settings):
    for debug in (False, True):
        settings.DEBUG = debug
        client = Client(enforce_csrf_checks=True)
        client.force_login(official)
        response = client.post(CREATE, {}, **ZH)
        assert response.status_code == 403
        words = text(response)
        assert "页面已过期" in words and "Forbidden" not in words


def test_the_debug_middleware_is_switched_on():
    """The demo (`make run`, DEBUG on) shows these pages only when settings list the middleware."""
    assert DEBUG_ERRORS in project_settings.MIDDLEWARE


# -- the enterprise page: separators and units -----------------------------------------------------


def test_amounts_have_thousands_separators_and_units(as_user, coordinator):
    enterprise = EnterpriseFactory(employees=12000, annual_revenue=Decimal("1850000.00"))
    SurveyResponseFactory(enterprise=enterprise, employees=11850, labour_shortage=1200)
    words = text(as_user(coordinator).get(reverse("enterprises:detail", args=[enterprise.pk]), **ZH))
    assert "年营业收入 1,850,000 万元" in words
    assert "从业人数 12,000 人" in words
    assert "从业人数 11,850 人" in words and "用工缺口 1,200 人" in words
    assert "1850000" not in words


def test_amounts_keep_their_decimals_and_blanks_show_a_dash(as_user, coordinator):
    enterprise = EnterpriseFactory(employees=None, annual_revenue=Decimal("12345.60"))
    words = text(as_user(coordinator).get(reverse("enterprises:detail", args=[enterprise.pk]), **ZH))
    assert "年营业收入 12,345.60 万元" in words
    assert "从业人数 —" in words


def test_enterprise_list_uses_full_width_colons(as_user, coordinator):
    EnterpriseFactory(name="冒号企业")
    words = text(as_user(coordinator).get(reverse("enterprises:list"), **ZH))
    assert "最近走访：" in words and "未办结问题：" in words
    assert "最近走访:" not in words


def test_enterprise_page_counts_are_badges_not_ascii_brackets(as_user, coordinator):
    enterprise = EnterpriseFactory()
    VisitFactory(enterprise=enterprise)
    page = as_user(coordinator).get(reverse("enterprises:detail", args=[enterprise.pk]), **ZH)
    body = page.content.decode()
    for heading in ("未办结问题", "走访", "已关闭问题"):
        assert re.search(rf'{heading} <span class="badge text-bg-secondary[^"]*">\d+</span>', body), heading
    assert not re.search(r"[\u4e00-\u9fff] \(\d+\)", text_of(body))


def text_of(body: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))
