"""SECURITY.md 7, 8, 9, 10 and the audit log: lockout, sessions, password policy."""

import logging
import random
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import password_validation
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from config.middleware import NoStoreForAuthenticatedMiddleware

from .conftest import PASSWORD

LOGIN = "/accounts/login/"
IP_A, IP_B = "10.1.1.1", "10.2.2.2"


def attempt(client, username, password, ip=IP_A, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip, **extra)


def lock_out(client, username, ip=IP_A):
    for _ in range(5):
        response = attempt(client, username, "wrong-password-123", ip)
        assert response.status_code in (200, 429)


# -- 7: lockout ---------------------------------------------------------------------------------


@pytest.mark.axes
def test_five_bad_passwords_lock_then_cool_off_lets_in(staff_a):
    client = Client()
    for _ in range(4):
        response = attempt(client, "staff_a", "wrong-password-123")
        assert response.status_code == 200  # the form again, with an error
    response = attempt(client, "staff_a", "wrong-password-123")
    assert response.status_code == 429
    response = attempt(client, "staff_a", PASSWORD)
    assert response.status_code == 429
    assert "registration/locked_out.html" in [t.name for t in response.templates]
    assert "_auth_user_id" not in client.session
    # Fifteen minutes later (moved back in the attempt record: axes compares to it).
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16)
    )
    response = attempt(client, "staff_a", PASSWORD)
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


@pytest.mark.axes
def test_still_locked_just_before_the_cool_off_ends(staff_a):
    client = Client()
    lock_out(client, "staff_a")
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=14)
    )
    assert attempt(client, "staff_a", PASSWORD).status_code == 429


# -- 8: no mass lockout, no X-Forwarded-For bypass ----------------------------------------------


@pytest.mark.axes
def test_one_locked_user_does_not_lock_the_office(staff_a, staff_b):
    lock_out(Client(), "staff_a", IP_A)
    # Another person behind the same NAT address gets in.
    assert attempt(Client(), "staff_b", PASSWORD, IP_A).status_code == 302
    # ...and the locked user from another address is not locked (username AND ip).
    assert attempt(Client(), "staff_a", PASSWORD, IP_B).status_code == 302


@pytest.mark.axes
def test_forged_x_forwarded_for_does_not_bypass_the_lockout(staff_a):
    lock_out(Client(), "staff_a", IP_A)
    rng = random.Random(7)
    for _ in range(10):
        forged = f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        response = attempt(Client(), "staff_a", PASSWORD, IP_A, HTTP_X_FORWARDED_FOR=forged)
        assert response.status_code == 429, forged


# -- audit log ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_login_failure_is_logged_without_the_password(staff_a, caplog):
    with caplog.at_level(logging.INFO, logger="security"):
        attempt(Client(), "staff_a", "Sup3r-Secret-Guess!")
    lines = [r.getMessage() for r in caplog.records if r.name == "security"]
    assert any("login failed" in m and "username=staff_a" in m and f"ip={IP_A}" in m for m in lines)
    assert all("Sup3r-Secret-Guess!" not in r.getMessage() for r in caplog.records)
    assert all("Sup3r-Secret-Guess!" not in str(r.args) for r in caplog.records)


@pytest.mark.django_db
def test_login_log_line_cannot_be_forged(caplog):
    with caplog.at_level(logging.INFO, logger="security"):
        attempt(Client(), "x\nlogin: username=admin ip=1.2.3.4", "wrong-password-123")
    messages = [r.getMessage() for r in caplog.records if r.name == "security"]
    assert messages and all("\n" not in m for m in messages)


def test_refused_authorisation_is_logged(staff_a, caplog):
    client = Client()
    client.force_login(staff_a)
    with caplog.at_level(logging.WARNING, logger="security"):
        response = client.get(reverse("visits:create"), REMOTE_ADDR=IP_B)
    assert response.status_code == 403
    lines = [r.getMessage() for r in caplog.records if r.name == "security"]
    assert any("forbidden" in m and "username=staff_a" in m and IP_B in m for m in lines), lines


