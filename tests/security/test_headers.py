"""SECURITY.md 2, 3, 4: response headers, cookies with production settings, Host header."""

import pytest
from django.test import Client
from django.urls import reverse

from .conftest import PASSWORD


def _csp(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition(" ")
        if name:
            directives[name] = value
    return directives


def _assert_security_headers(response):
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    csp = _csp(response)
    assert csp["default-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["object-src"] == "'none'"
    script_src = csp.get("script-src", csp["default-src"])
    assert "unsafe-inline" not in script_src and "unsafe-eval" not in script_src


@pytest.mark.django_db
def test_login_page_headers(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    _assert_security_headers(response)


def test_authenticated_page_headers_and_no_store(as_user, coordinator):
    response = as_user(coordinator).get(reverse("issues:list"))
    assert response.status_code == 200
    _assert_security_headers(response)
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_no_inline_script_in_pages(as_user, coordinator):
    """CSP forbids inline script, so a page with one would break; JSON goes via json_script."""
    import re

    for name in ("home", "issues:list", "enterprises:list", "visits:list", "dashboard:index"):
        body = as_user(coordinator).get(reverse(name)).content.decode()
        for tag in re.findall(r"<script\b[^>]*>", body):
            assert "src=" in tag or 'type="application/json"' in tag, (name, tag)
        assert not re.search(r"\son[a-z]+\s*=", body), f"inline event handler in {name}"


@pytest.fixture
def production_cookies(settings):
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.SESSION_COOKIE_NAME = "__Secure-sessionid"
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 3600
    return settings


@pytest.mark.django_db
def test_cookies_with_production_settings(production_cookies, staff_a):
    client = Client()
    # Plain HTTP is redirected to HTTPS first.
    assert client.get(reverse("login")).status_code == 301
    page = client.get(reverse("login"), secure=True)
    assert page["Strict-Transport-Security"].startswith("max-age=3600")
    csrf = page.cookies["csrftoken"]
    assert csrf["secure"] and csrf["samesite"] == "Lax"
    response = client.post(
        reverse("login"), {"username": staff_a.username, "password": PASSWORD}, secure=True
    )
    assert response.status_code == 302, response.content[:500]
    session = response.cookies["__Secure-sessionid"]
    assert session["secure"] is True
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"
    assert "sessionid" not in response.cookies
    # Expires with the browser (no max-age) and the signed-in page is reachable over HTTPS.
    assert not session["max-age"]
    assert client.get(reverse("home"), secure=True).status_code == 200


@pytest.mark.django_db
def test_foreign_host_header_is_refused(client, caplog, settings):
    settings.ALLOWED_HOSTS = ["tracker.example.gov.cn"]
    response = client.get(reverse("login"), HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert b"evil.example" not in response.content
    assert any("DisallowedHost" in r.name or "evil.example" in r.getMessage() for r in caplog.records)
    assert client.get(reverse("login"), HTTP_HOST="tracker.example.gov.cn").status_code == 200
