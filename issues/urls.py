from django.urls import path

from . import file_views, views

app_name = "issues"
urlpatterns = [
    path("", views.issue_list, name="list"),
    path("export/", views.issue_export, name="export"),
    path("<int:pk>/", views.issue_detail, name="detail"),
    # Evidence files (issues.file_views): before the action pattern, which would take "files".
    path("<int:pk>/files/", file_views.add_issue_files, name="add-files"),
    path("files/<int:pk>/", file_views.file_download, name="file"),
    path("files/<int:pk>/thumbnail/", file_views.file_thumbnail, name="file-thumbnail"),
    path("<int:pk>/<slug:action>/", views.issue_action, name="action"),
]
