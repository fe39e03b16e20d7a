from django.shortcuts import get_object_or_404, render

from .models import Visit


def visit_list(request):
    objects = Visit.objects.visible_to(request.user)[:50]
    return render(request, "visits/visit_list.html", {"objects": objects})


def visit_detail(request, pk):
    obj = get_object_or_404(Visit.objects.visible_to(request.user), pk=pk)
    return render(request, "visits/visit_detail.html", {"object": obj})
