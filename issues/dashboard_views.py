from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from .roles import sees_everything


def dashboard(request):
    if not sees_everything(request.user):
        raise PermissionDenied
    return render(request, "dashboard/index.html", {})


def weekly_list(request):
    if not sees_everything(request.user):
        raise PermissionDenied
    return render(request, "dashboard/weekly.html", {})
