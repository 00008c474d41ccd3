from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

import common.converters  # noqa: F401  (registers <ref:…>)

from .views import (
    agencies,
    audit,
    auth,
    cases,
    identifications,
    referrals,
    shares,
    stats,
    transfers,
)

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("auth/token/", auth.TokenObtainView.as_view(), name="api-token"),
    path("auth/tokens/", auth.TokenListView.as_view(), name="api-tokens"),
    path("auth/tokens/<int:token_id>/", auth.TokenDetailView.as_view(), name="api-token-detail"),
    path("auth/me/", auth.MeView.as_view(), name="api-me"),
    path("agencies/", agencies.AgencyListView.as_view(), name="api-agencies"),
    path("agencies/<int:pk>/", agencies.AgencyDetailView.as_view(), name="api-agency-detail"),
    path(
        "reference/departements/",
        agencies.DepartementListView.as_view(),
        name="api-reference-departements",
    ),
    path(
        "reference/indicators/",
        referrals.IndicatorListView.as_view(),
        name="api-reference-indicators",
    ),
    path("referrals/", referrals.ReferralListView.as_view(), name="api-referrals"),
    path(
        "referrals/<ref:reference>/",
        referrals.ReferralDetailView.as_view(),
        name="api-referral-detail",
    ),
    path(
        "referrals/<ref:reference>/withdraw/",
        referrals.ReferralWithdrawView.as_view(),
        name="api-referral-withdraw",
    ),
    path(
        "referrals/<ref:reference>/assign/",
        referrals.ReferralAssignView.as_view(),
        name="api-referral-assign",
    ),
    path("cases/", cases.CaseListView.as_view(), name="api-cases"),
    path("cases/<ref:reference>/", cases.CaseDetailView.as_view(), name="api-case"),
    path("cases/<ref:reference>/steps/", cases.StepListView.as_view(), name="api-case-steps"),
    path(
        "cases/<ref:reference>/steps/<int:step_id>/",
        cases.StepDetailView.as_view(),
        name="api-case-step",
    ),
    path("cases/<ref:reference>/notes/", cases.NoteListView.as_view(), name="api-case-notes"),
    path(
        "cases/<ref:reference>/timeline/",
        audit.CaseTimelineView.as_view(),
        name="api-case-timeline",
    ),
    path("cases/<ref:reference>/export/", audit.CaseExportView.as_view(), name="api-case-export"),
    path(
        "cases/<ref:reference>/shares/", shares.CaseShareListView.as_view(), name="api-case-shares"
    ),
    path(
        "cases/<ref:reference>/shares/<int:share_id>/end/",
        shares.CaseShareEndView.as_view(),
        name="api-case-share-end",
    ),
    path("shared-cases/", shares.SharedCaseListView.as_view(), name="api-shared-cases"),
    path(
        "shared-cases/<ref:reference>/",
        shares.SharedCaseDetailView.as_view(),
        name="api-shared-case",
    ),
    path("stats/referrals/", stats.ReferralStatsView.as_view(), name="api-stats-referrals"),
    path("stats/cases/", stats.CaseStatsView.as_view(), name="api-stats-cases"),
    path(
        "stats/acceptance-delays/",
        stats.DelayStatsView.as_view(),
        name="api-stats-acceptance-delays",
    ),
    path("stats/reports/<str:name>/", stats.ReportView.as_view(), name="api-stats-report"),
    path("audit/access-log/", audit.AccessLogListView.as_view(), name="api-access-log"),
    path("cases/<ref:reference>/close/", cases.CaseCloseView.as_view(), name="api-case-close"),
    path("cases/<ref:reference>/reopen/", cases.CaseReopenView.as_view(), name="api-case-reopen"),
    path(
        "cases/<ref:reference>/transfer/",
        transfers.CaseTransferView.as_view(),
        name="api-case-transfer",
    ),
    path("transfers/", transfers.TransferListView.as_view(), name="api-transfers"),
    path(
        "transfers/<int:transfer_id>/accept/",
        transfers.TransferAcceptView.as_view(),
        name="api-transfer-accept",
    ),
    path(
        "transfers/<int:transfer_id>/reject/",
        transfers.TransferRejectView.as_view(),
        name="api-transfer-reject",
    ),
    path("workload/", cases.WorkloadView.as_view(), name="api-workload"),
    path(
        "identifications/",
        identifications.IdentificationListView.as_view(),
        name="api-identifications",
    ),
    path(
        "identifications/dashboard/",
        identifications.IdentificationDashboardView.as_view(),
        name="api-identification-dashboard",
    ),
    path(
        "identifications/<ref:reference>/",
        identifications.IdentificationDetailView.as_view(),
        name="api-identification",
    ),
    path(
        "identifications/<ref:reference>/decide/",
        identifications.IdentificationDecideView.as_view(),
        name="api-identification-decide",
    ),
    path(
        "identifications/<ref:reference>/evidence/",
        identifications.EvidenceView.as_view(),
        name="api-identification-evidence",
    ),
    path(
        "identifications/<ref:reference>/submit/",
        identifications.SubmitView.as_view(),
        name="api-identification-submit",
    ),
    path(
        "identifications/<ref:reference>/reconsider/",
        identifications.ReconsiderView.as_view(),
        name="api-identification-reconsider",
    ),
    path("routings/", referrals.RoutingListView.as_view(), name="api-routings"),
    path("routings/<int:routing_id>/", referrals.RoutingDetailView.as_view(), name="api-routing"),
    path(
        "routings/<int:routing_id>/accept/",
        referrals.RoutingAcceptView.as_view(),
        name="api-routing-accept",
    ),
    path(
        "routings/<int:routing_id>/decline/",
        referrals.RoutingDeclineView.as_view(),
        name="api-routing-decline",
    ),
    path(
        "reference/exploitation-forms/",
        agencies.ExploitationFormListView.as_view(),
        name="api-reference-exploitation-forms",
    ),
]
