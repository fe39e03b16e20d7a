from django.urls import path

from . import views

app_name = "issues"
urlpatterns = [
    path("", views.issue_list, name="list"),
    path("export/", views.issue_export, name="export"),
    path("<int:pk>/", views.issue_detail, name="detail"),
    path("<int:pk>/<slug:action>/", views.issue_action, name="action"),
]
