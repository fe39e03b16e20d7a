from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = _("Dashboard")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from .rollup import ensure_built

        # An existing database that gains the daily counts (or a restored one without them)
        # gets them built from its history once, at migrate.
        post_migrate.connect(ensure_built, sender=self, dispatch_uid="dashboard.rollup")
