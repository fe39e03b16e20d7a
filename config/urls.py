from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.i18n import set_language

from config import views as project_views
from config.passwords import PasswordChangeView
from enterprises import accounts as enterprise_accounts
from issues import feedback_views
from issues import views as issue_views

admin.site.site_header = admin.site.site_title = _("Enterprise Visit Tracker")

urlpatterns = [
    path("", issue_views.my_work, name="home"),
    path("accounts/login/", login_not_required(project_views.LoginView.as_view()), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="registration/change_password_done.html"),
        name="password_change_done",
    ),
    # The language switch works on the login page too.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("enterprises/", include("enterprises.urls")),
    path("visits/", include("visits.urls")),
    path("issues/", include("issues.urls")),
    path("dashboard/", include("dashboard.urls")),
    # The enterprise: its answer by link (no account), and its own pages (an account).
    path("f/<str:token>/", feedback_views.feedback, name="feedback"),
    path("e/", include("enterprises.portal_urls")),
    path("accounts/notifications/", issue_views.notification_settings, name="notification-settings"),
    path(
        "accounts/invite/<uidb64>/<token>/",
        login_not_required(enterprise_accounts.InvitationView.as_view()),
        name="invitation",
    ),
    path(
        "accounts/invite/done/",
        login_not_required(enterprise_accounts.InvitationDoneView.as_view()),
        name="invitation-done",
    ),
    path("admin/", admin.site.urls),
    path("healthz", project_views.healthz, name="healthz"),
    path("favicon.ico", project_views.favicon, name="favicon"),
    path("bench/floor", project_views.floor, name="bench-floor"),
]
