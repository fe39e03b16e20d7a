"""Project middleware: cache and session-idle rules for signed-in users."""

import time

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.utils.cache import add_never_cache_headers


class NoStoreForAuthenticatedMiddleware:
    """Signed-in pages hold enterprise data: never keep them in a shared or browser cache.

    Also logs a user out after SESSION_IDLE_TIMEOUT seconds without a request (the
    absolute limit is SESSION_COOKIE_AGE).
    """

    SESSION_KEY = "_last_seen"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            last_seen = request.session.get(self.SESSION_KEY, now)
            if now - last_seen > settings.SESSION_IDLE_TIMEOUT:
                logout(request)
                return redirect_to_login(request.get_full_path())
            # Write at most once a minute, so reads do not rewrite the session row each time.
            if now - last_seen >= 60 or self.SESSION_KEY not in request.session:
                request.session[self.SESSION_KEY] = now
        response = self.get_response(request)
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
