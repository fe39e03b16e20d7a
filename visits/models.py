from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class VisitStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class Topic(models.TextChoices):
    """What a leader asks about on a visit (DESIGN §1)."""

    PRODUCTION = "production", _("Production")
    ORDERS = "orders", _("Orders")
    RND = "rnd", _("R&D")
    PROJECTS = "projects", _("Project progress")
    COORDINATION = "coordination", _("Industrial coordination")
    EMPLOYMENT = "employment", _("Employment")
    FINANCING = "financing", _("Financing")
    POLICY = "policy", _("Policy publicity")
    OTHER = "other", _("Other")


class Official(models.Model):
    """A leader or cadre who visits enterprises; may or may not have a login."""

    name = models.CharField(_("full name"), max_length=50)
    title = models.CharField(_("job title"), max_length=100, blank=True)
    organisation = models.CharField(_("organisation"), max_length=100, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="official",
        verbose_name=_("user account"),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("official")
        verbose_name_plural = _("officials")

    def __str__(self) -> str:
        return f"{self.name}（{self.title}）" if self.title else self.name


class VisitQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Every signed-in role may read visits; who may edit is `visits.services.can_edit`."""
        if not (user and user.is_authenticated and user.is_active):
            return self.none()
        return self

    def completed(self):
        return self.filter(status=VisitStatus.COMPLETED)


class Visit(models.Model):
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        on_delete=models.PROTECT,
        related_name="visits",
        verbose_name=_("enterprise"),
    )
    visited_on = models.DateField(_("date"))
    status = models.CharField(
        _("status"), max_length=10, choices=VisitStatus.choices, default=VisitStatus.PLANNED
    )
    lead_officials = models.ManyToManyField(Official, related_name="visits", verbose_name=_("lead officials"))
    accompanying_departments = models.ManyToManyField(
        "issues.Department",
        blank=True,
        related_name="accompanied_visits",
        verbose_name=_("accompanying departments"),
    )
    topics = models.JSONField(_("topics covered"), default=list, blank=True)
    policies_explained = models.TextField(_("policies explained"), blank=True)
    summary = models.TextField(_("summary"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="created_visits",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Sent with the create form: a double click or a refresh posts the same token twice
    # and finds the visit the first post created instead of making a second one.
    submission_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = VisitQuerySet.as_manager()

    class Meta:
        ordering = ["-visited_on", "-id"]
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        indexes = [
            models.Index(fields=["enterprise", "visited_on"]),
            models.Index(fields=["status", "visited_on"]),
            models.Index(fields=["created_by", "visited_on"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=VisitStatus.values), name="visit_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise} · {self.visited_on:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("visits:detail", args=[self.pk])

    def clean(self) -> None:
        unknown = [t for t in self.topics or [] if t not in Topic.values]
        if unknown:
            raise ValidationError({"topics": _("Unknown topic: %s") % ", ".join(map(str, unknown))})

    @property
    def topic_labels(self) -> list[str]:
        labels = dict(Topic.choices)
        return [str(labels.get(t, t)) for t in self.topics or []]


# Old and new values of every change to a visit, its lead officials and accompanying
# departments (django-simple-history; issues.trail).
from simple_history import register as _track  # noqa: E402

from issues.trail import TrailRecords, display  # noqa: E402

_track(Visit, records_class=TrailRecords, m2m_fields=["lead_officials", "accompanying_departments"])


def topic_names(codes) -> str:
    """A visit's topics (stored as codes) as the trail shows them."""
    return "、".join(Visit(topics=list(codes or [])).topic_labels) or "—"


display(Visit, topics=topic_names)
