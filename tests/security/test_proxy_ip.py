"""Issue 13 finding 2: the login lockout and the audit log behind one reverse proxy.

nginx sets `X-Forwarded-For: $proxy_add_x_forwarded_for`: whatever the client sent, then a
comma, then the address the client connected from. The app sees nginx as REMOTE_ADDR. So the
real client is the right-most entry; anything to its left was typed by the client.

The settings come from a fresh import of `config/settings.py` with `PROXY_COUNT=1`, so the
tests check what an operator gets from the documented variable, not a hand-made setting.
"""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.test import Client

from .conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
LOGIN = "/accounts/login/"
NGINX = "127.0.0.1"
ATTACKER, STAFF_HOME = "203.0.113.7", "198.51.100.20"
# Forged values an attacker might put in its own X-Forwarded-For. The unbalanced quote
# would swallow the address nginx appends in a quote-aware parser (django-ipware's default
# "modern" algorithm), leaving the forged address as the right-most one.
FORGED = ["1.2.3.4", "10.9.8.7, 5.6.7.8", '5.6.7.8, "', '5.6.7.8, for="[', "unknown", "::1", "x" * 200]
AXES_NAMES = [
    "AXES_IPWARE_PROXY_COUNT",
    "AXES_IPWARE_META_PRECEDENCE_ORDER",
    "AXES_IPWARE_PROXY_ORDER",
    "IPWARE_ALGORITHM",
    "IPWARE_STRICT",
]


def settings_with(**env: str) -> dict:
    """The client-IP settings config/settings.py makes from this environment."""
    code = (
        "import json, config.settings as s; "
        f"print(json.dumps({{n: getattr(s, n, None) for n in {AXES_NAMES!r}}}))"
    )
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/tmp", "TESTING": "1", **env}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def one_proxy():
    return settings_with(PROXY_COUNT="1")


@pytest.fixture
def behind_nginx(settings, one_proxy):
    for name, value in one_proxy.items():
        if value is not None:
            setattr(settings, name, tuple(value) if isinstance(value, list) else value)


def via_nginx(client_ip: str, forged: str | None = None) -> dict:
    """The request as gunicorn receives it from nginx."""
    forwarded = f"{forged}, {client_ip}" if forged is not None else client_ip
    return {"REMOTE_ADDR": NGINX, "HTTP_X_FORWARDED_FOR": forwarded}


def attempt(username: str, password: str, meta: dict):
    return Client().post(LOGIN, {"username": username, "password": password}, **meta)


def security_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "security"]


@pytest.mark.axes
def test_real_client_ip_is_locked_out_not_the_proxy(staff_a, behind_nginx):
    for _ in range(4):
        assert attempt("staff_a", "wrong-password-123", via_nginx(ATTACKER)).status_code == 200
    assert attempt("staff_a", "wrong-password-123", via_nginx(ATTACKER)).status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}
    # The attacker stays locked out, even with the right password...
    assert attempt("staff_a", PASSWORD, via_nginx(ATTACKER)).status_code == 429
    # ...and the same user, from her own address through the same nginx, gets in.
    assert attempt("staff_a", PASSWORD, via_nginx(STAFF_HOME)).status_code == 302


@pytest.mark.axes
def test_forged_x_forwarded_for_cannot_rotate_the_ip(staff_a, behind_nginx):
    for i, forged in enumerate(FORGED[:5]):
        response = attempt("staff_a", "wrong-password-123", via_nginx(ATTACKER, forged))
        assert response.status_code == (429 if i == 4 else 200), forged
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}
    for forged in FORGED:
        response = attempt("staff_a", PASSWORD, via_nginx(ATTACKER, forged))
        assert response.status_code == 429, forged
    # The forged values did not lock anyone else out.
    assert attempt("staff_a", PASSWORD, via_nginx(STAFF_HOME)).status_code == 302


@pytest.mark.axes
def test_office_behind_its_own_forward_proxy_is_one_client(staff_a, staff_b, behind_nginx):
    """A city office whose outgoing proxy adds its own X-Forwarded-For is counted by the
    office's address, like any client: not lumped together with the nginx address."""
    office = "198.51.100.77"
    for _ in range(5):
        attempt("staff_a", "wrong-password-123", via_nginx(office, forged="10.20.30.40"))
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {office}
    # Someone sending no header of their own is not in that bucket.
    assert attempt("staff_a", PASSWORD, via_nginx(STAFF_HOME)).status_code == 302


@pytest.mark.django_db
def test_audit_log_records_the_client_not_the_proxy(staff_a, behind_nginx, caplog):
    with caplog.at_level(logging.INFO, logger="security"):
        attempt("staff_a", "wrong-password-123", via_nginx(ATTACKER, forged="1.2.3.4"))
        client = Client()
        response = client.post(LOGIN, {"username": "staff_a", "password": PASSWORD}, **via_nginx(STAFF_HOME))
        assert response.status_code == 302
        client.post("/accounts/logout/", **via_nginx(STAFF_HOME))
    lines = security_lines(caplog)
    assert any(m.startswith("login failed") and f"ip={ATTACKER}" in m for m in lines), lines
    assert any(m.startswith("login:") and f"ip={STAFF_HOME}" in m for m in lines), lines
    assert any(m.startswith("logout:") and f"ip={STAFF_HOME}" in m for m in lines), lines
    assert not any(f"ip={NGINX}" in m or "ip=1.2.3.4" in m for m in lines), lines


@pytest.mark.django_db
def test_without_a_proxy_the_socket_address_is_logged(staff_a, caplog):
    """PROXY_COUNT unset (the app faces clients directly): X-Forwarded-For is never read."""
    direct = {"REMOTE_ADDR": STAFF_HOME, "HTTP_X_FORWARDED_FOR": "1.2.3.4"}
    with caplog.at_level(logging.INFO, logger="security"):
        attempt("staff_a", "wrong-password-123", direct)
    assert any(f"ip={STAFF_HOME}" in m for m in security_lines(caplog))


def test_django_ipware_is_installed():
    """Without it django-axes ignores every AXES_IPWARE_* setting, silently."""
    from axes.helpers import IPWARE_INSTALLED

    assert IPWARE_INSTALLED
