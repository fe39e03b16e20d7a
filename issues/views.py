from django.shortcuts import get_object_or_404, render

from .models import Issue


def my_work(request):
    issues = Issue.objects.visible_to(request.user).open().with_colour()[:50]
    return render(request, "issues/my_work.html", {"objects": issues})


def issue_list(request):
    issues = Issue.objects.visible_to(request.user).with_colour()[:50]
    return render(request, "issues/issue_list.html", {"objects": issues})


def issue_detail(request, pk):
    issue = get_object_or_404(Issue.objects.visible_to(request.user), pk=pk)
    return render(request, "issues/issue_detail.html", {"object": issue})
