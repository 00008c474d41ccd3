"""Web pages (namespace ``web``). No personal data in any URL: objects are
named by their reference (MNR-2026-000123) or id, never by a person's name.

Built here (the foundation):
    web:home                 /                       home by role (anonymous → sign-in)
    web:signin               /sign-in/               username + password (demo accounts in demo mode)
    web:signin-otp           /sign-in/code/          second factor (TOTP or recovery code)
    web:two-factor-setup     /sign-in/two-factor/    enrol an authenticator app; recovery codes once
    web:signout              /sign-out/              POST only

Planned URL names for the role pages (add the route here, its entry in
web/navigation.py, and its views in web/views/<area>.py):
    referrer:      web:referral-new (guided form; steps as ?step= or /referrals/new/<step>/),
                   web:referral-list, web:referral-detail (<reference>)
    association:   web:inbox, web:routing-detail (<int:routing_id>), web:case-list,
                   web:case-detail (<reference>), web:workload (manager)
    coordination:  web:escalation-list, web:escalation-assign (<reference>)
    statistics:    web:statistics (analyst, coordination desk, association manager),
                   web:statistics-csv
"""

from django.urls import path

from .views import auth, coordination, home, statistics

app_name = "web"

urlpatterns = [
    path("", home.home, name="home"),
    path("sign-in/", auth.signin_view, name="signin"),
    path("sign-in/code/", auth.signin_otp_view, name="signin-otp"),
    path("sign-in/two-factor/", auth.two_factor_setup_view, name="two-factor-setup"),
    path("sign-out/", auth.signout_view, name="signout"),
    path("escalations/", coordination.escalation_list, name="escalation-list"),
    path(
        "escalations/<str:reference>/assign/",
        coordination.escalation_assign,
        name="escalation-assign",
    ),
    path("statistics/", statistics.dashboard, name="statistics"),
    path("statistics/export.csv", statistics.csv_download, name="statistics-csv"),
]
