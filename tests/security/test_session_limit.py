"""Issue 13 finding 6: a session ends 8 hours after logging in, however active the user is.

Django's own expiry (SESSION_COOKIE_AGE) moves to now + 8 h each time the session is saved,
and the idle check saves it once a minute, so an active user used to stay signed in for
ever. The clock is moved by replacing `time.time` (the middleware's clock; the database
session keeps real time, as it would in production).
"""

import time
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from .conftest import PASSWORD

LOGIN = reverse("login")
HOME = reverse("home")


class Clock:
    def __init__(self):
        self.now = time.time()

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta).total_seconds()


@pytest.fixture
def clock(monkeypatch):
    moving = Clock()
    monkeypatch.setattr(time, "time", lambda: moving.now)
    return moving


def stay_active(client, clock, minutes: int) -> None:
    """A request every 20 minutes (inside the 30-minute idle limit) for `minutes`."""
    for _ in range(minutes // 20):
        clock.advance(minutes=20)
        assert client.get(HOME).status_code == 200


def log_in(client) -> None:
    response = client.post(LOGIN, {"username": "staff_a", "password": PASSWORD})
    assert response.status_code == 302, response.status_code


def test_session_ends_eight_hours_after_login_however_active(staff_a, clock, settings):
    assert settings.SESSION_COOKIE_AGE == 8 * 3600
    client = Client()
    log_in(client)
    stay_active(client, clock, minutes=7 * 60 + 40)
    clock.advance(minutes=19)
    assert client.get(HOME).status_code == 200
    clock.advance(minutes=1, seconds=1)
    response = client.get(reverse("issues:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN) and "next=/issues/" in response["Location"]
    assert "_auth_user_id" not in client.session  # logged out, not just redirected
    assert client.get(HOME).status_code == 302
    # Logging in again starts a new working day.
    log_in(client)
    stay_active(client, clock, minutes=60)


def test_logging_in_again_restarts_the_limit(staff_a, clock):
    client = Client()
    log_in(client)
    stay_active(client, clock, minutes=7 * 60 + 40)
    log_in(client)  # again, on the same browser session
    stay_active(client, clock, minutes=2 * 60)  # 9 h 40 min after the first login


def test_limit_counts_from_the_first_request_of_a_session_without_a_login_time(staff_a, clock):
    """Sessions made before the check (and force_login) carry no login time: it starts at
    their first request, so they too end within 8 hours of it."""
    client = Client()
    client.force_login(staff_a)
    assert client.get(HOME).status_code == 200
    for _ in range(16):
        clock.advance(minutes=29)
        assert client.get(HOME).status_code == 200
    clock.advance(minutes=29)  # 8 h 13 min after the first request
    assert client.get(HOME).status_code == 302


def test_idle_limit_still_applies_inside_the_day(staff_a, clock, settings):
    client = Client()
    log_in(client)
    clock.advance(seconds=settings.SESSION_IDLE_TIMEOUT + 1)
    assert client.get(HOME).status_code == 302
