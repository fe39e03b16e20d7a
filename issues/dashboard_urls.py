from django.urls import path

from . import dashboard_views

app_name = "dashboard"
urlpatterns = [
    path("", dashboard_views.dashboard, name="index"),
    path("weekly/", dashboard_views.weekly_list, name="weekly"),
]
