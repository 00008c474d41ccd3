"""The web pages' forms, one module per concept: this one holds the base
(``MnrForm``) and the sign-in forms; ``association`` (inbox and cases),
``referral`` (the guided referral, the referrer's list and withdrawal),
``coordination`` (the desk) and ``statistics`` (the dashboard). Forms only
shape input for the services, which hold every rule.

Page authors: subclass ``MnrForm`` (DSFR markup for every widget, optional
fields marked "optional" as the DSFR now advises), render it with
``{% include "web/includes/form.html" %}`` after the error summary, and pass
service errors to it through ``web.errors.run_service(form=…)``.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from dsfr.forms import DsfrBaseForm


class MnrForm(DsfrBaseForm):
    def get_context(self) -> dict:
        # DsfrBaseForm.get_context only warns about a transitional setting; set
        # its future behaviour (mark optional fields) directly.
        context = forms.Form.get_context(self)
        context["DSFR_MARK_OPTIONAL_FIELDS"] = True
        return context


class SignInForm(MnrForm):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class OtpForm(MnrForm):
    otp = forms.CharField(
        label=_("Code"),
        max_length=32,
        help_text=_(
            "The 6-digit code shown by your authenticator app, or one of your recovery codes."
        ),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autocapitalize": "none"}
        ),
    )


class EnrolmentForm(MnrForm):
    otp = forms.CharField(
        label=_("Code shown by the app"),
        max_length=16,
        help_text=_("6 digits, for example 123456."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*"}
        ),
    )
