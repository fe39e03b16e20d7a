"""Project middleware: cache and session rules for signed-in users, and no page without a role."""

import time

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers

from issues.roles import roles_of


class NoStoreForAuthenticatedMiddleware:
    """Signed-in pages hold enterprise data: never keep them in a shared or browser cache.

    Also logs a user out after SESSION_IDLE_TIMEOUT seconds without a request, and
    SESSION_COOKIE_AGE seconds (one working day) after logging in, however active: Django's
    own expiry moves to now + SESSION_COOKIE_AGE each time the session is saved, and the
    idle clock saves it once a minute.
    """

    SESSION_KEY = "_last_seen"
    LOGIN_KEY = "_logged_in_at"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            session = request.session
            # A session without a login time (made before this check, or by force_login in
            # tests) counts from its first request.
            logged_in_at = session.setdefault(self.LOGIN_KEY, now)
            last_seen = session.get(self.SESSION_KEY, now)
            if (
                now - last_seen > settings.SESSION_IDLE_TIMEOUT
                or now - logged_in_at >= settings.SESSION_COOKIE_AGE
            ):
                logout(request)
                return redirect_to_login(request.get_full_path())
            # Write at most once a minute, so reads do not rewrite the session row each time.
            if now - last_seen >= 60 or self.SESSION_KEY not in session:
                session[self.SESSION_KEY] = now
        response = self.get_response(request)
        signed_in = getattr(request, "user", None)
        if signed_in is not user and signed_in is not None and signed_in.is_authenticated:
            # login() put a user on the request: a login on this request (also again on a
            # session that was signed in already) starts both clocks.
            now = int(time.time())
            request.session[self.LOGIN_KEY] = request.session[self.SESSION_KEY] = now
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)  # no-store, private, max-age=0
        return response


class LogForbiddenMiddleware:
    """Logs every refused authorisation (403), with who and from where (ASVS 16.3).

    Sits inside AuthenticationMiddleware so the user is known; a PermissionDenied raised
    in a view, a CSRF failure and a view returning 403 all arrive here as a 403 response.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 403:
            from config.security import log_forbidden

            log_forbidden(request, response)
        return response


class RoleRequiredMiddleware:
    """A signed-in user without a role sees nothing but a page saying so (403).

    Accounts are made in the admin and get their role (a group) there; until then, or after
    it is taken away, the account must read no visit, enterprise, contact or issue. One
    check here rather than in each view, so a page added later is closed too. Any role
    opens the pages (each view then decides what that role may do there).

    Still open: whatever an anonymous visitor may open (views marked `login_not_required`:
    login, language switch, health check), logging out and changing the password. Static
    files never get here (WhiteNoise answers them first).
    """

    OPEN_TO_EVERY_USER = frozenset({"logout", "password_change", "password_change_done"})
    TEMPLATE = "registration/no_role.html"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or roles_of(user):
            return None
        if not getattr(view_func, "login_required", True):
            return None
        match = request.resolver_match
        if match is not None and match.view_name in self.OPEN_TO_EVERY_USER:
            return None
        return render(request, self.TEMPLATE, status=403)


class EnterpriseAreaMiddleware:
    """An enterprise's own account (the enterprise role alone) opens the enterprise's pages
    (`enterprise:` URLs), feedback links, logout and password change, and nothing else: a
    staff page sends it to its own home (GET) or answers 403. Staff pages also show it no
    issue (`visible_issues`), so a page added later and forgotten here still shows nothing."""

    OPEN = frozenset({"logout", "password_change", "password_change_done", "feedback", "set_language"})

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        from issues.roles import is_enterprise_contact

        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not is_enterprise_contact(user):
            return None
        match = request.resolver_match
        if match is None or match.namespace == "enterprise" or match.view_name in self.OPEN:
            return None
        if not getattr(view_func, "login_required", True):
            return None
        if request.method in ("GET", "HEAD"):
            return redirect("enterprise:home")
        raise PermissionDenied
