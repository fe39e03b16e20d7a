"""Issue 13 finding 7: weak passwords are refused, and every user can change theirs.

`aaaaaaaaaaaa` and the username typed twice passed Django's four validators. Two more in
`config/passwords.py`: a minimum of distinct characters, and no text repeated (a piece typed
over and over, or the username twice). The page is Django's PasswordChangeView at
/accounts/password/, linked from the user menu.
"""

import pytest
from django.contrib.auth import password_validation
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from ..factories import UserFactory
from .conftest import PASSWORD

CHANGE = "/accounts/password/"
DONE = "/accounts/password/done/"
NEW = "滨海新区-tianjin-harbour-42"


@pytest.fixture
def zhang(db):
    return UserFactory(username="zhangxiaoming", first_name="小明", last_name="张", role="official")


def refusals(password: str, user) -> list[str]:
    with translation.override("en"):
        try:
            password_validation.validate_password(password, user)
        except ValidationError as refused:
            return refused.messages
    return []


@pytest.mark.parametrize(
    "password, fragment",
    [
        ("aaaaaaaaaaaa", "different characters"),
        ("AaAaAaAaAaAa", "different characters"),
        ("ab1ab1ab1ab1ab1", "different characters"),
        ("zhangxiaomingzhangxiaoming", "username"),
        ("ZhangXiaoming-zhangxiaoming!", "username"),
        ("2026zhangxiaoming.zhangxiaoming", "username"),
        ("qwertyu-qwertyu-qwertyu", "repeats"),
        ("Tianjin2026!Tianjin2026!", "repeats"),
    ],
)
def test_weak_passwords_are_refused(zhang, password, fragment):
    messages = refusals(password, zhang)
    assert any(fragment in m for m in messages), messages
    form = SetPasswordForm(zhang, {"new_password1": password, "new_password2": password})
    assert not form.is_valid()
    zhang.refresh_from_db()
    assert zhang.check_password(PASSWORD)


@pytest.mark.parametrize(
    "password",
    [
        NEW,
        "correct horse battery staple",
        "zhangxiaoming-on-the-haihe-river",  # the username once, with plenty else
        "Kx9#mQ2$vL7!",
        "天津港保税区企业走访二〇二六",
    ],
)
def test_good_passwords_pass(zhang, password):
    assert refusals(password, zhang) == []


@pytest.mark.parametrize(
    "password, fragment",
    [
        ("Kx9#mQ2", "too short"),
        ("zhangxiaoming1", "too similar"),
        ("password1234", "too common"),
        ("902718364512", "entirely numeric"),
    ],
)
def test_django_validators_are_kept(zhang, password, fragment):
    assert any(fragment in m for m in refusals(password, zhang))


def test_help_text_names_the_new_rules(settings):
    with translation.override("en"):
        text = " ".join(password_validation.password_validators_help_texts())
    assert "12 characters" in text
    assert "different characters" in text
    assert "username" in text


# -- the page -----------------------------------------------------------------------------------


def change(client, old=PASSWORD, new=NEW, again=None):
    return client.post(CHANGE, {"old_password": old, "new_password1": new, "new_password2": again or new})


def test_every_role_can_change_the_password(world, client_for, settings):
    for role in ("official", "coordinator", "department", "leader", "administrator"):
        user = world.users[role]
        user.set_password(PASSWORD)
        user.save()
        client = client_for(user)
        response = client.get(CHANGE)
        assert response.status_code == 200, role
        assert "registration/change_password.html" in [t.name for t in response.templates]
        response = change(client)
        assert response.status_code == 302 and response["Location"] == DONE, role
        assert client.get(DONE).status_code == 200
        user.refresh_from_db()
        assert user.check_password(NEW), role
        # This browser stays signed in (Django updates the session's hash).
        assert client.get(reverse("home")).status_code == 200, role


def test_change_ends_the_other_sessions(staff_a, client_for):
    here, elsewhere = client_for(staff_a), client_for(staff_a)
    assert elsewhere.get(reverse("home")).status_code == 200
    assert change(here).status_code == 302
    response = elsewhere.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    "old, new, field",
    [
        ("wrong-old-password-1", NEW, "old_password"),
        (PASSWORD, "aaaaaaaaaaaa", "new_password2"),
        (PASSWORD, "staff_astaff_astaff_a", "new_password2"),
        (PASSWORD, "short", "new_password2"),
    ],
)
def test_refused_change_keeps_the_old_password(staff_a, client_for, old, new, field):
    response = change(client_for(staff_a), old=old, new=new)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    staff_a.refresh_from_db()
    assert staff_a.check_password(PASSWORD)


@pytest.mark.axes
def test_guessing_the_old_password_locks_like_the_login_page(staff_a, client_for):
    """A browser left signed in must not let someone guess the password without limit: wrong
    old passwords count towards the same lockout as wrong passwords at the login page."""
    client = client_for(staff_a, REMOTE_ADDR="10.1.1.1")
    for _ in range(4):
        response = change(client, old="wrong-old-password-1")
        assert response.status_code == 200 and response.context["form"].errors["old_password"]
    assert change(client, old="wrong-old-password-1").status_code == 429
    response = change(client)  # the right one, too late
    assert response.status_code == 429
    assert "registration/locked_out.html" in [t.name for t in response.templates]
    staff_a.refresh_from_db()
    assert staff_a.check_password(PASSWORD)
    login = {"username": "staff_a", "password": PASSWORD}
    assert Client(REMOTE_ADDR="10.1.1.1").post(reverse("login"), login).status_code == 429  # the same lockout
    # From another address the owner still signs in and changes it.
    assert change(client_for(staff_a, REMOTE_ADDR="10.2.2.2")).status_code == 302


def test_mismatched_new_passwords_are_refused(staff_a, client_for):
    response = change(client_for(staff_a), again=NEW + "x")
    assert response.status_code == 200 and response.context["form"].errors["new_password2"]


def test_user_without_a_role_can_change_the_password(db, client_for):
    nobody = UserFactory(username="nobody")
    nobody.save()  # the factory sets the password after saving (skip_postgeneration_save)
    client = client_for(nobody)
    assert client.get(CHANGE).status_code == 200
    assert change(client).status_code == 302
    nobody.refresh_from_db()
    assert nobody.check_password(NEW)


@pytest.mark.django_db
def test_anonymous_is_sent_to_login():
    response = Client().get(CHANGE)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_user_menu_links_to_the_page(staff_a, client_for):
    body = client_for(staff_a).get(reverse("home")).content.decode()
    assert f'href="{CHANGE}"' in body


def test_page_is_in_chinese_by_default(staff_a, client_for):
    body = client_for(staff_a).get(CHANGE).content.decode()
    assert '<html lang="zh-CN">' in body
    with translation.override("zh-hans"):
        assert gettext("Change password") in body
