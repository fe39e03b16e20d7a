from django.conf import settings

from issues.roles import Role, roles_of


def roles(request):
    """The signed-in user's roles, for menus. Permission checks never rely on this."""
    held = roles_of(getattr(request, "user", None))
    return {
        "user_roles": held,
        "is_coordinator": bool(held & {Role.COORDINATOR, Role.ADMINISTRATOR}),
        "is_leader": Role.LEADER in held,
        "sees_dashboard": bool(held & {Role.COORDINATOR, Role.LEADER, Role.ADMINISTRATOR}),
        # base.html warns before the idle logout on every page.
        "session_idle_timeout": settings.SESSION_IDLE_TIMEOUT,
        # Filter forms are drawn once per query and language ({% cache %} in the lists).
        "filter_form_seconds": settings.FILTER_FORM_CACHE_SECONDS,
    }
