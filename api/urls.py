from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from .views import agencies, auth

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
        "reference/exploitation-forms/",
        agencies.ExploitationFormListView.as_view(),
        name="api-reference-exploitation-forms",
    ),
]
