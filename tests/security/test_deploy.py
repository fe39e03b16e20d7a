"""SECURITY.md 1 and 32: production settings pass the deploy check; migrations are complete."""

import os
import secrets
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    """manage.py in a clean environment: nothing inherited from pytest or the shell."""
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/tmp", "TESTING": "0", **env}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


PRODUCTION = {
    "SECRET_KEY": secrets.token_urlsafe(64),
    "ALLOWED_HOSTS": "tracker.example.gov.cn",
    "CSRF_TRUSTED_ORIGINS": "https://tracker.example.gov.cn",
    "DEBUG": "0",
}


def test_deploy_check_passes_with_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr


def test_deploy_check_passes_on_a_closed_network_without_tls():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", HTTPS="0", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr


def test_deploy_check_would_catch_debug_on():
    """The check can fail: DEBUG on in production is reported."""
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **{**PRODUCTION, "DEBUG": "1"})
    assert result.returncode != 0
    assert "security.W018" in result.stdout + result.stderr


def test_production_refuses_to_start_without_secret_key():
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = run_manage("check", **env)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_every_silenced_check_has_a_reason():
    source = (ROOT / "config" / "settings.py").read_text()
    block = source[source.index("SILENCED_SYSTEM_CHECKS") - 400 :]
    for check_id in settings.SILENCED_SYSTEM_CHECKS:
        assert check_id in source
        # A comment line naming the check (by its short id) precedes it.
        short = check_id.split(".")[-1]
        assert f"{short}" in block and "#" in block, check_id


@pytest.mark.django_db
def test_makemigrations_check():
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)


@pytest.mark.django_db
def test_migrate_check():
    call_command("migrate", "--check", stdout=StringIO())


def test_favicon_ico_leads_to_the_site_icon_without_login(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].endswith(".svg") and "favicon" in response["Location"]