# -- 9: session lifecycle -----------------------------------------------------------------------


@pytest.mark.django_db
def test_session_key_changes_on_login(staff_a, settings):
    client = Client()
    client.get(LOGIN)
    client.session.save()
    before = (
        client.cookies[settings.SESSION_COOKIE_NAME].value
        if settings.SESSION_COOKIE_NAME in client.cookies
        else None
    )
    assert attempt(client, "staff_a", PASSWORD).status_code == 302
    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after and after != before


@pytest.mark.django_db
def test_old_cookie_is_dead_after_logout(staff_a, settings):
    client = Client()
    assert attempt(client, "staff_a", PASSWORD).status_code == 302
    stolen = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert client.get(reverse("home")).status_code == 200
    client.post(reverse("logout"))
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = stolen
    response = replay.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


@pytest.mark.django_db
def test_deactivated_user_is_sent_to_login(staff_a):
    client = Client()
    client.force_login(staff_a)
    assert client.get(reverse("home")).status_code == 200
    staff_a.is_active = False
    staff_a.save()
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


@pytest.mark.django_db
def test_password_change_elsewhere_ends_other_sessions(staff_a):
    first, second = Client(), Client()
    assert attempt(first, "staff_a", PASSWORD).status_code == 302
    assert attempt(second, "staff_a", PASSWORD).status_code == 302
    form = SetPasswordForm(
        staff_a, {"new_password1": "a-new-long-passphrase-42", "new_password2": "a-new-long-passphrase-42"}
    )
    assert form.is_valid(), form.errors
    form.save()
    response = first.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


@pytest.mark.django_db
def test_idle_session_is_logged_out(staff_a, settings):
    client = Client()
    client.force_login(staff_a)
    assert client.get(reverse("home")).status_code == 200
    session = client.session
    key = NoStoreForAuthenticatedMiddleware.SESSION_KEY
    # Just inside the limit: still signed in.
    session[key] = session[key] - settings.SESSION_IDLE_TIMEOUT + 30
    session.save()
    assert client.get(reverse("home")).status_code == 200
    session = client.session
    session[key] = session[key] - settings.SESSION_IDLE_TIMEOUT - 1
    session.save()
    response = client.get(reverse("issues:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN) and "next=/issues/" in response["Location"]
    assert client.get(reverse("home")).status_code == 302  # the session is gone, not just skipped


def test_absolute_session_limit(settings):
    assert settings.SESSION_COOKIE_AGE <= 8 * 3600
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert settings.SESSION_IDLE_TIMEOUT <= 30 * 60


# -- 10: password policy ------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "password, fragment",
    [
        ("12345678", "too short"),
        ("staff_a_x", "too similar"),
        ("password1234", "too common"),
        ("123456789012", "entirely numeric"),
    ],
)
def test_weak_passwords_are_refused_with_a_message(staff_a, password, fragment):
    from django.utils import translation

    with translation.override("en"):
        with pytest.raises(ValidationError) as refused:
            password_validation.validate_password(password, staff_a)
        assert any(fragment in m for m in refused.value.messages), refused.value.messages
        form = SetPasswordForm(staff_a, {"new_password1": password, "new_password2": password})
        assert not form.is_valid()
        assert form.errors["new_password2"]
    staff_a.refresh_from_db()
    assert staff_a.check_password(PASSWORD)


@pytest.mark.django_db
def test_long_passphrase_is_accepted(staff_a):
    passphrase = "滨海新区的企业走访记录-" + "correct horse battery staple " * 2
    passphrase = (passphrase * 2)[:64]
    assert len(passphrase) == 64
    password_validation.validate_password(passphrase, staff_a)
    form = SetPasswordForm(staff_a, {"new_password1": passphrase, "new_password2": passphrase})
    assert form.is_valid(), form.errors
    form.save()
    assert attempt(Client(), "staff_a", passphrase).status_code == 302
