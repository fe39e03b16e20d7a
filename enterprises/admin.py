"""Admin for enterprises and surveys, with the survey import (upload → preview → confirm).

The survey import is a custom admin view, not django-import-export: one row of the file
writes four models (enterprise, survey, response, issues through the workflow) and must
report every error with the row and header as the user sees them in Excel. It calls the
same ``survey_import.import_survey_file`` as the management command. The uploaded bytes
are kept between preview and confirm in a private temp file named by a random token
bound to the user, and checked against the SHA-256 shown at preview time. The preview
shows every changed field of an existing enterprise; changes to key enterprises import
only with an explicit tick, which covers exactly the changes that preview showed (their
digest travels with the form): a confirm that finds other changes imports nothing and
shows the preview again, the upload kept, so the user can check and tick again.

The confirm itself runs as a background task (``import_jobs``, issue 13 finding 8): the
POST claims the kept upload, stores it in an ``ImportJob`` and answers with a redirect to
the job's page (its owner's; a superuser may look), which refreshes itself until the
import is done or failed. A job that failed for a reason other than its rows (key
enterprises changed since the preview, the database) keeps the file: "show the preview
again" turns it back into a kept upload and shows its preview with the confirm form.

Enterprises use django-import-export (one model per row fits it well) with our own
file formats (same file checks as the survey import) and formula-safe exports.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import OperationalError, transaction
from django.db.models import Count
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET
from import_export.admin import ImportExportModelAdmin
from import_export.formats import base_formats

from issues.roles import Role, has_role
from issues.spreadsheet import csv_response
from issues.trail import TrailAdminMixin

from . import import_jobs
from .accounts import invite_contacts
from .formats import BomCSV, ChineseCSV, FileRejected, SafeXLSX, max_bytes
from .models import Contact, District, Enterprise, EnterpriseAccount, ImportJob, Survey, SurveyResponse
from .resources import EnterpriseResource
from .survey_import import TEMPLATE_HEADERS, ImportResult, RowError, import_survey_file

IMPORT_PERMISSION = "enterprises.import_survey"
TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,40}$")
STALE_AFTER = 24 * 3600
log = logging.getLogger(__name__)
JOB_REFRESH_SECONDS = 3  # the job page reloads itself this often while queued or running
RECENT_JOBS = 5  # the user's last imports listed on the import page
# A job still queued or running after this long says so: no worker, or a worker that died.
JOB_QUEUED_WARNING = timedelta(minutes=5)
JOB_RUNNING_WARNING = timedelta(minutes=30)


# -- the survey import --------------------------------------------------------------------------


class SurveyUploadForm(forms.Form):
    file = forms.FileField(
        allow_empty_file=True,  # the pipeline says "the file is empty" like it does for the command
        label=gettext_lazy("Survey file (CSV or XLSX)"),
        help_text=gettext_lazy(
            "CSV saved by Excel (UTF-8 or GB18030/GBK) or an .xlsx workbook; at most 10 MB."
        ),
    )
    survey_name = forms.CharField(
        label=gettext_lazy("Survey round"),
        max_length=200,
        help_text=gettext_lazy("An existing round is updated; a new name creates a new round."),
    )
    create_issues = forms.BooleanField(
        label=gettext_lazy("Create issues from the stated needs"),
        required=False,
        help_text=gettext_lazy(
            "Each need becomes a new issue (source: survey). Needs already raised are skipped."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > max_bytes():
            raise forms.ValidationError(
                _("The file is %(size)s MB; the limit is %(limit)s MB. Split it into smaller files.")
                % {"size": f"{upload.size / 1048576:.1f}", "limit": f"{max_bytes() / 1048576:g}"}
            )
        return upload


class SurveyConfirmForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput, max_length=40)
    digest = forms.CharField(widget=forms.HiddenInput, max_length=64)
    filename = forms.CharField(widget=forms.HiddenInput, max_length=255)
    survey_name = forms.CharField(widget=forms.HiddenInput, max_length=200)
    create_issues = forms.BooleanField(widget=forms.HiddenInput, required=False)
    # The digest of the key-enterprise changes the preview showed ("" for none).
    key_changes = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)
    allow_key_changes = forms.BooleanField(
        label=gettext_lazy("I have checked the changes to key enterprises above: make them"),
        required=False,
    )

    def __init__(self, *args, key_changes: bool = False, **kwargs):
        super().__init__(*args, label_suffix="", **kwargs)
        if not key_changes:  # nothing to tick: no checkbox on the page
            self.fields["allow_key_changes"].widget = forms.HiddenInput()


def _confirm_form(result, *, token: str, digest: str, create_issues: bool) -> SurveyConfirmForm:
    return SurveyConfirmForm(
        initial={
            "token": token,
            "digest": digest,
            "filename": result.filename[-255:],
            "survey_name": result.survey_name,
            "create_issues": create_issues,
            "key_changes": result.key_changes_digest,
        },
        key_changes=bool(result.key_change_rows),
    )


def _temp_dir() -> Path:
    folder = Path(settings.IMPORT_TEMP_DIR or Path(tempfile.gettempdir()) / "evt-survey-import")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _temp_path(user, token: str) -> Path:
    return _temp_dir() / f"{user.pk}-{token}.upload"


def _keep_upload(user, data: bytes) -> str:
    folder = _temp_dir()
    cutoff = time.time() - STALE_AFTER
    # Previews nobody confirmed, and claims left by a process killed mid-import.
    for old in [*folder.glob("*.upload"), *folder.glob("*.claimed-*")]:
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass
    token = secrets.token_urlsafe(18)
    path = _temp_path(user, token)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return token


def _may_import(request) -> bool:
    return request.user.is_active and request.user.is_staff and request.user.has_perm(IMPORT_PERMISSION)


def survey_import_view(request, model_admin):
    if not _may_import(request):
        raise PermissionDenied
    context = {
        **admin.site.each_context(request),
        "opts": Survey._meta,
        "title": _("Import survey results"),
        "template_url": reverse("admin:enterprises_survey_import_template"),
        "max_mb": f"{max_bytes() / 1048576:g}",
    }
    if request.method == "POST" and "token" in request.POST:
        return _confirm(request, context)
    if request.method == "POST":
        form = SurveyUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            data = upload.read(max_bytes() + 1)
            result = import_survey_file(
                data=data,
                filename=upload.name,
                survey_name=form.cleaned_data["survey_name"],
                by=request.user,
                create_issues=form.cleaned_data["create_issues"],
                dry_run=True,
            )
            context["result"] = result
            if result.ok:
                context["confirm_form"] = _confirm_form(
                    result,
                    token=_keep_upload(request.user, data),
                    digest=hashlib.sha256(data).hexdigest(),
                    create_issues=form.cleaned_data["create_issues"],
                )
    else:
        initial = {"survey_name": request.GET.get("survey", "")[:200]}
        form = SurveyUploadForm(initial=initial)
    context["form"] = form
    context["recent_jobs"] = ImportJob.objects.defer("upload").filter(created_by=request.user)[:RECENT_JOBS]
    return TemplateResponse(request, "admin/enterprises/survey/import.html", context)


def _confirm(request, context):
    confirm = SurveyConfirmForm(request.POST)
    if not confirm.is_valid() or not TOKEN.match(confirm.cleaned_data["token"]):
        raise PermissionDenied
    cleaned = confirm.cleaned_data
    path = _temp_path(request.user, cleaned["token"])
    if cleaned["key_changes"] and not cleaned["allow_key_changes"]:
        # The preview showed changes to key enterprises and the box is not ticked: nothing is
        # queued. The preview again (a check only, as fast as the first one), the file kept.
        try:
            data = path.read_bytes()
        except OSError:
            return _expired(request)
        if hashlib.sha256(data).hexdigest() != cleaned["digest"]:
            raise PermissionDenied
        note = _(
            "Nothing was imported: the file changes key enterprises. Check the changes below, "
            "tick the box to make them, and confirm again."
        )
        return _preview_again(
            request,
            context,
            data,
            token=cleaned["token"],
            filename=cleaned["filename"],
            survey_name=cleaned["survey_name"],
            create_issues=cleaned["create_issues"],
            note=note,
        )
    # Claim the preview by renaming it (atomic): a double click or a second tab confirming
    # the same preview finds it gone instead of importing the file a second time.
    claimed = path.with_suffix(f".claimed-{secrets.token_hex(8)}")
    try:
        path.rename(claimed)
        data = claimed.read_bytes()
    except OSError:
        return _expired(request)
    try:
        if hashlib.sha256(data).hexdigest() != cleaned["digest"]:
            raise PermissionDenied
        # The import runs as a background task (import_jobs): with the immediate backend it
        # has run when start() returns; with the database backend a worker runs it.
        job = import_jobs.start(
            user=request.user,
            data=data,
            filename=cleaned["filename"],
            survey_name=cleaned["survey_name"],
            create_issues=cleaned["create_issues"],
            allow_key_changes=cleaned["allow_key_changes"],
            key_changes_seen=cleaned["key_changes"],
            language=getattr(request, "LANGUAGE_CODE", "") or settings.LANGUAGE_CODE,
        )
    except OperationalError as exc:
        # Not even the job could be written (disk full, database gone): nothing is queued,
        # nothing imported. The preview's file is kept, to confirm again once it is fixed.
        claimed.rename(path)
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        log.error("survey import job for %s not created: %s", cleaned["filename"], detail)
        result = ImportResult(filename=cleaned["filename"], survey_name=cleaned["survey_name"], dry_run=False)
        message = _(
            "Nothing was imported: the database could not write (%(reason)s). "
            "Free disk space or check the database, then import again."
        )
        result.add_error(RowError(None, "", message % {"reason": detail}))
        context.update(result=result, form=SurveyUploadForm(initial={"survey_name": result.survey_name}))
        return TemplateResponse(request, "admin/enterprises/survey/import.html", context)
    finally:
        claimed.unlink(missing_ok=True)
    return HttpResponseRedirect(reverse("admin:enterprises_survey_import_job", args=[job.pk]))


def _expired(request):
    messages.error(
        request, _("This preview has expired or is already being imported. Upload the file again.")
    )
    return HttpResponseRedirect(reverse("admin:enterprises_survey_import"))


def _preview_again(request, context, data: bytes, *, token, filename, survey_name, create_issues, note):
    """The preview of a kept upload, computed afresh, with a note on why it is shown again."""
    result = import_survey_file(
        data=data,
        filename=filename,
        survey_name=survey_name,
        by=request.user,
        create_issues=create_issues,
        dry_run=True,
    )
    context["result"] = result
    if result.ok:
        context.update(
            key_changes_refused=note,
            confirm_form=_confirm_form(
                result, token=token, digest=hashlib.sha256(data).hexdigest(), create_issues=create_issues
            ),
        )
    else:
        context["form"] = SurveyUploadForm(initial={"survey_name": survey_name})
    return TemplateResponse(request, "admin/enterprises/survey/import.html", context)


def survey_import_job_view(request, model_admin, pk: int):
    """A confirmed import's page: its owner's (a superuser may look too; anyone else: 404).
    It refreshes itself while the job is queued or running. POST: a failed job whose file
    was kept shows the preview of that file again, to confirm it again."""
    if not _may_import(request):
        raise PermissionDenied
    job = ImportJob.objects.defer("upload").select_related("survey").filter(pk=pk).first()
    owner = job is not None and job.created_by_id == request.user.pk
    if job is None or not (owner or request.user.is_superuser):
        raise Http404
    context = {
        **admin.site.each_context(request),
        "opts": Survey._meta,
        "title": _("Survey import: %(survey)s") % {"survey": job.survey_name},
        "import_title": _("Import survey results"),
        "job": job,
        "owner": owner,
        "refresh_seconds": JOB_REFRESH_SECONDS,
    }
    if request.method == "POST":
        if not owner:
            raise PermissionDenied
        return _check_again(request, job)
    now = timezone.now()
    if job.status == ImportJob.Status.QUEUED:
        context["stalled"] = job.created_at < now - JOB_QUEUED_WARNING
    elif job.status == ImportJob.Status.RUNNING:
        context["stalled"] = job.started_at is not None and job.started_at < now - JOB_RUNNING_WARNING
    if job.survey_id:
        context["responses_url"] = (
            reverse("admin:enterprises_surveyresponse_changelist") + f"?survey__id__exact={job.survey_id}"
        )
    return TemplateResponse(request, "admin/enterprises/survey/import_job.html", context)


def _check_again(request, job: ImportJob):
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().filter(
            pk=job.pk, status=ImportJob.Status.FAILED, may_check_again=True
        )
        data = locked.values_list("upload", flat=True).first()
        if data is None:
            return _expired(request)
        locked.update(upload=b"", may_check_again=False)  # moved back to a kept upload below
    data = bytes(data)
    if job.key_changes_refused and job.allow_key_changes:
        note = _(
            "Nothing was imported: the key enterprises were changed after the preview, so the "
            "changes are not the ones you confirmed. Check the changes below and confirm again."
        )
    elif job.key_changes_refused:
        note = _(
            "Nothing was imported: the file changes key enterprises. Check the changes below, "
            "tick the box to make them, and confirm again."
        )
    else:
        note = _("Nothing was imported. Check the preview below and confirm again.")
    context = {
        **admin.site.each_context(request),
        "opts": Survey._meta,
        "title": _("Import survey results"),
        "template_url": reverse("admin:enterprises_survey_import_template"),
        "max_mb": f"{max_bytes() / 1048576:g}",
    }
    return _preview_again(
        request,
        context,
        data,
        token=_keep_upload(request.user, data),
        filename=job.filename,
        survey_name=job.survey_name,
        create_issues=job.create_issues,
        note=note,
    )


@require_GET
def survey_template_view(request, model_admin):
    if not _may_import(request):
        raise PermissionDenied
    return csv_response("survey-import-template.csv", TEMPLATE_HEADERS, [])


# -- registrations ------------------------------------------------------------------------------


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ["name", "sort_order", "enterprise_count"]
    list_editable = ["sort_order"]
    search_fields = ["name"]
    ordering = ["sort_order", "name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(enterprise_total=Count("enterprises"))

    @admin.display(description=gettext_lazy("enterprises"), ordering="enterprise_total")
    def enterprise_count(self, obj):
        return obj.enterprise_total


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ["name", "title", "phone", "email", "is_primary"]


class EnterpriseAdmin(TrailAdminMixin, ImportExportModelAdmin):
    resource_classes = [EnterpriseResource]
    import_formats = [ChineseCSV, SafeXLSX]
    export_formats = [BomCSV, base_formats.XLSX]
    list_display = ["name", "credit_code", "district", "sector", "employees", "is_key", "liaison_department"]
    list_filter = ["is_key", "sector", "district"]
    search_fields = ["name", "credit_code"]
    list_select_related = ["district", "liaison_department"]
    autocomplete_fields = ["liaison_leader", "liaison_department"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [ContactInline]
    fieldsets = [
        (None, {"fields": ["name", "credit_code", "sector", "industry", "district", "address"]}),
        (gettext_lazy("Scale"), {"fields": ["employees", "annual_revenue"]}),
        (
            gettext_lazy("Key list and liaison"),
            {"fields": ["is_key", "liaison_leader", "liaison_department"]},
        ),
        (None, {"fields": ["notes", "created_at", "updated_at"]}),
    ]

    def has_import_permission(self, request):
        # Enterprise master data is loaded by administrators only (coordinators use the
        # survey import, which creates enterprises as a side effect).
        return has_role(request.user, Role.ADMINISTRATOR) and request.user.has_perm(
            "enterprises.add_enterprise"
        )

    def has_export_permission(self, request):
        return request.user.has_perm("enterprises.view_enterprise")

    def get_import_data_kwargs(self, **kwargs):
        kwargs = super().get_import_data_kwargs(**kwargs)
        kwargs["rollback_on_validation_errors"] = True
        return kwargs

    def add_data_read_fail_error_to_form(self, form, e):
        if isinstance(e, FileRejected):
            form.add_error("import_file", str(e))
        else:
            super().add_data_read_fail_error_to_form(form, e)


admin.site.register(Enterprise, EnterpriseAdmin)


@admin.register(Contact)
class ContactAdmin(TrailAdminMixin, admin.ModelAdmin):
    list_display = ["name", "enterprise", "title", "phone", "email", "is_primary"]
    list_filter = ["is_primary"]
    search_fields = ["name", "phone", "email", "enterprise__name", "enterprise__credit_code"]
    list_select_related = ["enterprise"]
    autocomplete_fields = ["enterprise"]
    actions = [invite_contacts]


@admin.register(EnterpriseAccount)
class EnterpriseAccountAdmin(admin.ModelAdmin):
    list_display = ["user", "enterprise", "contact", "created_by", "created_at"]
    list_select_related = ["user", "enterprise", "contact", "created_by"]
    search_fields = ["user__username", "user__first_name", "enterprise__name", "contact__name"]
    autocomplete_fields = ["enterprise"]
    readonly_fields = ["user", "contact", "created_by", "created_at"]

    def has_add_permission(self, request):
        return False  # made from a contact (the action on the contact list), with its invitation


class ImportLinkMixin:
    change_list_template = "admin/enterprises/survey/change_list.html"

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "may_import_survey": _may_import(request)}
        return super().changelist_view(request, extra_context=extra_context)


@admin.register(Survey)
class SurveyAdmin(ImportLinkMixin, admin.ModelAdmin):
    list_display = ["name", "held_on", "response_count", "created_at"]
    search_fields = ["name"]
    date_hierarchy = "held_on"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(response_total=Count("responses"))

    @admin.display(description=gettext_lazy("responses"), ordering="response_total")
    def response_count(self, obj):
        return obj.response_total

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(lambda request: survey_import_view(request, self)),
                name="enterprises_survey_import",
            ),
            path(
                "import/job/<int:pk>/",
                self.admin_site.admin_view(lambda request, pk: survey_import_job_view(request, self, pk)),
                name="enterprises_survey_import_job",
            ),
            path(
                "import/template/",
                self.admin_site.admin_view(lambda request: survey_template_view(request, self)),
                name="enterprises_survey_import_template",
            ),
            *super().get_urls(),
        ]


@admin.register(SurveyResponse)
class SurveyResponseAdmin(ImportLinkMixin, admin.ModelAdmin):
    list_display = [
        "enterprise",
        "survey",
        "submitted_on",
        "operating_status",
        "order_trend",
        "employees",
        "labour_shortage",
        "need_categories",
        "source_row",
    ]
    list_filter = ["survey", "operating_status", "order_trend", "enterprise__sector", "enterprise__district"]
    search_fields = ["enterprise__name", "enterprise__credit_code", "needs", "difficulties", "contact_name"]
    list_select_related = ["enterprise", "survey"]
    autocomplete_fields = ["enterprise", "survey"]
    date_hierarchy = "submitted_on"
    readonly_fields = ["raw_row", "source_file", "source_row", "imported_at", "imported_by"]
