"""The roles of DESIGN §2, as Django groups (created by a data migration).

Who may do what to which issue is decided in `issues.permissions`; this module only
names the roles and tells which a user holds.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OFFICIAL = "official", _("Visiting official")
    COORDINATOR = "coordinator", _("Coordinator")
    DEPARTMENT = "department", _("Department staff")
    LEADER = "leader", _("Leadership")
    ADMINISTRATOR = "administrator", _("Administrator")
    # A contact person of one enterprise (enterprises.EnterpriseAccount): the enterprise's
    # own pages only, never a staff page.
    ENTERPRISE = "enterprise", _("Enterprise contact")


def roles_of(user) -> frozenset[str]:
    """The role names a user holds; cached on the user object for the request."""
    if not (user and user.is_authenticated and user.is_active):
        return frozenset()
    cached = getattr(user, "_role_cache", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        if user.is_superuser:
            names.add(Role.ADMINISTRATOR)
        cached = frozenset(n for n in names if n in Role.values)
        user._role_cache = cached
    return cached


def has_role(user, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))


def is_coordinator(user) -> bool:
    return has_role(user, Role.COORDINATOR, Role.ADMINISTRATOR)


def is_enterprise_contact(user) -> bool:
    """An enterprise's own account: it holds the enterprise role and no staff role."""
    return roles_of(user) == {Role.ENTERPRISE}


def sees_everything(user) -> bool:
    """Coordinators, leadership and administrators read every issue in the city."""
    return has_role(user, Role.COORDINATOR, Role.LEADER, Role.ADMINISTRATOR)
