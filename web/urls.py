"""Web pages (namespace ``web``); README "Web pages" lists them by role. No
personal data in any URL: objects are named by their reference
(MNR-2026-000123) or id, never by a person's name. Views live in
web/views/<area>.py and call the same services and selectors as the API; a page
added here needs its entry in web/navigation.py (if it is a destination) and in
tests/web/test_refusals.py's route table (a test fails otherwise)."""

from django.urls import path

import common.converters  # noqa: F401  (registers <ref:…>)

from .views import (
    association,
    auth,
    case_identification,
    coordination,
    home,
    identification,
    inbox,
    referral_new,
    referrals,
    shared,
    statistics,
)

app_name = "web"

urlpatterns = [
    path("", home.home, name="home"),
    path("sign-in/", auth.signin_view, name="signin"),
    path("sign-in/code/", auth.signin_otp_view, name="signin-otp"),
    path("sign-in/two-factor/", auth.two_factor_setup_view, name="two-factor-setup"),
    path("sign-out/", auth.signout_view, name="signout"),
    # Association (caseworkers and managers): web/views/inbox.py, association.py;
    # a person a case is shared with: web/views/shared.py.
    path("inbox/", inbox.inbox, name="inbox"),
    path("routings/<int:routing_id>/", inbox.routing_detail, name="routing-detail"),
    path("routings/<int:routing_id>/accept/", inbox.routing_accept, name="routing-accept"),
    path("routings/<int:routing_id>/decline/", inbox.routing_decline, name="routing-decline"),
    path("cases/", association.case_list, name="case-list"),
    path("cases/<ref:reference>/", association.case_detail, name="case-detail"),
    path("cases/<ref:reference>/steps/", association.step_add, name="case-step-add"),
    path(
        "cases/<ref:reference>/steps/<int:step_id>/",
        association.step_update,
        name="case-step-update",
    ),
    path("cases/<ref:reference>/notes/", association.note_add, name="case-note-add"),
    path("cases/<ref:reference>/assign/", association.case_assign, name="case-assign"),
    path("cases/<ref:reference>/transfer/", association.case_transfer, name="case-transfer"),
    path("cases/<ref:reference>/close/", association.case_close, name="case-close"),
    path("cases/<ref:reference>/reopen/", association.case_reopen, name="case-reopen"),
    path("cases/<ref:reference>/timeline/", association.case_timeline, name="case-timeline"),
    path("cases/<ref:reference>/share/", association.case_share, name="case-share"),
    path(
        "cases/<ref:reference>/shares/<int:share_id>/end/",
        association.case_share_end,
        name="case-share-end",
    ),
    # The Identification section of the case page: web/views/case_identification.py.
    path(
        "cases/<ref:reference>/identification/evidence/",
        case_identification.evidence_add,
        name="case-evidence-add",
    ),
    path(
        "cases/<ref:reference>/identification/submit/",
        case_identification.evidence_submit,
        name="case-evidence-submit",
    ),
    path(
        "cases/<ref:reference>/identification/reconsider/",
        case_identification.reconsideration_request,
        name="case-reconsider",
    ),
    path("shared-cases/", shared.shared_case_list, name="shared-case-list"),
    path("shared-cases/<ref:reference>/", shared.shared_case_detail, name="shared-case-detail"),
    path("transfers/<int:transfer_id>/accept/", inbox.transfer_accept, name="transfer-accept"),
    path("transfers/<int:transfer_id>/reject/", inbox.transfer_reject, name="transfer-reject"),
    path("workload/", association.workload, name="workload"),
    # Referrer (web/views/referral_new.py, the guided form, its draft in the session;
    # web/views/referrals.py, the list and a referral's page).
    path("referrals/", referrals.referral_list, name="referral-list"),
    path("referrals/new/", referral_new.referral_new, name="referral-new"),
    path("referrals/new/<int:step>/", referral_new.referral_new_step, name="referral-new-step"),
    path(
        "referrals/<ref:reference>/submitted/",
        referrals.referral_submitted,
        name="referral-submitted",
    ),
    path("referrals/<ref:reference>/", referrals.referral_detail, name="referral-detail"),
    path(
        "referrals/<ref:reference>/withdraw/",
        referrals.referral_withdraw,
        name="referral-withdraw",
    ),
    # Identification unit (decision-makers): web/views/identification.py.
    path("identification/", identification.identification_inbox, name="identification-inbox"),
    path(
        "identification/dashboard/",
        identification.identification_dashboard,
        name="identification-dashboard",
    ),
    path(
        "identification/<ref:reference>/",
        identification.identification_detail,
        name="identification-detail",
    ),
    path(
        "identification/<ref:reference>/decide/",
        identification.identification_decide,
        name="identification-decide",
    ),
    # Coordination desk and statistics: web/views/coordination.py, web/views/statistics.py
    path("escalations/", coordination.escalation_list, name="escalation-list"),
    path(
        "escalations/<ref:reference>/assign/",
        coordination.escalation_assign,
        name="escalation-assign",
    ),
    path("statistics/", statistics.dashboard, name="statistics"),
    path("statistics/export.csv", statistics.csv_download, name="statistics-csv"),
]
