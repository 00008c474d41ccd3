"""The coordination desk's form: assigning an escalated referral."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import MnrForm


class _AnyIdChoiceField(forms.TypedChoiceField):
    """A select whose value is not checked against its options: the service checks it."""

    def valid_value(self, value: object) -> bool:
        return True


class EscalationAssignForm(MnrForm):
    # Any id reaches the service, which alone decides what may be chosen (an
    # active association); its refusal comes back as this field's error.
    association = _AnyIdChoiceField(
        label=gettext_lazy("Association"),
        coerce=int,
        help_text=gettext_lazy(
            "An active association; the table above shows what each one is accredited for."
        ),
    )

    def __init__(self, *args, options: list[Any], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["association"]
        field.choices = [("", _("Choose an association"))] + [
            (
                option.agency.pk,
                f"{option.agency.name} ({option.agency.departement_id or _('national')})",
            )
            for option in options
        ]
