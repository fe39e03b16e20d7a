"""The change trail (issue 13): old and new values of every change, from django-simple-history.

Why simple-history (not django-pghistory): it records in Python on `save()` and on
many-to-many changes, so it works the same on SQLite (the default) and PostgreSQL;
pghistory records with PostgreSQL triggers only. The price: bulk writes (`update()`,
`bulk_create`, `bulk_update`) record nothing (docs/security.md).

Tracked (registered at the end of each app's models.py): visits (with their lead officials
and accompanying departments), enterprises, contacts, departments (with their members),
users (with their groups, i.e. roles; never the password hash or the last login) and an
issue's descriptive details (title, description, category, priority: its status and
responsibility are the workflow's `IssueEvent` record).

`entries(obj)` turns the records into what a page shows (who, when, field: old → new), in
a fixed number of queries; `TrailAdminMixin` shows the same on the admin's History page.
Both only to coordinators and administrators.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record
from simple_history.utils import get_m2m_reverse_field_name

from .people import person_name


class TrailRecordBase(models.Model):
    """Added to every history record: the request that wrote it. A page that saves a visit
    with its officials writes a record for the row and one per many-to-many field: one
    request, so one change on the page."""

    history_request = models.CharField(max_length=32, blank=True, editable=False)

    class Meta:
        abstract = True


def _stamp_request(sender, history_instance, **kwargs) -> None:
    request = getattr(HistoricalRecords.context, "request", None)
    if request is None or not hasattr(history_instance, "history_request"):
        return
    if not hasattr(request, "_trail_id"):
        request._trail_id = uuid.uuid4().hex
    history_instance.history_request = request._trail_id


pre_create_historical_record.connect(_stamp_request, dispatch_uid="issues.trail.stamp_request")

# Every tracked model and its recorder (`manage.py trail_baseline` records their rows once).
TRACKED: dict[type, TrailRecords] = {}

# How a model's field is shown when its stored value is a code (e.g. a visit's topics).
DISPLAY: dict[type, dict[str, Callable]] = {}


def display(model, **formatters: Callable) -> None:
    DISPLAY.setdefault(model, {}).update(formatters)


class TrailRecords(HistoricalRecords):
    """simple-history's recorder, with three changes:

    - `only`: track just these fields (and the primary key);
    - a `save(update_fields=...)` that touches no tracked field records nothing (the
      workflow's status saves of an issue; `last_login` of a user);
    - a many-to-many change made from the other side (`user.departments.add(dept)`) is
      recorded on the tracked object, not attempted on the other one.
    """

    def __init__(self, *args, only=(), **kwargs):
        kwargs.setdefault("bases", (TrailRecordBase,))
        super().__init__(*args, **kwargs)
        self.only = frozenset(only)

    def finalize(self, sender, **kwargs):
        super().finalize(sender, **kwargs)
        if sender is self.cls:
            TRACKED[sender] = self

    def fields_included(self, model):
        fields = super().fields_included(model)
        if self.only:
            fields = [f for f in fields if f.primary_key or f.name in self.only]
        return fields

    def post_save(self, instance, created, using=None, **kwargs):
        update_fields = kwargs.get("update_fields")
        if not created and update_fields is not None:
            tracked = {f.name for f in self.fields_included(type(instance)) if not f.primary_key}
            if not tracked & set(update_fields):
                return
        super().post_save(instance, created, using=using, **kwargs)

    def create_historical_record(self, instance, history_type, using=None):
        # A save with `version=F("version") + 1` leaves the expression on the instance: read
        # the stored values back, a record holds values.
        pending = [
            f.attname
            for f in self.fields_included(type(instance))
            if hasattr(getattr(instance, f.attname, None), "resolve_expression")
        ]
        if pending:
            instance.refresh_from_db(fields=pending)
        super().create_historical_record(instance, history_type, using=using)

    def m2m_changed(self, instance, action, attr, pk_set, reverse, model=None, **kwargs):
        if action in ("post_add", "post_remove") and not pk_set:
            return None  # `add()` of members already there: Django still signals, nothing changed
        if not reverse:
            return super().m2m_changed(instance, action, attr, pk_set, reverse, **kwargs)
        accessor = getattr(self.cls, attr).field.remote_field.get_accessor_name()
        if action == "pre_clear":
            instance._trail_cleared = list(getattr(instance, accessor).values_list("pk", flat=True))
            return None
        if action not in ("post_add", "post_remove", "post_clear"):
            return None
        pks = pk_set if action != "post_clear" else getattr(instance, "_trail_cleared", [])
        for obj in self.cls._default_manager.filter(pk__in=list(pks or [])):
            self.create_historical_record(obj, "~")
        return None


# -- what a page shows --------------------------------------------------------------------------


@dataclass
class Change:
    name: str  # the field's name
    field: str  # its label, in the user's language
    old: str
    new: str


@dataclass
class Entry:
    at: datetime
    user: object
    kind: str  # "created", "changed", "deleted", or "recorded" (first record of an older object)
    changes: list[Change] = field(default_factory=list)

    @property
    def who(self) -> str:
        user = self.user
        if user is None:
            return _("system")
        return person_name(user)


def _tracked_fields(history_model) -> list:
    return [f for f in history_model.tracked_fields if f.editable and not f.primary_key]


def _shown(field, value, names: dict, formatters: dict) -> str:
    if field.name in formatters:
        return formatters[field.name](value)
    if value is None or value == "":
        return "—"
    if isinstance(field, models.ForeignKey):
        return names.get((field.related_model, value), f"#{value}")
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return "、".join(map(str, value)) or "—"
    if isinstance(value, datetime):
        from django.utils import timezone

        return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"
    return str(value)


def entries(obj, *, limit: int = 30, formatters: dict[str, Callable] | None = None) -> list[Entry]:
    """The latest `limit` changes of `obj`, newest first, each with its field changes (old →
    new, with names for foreign keys, labels for choices, and added/removed members of
    many-to-many fields). A fixed number of queries: the records, one per many-to-many
    field, and one per related model whose names are shown."""
    formatters = {**DISPLAY.get(type(obj), {}), **(formatters or {})}
    manager = obj.history
    history_model = manager.model
    records = list(
        manager.select_related("history_user").order_by("-history_date", "-history_id")[: limit * 3 + 1]
    )
    records.reverse()  # oldest first
    if not records:
        return []
    fields = _tracked_fields(history_model)
    m2m_fields = list(history_model._history_m2m_fields)
    # Many-to-many members per record: one query per field.
    members: dict[tuple[str, int], frozenset] = {}
    for m2m in m2m_fields:
        through_history = getattr(history_model, m2m.name).model
        target = get_m2m_reverse_field_name(m2m)
        target_attname = through_history._meta.get_field(target).attname
        rows = through_history.objects.filter(history_id__in=[r.history_id for r in records]).values_list(
            "history_id", target_attname
        )
        grouped: dict[int, set] = {}
        for history_id, member in rows:
            grouped.setdefault(history_id, set()).add(member)
        for record in records:
            members[(m2m.name, record.history_id)] = frozenset(grouped.get(record.history_id, ()))

    # Group the records into changes: the records one request wrote (a save and its
    # many-to-many lists) are one change. Each change compares its last record with the one
    # before the group.
    groups: list[list] = []
    for record in records:
        last = groups[-1][-1] if groups else None
        if (
            last is not None
            and record.history_request
            and record.history_request == last.history_request
            and record.history_type != "-"
        ):
            groups[-1].append(record)
        else:
            groups.append([record])

    raw: list[tuple] = []
    wanted: dict[type, set] = {}
    previous = None
    for group in groups:
        newest = group[-1]
        kind = (
            "created"
            if group[0].history_type == "+"
            else ("deleted" if newest.history_type == "-" else "changed")
        )
        diffs = []
        if previous is not None and kind != "deleted":
            for f in fields:
                old, new = getattr(previous, f.attname), getattr(newest, f.attname)
                if old != new:
                    diffs.append((f, old, new))
                    if isinstance(f, models.ForeignKey):
                        wanted.setdefault(f.related_model, set()).update(
                            v for v in (old, new) if v is not None
                        )
            for m2m in m2m_fields:
                old = members[(m2m.name, previous.history_id)]
                new = members[(m2m.name, newest.history_id)]
                if old != new:
                    diffs.append((m2m, old, new))
                    wanted.setdefault(m2m.related_model, set()).update(old | new)
        if previous is None and kind == "changed":
            kind = "recorded"  # the object is older than its trail: earlier values unknown
        raw.append((group[0], newest, kind, diffs))
        previous = newest

    # Names of the related rows shown: one query per model.
    names: dict[tuple, str] = {}
    for model, pks in wanted.items():
        for related in model._default_manager.filter(pk__in=pks):
            # People by name, as colleagues know them; everything else as it prints itself.
            is_person = hasattr(related, "get_full_name")
            names[(model, related.pk)] = person_name(related) if is_person else str(related)

    result = []
    for first, newest, kind, diffs in reversed(raw[-limit:]):
        changes = []
        for f, old, new in diffs:
            label = str(f.verbose_name)
            if isinstance(f, models.ManyToManyField):
                changes.append(
                    Change(
                        f.name,
                        label,
                        "、".join(sorted(names.get((f.related_model, pk), f"#{pk}") for pk in old)) or "—",
                        "、".join(sorted(names.get((f.related_model, pk), f"#{pk}") for pk in new)) or "—",
                    )
                )
            else:
                changes.append(
                    Change(
                        f.name, label, _shown(f, old, names, formatters), _shown(f, new, names, formatters)
                    )
                )
        result.append(Entry(at=newest.history_date, user=first.history_user, kind=kind, changes=changes))
    return result


def record_baseline(model, batch_size: int = 500) -> int:
    """Record every row of `model` that has no history yet, as it is now (with its
    many-to-many members), so the first change after an upgrade shows old values too.
    Returns how many were recorded."""
    records = TRACKED[model]
    history = model.history.model
    pk = model._meta.pk.attname
    recorded = history.objects.values(pk)
    done = 0
    for instance in (
        model._default_manager.exclude(pk__in=recorded).order_by(pk).iterator(chunk_size=batch_size)
    ):
        records.create_historical_record(instance, "~")
        done += 1
    return done


def may_see(user) -> bool:
    """The trail is shown to coordinators and administrators."""
    from .roles import is_coordinator

    return is_coordinator(user)


class TrailAdminMixin:
    """The admin's "History" page of an object shows its trail (old → new), to coordinators
    and administrators, for objects their admin lists show them; nothing can be reverted."""

    trail_limit = 200

    def history_view(self, request, object_id, extra_context=None):
        from django.contrib.admin.utils import unquote

        if not may_see(request.user):
            raise PermissionDenied
        obj = self.get_object(request, unquote(object_id))
        if obj is None or not self.has_view_or_change_permission(request, obj):
            raise Http404
        opts = self.model._meta
        context = {
            **self.admin_site.each_context(request),
            "title": _("Change history: %s") % obj,
            "subtitle": None,
            "object": obj,
            "opts": opts,
            "app_label": opts.app_label,
            "module_name": str(opts.verbose_name_plural),
            "entries": entries(obj, limit=self.trail_limit),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/trail_history.html", context)
