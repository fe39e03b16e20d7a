"""Send the dashboard's figure queries to a read replica, when one is configured.

Only reads made inside `replica_reads()` (or a view decorated with `@reads_from_replica`)
go to the "replica" database; everything else — sessions, the logged-in user, every page
that writes or must read its own writes — stays on "default". Without DATABASE_REPLICA_URL
there is no "replica" alias and everything goes to "default", so the router is harmless
to enable everywhere:

    # config/settings.py
    DATABASE_ROUTERS = ["config.db_router.ReplicaRouter"]

    # issues/dashboard_views.py
    from config.db_router import reads_from_replica

    @reads_from_replica
    def dashboard(request): ...

A replica lags the primary by its replication delay (usually well under a second on a
LAN with streaming replication): figures are exact as of that moment, and the drill-down
issue list, served from the primary, may show an issue changed in between.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps

from django.conf import settings

_use_replica: ContextVar[bool] = ContextVar("use_replica", default=False)


def replica_configured() -> bool:
    return "replica" in settings.DATABASES


@contextmanager
def replica_reads():
    token = _use_replica.set(True)
    try:
        yield
    finally:
        _use_replica.reset(token)


def reads_from_replica(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        with replica_reads():
            return view(request, *args, **kwargs)

    return wrapper


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if _use_replica.get() and replica_configured():
            return "replica"
        return None  # default

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        # Both aliases hold the same data: a row read from the replica may relate to one
        # from the primary.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # Migrations run on the primary; the replica follows through replication.
        return db == "default"
