"""For the benchmark only: a plain, default `ModelAdmin` for Issue on its own AdminSite.

Issue 7 compares the project's issue changelist with what Django gives out of the box over
the same data, and the issue list with a hand-written 50-row list (`reference_list`). This
site is mounted at /bench-admin/ only when the environment says
BENCH_DEFAULT_ADMIN=1 (never in production):

- `scripts/bench.sh` serves `config.bench_admin:application`: the normal WSGI app whose
  URLs are the project's plus /bench-admin/ (`urlpatterns` below);
- or, permanently, in config/urls.py:

      if os.environ.get("BENCH_DEFAULT_ADMIN") == "1":
          from config.bench_admin import default_admin_site
          urlpatterns.append(path("bench-admin/", default_admin_site.urls))

Everything is built lazily: gunicorn imports this module before Django is set up.
"""

import os
from functools import cache

ENABLED = os.environ.get("BENCH_DEFAULT_ADMIN") == "1"


@cache
def _site():
    from django.contrib import admin

    from issues.models import Issue

    class DefaultAdminSite(admin.AdminSite):
        site_header = "Default ModelAdmin (benchmark comparison)"

    site = DefaultAdminSite(name="bench_admin")
    site.register(Issue)  # a plain ModelAdmin: only Django's defaults
    return site


def reference_list(request):
    """The issue's yardstick: a hand-written 50-row list with `select_related`, in the
    site's layout, and nothing else (no filters, permissions, colours or pagination).
    Superusers only: it shows issues without asking who may see them."""
    from django.core.exceptions import PermissionDenied
    from django.shortcuts import render

    from issues.models import Issue

    if not request.user.is_superuser:
        raise PermissionDenied
    rows = Issue.objects.select_related("enterprise", "lead_department", "owner")
    return render(request, "bench/reference_list.html", {"issues": rows.order_by("-raised_on", "-id")[:50]})


@cache
def _urlpatterns():
    from django.urls import path

    from config.urls import urlpatterns as project

    bench = [path("bench-admin/", _site().urls), path("bench/reference-list", reference_list)]
    return [*project, *(bench if ENABLED else [])]


def __getattr__(name):
    # `default_admin_site` and `urlpatterns` are made on first use (PEP 562).
    if name == "default_admin_site":
        return _site()
    if name == "urlpatterns":
        return _urlpatterns()
    raise AttributeError(name)


@cache
def _wsgi():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application

    app = get_wsgi_application()
    settings.ROOT_URLCONF = __name__  # the project's URLs plus /bench-admin/
    return app


def application(environ, start_response):
    return _wsgi()(environ, start_response)
