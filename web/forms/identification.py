"""Forms of the identification pages: the unit's decision, and on the case page
the association's evidence entry and request for reconsideration. They only
shape input for identification.services, which holds every rule (which
outcome a stage allows, which reasons an outcome needs, which indicators
exist); the choices offered come from the domain's enumerations."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from identification.models import (
    STAGE_OUTCOMES,
    EvidenceSection,
    NegativeReason,
    Outcome,
    Stage,
    WithdrawalReason,
)
from identification.services import EXPLANATION_MAX, TEXT_MAX
from referral import indicators

from .. import present
from . import MnrForm
from .association import DATE_WIDGET, VersionedForm


class DecisionForm(VersionedForm):
    """The decision of the stage being waited for: its outcomes only; the
    reasons of a negative decision (and, at the formal stage, of a withdrawal)."""

    outcome = forms.ChoiceField(label=_("Decision"), widget=forms.RadioSelect)
    reasons = forms.MultipleChoiceField(
        label=_("Reasons"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("For a negative decision or a withdrawal: tick every reason that applies."),
    )
    explanation = forms.CharField(
        label=_("Explanation"),
        required=False,
        max_length=EXPLANATION_MAX,
        help_text=_("Required for a negative decision: the association reads it."),
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def __init__(self, *args, stage: str, **kwargs) -> None:
        super().__init__(*args, prefix="decision", **kwargs)
        outcomes = STAGE_OUTCOMES[Stage(stage)]
        self.fields["outcome"].choices = [(outcome.value, outcome.label) for outcome in outcomes]
        reasons = list(NegativeReason.choices)
        if Outcome.WITHDRAWN in outcomes:
            reasons += WithdrawalReason.choices
        self.fields["reasons"].choices = reasons


def indicator_choices(*, minor: bool) -> list[tuple[str, str]]:
    """The indicators of the person's public (those services.evidence_add accepts)."""
    codes = sorted(indicators.codes_for(minor=minor))
    names = present.indicator_labels(codes, indicators.CURRENT_VERSION)
    return sorted(zip(codes, names, strict=True), key=lambda choice: choice[1])


class EvidenceForm(MnrForm):
    section = forms.ChoiceField(
        label=_("Kind of entry"), choices=[("", "—"), *EvidenceSection.choices]
    )
    indicator = forms.ChoiceField(
        label=_("Indicator confirmed"),
        required=False,
        help_text=_("Only for an indicator confirmed."),
    )
    on_date = forms.DateField(label=_("Date"), required=False, widget=DATE_WIDGET)
    text = forms.CharField(
        label=_("Description"),
        max_length=TEXT_MAX,
        help_text=_(
            "What was seen or said. For a document: its kind and who holds it "
            "(the document itself stays outside MNR)."
        ),
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, minor: bool, **kwargs) -> None:
        super().__init__(*args, prefix="evidence", **kwargs)
        self.fields["indicator"].choices = [("", "—"), *indicator_choices(minor=minor)]


class ReconsiderForm(MnrForm):
    new_elements = forms.CharField(
        label=_("New elements"),
        max_length=TEXT_MAX,
        help_text=_("What is new since the decision. Another member of the unit decides."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, prefix="reconsider", **kwargs)
