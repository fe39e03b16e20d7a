from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IssuesConfig(AppConfig):
    name = "issues"
    verbose_name = _("Issues")

    def ready(self) -> None:
        # Audit log of failed logins, logins and logouts (config/security.py).
        from config import security

        security.connect()
        # The access log of sign-ins and failed sign-ins (issues/access_log.py).
        from . import access_log

        access_log.connect()

        # A flushed database gets its seeded reference data back (see reference_data).
        from django.db.models.signals import post_migrate

        from .reference_data import ensure

        post_migrate.connect(ensure, sender=self, dispatch_uid="issues.reference_data")

        # The `in_subquery` lookup (issues/lookups.py) registers itself on import.
        from . import lookups  # noqa: F401
