from django.urls import path

from . import views

app_name = "enterprises"
urlpatterns = [
    path("", views.enterprise_list, name="list"),
    path("lookup/", views.enterprise_lookup, name="lookup"),
    path("<int:pk>/", views.enterprise_detail, name="detail"),
]
