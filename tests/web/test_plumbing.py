"""The shared web plumbing: role checks (web.access), domain errors → pages
(web.errors), navigation. Exercised through small views mounted for the test."""

from __future__ import annotations

import pytest
from django import forms
from django.http import HttpResponse
from django.test import Client
from django.urls import include, path, reverse

from agencies.models import AgencyKind, Role
from audit.models import AccessAction, AccessLog
from common import errors
from tests.factories import AgencyFactory, UserFactory
from tests.helpers import login_with_second_factor
from web.access import member_required
from web.errors import run_service
from web.navigation import NAVIGATION, navigation_for

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.web.test_plumbing")]


@member_required(roles={Role.REFERRER})
def referrer_page(request):
    return HttpResponse(f"hello {request.membership.role}")


@member_required(kinds={AgencyKind.ASSOCIATION}, roles={Role.MANAGER})
def manager_page(request):
    return HttpResponse("managers")


def raising(request, kind):
    raise {
        "not_found": errors.NotFound(),
        "not_allowed": errors.NotAllowed(),
        "transition": errors.InvalidTransition("Already accepted."),
    }[kind]


class NameForm(forms.Form):
    name = forms.CharField()


def service_form(request):
    def service(*, name):
        raise errors.ValidationFailed(fields={"name": ["Taken."], "other": ["Elsewhere."]})

    form = NameForm({"name": "x"})
    assert form.is_valid()
    result = run_service(request, service, form=form, name="x")
    return HttpResponse(f"{result.ok}|{form.errors['name'][0]}|{form.non_field_errors()[0]}")


urlpatterns = [
    path("", include("config.urls")),
    path("t/referrer/", referrer_page, name="t-referrer"),
    path("t/manager/", manager_page, name="t-manager"),
    path("t/raise/<str:kind>/", raising, name="t-raise"),
    path("t/form/", service_form, name="t-form"),
]


@pytest.fixture
def client():
    return Client(SERVER_NAME="localhost", HTTP_ACCEPT_LANGUAGE="en")


def member(kind, role):
    return UserFactory(membership_agency=AgencyFactory(kind=kind), membership_role=role)


def test_anonymous_is_sent_to_signin(client):
    r = client.get("/t/referrer/")
    assert r.status_code == 302 and r["Location"] == "/sign-in/?next=/t/referrer/"


def test_right_role_passes_and_wrong_role_gets_a_logged_403(client):
    referrer = member("frontline", "referrer")
    login_with_second_factor(client, referrer)
    assert client.get("/t/referrer/").content == b"hello referrer"
    r = client.get("/t/manager/")
    assert r.status_code == 403 and "fr-header" in r.content.decode()
    entry = AccessLog.objects.get(action=AccessAction.REFUSAL)
    assert entry.actor == referrer
    assert entry.target_type == "page" and entry.target_id == "t-manager"
    assert entry.detail == {"method": "GET", "path": "/t/manager/"}


def test_same_role_name_in_another_kind_of_agency_is_refused(client):
    frontline_manager = member("frontline", "manager")
    login_with_second_factor(client, frontline_manager)
    assert client.get("/t/manager/").status_code == 403
    asso_manager = member("association", "manager")
    login_with_second_factor(client, asso_manager)
    assert client.get("/t/manager/").status_code == 200


def test_domain_errors_become_pages(client):
    user = member("frontline", "referrer")
    login_with_second_factor(client, user)
    assert client.get("/t/raise/not_found/").status_code == 404
    assert not AccessLog.objects.filter(action=AccessAction.REFUSAL).exists()
    refused = client.get("/t/raise/not_allowed/")
    assert refused.status_code == 403
    entry = AccessLog.objects.get(action=AccessAction.REFUSAL)
    assert (entry.target_type, entry.target_id) == ("kind", "not_allowed")
    conflict = client.get("/t/raise/transition/")
    assert conflict.status_code == 409 and "Already accepted." in conflict.content.decode()
    posted = client.post("/t/raise/transition/", follow=True)
    assert posted.redirect_chain[0] == ("/t/raise/transition/", 302)


def test_run_service_puts_validation_errors_on_the_form(client):
    login_with_second_factor(client, member("frontline", "referrer"))
    assert client.get("/t/form/").content == b"False|Taken.|Elsewhere."


def test_every_navigation_entry_resolves_and_is_shown_to_its_audience():
    for entry in NAVIGATION:
        reverse(entry.url_name)
    admin = UserFactory(
        membership_agency=AgencyFactory(kind="platform", departement_code=None),
        membership_role="admin",
    )
    assert [link.url for link in navigation_for(admin.membership)] == ["/admin/"]
    assert [link.url for link in navigation_for(member("frontline", "referrer").membership)] == [
        "/referrals/new/",
        "/referrals/",
        "/shared-cases/",
    ]
