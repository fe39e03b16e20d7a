"""SECURITY.md 5: errors show a generic page, leak nothing, and are logged."""

import logging

import pytest
from django.test import Client

pytestmark = pytest.mark.urls("tests.security.error_urls")

LEAKS = (
    "Traceback",
    "kaboom",
    "SECRET_KEY",
    "DATABASES",
    "SELECT",
    "issues_issue",
    "RuntimeError",
    "settings.py",
)


def test_server_error_is_generic_and_logged(coordinator, caplog):
    client = Client(raise_request_exception=False)
    client.force_login(coordinator)
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.get("/boom/")
    assert response.status_code == 500
    body = response.content.decode()
    for leak in LEAKS:
        assert leak not in body, leak
    assert "<html" in body  # our 500.html, not a bare technical page
    errors = [r for r in caplog.records if r.name == "django.request" and r.levelno >= logging.ERROR]
    assert errors and errors[0].exc_info and "kaboom" in str(errors[0].exc_info[1])


def test_anonymous_server_error_needs_login_first(db):
    response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 302


def test_not_found_is_generic(coordinator, caplog):
    client = Client()
    client.force_login(coordinator)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get("/no/such/page/")
    assert response.status_code == 404
    body = response.content.decode()
    for leak in ("Traceback", "URLconf", "urlpatterns", "error_urls", "Using the URLconf"):
        assert leak not in body, leak
    assert any("Not Found" in r.getMessage() for r in caplog.records)


def test_missing_object_is_a_plain_404(coordinator):
    client = Client()
    client.force_login(coordinator)
    response = client.get("/issues/999999/")
    assert response.status_code == 404
    assert b"No Issue matches" not in response.content and b"DoesNotExist" not in response.content
