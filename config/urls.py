from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from .health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # One sign-in for everyone: the admin's own login form would skip the
    # lockout and the second factor's enrolment rules (agencies/signin.py).
    path(
        "admin/login/",
        RedirectView.as_view(pattern_name="web:signin", query_string=True),
        name="admin-login-redirect",
    ),
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("web.urls")),
]

handler404 = "config.errors.handler404"
handler500 = "config.errors.handler500"
