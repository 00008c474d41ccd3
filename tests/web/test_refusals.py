"""Wrong-role refusals at every page.

PAGES lists every route of web/urls.py with its method and the roles it is
for; a route missing from it fails ``test_every_route_is_in_the_table``. For
each page: anonymous visitors are sent to sign in; every other role gets the
403 page (HTML, the DSFR layout) and a refusal in the access log; the right
role asking for another agency's object gets the 404 page. A browser check
per area closes the file.
"""

# The shared fixtures (world, api) are imported, then named as arguments.
# ruff: noqa: F811

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from audit.models import AccessAction, AccessLog
from cases.models import Case, Transfer
from referral.models import Routing, RoutingOutcome
from tests.referral.conftest import ADULT_BODY, World, api, world  # noqa: F401
from tests.web.association.conftest import client_for
from tests.web.conftest import enrol_totp, sign_in
from web import urls as web_urls

# Roles, as the test world's users.
REFERRER = "referrer"
CASEWORKER = "paris_worker"
MANAGER = "paris_manager"
DESK = "coordinator"
ANALYST = "analyst"
ADMIN = "admin"
ROLES = (REFERRER, CASEWORKER, MANAGER, DESK, ANALYST, ADMIN)
# The identification unit's decision-makers are not in the test world: their
# pages are refused to every role above here, and they themselves are refused
# every other page in tests/web/identification/test_pages.py.
DECISION_MAKER = "decision_maker"
ASSOCIATION = frozenset({CASEWORKER, MANAGER})

# Sign-in, second factor and sign-out: open to anyone by design.
OPEN = {"signin", "signin-otp", "two-factor-setup", "signout"}

# Placeholder arguments: the role gate answers before anything is looked up.
ANY = {
    "routing_id": 1,
    "reference": "MNR-2026-000001",
    "step_id": 1,
    "transfer_id": 1,
    "step": 1,
    "share_id": 1,
}


@dataclass(frozen=True)
class Page:
    name: str
    allowed: frozenset[str]
    method: str = "get"
    args: tuple[str, ...] = ()
    # The right role asking for another agency's object: (visitor, object kwargs).
    foreign: tuple[str, str] | None = field(default=None)

    def url(self, **kwargs) -> str:
        return reverse(f"web:{self.name}", kwargs={a: kwargs.get(a, ANY[a]) for a in self.args})


def association(name, method="get", args=()):
    """A page of caseworkers and managers; those naming an object are tried by
    the minors' caseworker on the Paris association's."""
    return Page(name, ASSOCIATION, method, args, ("minors_worker", "paris") if args else None)


PAGES = {
    page.name: page
    for page in [
        Page("home", frozenset(ROLES)),
        # Referrer
        Page("referral-list", frozenset({REFERRER})),
        Page("referral-new", frozenset({REFERRER})),
        Page("referral-new-step", frozenset({REFERRER}), args=("step",)),
        Page(
            "referral-submitted",
            frozenset({REFERRER}),
            args=("reference",),
            foreign=("other_referrer", "referral"),
        ),
        Page(
            "referral-detail",
            frozenset({REFERRER}),
            args=("reference",),
            foreign=("other_referrer", "referral"),
        ),
        Page(
            "referral-withdraw",
            frozenset({REFERRER}),
            "post",
            ("reference",),
            foreign=("other_referrer", "referral"),
        ),
        # Association
        association("inbox"),
        association("routing-detail", args=("routing_id",)),
        association("routing-accept", "post", ("routing_id",)),
        association("routing-decline", "post", ("routing_id",)),
        association("case-list"),
        association("case-detail", args=("reference",)),
        association("case-step-add", "post", ("reference",)),
        association("case-step-update", "post", ("reference", "step_id")),
        association("case-note-add", "post", ("reference",)),
        association("case-assign", "post", ("reference",)),
        association("case-transfer", "post", ("reference",)),
        association("case-close", "post", ("reference",)),
        association("case-reopen", "post", ("reference",)),
        association("case-timeline", args=("reference",)),
        association("case-share", "post", ("reference",)),
        association("case-share-end", "post", ("reference", "share_id")),
        # Cases shared with a person: anyone a case can be shared with.
        Page("shared-case-list", frozenset({REFERRER, CASEWORKER, MANAGER, DESK})),
        Page(
            "shared-case-detail",
            frozenset({REFERRER, CASEWORKER, MANAGER, DESK}),
            args=("reference",),
        ),
        association("transfer-accept", "post", ("transfer_id",)),
        association("transfer-reject", "post", ("transfer_id",)),
        Page("workload", frozenset({MANAGER})),
        # The Identification section of the case page
        association("case-evidence-add", "post", ("reference",)),
        association("case-evidence-submit", "post", ("reference",)),
        association("case-reconsider", "post", ("reference",)),
        # Identification unit
        Page("identification-inbox", frozenset({DECISION_MAKER})),
        Page("identification-dashboard", frozenset({DECISION_MAKER})),
        Page("identification-detail", frozenset({DECISION_MAKER}), args=("reference",)),
        Page("identification-decide", frozenset({DECISION_MAKER}), "post", ("reference",)),
        # Coordination desk
        Page("escalation-list", frozenset({DESK})),
        Page(
            "escalation-assign",
            frozenset({DESK}),
            args=("reference",),
            foreign=(DESK, "routed"),
        ),
        # Statistics: national for MIPROF and the desk, their own for a manager.
        Page("statistics", frozenset({ANALYST, DESK, MANAGER})),
        Page("statistics-csv", frozenset({ANALYST, DESK, MANAGER})),
    ]
}

