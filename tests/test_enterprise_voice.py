"""The enterprise's own voice (issue 16): feedback links with no account, enterprise accounts,
public and internal entries, and notifications by email and a group-chat robot.

The chat robot is a real HTTP server on 127.0.0.1 (a thread) that records what it is sent;
email goes to Django's test outbox. Notifications are delivered after commit: tests run the
on-commit callbacks (`django_capture_on_commit_callbacks`) as a real transaction would.
"""

import io
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from enterprises.accounts import invitation_path, invite
from issues import feedback_links, workflow
from issues.models import (
    Channel,
    EventKind,
    FeedbackRequest,
    Issue,
    Notification,
    NotificationPreference,
    Satisfaction,
    Source,
    Status,
)

from .factories import ContactFactory, EnterpriseFactory, UserFactory, category
from .helpers import travel

TODAY = timezone.localdate()
INTERNAL = "内部：处长认为企业材料不全"
PUBLIC = "已与供电公司协调，本周内完成增容"


@pytest.fixture
def chat():
    """A group-chat robot on 127.0.0.1 that records every JSON body (and answers 500 when
    told to)."""
    received, failing = [], []

    class Robot(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(json.loads(body))
            self.send_response(500 if failing else 200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"errcode": 0, "errmsg": "ok"}')

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Robot)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_port}/robot", "received": received, "failing": failing}
    server.shutdown()


@pytest.fixture
def resolved(coordinator, staff_a, dept_a):
    """An enterprise issue handled by dept A, resolved, with an internal and a public note."""
    enterprise = EnterpriseFactory(name="天津声音测试有限公司")
    ContactFactory(enterprise=enterprise, name="王经理", email="wang@example.com", is_primary=True)
    issue = workflow.raise_issue(
        by=coordinator, enterprise=enterprise, title="用电增容", category=category(), source=Source.OTHER
    )
    workflow.assign(
        issue_id=issue.pk,
        by=coordinator,
        department=dept_a,
        owner=staff_a,
        deadline=TODAY + timedelta(days=20),
    )
    workflow.post_progress(issue_id=issue.pk, by=staff_a, note=INTERNAL)
    workflow.post_progress(issue_id=issue.pk, by=staff_a, note=PUBLIC, public=True)
    workflow.resolve(issue_id=issue.pk, by=staff_a, resolution="已完成变压器增容并送电")
    return Issue.objects.get(pk=issue.pk)


def link_for(issue, by=None):
    return feedback_links.issue_link(issue, by)


# -- the feedback link ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_link_shows_the_public_record_without_staff_names(resolved, client, staff_a):
    page = client.get(link_for(resolved).path).content.decode()
    assert resolved.title in page and PUBLIC in page and "已完成变压器增容并送电" in page
    assert INTERNAL not in page
    assert staff_a.get_full_name() not in page and staff_a.username not in page
    assert 'name="reply_satisfaction"' in page and 'name="solution_satisfaction"' in page


@pytest.mark.django_db
def test_an_unsatisfied_answer_by_link_sends_the_issue_back_with_the_words(resolved, client, coordinator):
    link = link_for(resolved)
    answer = {
        "reply_satisfaction": "satisfied",
        "solution_satisfaction": "unsatisfied",
        "comment": "仍然跳闸",
    }
    assert client.post(link.path, answer).status_code == 200
    resolved.refresh_from_db()
    assert resolved.status == Status.IN_PROGRESS
    feedback = resolved.feedback_rounds.get()
    assert (feedback.channel, feedback.sent_back, feedback.recorded_by, feedback.comment) == (
        Channel.ONLINE,
        True,
        None,
        "仍然跳闸",
    )
    assert resolved.events.get(kind=EventKind.SENT_BACK).note == "仍然跳闸"
    staff_page = client
    staff_page.force_login(coordinator)
    assert "仍然跳闸" in staff_page.get(resolved.get_absolute_url()).content.decode()


@pytest.mark.django_db
def test_a_satisfied_answer_by_link_closes_the_issue(resolved, client):
    link = link_for(resolved)
    client.post(link.path, {"reply_satisfaction": "satisfied", "solution_satisfaction": "basically"})
    resolved.refresh_from_db()
    assert (resolved.status, resolved.outcome) == (Status.CLOSED, "resolved")
    assert FeedbackRequest.objects.get().feedback_round == resolved.feedback_rounds.get()


