from django.shortcuts import get_object_or_404, render

from .models import Enterprise


def enterprise_list(request):
    objects = Enterprise.objects.visible_to(request.user)[:50]
    return render(request, "enterprises/enterprise_list.html", {"objects": objects})


def enterprise_detail(request, pk):
    obj = get_object_or_404(Enterprise.objects.visible_to(request.user), pk=pk)
    return render(request, "enterprises/enterprise_detail.html", {"object": obj})
