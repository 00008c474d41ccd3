"""Admin for the platform administrator: agencies, accreditations, memberships, users.

Every save goes through the services, so groups, history and validation are the
same as everywhere else.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from common.choices import ExploitationForm, Public
from common.errors import ValidationFailed

from . import services
from .models import Accreditation, Agency, Departement, Membership, Region, User
from .selectors import membership_of


def _raise_as_form_errors(form: forms.ModelForm, exc: ValidationFailed) -> None:
    for field, errors in exc.fields.items():
        target = field if field in form.fields else None
        for error in errors:
            form.add_error(target, error)


class ServiceValidatedForm(forms.ModelForm):
    """Runs the service's own validation in the form, so the admin shows field errors."""

    def validate_with_service(self) -> None:  # overridden
        return None

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            try:
                self.validate_with_service()
            except ValidationFailed as exc:
                _raise_as_form_errors(self, exc)
        return cleaned


class AgencyForm(ServiceValidatedForm):
    class Meta:
        model = Agency
        fields = ["name", "kind", "sector", "departement", "contact_email", "active"]

    def validate_with_service(self) -> None:
        services._validate_agency(
            kind=self.cleaned_data["kind"],
            sector=self.cleaned_data.get("sector", ""),
            departement=self.cleaned_data.get("departement"),
        )


class AccreditationInline(admin.TabularInline):
    model = Accreditation
    fields = ["valid_from", "valid_until", "national", "capacity", "secure_relocation"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ["user", "role"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Agency)
class AgencyAdmin(SimpleHistoryAdmin):
    form = AgencyForm
    list_display = ["name", "kind", "sector", "departement", "active"]
    list_filter = ["kind", "sector", "active", "departement__region"]
    search_fields = ["name", "departement__code", "departement__name"]
    list_select_related = ["departement"]
    inlines = [AccreditationInline, MembershipInline]

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # deactivate instead: referrals and cases point at agencies

    def save_model(self, request: HttpRequest, obj: Agency, form, change: bool) -> None:
        data = {f: form.cleaned_data.get(f) for f in AgencyForm.Meta.fields}
        data["sector"] = data["sector"] or ""
        data["contact_email"] = data["contact_email"] or ""
        if change:
            saved = services.agency_update(actor=request.user, agency=obj, **data)
        else:
            saved = services.agency_create(actor=request.user, **data)
        obj.pk, obj.group_id = saved.pk, saved.group_id


def _multiple_choice(choices: list) -> forms.TypedMultipleChoiceField:
    return forms.TypedMultipleChoiceField(choices=choices, widget=forms.CheckboxSelectMultiple)


class AccreditationForm(ServiceValidatedForm):
    exploitation_forms = _multiple_choice(ExploitationForm.choices)
    publics = _multiple_choice(Public.choices)
    languages = forms.CharField(
        required=False,
        label=_("languages spoken"),
        help_text=_("Two-letter codes separated by commas, e.g. fr, en, ro."),
    )

    class Meta:
        model = Accreditation
        fields = [
            "association",
            "valid_from",
            "valid_until",
            "exploitation_forms",
            "publics",
            "national",
            "departements",
            "capacity",
            "languages",
            "secure_relocation",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["association"].queryset = Agency.objects.filter(kind=Agency.Kind.ASSOCIATION)
        if self.instance.pk:
            self.initial["languages"] = ", ".join(self.instance.languages)

    def clean_languages(self) -> list[str]:
        raw = self.cleaned_data.get("languages") or ""
        return [x.strip().lower() for x in raw.split(",") if x.strip()]

    def validate_with_service(self) -> None:
        c = self.cleaned_data
        services._validate_accreditation(
            association=c["association"],
            valid_from=c["valid_from"],
            valid_until=c["valid_until"],
            exploitation_forms=c["exploitation_forms"],
            publics=c["publics"],
            national=c["national"],
            departements=list(c["departements"]),
            capacity=c["capacity"],
            languages=c["languages"],
        )


@admin.register(Accreditation)
class AccreditationAdmin(SimpleHistoryAdmin):
    form = AccreditationForm
    list_display = ["association", "valid_from", "valid_until", "national", "capacity"]
    list_filter = ["national", "secure_relocation", "valid_until"]
    search_fields = ["association__name"]
    list_select_related = ["association"]
    filter_horizontal = ["departements"]

    def save_model(self, request: HttpRequest, obj: Accreditation, form, change: bool) -> None:
        data = {f: form.cleaned_data[f] for f in AccreditationForm.Meta.fields}
        if change:
            saved = services.accreditation_update(actor=request.user, accreditation=obj, **data)
        else:
            saved = services.accreditation_create(actor=request.user, **data)
        obj.pk = saved.pk

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        # The service has set the départements already.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


class MembershipForm(ServiceValidatedForm):
    class Meta:
        model = Membership
        fields = ["user", "agency", "role", "children_trained"]

    def validate_with_service(self) -> None:
        agency = self.cleaned_data["agency"]
        if self.cleaned_data["role"] not in Membership.ROLES_BY_KIND.get(agency.kind, ()):
            raise ValidationError({"role": _("This role does not exist in this kind of agency.")})


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    form = MembershipForm
    list_display = ["user", "agency", "role", "children_trained"]
    list_filter = ["role", "agency__kind", "children_trained", "agency"]
    search_fields = ["user__username", "user__email", "agency__name"]
    list_select_related = ["user", "agency"]
    autocomplete_fields = ["user", "agency"]

    def save_model(self, request: HttpRequest, obj: Membership, form, change: bool) -> None:
        saved = services.membership_set(
            actor=request.user,
            user=form.cleaned_data["user"],
            agency=form.cleaned_data["agency"],
            role=form.cleaned_data["role"],
            children_trained=form.cleaned_data.get("children_trained", False),
        )
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        services.membership_remove(actor=request.user, membership=obj)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for membership in queryset:
            services.membership_remove(actor=request.user, membership=membership)
        messages.info(request, _("Memberships removed; group access removed with them."))


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Users; group membership comes from Membership only, so it is not editable here."""

    list_display = ["username", "email", "is_active", "is_staff", "membership_agency", "last_login"]
    list_filter = ["is_active", "is_staff", "membership__role", "membership__agency__kind"]
    search_fields = ["username", "email", "first_name", "last_name", "membership__agency__name"]
    list_select_related = ["membership__agency"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Status"), {"fields": ("is_active", "last_login", "date_joined")}),
    )
    readonly_fields = ["last_login", "date_joined"]

    @admin.display(description=_("agency"))
    def membership_agency(self, user: User) -> str:
        membership = membership_of(user)
        return str(membership.agency) if membership else "—"

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # deactivate instead: history and audit point at users


@admin.register(Departement)
class DepartementAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "region"]
    list_filter = ["region"]
    search_fields = ["code", "name"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Region)
class RegionAdmin(DepartementAdmin):
    list_display = ["code", "name"]
    list_filter = []
