"""Project-level views: login, health check, favicon, the benchmark floor, and error pages."""

import traceback

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.core.signals import got_request_exception
from django.db import connection
from django.http import Http404, HttpResponse, HttpResponseRedirect, HttpResponseServerError, JsonResponse
from django.shortcuts import resolve_url
from django.template import loader
from django.templatetags.static import static
from django.urls import reverse
from django.utils.log import log_response
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django.views.defaults import page_not_found


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


def home_url(user) -> str:
    """Where a signed-in user starts: leadership on the dashboard (the page it reads), an
    enterprise's account on its own page, everyone else on "My work"."""
    from issues.roles import Role, is_enterprise_contact, roles_of

    if roles_of(user) == {Role.LEADER}:
        return reverse("dashboard:index")
    if is_enterprise_contact(user):
        return reverse("enterprise:home")
    return resolve_url(settings.LOGIN_REDIRECT_URL)


class LoginView(auth_views.LoginView):
    """Django's login; with no page asked for, each user lands on their start page."""

    def get_default_redirect_url(self):
        return home_url(self.request.user)


class ErrorPagesInDebugMiddleware:
    """The app's own error pages (templates/404.html, 500.html: Chinese, or English when that
    is the chosen language) with DEBUG on too.

    With DEBUG on (`make run`, the demo) Django answers a missing page or a crash with its
    technical pages, in English, whatever handler404/handler500 say; with DEBUG off it uses
    those handlers and this middleware does nothing. A developer still gets the traceback: in
    the log (django.request, as Django logs it) and folded under the 500 page.

    Sits after LocaleMiddleware and AuthenticationMiddleware, so the page speaks the user's
    language and shows the menu. A 403 needs nothing here: Django renders 403.html in every
    mode; a CSRF refusal renders 403_csrf.html in every mode.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        unmatched = getattr(request, "resolver_match", None) is None
        if settings.DEBUG and response.status_code == 404 and unmatched:
            # No URL pattern matched: Django built its technical 404 before any view ran.
            return page_not_found(request, Http404())
        return response

    def process_exception(self, request, exception):
        if not settings.DEBUG:
            return None
        if isinstance(exception, Http404):
            return page_not_found(request, exception)
        if isinstance(exception, PermissionDenied | BadRequest | SuspiciousOperation):
            return None  # 403.html, and 400 (its own logger and page)
        got_request_exception.send(sender=None, request=request)  # the test client re-raises it
        response = HttpResponseServerError(
            loader.render_to_string("500.html", {"debug_details": traceback.format_exc()})
        )
        log_response(
            "Internal Server Error: %s", request.path, response=response, request=request, exception=exception
        )
        return response
