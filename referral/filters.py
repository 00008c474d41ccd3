"""Filters of the referral and routing lists (django-filter), shared by the API
(GET /api/v1/referrals/, /api/v1/routings/) and the web pages. They narrow a
queryset the selectors already restricted to what the user may see."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from common.choices import ExploitationForm

from .models import Referral, ReferralStatus, Routing, RoutingOutcome


def exploitation_form_q(value: str, *, prefix: str = "") -> Q:
    """Referrals of one form of exploitation: the stored JSON list of codes holds
    the quoted code as one element (codes never contain quotes)."""
    return Q(**{f"{prefix}exploitation_forms__icontains": f'"{value}"'})


class ReferralFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ReferralStatus.choices)
    submitted_after = django_filters.DateFilter(field_name="submitted_at", lookup_expr="date__gte")
    submitted_before = django_filters.DateFilter(field_name="submitted_at", lookup_expr="date__lte")
    exploitation_form = django_filters.ChoiceFilter(
        choices=ExploitationForm.choices, method="filter_form"
    )

    class Meta:
        model = Referral
        fields = ["status", "submitted_after", "submitted_before", "exploitation_form"]

    def filter_form(self, queryset, name, value):
        return queryset.filter(exploitation_form_q(value))


class RoutingFilter(django_filters.FilterSet):
    outcome = django_filters.ChoiceFilter(choices=RoutingOutcome.choices)

    class Meta:
        model = Routing
        fields = ["outcome"]
