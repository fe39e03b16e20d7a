"""Security audit log (ASVS 16.3): failed logins and refused authorisations.

Everything goes to the `security` logger with the username and client IP, never a
password. The receivers are connected in `issues.apps.IssuesConfig.ready()`.
"""

import logging

from axes.helpers import get_client_ip_address

logger = logging.getLogger("security")


def client_ip(request) -> str:
    """The client IP as axes sees it (X-Forwarded-For only through AXES_IPWARE_PROXY_COUNT)."""
    if request is None:
        return "-"
    try:
        return get_client_ip_address(request) or request.META.get("REMOTE_ADDR", "-")
    except Exception:  # a malformed header must not turn a log line into a 500
        return request.META.get("REMOTE_ADDR", "-")


def _clean(value) -> str:
    """One line per event: a username with CR/LF must not forge a second log line."""
    return str(value)[:150].replace("\r", "\\r").replace("\n", "\\n")


def log_login_failed(sender, credentials, request=None, **kwargs) -> None:
    # `credentials` holds the password too (Django masks it, but we never log it anyway).
    username = credentials.get("username", "")
    logger.warning("login failed: username=%s ip=%s", _clean(username), client_ip(request))


def log_logged_in(sender, request, user, **kwargs) -> None:
    logger.info("login: username=%s ip=%s", _clean(user.get_username()), client_ip(request))


def log_logged_out(sender, request, user, **kwargs) -> None:
    name = user.get_username() if user is not None else "-"
    logger.info("logout: username=%s ip=%s", _clean(name), client_ip(request))


def log_forbidden(request, response) -> None:
    user = getattr(request, "user", None)
    name = user.get_username() if user is not None and user.is_authenticated else "anonymous"
    logger.warning(
        "forbidden: %s %s username=%s ip=%s",
        request.method,
        _clean(request.path),
        _clean(name),
        client_ip(request),
    )


def connect() -> None:
    from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

    user_login_failed.connect(log_login_failed, dispatch_uid="security.log_login_failed")
    user_logged_in.connect(log_logged_in, dispatch_uid="security.log_logged_in")
    user_logged_out.connect(log_logged_out, dispatch_uid="security.log_logged_out")
