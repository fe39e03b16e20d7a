from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .credit_code import validate_credit_code


class Sector(models.TextChoices):
    INDUSTRIAL = "industrial", _("Large industrial (规模以上工业)")
    WHOLESALE_RETAIL = "wholesale_retail", _("Large wholesale and retail (限额以上批发和零售业)")
    SERVICES = "services", _("Large services (规模以上服务业)")
    OTHER = "other", _("Other")


class OperatingStatus(models.TextChoices):
    NORMAL = "normal", _("Normal")
    MOSTLY_NORMAL = "mostly_normal", _("Mostly normal")
    PARTLY_STOPPED = "partly_stopped", _("Partly stopped")
    STOPPED = "stopped", _("Stopped")


class OrderTrend(models.TextChoices):
    RISING = "rising", _("Rising")
    FLAT = "flat", _("Flat")
    FALLING = "falling", _("Falling")


class District(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name = _("district")
        verbose_name_plural = _("districts")

    def __str__(self) -> str:
        return self.name


class EnterpriseQuerySet(models.QuerySet):
    def key(self):
        return self.filter(is_key=True)

    def visible_to(self, user):
        """Enterprise profiles are shared reference data for every signed-in role."""
        if not (user and user.is_authenticated and user.is_active):
            return self.none()
        return self


class Enterprise(models.Model):
    name = models.CharField(_("name"), max_length=200)
    credit_code = models.CharField(
        _("unified social credit code"),
        max_length=18,
        unique=True,
        validators=[validate_credit_code],
        help_text=_("18 characters, GB 32100-2015"),
    )
    sector = models.CharField(_("sector"), max_length=20, choices=Sector.choices)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="enterprises", verbose_name=_("district")
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    annual_revenue = models.DecimalField(
        _("annual revenue (10k yuan)"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    is_key = models.BooleanField(_("on the key list"), default=False)
    liaison_leader = models.ForeignKey(
        "visits.Official",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="liaison_enterprises",
        verbose_name=_("liaison leader"),
    )
    liaison_department = models.ForeignKey(
        "issues.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="liaison_enterprises",
        verbose_name=_("liaison department"),
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = EnterpriseQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("enterprise")
        verbose_name_plural = _("enterprises")
        indexes = [
            models.Index(fields=["sector", "district"]),
            models.Index(fields=["district"]),
            models.Index(fields=["is_key", "name"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(sector__in=Sector.values), name="enterprise_sector_valid"),
            models.CheckConstraint(
                condition=Q(credit_code__regex=r"^[0-9A-HJ-NPQRTUWXY]{18}$"),
                name="enterprise_credit_code_format",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.credit_code = (self.credit_code or "").strip().upper()
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("enterprises:detail", args=[self.pk])


class Contact(models.Model):
    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.PROTECT, related_name="contacts", verbose_name=_("enterprise")
    )
    name = models.CharField(_("full name"), max_length=50)
    title = models.CharField(_("job title"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)

    class Meta:
        ordering = ["-is_primary", "name"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise"],
                condition=Q(is_primary=True),
                name="contact_one_primary_per_enterprise",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.enterprise})"


class Survey(models.Model):
    """A questionnaire round, e.g. 2023年一季度重点企业问卷."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    held_on = models.DateField(_("date"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-held_on", "name"]
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        permissions = [("import_survey", _("Can import survey results"))]

    def __str__(self) -> str:
        return self.name


class SurveyResponse(models.Model):
    """One enterprise's answers in one survey round; the imported row is kept as it came."""

    survey = models.ForeignKey(
        Survey, on_delete=models.PROTECT, related_name="responses", verbose_name=_("survey")
    )
    enterprise = models.ForeignKey(
        Enterprise,
        on_delete=models.PROTECT,
        related_name="survey_responses",
        verbose_name=_("enterprise"),
    )
    submitted_on = models.DateField(_("submitted on"))
    operating_status = models.CharField(
        _("operating status"), max_length=20, choices=OperatingStatus.choices, blank=True
    )
    order_trend = models.CharField(_("order trend"), max_length=10, choices=OrderTrend.choices, blank=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    labour_shortage = models.PositiveIntegerField(_("labour shortage"), null=True, blank=True)
    difficulties = models.TextField(_("difficulties"), blank=True)
    needs = models.TextField(_("needs"), blank=True)
    need_categories = models.CharField(_("need categories"), max_length=200, blank=True)
    contact_name = models.CharField(_("contact name"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    raw_row = models.JSONField(_("imported row"), default=dict, blank=True)
    source_file = models.CharField(_("source file"), max_length=255, blank=True)
    source_row = models.PositiveIntegerField(_("source row"), null=True, blank=True)
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("imported by"),
    )

    class Meta:
        ordering = ["-submitted_on", "enterprise__name"]
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "enterprise"], name="survey_response_one_per_enterprise"
            ),
            models.CheckConstraint(
                condition=Q(operating_status__in=[*OperatingStatus.values, ""]),
                name="survey_response_operating_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(order_trend__in=[*OrderTrend.values, ""]),
                name="survey_response_order_trend_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise} · {self.survey}"


class EnterpriseAccount(models.Model):
    """The login of an enterprise's contact person (optional, one enterprise): it follows its
    issues, raises problems and answers about resolutions on the enterprise's own pages."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="enterprise_account",
        verbose_name=_("user"),
    )
    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.PROTECT, related_name="accounts", verbose_name=_("enterprise")
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("contact")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("enterprise account")
        verbose_name_plural = _("enterprise accounts")

    def __str__(self) -> str:
        return f"{self.enterprise} · {self.user.get_username()}"


class ImportJob(models.Model):
    """A survey import confirmed in the admin, run as a background task (issue 13, finding 8).

    The confirm stores the checked file's bytes here (not on one server's disk: the worker
    may run on another machine) and queues ``enterprises.import_jobs.run_import_job``. The
    task records its phase as it goes (reading, checking N of M rows, writing) and, at the
    end, the result: the counts, or the first ERRORS_KEPT problems and how many there were.
    Writing is all or nothing in one transaction, so a job shows no row count while it
    writes: a count updated from inside that transaction would be seen by nobody else."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Phase(models.TextChoices):
        WAITING = "", _("Waiting")
        READING = "reading", _("Reading the file")
        CHECKING = "checking", _("Checking the rows")
        WRITING = "writing", _("Writing")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("imported by")
    )
    survey_name = models.CharField(_("survey round"), max_length=200)
    filename = models.CharField(_("file name"), max_length=255)
    create_issues = models.BooleanField(_("create issues"), default=False)
    allow_key_changes = models.BooleanField(_("key enterprise changes allowed"), default=False)
    key_changes_seen = models.CharField(max_length=64, blank=True)  # the preview's digest
    language = models.CharField(max_length=10, blank=True)  # the messages' language: the user's
    upload = models.BinaryField(default=b"", editable=False)  # emptied when no longer needed
    digest = models.CharField(max_length=64, blank=True)  # SHA-256 of the upload
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    phase = models.CharField(_("phase"), max_length=10, choices=Phase.choices, blank=True, default="")
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_checked = models.PositiveIntegerField(_("rows checked"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    survey = models.ForeignKey(
        Survey, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("survey")
    )
    summary = models.JSONField(_("result"), default=dict, blank=True)  # ImportResult.counts()
    errors = models.JSONField(_("problems"), default=list, blank=True)  # [{row, column, reason}], ≤ 100
    error_count = models.PositiveIntegerField(_("number of problems"), default=0)
    key_changes_refused = models.BooleanField(default=False)
    # Failed for a reason other than the file's rows (changed key enterprises, the database,
    # someone importing the same enterprises): the upload is kept to check it again.
    may_check_again = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("survey import job")
        verbose_name_plural = _("survey import jobs")
        indexes = [models.Index(fields=["created_by", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "done", "failed"]),
                name="import_job_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.survey_name} · {self.filename}"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def errors_not_listed(self) -> int:
        return max(self.error_count - len(self.errors), 0)


# Old and new values of every change to an enterprise and its contacts (django-simple-history;
# issues.trail). Bulk writes record nothing: the survey import writes through
# `bulk_update_with_history` for that reason.
from simple_history import register as _track  # noqa: E402

from issues.trail import TrailRecords  # noqa: E402

_track(Enterprise, records_class=TrailRecords)
_track(Contact, records_class=TrailRecords)