@pytest.mark.django_db
def test_used_expired_revoked_and_tampered_links_change_nothing(resolved, client):
    first = link_for(resolved)
    second = link_for(resolved)  # revokes the first
    assert "withdrawn" in client.get(first.path, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    tampered = second.token[:-3] + ("AAA" if not second.token.endswith("AAA") else "BBB")
    for path in (reverse("feedback", args=[tampered]), reverse("feedback", args=["x" * 400])):
        response = client.post(
            path, {"reply_satisfaction": "satisfied", "solution_satisfaction": "satisfied"}
        )
        assert response.status_code == 410
    answer = {"reply_satisfaction": "satisfied", "solution_satisfaction": "satisfied"}
    assert client.post(second.path, answer).status_code == 200
    assert client.post(second.path, answer).status_code == 410  # single use
    assert resolved.feedback_rounds.count() == 1
    later = workflow.reopen(
        issue_id=resolved.pk, by=UserFactory(username="c2", role="coordinator"), reason="再查"
    )
    workflow.resolve(issue_id=later.pk, by=later.owner, resolution="再次办结")
    expiring = link_for(Issue.objects.get(pk=resolved.pk))
    with travel(TODAY + timedelta(days=15)):
        assert "expired" in client.get(expiring.path, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert resolved.feedback_rounds.count() == 1


@pytest.mark.django_db
def test_a_link_for_one_issue_cannot_answer_another(resolved, client, coordinator, dept_a):
    other = workflow.raise_issue(
        by=coordinator,
        enterprise=resolved.enterprise,
        title="另一问题",
        category=category(),
        source=Source.OTHER,
    )
    link = link_for(resolved)
    # The signed payload names its request: another issue's id cannot be put in without the key.
    from django.core import signing

    forged = signing.dumps({"r": link.request.pk + 1, "s": "guess"}, salt="not-the-salt")
    assert client.get(reverse("feedback", args=[forged])).status_code == 410
    assert not other.feedback_rounds.exists()


@pytest.mark.django_db
def test_a_script_in_the_comment_is_stored_as_text_and_shown_escaped(resolved, client, coordinator):
    link = link_for(resolved)
    client.post(
        link.path,
        {
            "reply_satisfaction": "satisfied",
            "solution_satisfaction": "unsatisfied",
            "comment": "<script>alert(1)</script>",
        },
    )
    client.force_login(coordinator)
    page = client.get(resolved.get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.django_db
def test_an_oversized_comment_is_refused_and_nothing_changes(resolved, client):
    link = link_for(resolved)
    response = client.post(
        link.path,
        {"reply_satisfaction": "satisfied", "solution_satisfaction": "unsatisfied", "comment": "长" * 5000},
    )
    assert response.status_code == 400
    resolved.refresh_from_db()
    assert resolved.status == Status.RESOLVED and not resolved.feedback_rounds.exists()


@pytest.mark.django_db
def test_answers_are_rate_limited(resolved, client, settings):
    from django.core.cache import cache

    cache.clear()
    settings.PUBLIC_RATE_LIMIT = 3
    path = reverse("feedback", args=["not-a-token"])
    assert [client.get(path).status_code for _ in range(4)] == [410, 410, 410, 429]
    cache.clear()


@pytest.mark.django_db
def test_the_coordinator_issues_a_link_with_its_qr_code_and_the_contact_gets_it(
    resolved, client, coordinator, django_capture_on_commit_callbacks
):
    client.force_login(coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(
            reverse("issues:action", args=[resolved.pk, "request_feedback"]), {"version": resolved.version}
        ).content.decode()
    assert 'id="feedback-link"' in page and "<svg" in page
    url = page.split('id="feedback-link-url" aria-label=')[0].rsplit('value="', 1)[1].split('"')[0]
    assert "/f/" in url
    sent = [m for m in mail.outbox if m.to == ["wang@example.com"]]
    assert len(sent) == 1 and url.split("/f/")[1] in sent[0].body
    assert resolved.events.filter(kind=EventKind.FEEDBACK_REQUESTED).exists()


@pytest.mark.django_db
def test_the_feedback_link_command_prints_links_and_writes_qr_codes(resolved, tmp_path):
    out = io.StringIO()
    call_command(
        "feedback_link",
        str(resolved.pk),
        "--base-url",
        "https://visits.example.gov.cn",
        "--qr",
        str(tmp_path),
        stdout=out,
    )
    issue_id, url = out.getvalue().strip().split("\t")
    assert issue_id == str(resolved.pk) and url.startswith("https://visits.example.gov.cn/f/")
    assert (tmp_path / f"{resolved.pk}.svg").read_text().startswith("<svg")
    assert feedback_links.open_link(url.split("/f/")[1].rstrip("/")).issue == resolved


# -- enterprise accounts ------------------------------------------------------------------------------


@pytest.fixture
def account(resolved, coordinator):
    contact = resolved.enterprise.contacts.get()
    made, _created = invite(contact, coordinator)
    made.user.set_password("海河港口物流园区2026春季")
    made.user.save()
    return made


@pytest.mark.django_db
def test_an_invitation_sets_a_password_through_the_same_rules(resolved, coordinator, client):
    contact = resolved.enterprise.contacts.get()
    made, created = invite(contact, coordinator)
    assert created and not made.user.has_usable_password()
    path = invitation_path(made.user)
    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200
    set_url = form_page.redirect_chain[-1][0] if form_page.redirect_chain else path
    weak = client.post(set_url, {"new_password1": "aaaaaaaaaaaa", "new_password2": "aaaaaaaaaaaa"})
    assert weak.status_code == 200 and not type(made.user).objects.get(pk=made.user.pk).has_usable_password()
    good = client.post(
        set_url, {"new_password1": "海河港口物流园区2026春季", "new_password2": "海河港口物流园区2026春季"}
    )
    assert good.status_code == 302
    assert client.get(path).context["validlink"] is False  # used once
    landed = client.post(
        reverse("login"), {"username": made.user.username, "password": "海河港口物流园区2026春季"}
    )
    assert landed["Location"] == reverse("enterprise:home")


@pytest.mark.django_db
def test_an_enterprise_account_sees_its_issues_only_and_only_public_entries(
    account, resolved, client, coordinator, staff_a
):
    other = workflow.raise_issue(
        by=coordinator,
        enterprise=EnterpriseFactory(name="别家企业"),
        title="别家的问题",
        category=category(),
        source=Source.OTHER,
    )
    client.force_login(account.user)
    home = client.get(reverse("enterprise:home")).content.decode()
    assert resolved.title in home and other.title not in home
    page = client.get(reverse("enterprise:issue", args=[resolved.pk])).content.decode()
    assert PUBLIC in page and INTERNAL not in page and staff_a.get_full_name() not in page
    assert client.get(reverse("enterprise:issue", args=[other.pk])).status_code == 404
    # Staff pages are not for it: sent to its own page, or refused.
    assert client.get(reverse("issues:detail", args=[resolved.pk]))["Location"] == reverse("enterprise:home")
    assert client.get(reverse("issues:list"))["Location"] == reverse("enterprise:home")
    assert (
        client.post(reverse("issues:action", args=[resolved.pk, "progress"]), {"note": "x"}).status_code
        == 403
    )
    assert Issue.objects.visible_to(account.user).count() == 0


@pytest.mark.django_db
def test_an_enterprise_account_raises_a_problem_into_the_triage_queue(
    account, client, coordinator, django_capture_on_commit_callbacks
):
    coordinator.email = "coordinator@example.com"
    coordinator.save()
    client.force_login(account.user)
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(
            reverse("enterprise:raise"),
            {"title": "消防验收排期太久", "description": "已等两个月", "category": category().pk},
        )
    issue = Issue.objects.get(title="消防验收排期太久")
    assert (issue.source, issue.status, issue.enterprise) == (
        Source.ENTERPRISE_REQUEST,
        Status.NEW,
        account.enterprise,
    )
    assert f'id="reference">{issue.pk}<' in page.content.decode()
    client.force_login(coordinator)
    queue = client.get("/").context["new_issues"]
    assert issue.pk in [i.pk for i in queue]
    assert Notification.objects.get(kind="enterprise_request").address == "coordinator@example.com"
    assert "消防验收排期太久" in mail.outbox[0].subject


@pytest.mark.django_db
def test_an_enterprise_account_adds_information_and_answers(account, resolved, client):
    client.force_login(account.user)
    url = reverse("enterprise:issue", args=[resolved.pk])
    client.post(url, {"note": "补充：变压器型号为S13"})
    note = resolved.events.get(kind=EventKind.ENTERPRISE_NOTE)
    assert note.public and note.actor == account.user
    client.post(url, {"reply_satisfaction": "satisfied", "solution_satisfaction": "satisfied", "comment": ""})
    resolved.refresh_from_db()
    assert resolved.status == Status.CLOSED
    assert resolved.feedback_rounds.get().channel == Channel.ONLINE


# -- notifications ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_assignment_is_told_by_email_and_to_the_department_chat(
    coordinator, staff_a, dept_a, chat, django_capture_on_commit_callbacks
):
    staff_a.email = "staff_a@example.com"
    staff_a.save()
    dept_a.chat_webhook = chat["url"]
    dept_a.save()
    issue = workflow.raise_issue(
        by=coordinator,
        enterprise=EnterpriseFactory(),
        title="审批慢",
        category=category(),
        source=Source.OTHER,
    )
    with django_capture_on_commit_callbacks(execute=True):
        workflow.assign(
            issue_id=issue.pk,
            by=coordinator,
            department=dept_a,
            owner=staff_a,
            deadline=TODAY + timedelta(days=10),
        )
    assert [m.to for m in mail.outbox] == [["staff_a@example.com"]]
    assert "审批慢" in mail.outbox[0].subject
    assert len(chat["received"]) == 1 and chat["received"][0]["msgtype"] == "text"
    assert "审批慢" in chat["received"][0]["text"]["content"]
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}


@pytest.mark.django_db
def test_a_failed_delivery_is_kept_and_never_undoes_the_step(
    coordinator, staff_a, dept_a, chat, django_capture_on_commit_callbacks
):
    dept_a.chat_webhook = chat["url"]
    dept_a.save()
    chat["failing"].append(True)
    issue = workflow.raise_issue(
        by=coordinator, enterprise=EnterpriseFactory(), title="物流", category=category(), source=Source.OTHER
    )
    with django_capture_on_commit_callbacks(execute=True):
        workflow.assign(
            issue_id=issue.pk,
            by=coordinator,
            department=dept_a,
            owner=staff_a,
            deadline=TODAY + timedelta(days=10),
        )
    issue.refresh_from_db()
    assert issue.status == Status.ASSIGNED
    failed = Notification.objects.get(channel="chat")
    assert failed.status == "failed" and "HTTP Error 500" in failed.last_error and failed.attempts == 1


@pytest.mark.django_db
def test_each_person_chooses_the_channels(
    coordinator, staff_a, dept_a, chat, client, django_capture_on_commit_callbacks
):
    staff_a.email = "staff_a@example.com"
    staff_a.save()
    dept_a.chat_webhook = chat["url"]
    dept_a.save()
    client.force_login(staff_a)
    assert client.post(reverse("notification-settings"), {"chat": "on"}).status_code == 302
    assert NotificationPreference.objects.get(user=staff_a).email is False
    issue = workflow.raise_issue(
        by=coordinator, enterprise=EnterpriseFactory(), title="用工", category=category(), source=Source.OTHER
    )
    with django_capture_on_commit_callbacks(execute=True):
        workflow.assign(
            issue_id=issue.pk,
            by=coordinator,
            department=dept_a,
            owner=staff_a,
            deadline=TODAY + timedelta(days=10),
        )
    assert mail.outbox == []
    assert len(chat["received"]) == 1


@pytest.mark.django_db
def test_sent_back_and_answer_received_are_told(resolved, staff_a, chat, django_capture_on_commit_callbacks):
    staff_a.email = "staff_a@example.com"
    staff_a.save()
    with django_capture_on_commit_callbacks(execute=True):
        workflow.record_round(
            issue_id=resolved.pk,
            by=None,
            contacted_on=TODAY,
            channel=Channel.ONLINE,
            reply_satisfaction=Satisfaction.SATISFIED,
            solution_satisfaction=Satisfaction.UNSATISFIED,
            comment="没修好",
        )
    kinds = sorted(Notification.objects.filter(recipient=staff_a).values_list("kind", flat=True))
    assert kinds == ["answer_received", "sent_back"]
    assert any("没修好" in m.body for m in mail.outbox)
