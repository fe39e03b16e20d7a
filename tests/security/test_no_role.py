"""Issue 13 finding 5: a signed-in account with no role sees nothing but a page saying so.

Accounts are made in the admin and given their role (a group) there; one without a group
used to read every visit summary, enterprise profile and contact phone number, and got a
500 on the issue list. `config.middleware.RoleRequiredMiddleware` answers every page with
403 and the no-role page, except what an anonymous visitor may open and logging out.
"""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from ..factories import ContactFactory, UserFactory
from .conftest import A_TITLE, B_CREDIT_CODE, B_TITLE
from .test_permission_matrix import ROUTES, fill

NO_ROLE_TEMPLATE = "registration/no_role.html"
PHONE = "13920001234"
# What a user without a role may still open: the anonymous allowlist, plus logging out and
# changing the password.
OPEN = {
    "login",
    "logout",
    "set_language",
    "healthz",
    "favicon",
    "admin:login",
    "admin:logout",
    "password_change",
    "password_change_done",
    # public pages of the enterprise's own voice: a link's token, an invitation's token
    "feedback",
    "invitation",
    "invitation-done",
}
LOGOUT = {"logout", "admin:logout"}


@pytest.fixture
def nobody(db):
    """Signed in, active, no group, not a superuser (staff, so the admin would let them in)."""
    user = UserFactory(username="nobody", first_name="无角色")
    user.is_staff = True
    user.save()
    return user


@pytest.fixture
def secrets(world):
    ContactFactory(enterprise=world.enterprise_a, name="赵经理", phone=PHONE)
    return [
        A_TITLE,
        B_TITLE,
        B_CREDIT_CODE,
        world.enterprise_a.credit_code,
        world.enterprise_a.name,
        world.enterprise_b.name,
        world.visit_a.summary,
        PHONE,
        "赵经理",
    ]


def _templates(response) -> list[str]:
    return [t.name for t in response.templates]


def test_issue_list_gives_the_no_role_page(nobody, as_user):
    response = as_user(nobody).get(reverse("issues:list"))
    assert response.status_code == 403
    assert NO_ROLE_TEMPLATE in _templates(response)
    # No menu of pages it cannot open; logging out and changing the password stay.
    body = response.content.decode()
    for page in ("enterprises:list", "visits:list", "issues:list", "notification-settings"):
        assert f'href="{reverse(page)}"' not in body.split("<main")[0], page
    assert f'href="{reverse("password_change")}"' in body


def test_every_page_gives_the_no_role_page_and_no_data(world, secrets, nobody, client_for):
    client = client_for(nobody)
    wrong = []
    for route in ROUTES:
        for side in ("own", "other") if route.params else ("own",):
            path = fill(route, world, side)
            # Logging out is tested on its own: here it would end the walk's session.
            for method in ("get",) if route.name in LOGOUT else ("get", "post"):
                response = getattr(client, method)(path)
                body = response.content.decode(errors="replace")
                leaked = [s for s in secrets if s in body]
                if leaked:
                    wrong.append(f"{method.upper()} {path}: shows {leaked}")
                if route.name in OPEN:
                    if response.status_code >= 500:
                        wrong.append(f"{method.upper()} {path}: {response.status_code}")
                elif response.status_code != 403 or NO_ROLE_TEMPLATE not in _templates(response):
                    wrong.append(f"{method.upper()} {path} [{route.name}]: {response.status_code}")
    assert not wrong, "\n".join(wrong)


def test_no_role_page_is_in_chinese_by_default_and_in_english_on_request(nobody, client_for):
    client = client_for(nobody)
    response = client.get(reverse("home"))
    assert response.status_code == 403
    body = response.content.decode()
    assert '<html lang="zh-CN">' in body
    with translation.override("zh-hans"):
        assert gettext("Your account has no role yet") in body
    response = client_for(nobody, HTTP_ACCEPT_LANGUAGE="en").get(reverse("home"))
    assert "Your account has no role yet" in response.content.decode()


def test_no_role_user_can_log_out(nobody, client_for):
    client = client_for(nobody)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_refusal_is_logged(nobody, client_for, caplog):
    with caplog.at_level("WARNING", logger="security"):
        client_for(nobody).get(reverse("visits:list"))
    assert any("forbidden" in r.getMessage() and "username=nobody" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("role", ["official", "coordinator", "department", "leader", "administrator"])
def test_every_role_still_gets_its_pages(world, client_for, role):
    """The other side: one role is enough (and a superuser holds the administrator role)."""
    client = client_for(world.users[role])
    for name in ("home", "issues:list", "visits:list", "enterprises:list"):
        response = client.get(reverse(name))
        assert response.status_code == 200, (name, response.status_code)
        assert NO_ROLE_TEMPLATE not in _templates(response)


def test_giving_a_role_opens_the_pages(nobody, client_for):
    from django.contrib.auth.models import Group

    client = client_for(nobody)
    assert client.get(reverse("visits:list")).status_code == 403
    nobody.groups.add(Group.objects.get(name="official"))
    assert client.get(reverse("visits:list")).status_code == 200


@pytest.mark.django_db
def test_anonymous_still_goes_to_login():
    response = Client().get(reverse("issues:list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
