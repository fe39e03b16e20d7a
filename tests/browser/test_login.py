"""The login page renders in Chinese in a real Chromium, and a user gets in."""

import pytest

from tests.factories import UserFactory


@pytest.mark.django_db(transaction=True)
def test_login_in_chinese_and_reach_my_work(page, live_server, login, screenshot):
    UserFactory(username="official1", role="official")
    page.goto(f"{live_server.url}/issues/")
    assert "/accounts/login/" in page.url  # login everywhere
    assert page.locator("button[type=submit]").first.inner_text() == "登录"  # Chinese by default
    screenshot("login")
    login("official1")
    assert page.url.rstrip("/") == live_server.url
    screenshot("home-after-login")
