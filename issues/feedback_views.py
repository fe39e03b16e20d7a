"""The page a feedback link opens (no account): the issue's title, its department, what the
department made public about the resolution, and the two questions (issue 16).

Mobile-first, without the staff navigation. A refused link (tampered, expired, used, revoked,
or the issue no longer waiting) gets a page that says why, and nothing changes. Answers are
rate limited per client address.
"""

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import transaction
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from config.forms import BootstrapFormMixin
from config.security import client_ip

from . import clock, workflow
from .feedback_links import LinkRefused, open_link
from .models import Channel, FeedbackRequest, IssueEvent, Satisfaction

COMMENT_MAX = 2000
WINDOW_SECONDS = 600


class AnswerForm(BootstrapFormMixin, forms.Form):
    reply_satisfaction = forms.ChoiceField(
        label=_("Are you satisfied with the department's reply?"),
        choices=Satisfaction.choices,
        widget=forms.RadioSelect,
    )
    solution_satisfaction = forms.ChoiceField(
        label=_("Are you satisfied with how the problem was solved?"),
        choices=Satisfaction.choices,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Your comments"),
        help_text=_(
            "If you are not satisfied, say what is still wrong: the department will work on it again."
        ),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=COMMENT_MAX,
        required=False,
    )

    def clean(self):
        data = super().clean()
        if (
            data.get("solution_satisfaction") == Satisfaction.UNSATISFIED
            and not (data.get("comment") or "").strip()
        ):
            self.add_error("comment", _("Please say what is still wrong, so the department can act on it."))
        return data


def rate_limited(request) -> bool:
    """More than PUBLIC_RATE_LIMIT requests from this address in 10 minutes (the cache is
    per process unless a shared cache is configured: docs/production.md)."""
    key = f"public-rate:{client_ip(request)}"
    count = cache.get_or_set(key, 0, WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.set(key, 1, WINDOW_SECONDS)
        count = 1
    return count > settings.PUBLIC_RATE_LIMIT


def public_entries(issue):
    """What the department made public about the issue: the record's public entries, with
    no staff names."""
    return (
        IssueEvent.objects.filter(issue=issue, public=True)
        .select_related("lead_department")
        .order_by("at", "id")
    )


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def feedback(request, token: str):
    if rate_limited(request):
        return render(
            request,
            "feedback/refused.html",
            {"reason": _("Too many attempts: try again in a few minutes.")},
            status=429,
        )
    try:
        link = open_link(token)
    except LinkRefused as refused:
        return render(request, "feedback/refused.html", {"reason": refused.reason}, status=410)
    form = AnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with transaction.atomic():
            # Single use, even with two answers sent at once: the second finds it used.
            request_row = FeedbackRequest.objects.select_for_update().get(pk=link.pk)
            if request_row.used_at is not None:
                return render(
                    request,
                    "feedback/refused.html",
                    {"reason": _("This link has already been used: thank you, your answer was recorded.")},
                    status=410,
                )
            answer = workflow.record_round(
                issue_id=link.issue_id,
                by=None,
                contacted_on=clock.today(),
                channel=Channel.ONLINE,
                reply_satisfaction=data["reply_satisfaction"],
                solution_satisfaction=data["solution_satisfaction"],
                comment=data["comment"],
                close=True,
            )
            request_row.used_at, request_row.feedback_round = clock.now(), answer
            request_row.save(update_fields=["used_at", "feedback_round"])
        return render(request, "feedback/thanks.html", {"answer": answer, "issue": link.issue})
    context = {
        "issue": link.issue,
        "form": form,
        "entries": public_entries(link.issue),
        "expires_at": link.expires_at,
    }
    return render(request, "feedback/answer.html", context, status=400 if form.is_bound else 200)
