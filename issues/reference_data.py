"""Reference data that the migrations seed: districts, categories, role groups.

`flush` (between transactional tests, or a reset of a demo) empties every table and then
sends post_migrate; this puts the seeded rows back, from the same functions the data
migrations run, so a flushed database is the same as a freshly migrated one.
"""

from importlib import import_module

from django.apps import apps as global_apps

DATA_MIGRATIONS = [
    ("enterprises.migrations.0003_tianjin_districts", "add_districts"),
    ("issues.migrations.0003_categories_roles_event_log_triggers", "seed"),
    ("issues.migrations.0012_enterprise_voice", "add_enterprise_group"),
]


def ensure(sender=None, using: str = "default", **kwargs) -> None:
    """post_migrate handler: acts only on an emptied database, so a later `migrate` never
    resets groups or categories that administrators have edited."""
    from django.contrib.auth.models import Group
    from django.db import connections

    from enterprises.models import District

    from . import db_triggers
    from .models import Category
    from .roles import Role

    if (
        Group.objects.filter(name__in=Role.values).count() == len(Role.values)
        and Category.objects.exists()
        and District.objects.exists()
    ):
        return
    for module, function in DATA_MIGRATIONS:
        getattr(import_module(module), function)(global_apps, None)
    db_triggers.install(connections[using])
