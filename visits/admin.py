"""Admin for officials and visits (coordinators keep them tidy; officials use the pages)."""

from django import forms
from django.contrib import admin
from django.db.models import Count, F
from django.utils.translation import gettext_lazy as _

from issues.admin import ReadOnlyAdminMixin
from issues.models import Issue
from issues.trail import TrailAdminMixin

from .models import Official, Topic, Visit, VisitStatus


@admin.register(Official)
class OfficialAdmin(admin.ModelAdmin):
    list_display = ["name", "title", "organisation", "user", "is_active"]
    list_select_related = ["user"]
    list_filter = ["is_active", "organisation"]
    search_fields = ["name", "title", "organisation", "user__username"]
    autocomplete_fields = ["user"]


class VisitAdminForm(forms.ModelForm):
    topics = forms.MultipleChoiceField(
        label=_("topics covered"),
        choices=Topic.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Visit
        fields = [
            "enterprise",
            "visited_on",
            "status",
            "lead_officials",
            "accompanying_departments",
            "topics",
            "policies_explained",
            "summary",
        ]

    def clean(self):
        # The same rules as the visit pages (visits.services): a visit on which issues were
        # raised took place, at that enterprise.
        cleaned = super().clean()
        visit = self.instance
        if visit.pk and visit.issues.exists():
            if cleaned.get("status") and cleaned["status"] != VisitStatus.COMPLETED:
                self.add_error("status", _("Issues were raised on this visit: it stays completed."))
            if cleaned.get("enterprise") and cleaned["enterprise"].pk != visit.enterprise_id:
                self.add_error(
                    "enterprise", _("Issues were raised on this visit: its enterprise can no longer change.")
                )
        return cleaned


class VisitIssueInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The issues raised on the visit: shown here, handled in the issue admin."""

    model = Issue
    fk_name = "visit"
    fields = ["title", "category", "status", "lead_department", "deadline"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = _("issues raised on this visit")

    def get_queryset(self, request):
        from issues.permissions import visible_issues

        qs = super().get_queryset(request).select_related("category", "lead_department")
        return visible_issues(request.user, qs)


@admin.register(Visit)
class VisitAdmin(TrailAdminMixin, admin.ModelAdmin):
    form = VisitAdminForm
    list_display = [
        "visited_on",
        "enterprise",
        "district",
        "status",
        "officials",
        "issue_count",
        "created_by",
    ]
    list_display_links = ["visited_on", "enterprise"]
    list_select_related = ["enterprise", "enterprise__district", "created_by"]
    list_filter = ["status", "visited_on", "enterprise__district", "enterprise__is_key"]
    search_fields = ["enterprise__name", "enterprise__credit_code", "summary", "lead_officials__name"]
    autocomplete_fields = ["enterprise", "lead_officials", "accompanying_departments"]
    readonly_fields = ["created_by", "created_at", "updated_at"]
    inlines = [VisitIssueInline]
    show_full_result_count = False
    ordering = ["-visited_on", "-id"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .visible_to(request.user)
            .annotate(issue_count=Count("issues", distinct=True))
            .prefetch_related("lead_officials")
        )

    def has_delete_permission(self, request, obj=None):
        # A visit with recorded issues is history; the model PROTECTs them anyway.
        return super().has_delete_permission(request, obj) and not (obj and obj.issues.exists())

    @admin.display(description=_("district"), ordering="enterprise__district__sort_order")
    def district(self, obj):
        return obj.enterprise.district

    @admin.display(description=_("lead officials"))
    def officials(self, obj):
        return "、".join(o.name for o in obj.lead_officials.all())

    @admin.display(description=_("issues"), ordering="issue_count")
    def issue_count(self, obj):
        return obj.issue_count

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
            super().save_model(request, obj, form, change)
            return
        # Bump the version so a page form loaded before this edit is refused, not applied.
        obj.version = F("version") + 1
        super().save_model(request, obj, form, change)
        obj.refresh_from_db(fields=["version"])