REFUSALS = [
    (name, role) for name, page in PAGES.items() for role in ROLES if role not in page.allowed
]
FOREIGN = [name for name, page in PAGES.items() if page.foreign]


def refusals(user) -> list[AccessLog]:
    return list(AccessLog.objects.filter(action=AccessAction.REFUSAL, actor=user))


def test_every_route_is_in_the_table():
    routes = {pattern.name for pattern in web_urls.urlpatterns}
    assert routes - OPEN == set(PAGES), "add the new page to PAGES (and test it)"
    assert routes >= OPEN
    # Every page is refused to someone signed in, but home.
    assert {name for name, _ in REFUSALS} == set(PAGES) - {"home"}


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(PAGES))
def test_anonymous_visitors_are_sent_to_sign_in(name):
    page = PAGES[name]
    url = page.url()
    r = getattr(Client(SERVER_NAME="localhost"), page.method)(url)
    assert r.status_code == 302, (url, r.status_code)
    assert r["Location"] == f"{reverse('web:signin')}?next={url}"


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "role"), REFUSALS, ids=[f"{n}-{r}" for n, r in REFUSALS])
def test_wrong_roles_get_the_403_page_and_a_logged_refusal(world, name, role):
    page = PAGES[name]
    user = getattr(world, role)
    client = client_for(user)
    url = page.url()
    before = len(refusals(user))
    r = getattr(client, page.method)(url)
    assert r.status_code == 403, (url, role, r.status_code)
    assert r["Content-Type"].startswith("text/html")
    html = r.content.decode()
    assert 'class="fr-header' in html and "<h1>" in html and 'class="fr-footer' in html
    logged = refusals(user)
    assert len(logged) == before + 1, (url, role)
    assert logged[0].detail == {"method": page.method.upper(), "path": url}


@pytest.fixture
def foreign(api, world: World) -> SimpleNamespace:
    """Objects of the Paris association and of the school's referrer that the
    minors' caseworker, the police referrer and the desk may not see."""
    referral = api.submitted(world.referrer, ADULT_BODY)
    routing = Routing.objects.get(
        referral__reference=referral["reference"], association=world.paris
    )
    r = api.post(world.paris_worker, f"/api/v1/routings/{routing.pk}/accept/")
    assert r.status_code == 201, r.content
    case_reference = r.json()["reference"]
    r = api.post(
        world.paris_worker,
        f"/api/v1/cases/{case_reference}/transfer/",
        {"to_association": world.national.pk, "reason": "Éloignement."},
    )
    assert r.status_code == 201, r.content
    api.submitted(world.referrer, ADULT_BODY | {"exploitation_forms": ["labour_exploitation"]})
    routed = Routing.objects.filter(association=world.paris, outcome=RoutingOutcome.PENDING).first()
    return SimpleNamespace(
        referral={"reference": referral["reference"]},
        paris={
            "routing_id": routed.pk,
            "reference": case_reference,
            "step_id": Case.objects.get(reference=case_reference).steps.first().pk,
            "transfer_id": Transfer.objects.get().pk,
        },
        routed={"reference": routed.referral.reference},
    )


@pytest.mark.django_db
@pytest.mark.parametrize("name", FOREIGN)
def test_another_agencys_objects_are_not_found(world, foreign, name):
    page = PAGES[name]
    visitor, objects = page.foreign
    url = page.url(**getattr(foreign, objects))
    r = getattr(client_for(getattr(world, visitor)), page.method)(url)
    assert r.status_code == 404, (url, r.status_code)
    html = r.content.decode()
    assert 'class="fr-header' in html and "<h1>" in html
    # The same object is there for its own agency (the 404 is not a typo's).
    owner = {"minors_worker": "paris_worker", "other_referrer": "referrer", DESK: None}[visitor]
    if owner is not None and page.method == "get":
        assert client_for(getattr(world, owner)).get(url).status_code == 200, url


@pytest.mark.django_db(transaction=True)
def test_wrong_roles_are_refused_in_the_browser_in_every_area(page, world):
    sign_in(page, world.referrer)
    for url in ("/inbox/", "/workload/", "/escalations/", "/statistics/"):
        response = page.goto(url)
        assert response.status == 403, url
        expect(page.locator("h1")).to_be_visible()
        expect(page.locator("header.fr-header")).to_be_visible()
        expect(page).to_have_url(re.compile(re.escape(url) + "$"))
    assert len(refusals(world.referrer)) == 4
    page.context.clear_cookies()
    enrol_totp(world.paris_worker)
    sign_in(page, world.paris_worker)
    for url in ("/referrals/", "/referrals/new/", "/escalations/"):
        assert page.goto(url).status == 403, url
        expect(page.locator("h1")).to_be_visible()
    assert len(refusals(world.paris_worker)) == 3
