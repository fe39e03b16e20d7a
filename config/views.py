"""Project-level views: login, health check, favicon and the benchmark floor."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@login_not_required
@never_cache
@require_safe
def healthz(request):
    """For the load balancer: the process answers and the database takes a query."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@require_safe
def floor(request):
    """The benchmark floor: login required, no query of its own (session and user only)."""
    return HttpResponse(f"ok {request.user.pk}", content_type="text/plain")


@login_not_required
@require_safe
def favicon(request):
    """Browsers ask for /favicon.ico on pages without an icon link (the admin's): send them to
    the site's icon (not permanently: its static name changes with its content)."""
    return HttpResponseRedirect(static("app/favicon.svg"))


class LoginView(auth_views.LoginView):
    """Django's login; with no page asked for, leadership lands on the dashboard (the page
    it reads), an enterprise's account on its own page, everyone else on "My work"."""

    def get_default_redirect_url(self):
        from issues.roles import Role, is_enterprise_contact, roles_of

        if roles_of(self.request.user) == {Role.LEADER}:
            return reverse("dashboard:index")
        if is_enterprise_contact(self.request.user):
            return reverse("enterprise:home")
        return super().get_default_redirect_url()
