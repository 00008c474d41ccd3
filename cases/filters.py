"""Filters of the case and transfer lists (django-filter), shared by the API
(GET /api/v1/cases/, /api/v1/transfers/) and the web pages: one definition of
`assigned_to=me|none|id`, `overdue` and `direction=in|out`. They narrow a
queryset the selectors already restricted to what the user may see."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from agencies.selectors import membership_of
from common.choices import ExploitationForm
from common.errors import ValidationFailed
from common.parsing import parse_id
from referral.filters import exploitation_form_q

from .models import Case, CaseStatus, Transfer, TransferStatus


class CaseFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=CaseStatus.choices)
    assigned_to = django_filters.CharFilter(
        method="filter_assigned", help_text="A user id, `me`, or `none`."
    )
    overdue = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")], method="filter_overdue"
    )
    exploitation_form = django_filters.ChoiceFilter(
        choices=ExploitationForm.choices, method="filter_form"
    )

    class Meta:
        model = Case
        fields = ["status", "assigned_to", "overdue", "exploitation_form"]

    def filter_assigned(self, queryset, name, value):
        if value == "me":
            return queryset.filter(assigned_to=self.request.user)
        if value == "none":
            return queryset.filter(assigned_to__isnull=True)
        user_id = parse_id(value)
        if user_id is None:
            raise ValidationFailed(
                _("Invalid input."), fields={"assigned_to": [_("A user id, `me` or `none`.")]}
            )
        return queryset.filter(assigned_to_id=user_id)

    def filter_overdue(self, queryset, name, value):
        if value == "true":
            return queryset.filter(overdue_steps__gt=0)
        return queryset.filter(overdue_steps=0)

    def filter_form(self, queryset, name, value):
        return queryset.filter(exploitation_form_q(value, prefix="referral__"))


class TransferFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=TransferStatus.choices)
    direction = django_filters.ChoiceFilter(
        choices=[("in", "in"), ("out", "out")], method="filter_direction"
    )

    class Meta:
        model = Transfer
        fields = ["status", "direction"]

    def filter_direction(self, queryset, name, value):
        membership = membership_of(self.request.user)
        if membership is None:  # no agency: no transfers either way (the list is empty)
            return queryset.none()
        if value == "in":
            return queryset.filter(to_association_id=membership.agency_id)
        return queryset.filter(from_association_id=membership.agency_id)
