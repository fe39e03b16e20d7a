"""The enterprise's own pages (issue 16): a contact person's account follows its issues,
raises a problem (企业吹哨), adds information and answers about a resolution.

Only the enterprise role reaches them (`config.middleware.EnterpriseAreaMiddleware` keeps it
off every staff page), and only its own enterprise's issues (`permissions.enterprise_issues`).
What it sees of an issue: its status, the department handling it, the deadline, and the
entries staff made public — never a staff name, never an internal note.
"""

from django import forms
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_safe

from config.forms import BootstrapFormMixin
from issues import clock, workflow
from issues.feedback_views import AnswerForm
from issues.models import Category, Channel, IssueEvent, Source, Status
from issues.permissions import enterprise_id, enterprise_issues
from issues.roles import is_enterprise_contact

from .models import Enterprise


class RaiseForm(BootstrapFormMixin, forms.Form):
    title = forms.CharField(label=_("The problem, in one line"), max_length=200)
    description = forms.CharField(
        label=_("Details"),
        help_text=_("What happened, what you need, whom you have contacted already."),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=5000,
    )
    category = forms.ModelChoiceField(
        label=_("Kind of problem"), queryset=Category.objects.filter(is_active=True)
    )


class InformationForm(BootstrapFormMixin, forms.Form):
    note = forms.CharField(
        label=_("Add information"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )


def _enterprise(request) -> Enterprise:
    if not is_enterprise_contact(request.user):
        raise PermissionDenied
    return get_object_or_404(Enterprise, pk=enterprise_id(request.user))


@require_safe
def home(request):
    enterprise = _enterprise(request)
    issues = list(
        enterprise_issues(request.user).select_related("lead_department").order_by("-raised_on", "-id")
    )
    waiting = [issue for issue in issues if issue.status == Status.RESOLVED]
    return render(
        request, "enterprise/home.html", {"enterprise": enterprise, "issues": issues, "waiting": waiting}
    )


def _issue_page(request, issue, *, answer=None, information=None, status=200):
    entries = IssueEvent.objects.filter(issue=issue, public=True).order_by("at", "id")
    context = {
        "enterprise": issue.enterprise,
        "issue": issue,
        "entries": entries,
        "answer_form": answer or (AnswerForm() if issue.status == Status.RESOLVED else None),
        "information_form": information or (InformationForm() if issue.status in workflow.OPEN else None),
    }
    return render(request, "enterprise/issue.html", context, status=status)


@require_http_methods(["GET", "POST"])
def issue_page(request, pk: int):
    _enterprise(request)
    issue = get_object_or_404(
        enterprise_issues(request.user).select_related("enterprise", "lead_department"), pk=pk
    )
    if request.method == "GET":
        return _issue_page(request, issue)
    if "note" in request.POST:
        form = InformationForm(request.POST)
        if form.is_valid():
            workflow.add_information(issue_id=issue.pk, by=request.user, note=form.cleaned_data["note"])
            return redirect("enterprise:issue", pk=issue.pk)
        return _issue_page(request, issue, information=form, status=400)
    form = AnswerForm(request.POST)
    if issue.status == Status.RESOLVED and form.is_valid():
        data = form.cleaned_data
        workflow.record_round(
            issue_id=issue.pk,
            by=request.user,
            contacted_on=clock.today(),
            channel=Channel.ONLINE,
            contact_name=request.user.get_full_name(),
            reply_satisfaction=data["reply_satisfaction"],
            solution_satisfaction=data["solution_satisfaction"],
            comment=data["comment"],
            close=True,
        )
        return redirect("enterprise:issue", pk=issue.pk)
    return _issue_page(request, issue, answer=form, status=400)


@require_http_methods(["GET", "POST"])
def raise_problem(request):
    enterprise = _enterprise(request)
    form = RaiseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        issue = workflow.raise_issue(
            by=request.user,
            enterprise=enterprise,
            title=data["title"],
            description=data["description"],
            category=data["category"],
            source=Source.ENTERPRISE_REQUEST,
        )
        return render(request, "enterprise/raised.html", {"enterprise": enterprise, "issue": issue})
    return render(
        request,
        "enterprise/raise.html",
        {"enterprise": enterprise, "form": form},
        status=400 if form.is_bound else 200,
    )
