from django.urls import path

from . import views

app_name = "dashboard"
urlpatterns = [
    path("", views.dashboard, name="index"),
    path("facts/", views.facts, name="facts"),
    path("report.xlsx", views.report_xlsx, name="report-xlsx"),
    path("weekly/", views.weekly_list, name="weekly"),
]
