from django.urls import path

from . import portal

app_name = "enterprise"
urlpatterns = [
    path("", portal.home, name="home"),
    path("issues/<int:pk>/", portal.issue_page, name="issue"),
    path("raise/", portal.raise_problem, name="raise"),
]
