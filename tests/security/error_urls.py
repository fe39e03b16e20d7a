"""A test-only URLconf: the project's URLs plus a view that fails like a real bug would."""

from django.db import connection
from django.urls import path

from config.urls import urlpatterns as project_urlpatterns


def boom(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    raise RuntimeError("kaboom: SECRET_KEY=not-the-real-key DATABASES=issues_issue")


urlpatterns = [path("boom/", boom, name="boom"), *project_urlpatterns]
