"""The project's admin site (config.apps.AdminConfig makes it `admin.site`)."""

from django.contrib import admin, messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponseRedirect
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache


class AdminSite(admin.AdminSite):
    # The side menu takes 300 px of a 1366 px screen: the lists need them (#17). The admin
    # index and the breadcrumbs lead everywhere the menu did.
    enable_nav_sidebar = False

    @method_decorator(never_cache)
    @login_not_required
    def login(self, request, extra_context=None):
        """Someone signed in without access to the admin (department staff, officials,
        leaders) goes to their own start page with a word of why, rather than to a second
        login form saying they lack access (#17)."""
        if request.user.is_authenticated and not self.has_permission(request):
            from config.views import home_url

            messages.info(request, _("The administration pages are for coordinators and administrators."))
            return HttpResponseRedirect(home_url(request.user))
        return super().login(request, extra_context)
