"""Forms of the association pages (inbox, cases). They only shape input for the
services in referral.services and cases.services, which hold every rule; the
choices they offer (staff, associations) come from selectors."""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, User
from cases.models import CaseShare, CaseStatus, ClosureReason, StepKind
from common.choices import ExploitationForm

from . import MnrForm

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _staff_choices(staff: Iterable[User]) -> list[tuple[str, str]]:
    return [(str(user.pk), user.username) for user in staff]


class VersionedForm(MnrForm):
    """Carries the version of the object as the page read it: the service refuses
    the write when someone changed the object since (the API's If-Match)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class DeclineForm(MnrForm):
    reason = forms.CharField(
        label=_("Reason for declining"),
        max_length=1000,
        help_text=_("Shown to the coordination desk. The referral goes to the next association."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CaseFilterForm(MnrForm):
    """The API's case filters (GET /api/v1/cases/): status, assigned_to, overdue,
    exploitation_form."""

    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *CaseStatus.choices]
    )
    assigned_to = forms.ChoiceField(label=_("Assigned to"), required=False)
    overdue = forms.ChoiceField(
        label=_("Overdue steps"),
        required=False,
        choices=[("", _("All")), ("true", _("With overdue steps")), ("false", _("None overdue"))],
    )
    exploitation_form = forms.ChoiceField(
        label=_("Form of exploitation"),
        required=False,
        choices=[("", _("All")), *ExploitationForm.choices],
    )

    def __init__(self, *args, staff: Iterable[User] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assigned_to"].choices = [
            ("", _("Anyone")),
            ("me", _("Me")),
            ("none", _("Nobody")),
            *_staff_choices(staff),
        ]


class StepAddForm(MnrForm):
    kind = forms.ChoiceField(label=_("Kind of step"), choices=[("", "—"), *StepKind.choices])
    due_date = forms.DateField(label=_("Due date"), required=False, widget=DATE_WIDGET)
    ends_on = forms.DateField(
        label=_("Ends on"),
        required=False,
        widget=DATE_WIDGET,
        help_text=_("For a period, such as the reflection period."),
    )
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    note = forms.CharField(
        label=_("Note"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, staff: Iterable[User] = (), **kwargs) -> None:
        super().__init__(*args, prefix="step", **kwargs)
        self.staff = {str(user.pk): user for user in staff}
        self.fields["owner"].choices = [("", _("Nobody yet")), *_staff_choices(self.staff.values())]

    def clean_owner(self) -> User | None:
        return self.staff.get(self.cleaned_data["owner"])


class StepStatusForm(VersionedForm):
    """One button per status the step can move to (the pressed button's value)."""

    status = forms.CharField(max_length=20)


class NoteForm(MnrForm):
    text = forms.CharField(
        label=_("New note"),
        max_length=20_000,
        help_text=_("Visible to your association only."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, prefix="note", **kwargs)


class CaseAssignForm(VersionedForm):
    assigned_to = forms.ChoiceField(label=_("Caseworker"), required=False)

    def __init__(self, *args, staff: Iterable[User] = (), **kwargs) -> None:
        super().__init__(*args, prefix="assign", **kwargs)
        self.staff = {str(user.pk): user for user in staff}
        self.fields["assigned_to"].choices = [
            ("", _("Nobody")),
            *_staff_choices(self.staff.values()),
        ]

    def clean_assigned_to(self) -> User | None:
        return self.staff.get(self.cleaned_data["assigned_to"])


class TransferForm(MnrForm):
    to_association = forms.ChoiceField(label=_("Receiving association"))
    reason = forms.CharField(
        label=_("Reason for the transfer"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, associations: Iterable[Agency] = (), **kwargs) -> None:
        super().__init__(*args, prefix="transfer", **kwargs)
        self.fields["to_association"].choices = [
            ("", "—"),
            *((str(a.pk), a.name) for a in associations),
        ]


class TransferRejectForm(MnrForm):
    reason = forms.CharField(label=_("Reason (optional)"), required=False, max_length=2000)


class CloseForm(VersionedForm):
    reason = forms.ChoiceField(
        label=_("Closure reason"), choices=[("", "—"), *ClosureReason.choices]
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, prefix="close", **kwargs)


class ReopenForm(VersionedForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, prefix="reopen", **kwargs)


class ShareForm(MnrForm):
    grantee = forms.CharField(
        label=_("Username of the person"),
        max_length=150,
        help_text=_("The person's MNR username: ask them for it."),
    )
    purpose = forms.ChoiceField(label=_("Purpose"), choices=CaseShare.Purpose.choices)
    purpose_detail = forms.CharField(label=_("What they need it for"), max_length=200)
    parts = forms.MultipleChoiceField(
        label=_("What they may read"),
        choices=CaseShare.Part.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[CaseShare.Part.PROFILE, CaseShare.Part.PLAN],
    )
    until = forms.DateField(
        label=_("Until (included)"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, prefix="share", **kwargs)
