"""The admin's own site (config.admin_site), and Chinese names for the third-party apps the
admin lists (#17).

Their AppConfigs name them in English without gettext ("Axes", "Tasks Database Backend"), and
django-axes ships no Chinese: the subclasses below give the apps translatable names, and
THIRD_PARTY_NAMES keeps their models' names in our catalogue (locale/), whose translations
win over the apps' own (LOCALE_PATHS comes first).
"""

from axes.apps import AppConfig as AxesAppConfig
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from django_tasks_db.apps import TasksAppConfig


class AdminConfig(DjangoAdminConfig):
    default_site = "config.admin_site.AdminSite"


class AxesConfig(AxesAppConfig):
    verbose_name = _("Sign-in protection")


class TasksDatabaseConfig(TasksAppConfig):
    verbose_name = _("Background tasks")


THIRD_PARTY_NAMES = (
    # django-axes (axes/models.py)
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("access logs"),
    gettext_noop("access attempt expiration"),
    gettext_noop("access attempt expirations"),
    # django-tasks-db (django_tasks_db/models.py)
    gettext_noop("Task Result"),
    gettext_noop("Task Results"),
)
