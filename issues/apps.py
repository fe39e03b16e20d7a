from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IssuesConfig(AppConfig):
    name = "issues"
    verbose_name = _("Issues")

    def ready(self) -> None:
        # Audit log of failed logins, logins and logouts (config/security.py).
        from config import security

        security.connect()
